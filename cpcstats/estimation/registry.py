"""The family and variance registries, re-exported from `cpcstats.spec_registry`.

Why a re-export: the registry of families (and of variances) lives in the models layer,
below `cpcstats.spec`, so that specs check names without importing estimation;
code that imports ``cpcstats.estimation.registry`` keeps working.  The names are read
on first use (PEP 562), so loading this module imports nothing but the standard library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpcstats.spec_registry import *  # noqa: F403  (the public names, for type checkers)


def __getattr__(name: str) -> Any:
    """A public name of `cpcstats.spec_registry` (its ``__all__``)."""
    module = importlib.import_module("cpcstats.spec_registry")
    if name in module.__all__:
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
