"""Generic estimators that take column names: event studies and staggered adoption.

Why a package of its own: the study's designs (``cpcstats/designs/``) bind this study's
columns (recognition, Belt and Road membership, countries, years) to estimators that work
on any outcome ``yname``, unit ``idname``, period ``tname`` and treatment timing
``gname`` (and treatment indicator ``dname``), in the spirit of pyfixest's ``did``
module; a design adds only its columns and its presentation.

* `cpcstats.methods.event_time` — event-time indicators (binned endpoints, a single
  or pooled reference period);
* `cpcstats.methods.event_study` — the TWFE (FE-Poisson) event study with the
  joint lead tests;
* `cpcstats.methods.cohorts` and `cpcstats.methods.etwfe` — staggered-adoption
  cohorts, TWFE and Wooldridge's ETWFE Poisson with aggregations;
* `cpcstats.methods.fe_mean` — E[y] of an FE-Poisson fit and the delta method.

The estimators ``event_study`` and ``etwfe`` are imported from their modules
(``from cpcstats.methods.event_study import event_study``): the package does not re-export
them under the modules' own names.
"""

from __future__ import annotations

from cpcstats.methods.cohorts import Cohorts, staggered_cohorts
from cpcstats.methods.etwfe import ETWFEResult, twfe
from cpcstats.methods.event_study import EventStudyFit, fit_event_study
from cpcstats.methods.event_time import (
    EventIndicators,
    EventWindow,
    event_time_columns,
    event_time_indicators,
)
from cpcstats.methods.fe_mean import FEPoissonMean

__all__ = [
    "Cohorts",
    "ETWFEResult",
    "EventIndicators",
    "EventStudyFit",
    "EventWindow",
    "FEPoissonMean",
    "event_time_columns",
    "event_time_indicators",
    "fit_event_study",
    "staggered_cohorts",
    "twfe",
]
