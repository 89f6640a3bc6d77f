"""BRI signing with the imputation estimator: the variants a referee asks for.

Why its own module: ``bri.py`` binds the study's columns to ETWFE; this one binds them to
the imputation estimator (`cpcstats.methods.imputation`, which keeps the cohort-year cells
without any contact that ETWFE drops) and runs the variants of the control
``recognizes_prc``:

* time-varying control with one common slope (the default of the ETWFE design);
* no control;
* Wooldridge's framework for covariates: the country's recognition in the window's first
  year, time-invariant, with one slope per year (its cohort interaction is implicit: the
  imputation leaves every treated row's effect free).

Compound treatment: countries that switch recognition to Beijing in the year they sign
the BRI receive both treatments at once; with the time-varying control the BRI effect is
the effect net of the switch's common-slope effect, without it the two are compounded.
`compound_treatment` lists them.  Few-cluster inference for the binned lead test and the
TWFE coefficient: the wild cluster score bootstrap (`cpcstats.methods.wild_bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import CpcError
from cpcstats.methods.cohorts import Cohorts
from cpcstats.methods.imputation import ImputationResult, imputation_fit
from cpcstats.methods.wild_bootstrap import wild_score_test
from cpcstats.panels import Panel

__all__ = [
    "BASELINE",
    "compound_treatment",
    "imputation_poisson",
    "imputation_variants",
    "wild_bootstrap_tests",
]

UNIT, TIME, SIGNING = "iso3", "year", "bri_signing_year"
RECOGNITION, SWITCH = "recognizes_prc", "prc_switch_year"
BASELINE = "recognizes_prc_first_year"  # recognition in the window's first year
BOOTSTRAP_DRAWS = 999


def imputation_poisson(
    layout: Cohorts,
    outcome: str = "contacts",
    controls: Sequence[str] = (RECOGNITION,),
    invariant: Sequence[str] = (),
    cluster: str = UNIT,
    balanced_window: tuple[int, int] = (0, 4),
) -> ImputationResult:
    """The imputation ATTs of BRI signing on a cohort layout of the country-year panel."""
    frame = layout.frame
    if BASELINE in invariant and BASELINE not in frame.columns:
        first = frame.sort_values(TIME).groupby(UNIT)[RECOGNITION].first()
        frame = frame.assign(**{BASELINE: frame[UNIT].map(first).astype(float)})
        layout = Cohorts(**{**layout.__dict__, "frame": frame})
    return imputation_fit(
        layout,
        yname=outcome,
        idname=UNIT,
        tname=TIME,
        covariates=controls,
        invariant=invariant,
        cluster=cluster,
        balanced_window=balanced_window,
    )


def imputation_variants(
    layout: Cohorts, outcome: str, controls: Sequence[str], cluster: str
) -> tuple[dict[str, ImputationResult], dict[str, str]]:
    """``main`` (the run's controls), ``no_control`` and, when ``recognizes_prc`` is a
    control, ``baseline_x_year`` (its first-year value with year-specific slopes); and
    the variants that could not be estimated, with the reason."""
    out = {"main": imputation_poisson(layout, outcome, controls, (), cluster)}
    failed: dict[str, str] = {}
    if controls:
        out["no_control"] = imputation_poisson(layout, outcome, (), (), cluster)
    if RECOGNITION in controls and RECOGNITION in layout.frame.columns:
        rest = tuple(c for c in controls if c != RECOGNITION)
        first = layout.frame.sort_values(TIME).groupby(UNIT)[RECOGNITION].first()
        if first.nunique() > 1:  # otherwise absorbed by the country effects
            try:
                out["baseline_x_year"] = imputation_poisson(
                    layout, outcome, rest, (BASELINE,), cluster
                )
            except CpcError as exc:  # e.g. a year whose non-recognisers have no contact
                failed["baseline_x_year"] = exc.problem
    return out, failed


def compound_treatment(frame: pd.DataFrame) -> list[str]:
    """Countries that switched recognition to Beijing in their BRI signing year."""
    if SWITCH not in frame.columns or SIGNING not in frame.columns:
        return []
    per = frame.groupby(UNIT)[[SWITCH, SIGNING]].first()
    same = per[(per[SWITCH] == per[SIGNING]) & per[SIGNING].notna()]
    return sorted(same.index)


def wild_bootstrap_tests(
    imp: ImputationResult,
    panel: Panel | pd.DataFrame,
    outcome: str,
    controls: Sequence[str],
    cluster: str,
    treatment: str,
) -> dict[str, Any]:
    """Wild cluster score bootstrap p-values (Kline & Santos 2012, Webb weights, 999
    draws, seed 0) of the binned lead test and of the TWFE coefficient; a failure is
    reported with its reason instead of a p-value."""
    out: dict[str, Any] = {}
    lead = imp.lead_test
    jobs: list[tuple[str, pd.DataFrame | None, list[str], list[str]]] = [
        ("lead_bins", None if lead is None else lead.data, [*(lead.terms if lead else ())], []),
        ("twfe", panel.data if isinstance(panel, Panel) else panel, [treatment], []),
    ]
    for name, data, tested, _ in jobs:
        if data is None or not tested:
            continue
        try:
            res = wild_score_test(
                data,
                yname=outcome,
                xnames=[*tested, *controls],
                fe=[UNIT, TIME],
                cluster=cluster,
                restriction=tested,
                B=BOOTSTRAP_DRAWS,
                seed=0,
            )
            out[name] = res.to_dict()
        except CpcError as exc:
            out[name] = {"error": exc.problem}
        except (ValueError, np.linalg.LinAlgError) as exc:
            out[name] = {"error": str(exc)}
    return out
