"""The family and variance registries, re-exported from :mod:`cpcstats.spec_registry`.

Why a re-export: the registry of families (and of variances) lives in the models layer,
below :mod:`cpcstats.spec`, so that specs check names without importing estimation;
code that imports ``cpcstats.estimation.registry`` keeps working.  The names are read
on first use (PEP 562), so loading this module imports nothing but the standard library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpcstats.spec_registry import (
        FAMILY_REGISTRY,
        VARIANCE_REGISTRY,
        Family,
        FitFunctions,
        Variance,
        Vuong,
        family_label,
        family_names,
        get_family,
        register_family,
        unregister_family,
        variance_names,
    )

__all__ = [
    "FAMILY_REGISTRY",
    "VARIANCE_REGISTRY",
    "Family",
    "FitFunctions",
    "Variance",
    "Vuong",
    "family_label",
    "family_names",
    "get_family",
    "register_family",
    "unregister_family",
    "variance_names",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("cpcstats.spec_registry"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
