"""Compatibility shim: the BRI design moved to :mod:`cpcstats.designs.bri`.

The generic estimators are :mod:`cpcstats.methods.cohorts` and :mod:`cpcstats.methods.etwfe`.
"""

from __future__ import annotations

from cpcstats.designs.bri import (
    DROP_ALWAYS,
    DROP_EXIT,
    DROP_NO_PRE,
    Cohorts,
    ETWFEResult,
    etwfe_poisson,
    no_variation_reason,
    plot_event_time,
    run,
    staggered_cohorts,
    twfe_poisson,
)
from cpcstats.methods.fe_mean import FEPoissonMean as _MeanModel

__all__ = [
    "DROP_ALWAYS",
    "DROP_EXIT",
    "DROP_NO_PRE",
    "Cohorts",
    "ETWFEResult",
    "_MeanModel",
    "etwfe_poisson",
    "no_variation_reason",
    "plot_event_time",
    "run",
    "staggered_cohorts",
    "twfe_poisson",
]
