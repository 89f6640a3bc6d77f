"""Generic estimators that take column names: event studies, staggered adoption, few-cluster
inference and structural breaks.

Why a package of its own: the study's designs (``cpcstats/designs/``) bind this study's
columns (recognition, Belt and Road membership, countries, years) to estimators that work
on any outcome ``yname``, unit ``idname``, period ``tname`` and treatment timing
``gname`` (and treatment indicator ``dname``), in the spirit of pyfixest's ``did``
module; a design adds only its columns and its presentation.

* `cpcstats.methods.event_time` — event-time indicators (binned endpoints, a single
  or pooled reference period);
* `cpcstats.methods.event_study` — the TWFE (FE-Poisson) event study with the
  joint lead tests;
* `cpcstats.methods.interaction_weighted` — the interaction-weighted event study of Sun and
  Abraham (2021) for the Poisson mean (saturated cohort × event-time cells, share-weighted
  effects on the log and ratio scale, estimated leads), robust to cohort-heterogeneous effects;
* `cpcstats.methods.cohorts` and `cpcstats.methods.etwfe` — staggered-adoption
  cohorts, TWFE and Wooldridge's ETWFE Poisson with aggregations;
* `cpcstats.methods.imputation`, `cpcstats.methods.imputation_leads`,
  `cpcstats.methods.fe_design` — imputation estimator for staggered adoption (exponential
  mean; all-zero cells kept), binned lead test, FE-Poisson with explicit dummies;
* `cpcstats.methods.fe_mean` — E[y] of an FE-Poisson fit and the delta method over the full
  parameter vector (fixed effects included, analytic);
* `cpcstats.methods.wild_bootstrap` and `cpcstats.methods.randomization` — few-cluster
  inference: the wild cluster score bootstrap for FE-Poisson (Kline and Santos 2012) and
  randomisation inference over event dates;
* `cpcstats.methods.breaks` with `break_model`, `break_sup_wald`, `break_profile`,
  `break_bootstrap`, `break_design` and `break_critical` — known and unknown structural
  breaks, bootstrap p-values under common period shocks, Andrews (2003) critical values.

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
