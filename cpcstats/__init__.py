"""cpcstats: panels, count models and publication tables for the CPC's party diplomacy.

The Python API in one place::

    import cpcstats
    study = cpcstats.load_study("demo")            # SIMULATED demo, or a study TOML
    panel = cpcstats.party_year(study)
    m = cpcstats.fit("contacts ~ ruling * C(fh_status)", panel, family="negbin",
                     cluster="iso3")
    m.summary(); m.irr()
    cpcstats.table([m]).to_latex("table.tex")
"""

from __future__ import annotations

__version__ = "0.1.0"

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
