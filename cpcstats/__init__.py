"""cpcstats: panels, count models and publication tables for the CPC's party diplomacy.

The Python API in one place::

    import cpcstats
    study = cpcstats.load_study("demo")            # SIMULATED demo, or a study TOML
    panel = cpcstats.party_year(study)
    m = cpcstats.fit("contacts ~ ruling * C(fh_status)", panel, family="negbin",
                     cluster="iso3")
    m.summary(); m.irr()
    cpcstats.table([m]).to_latex("table.tex")

The names are loaded lazily (PEP 562): ``import cpcstats`` imports none of pandas,
statsmodels, scipy or matplotlib, so the command line's ``--help`` and ``check``
start fast; the first use of a name (``cpcstats.fit``) imports the module that
defines it, once.  ``from cpcstats import fit`` works the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # type checkers and IDEs see the real objects
    from cpcstats.diagnostics import (
        diagnostics_table,
        information_criteria,
        lr_test_poisson_negbin,
        overdispersion_test,
        rootogram_data,
        vuong_test,
        zero_counts,
    )
    from cpcstats.errors import CpcError, EstimationError, InputError, SpecError
    from cpcstats.estimation.fit import fit
    from cpcstats.estimation.postestimation import (
        marginal_effects,
        predict,
        predict_profiles,
        wald_test,
    )
    from cpcstats.estimation.results import FitResult
    from cpcstats.panels import Panel, country_year, party_year
    from cpcstats.replicate import replicate
    from cpcstats.reporting.tables import table
    from cpcstats.spec import ModelSpec, load_specs
    from cpcstats.study import Study, load_study

# public name -> "module:attribute"; the one table the lazy loader and __dir__ read.
_LAZY: dict[str, str] = {
    "CpcError": "cpcstats.errors:CpcError",
    "EstimationError": "cpcstats.errors:EstimationError",
    "FitResult": "cpcstats.estimation.results:FitResult",
    "InputError": "cpcstats.errors:InputError",
    "ModelSpec": "cpcstats.spec:ModelSpec",
    "Panel": "cpcstats.panels:Panel",
    "SpecError": "cpcstats.errors:SpecError",
    "Study": "cpcstats.study:Study",
    "country_year": "cpcstats.panels:country_year",
    "diagnostics_table": "cpcstats.diagnostics:diagnostics_table",
    "fit": "cpcstats.estimation.fit:fit",
    "information_criteria": "cpcstats.diagnostics:information_criteria",
    "load_specs": "cpcstats.spec:load_specs",
    "load_study": "cpcstats.study:load_study",
    "lr_test_poisson_negbin": "cpcstats.diagnostics:lr_test_poisson_negbin",
    "marginal_effects": "cpcstats.estimation.postestimation:marginal_effects",
    "overdispersion_test": "cpcstats.diagnostics:overdispersion_test",
    "party_year": "cpcstats.panels:party_year",
    "predict": "cpcstats.estimation.postestimation:predict",
    "predict_profiles": "cpcstats.estimation.postestimation:predict_profiles",
    "replicate": "cpcstats.replicate:replicate",
    "rootogram_data": "cpcstats.diagnostics:rootogram_data",
    "table": "cpcstats.reporting.tables:table",
    "vuong_test": "cpcstats.diagnostics:vuong_test",
    "wald_test": "cpcstats.estimation.postestimation:wald_test",
    "zero_counts": "cpcstats.diagnostics:zero_counts",
}

# A literal list (not built from _LAZY) so linters see the re-exports; a test keeps both equal.
__all__ = [
    "CpcError",
    "EstimationError",
    "FitResult",
    "InputError",
    "ModelSpec",
    "Panel",
    "SpecError",
    "Study",
    "__version__",
    "country_year",
    "diagnostics_table",
    "fit",
    "information_criteria",
    "load_specs",
    "load_study",
    "lr_test_poisson_negbin",
    "marginal_effects",
    "overdispersion_test",
    "party_year",
    "predict",
    "predict_profiles",
    "replicate",
    "rootogram_data",
    "table",
    "vuong_test",
    "wald_test",
    "zero_counts",
]


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first use and cache the object.

    Why: the eager facade cost ~5 x ``import pandas`` (statsmodels.api, scipy.stats,
    seaborn and matplotlib) for every ``cpcstats`` process, including ``--help``.
    A name that is not in the table but is a submodule (``cpcstats.spec``) is
    imported as such, as the eager facade made them available.
    """
    target = _LAZY.get(name)
    if target is None:
        # The eager facade imported cpcstats.spec, .study, .panels, ... as a side
        # effect, so ``import cpcstats; cpcstats.spec.X`` worked; keep that working.
        if name.startswith("_") or importlib.util.find_spec(f"cpcstats.{name}") is None:
            raise AttributeError(f"module 'cpcstats' has no attribute {name!r}")
        return importlib.import_module(f"cpcstats.{name}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the lazy public names too, so ``dir(cpcstats)`` and completion see them."""
    return sorted(set(globals()) | set(_LAZY))


class _Facade(types.ModuleType):
    """The package module: a public name keeps its object when a same-named subpackage loads.

    Why: ``replicate`` is both a public function and the subpackage ``cpcstats.replicate``.
    Importing any module of that subpackage makes Python bind ``cpcstats.replicate`` to the
    subpackage, so ``cpcstats.replicate(...)`` and ``from cpcstats import replicate`` would
    depend on what happened to be imported first.  The binding is refused for the names of
    the lazy table; the name then resolves through `__getattr__` to the function.  The
    subpackage itself stays importable by its full name (``from cpcstats.replicate import
    ...``, ``importlib.import_module("cpcstats.replicate")``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and ":" in _LAZY.get(name, ""):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
