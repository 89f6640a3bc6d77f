"""Taiwan recognition switches as an event study: contact around a switch to Beijing.

Why: the study's claim (driver 4) is that the CPC "rewards" a switch of diplomatic
recognition from Taipei to Beijing with immediate, regular party contact.  A static
two-way FE coefficient on ``recognizes_prc`` cannot tell a jump at the switch from a
pre-existing rise (rapprochement before the switch) or a slow build-up after it.  An
event study estimates one coefficient per year relative to the switch, so the leads test
the "no pre-trend" assumption and the lags show the shape of the response.

This module binds the study's columns to the generic estimator
(`cpcstats.methods.event_study`): `event_time_dummies`
(``designs/taiwan_sample.py``) classifies the countries and builds the indicators,
`event_study` fits FE-Poisson (PPML) with country and year FE, SEs clustered by
country, and tests the leads; `run` writes the ``design_taiwan`` table
(``designs/taiwan_table.py``) and figure (``designs/taiwan_figure.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.designs.base import DesignOutput, country_year_panel, planted_effect, write_details
from cpcstats.designs.taiwan_figure import plot_event_study
from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_robust import few_cluster, robust_event_study
from cpcstats.designs.taiwan_sample import (
    AWAY,
    POOLED,
    STATUS,
    SWITCH,
    TO_PRC,
    UNIT,
    EventDummies,
    event_time_dummies,
)
from cpcstats.designs.taiwan_table import DROPPED, NOT_OBSERVED, SEPARATED, design_table, notes
from cpcstats.errors import CpcError, EstimationError, SpecError
from cpcstats.methods import event_study as generic
from cpcstats.methods.event_time import event_term
from cpcstats.panels import Panel
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "DROPPED",
    "NOT_OBSERVED",
    "SEPARATED",
    "EventDummies",
    "EventStudyResult",
    "add_robust",
    "event_study",
    "event_term",
    "event_time_dummies",
    "plot_event_study",
    "run",
]

NAME = "design_taiwan"
TITLE = (
    "Taiwan recognition switches and contacts: event study (TWFE and interaction-weighted Poisson)"
)
#: the generic estimator's statuses in this design's words
_STATUS = {
    generic.NOT_OBSERVED: NOT_OBSERVED,
    generic.SEPARATED: SEPARATED,
    generic.DROPPED: DROPPED,
}


def _check_identified(d: EventDummies, outcome: str) -> None:
    """The study's words for the generic identification checks."""
    if not d.switch_years and not d.away_years:
        raise EstimationError(
            f"no country switches to Beijing within {d.first_year}-{d.last_year}",
            column=SWITCH,
            fix="widen the window or check the recognition table",
        )
    for kind, _, n in generic.unidentified_kinds(d, outcome):
        what = "switch to Beijing" if kind == TO_PRC else "exit from Beijing"
        n_countries = len(d.switch_years if kind == TO_PRC else d.away_years)
        raise EstimationError(
            f"the event study is not identified: the {n_countries} countries with a "
            f"{what} in {d.first_year}-{d.last_year} have no "
            f"{outcome} at all in the reference period, {d.reference_text} ({n} rows), so "
            "every event-time coefficient relative to it is +inf (the Poisson MLE does "
            "not exist)",
            column=outcome,
            fix=(
                "report the switch as not estimable"
                if d.pooled
                else f'use reference="{POOLED}" (the pooled pre-switch period), or report '
                "the switch as not estimable"
            ),
        )


def event_study(
    panel: Panel | pd.DataFrame,
    *,
    leads: int = 5,
    lags: int = 5,
    reference: int | str = POOLED,
    away: str = "exclude",
    outcome: str = "contacts",
    controls: Sequence[str] = (),
    cluster: str = UNIT,
    dummies: EventDummies | None = None,
    switch_year_rule: str = "calendar",
    switch_month: int = 11,
) -> EventStudyResult:
    """FE-Poisson of contacts on event-time indicators with country and year FE.

    Why: PPML keeps the zeros of a sparse count (most country-years have no contact); country
    FE remove each country's level, year FE the common trend (Xi era, reporting), so each
    coefficient is the change in log expected contact at that event time relative to the
    reference, against the change in control countries; SEs are clustered by country
    (CR1).  Bins no switcher with contacts reaches are reported, not fitted; separated
    bins are omitted and reported; with ``reference="pre"`` the leads are tested by a
    robust score test (`cpcstats.methods.event_study`).  When the switching countries
    have no contact at all in the reference period every coefficient is +inf: that raises
    `EstimationError`.  ``dummies`` reuses indicators from
    `event_time_dummies` (then ``panel`` and the window options are ignored).
    ``switch_year_rule``/``switch_month``: see `event_time_dummies`.  The
    heterogeneity-robust estimates and few-cluster p-values are added by `add_robust`.
    """
    if dummies is None:
        dummies = event_time_dummies(
            panel,
            leads=leads,
            lags=lags,
            reference=reference,
            away=away,
            switch_year_rule=switch_year_rule,
            switch_month=switch_month,
        )
    d = dummies
    if outcome not in d.data.columns:
        raise SpecError(f"the panel has no outcome column {outcome!r}", column=outcome)
    _check_identified(d, outcome)
    es = generic.fit_event_study(d, yname=outcome, controls=controls, cluster=cluster)
    coefficients = es.coefficients.rename(columns={"n_units": "n_countries"})
    coefficients["status"] = coefficients["status"].replace(_STATUS)
    return EventStudyResult(
        model=es.model,
        dummies=d,
        coefficients=coefficients,
        leads_test=es.lead_tests[TO_PRC],
        leads_note=es.lead_notes[TO_PRC],
        away_leads_test=es.lead_tests.get(AWAY),
        outcome=outcome,
        controls=es.controls,
        n_switchers_sample=es.n_treated[TO_PRC],
    )


def add_robust(
    es: EventStudyResult,
    *,
    robust: bool = True,
    inference: bool = True,
    B: int = 999,
    seed: int = 20261201,
    weights: str = "webb",
    ri_scheme: str = "treated",
    parts: Sequence[str] = ("twfe", "iw", "ri"),
    ri_statistic: str = "studentised",
) -> EventStudyResult:
    """Attach the interaction-weighted estimates (``es.robust``) and the few-cluster
    p-values (``es.few``: wild score bootstrap with ``B`` ``weights`` draws from ``seed``,
    randomisation over switch years, ``ri_scheme``) to a fitted event study; returns it.

    Why separate from `event_study`: the IW model saturates cohort x event time and is
    refitted once per lead, and the bootstrap refits once per coefficient, so a caller that
    only needs the TWFE (or a Monte Carlo with few draws) can skip or shrink them.  A part
    that cannot be computed is reported in ``es.robust_note`` / ``es.few.notes``.
    """
    if robust and es.dummies.pooled:
        try:
            es.robust = robust_event_study(es)
        except CpcError as exc:
            es.robust = None
            es.few = None
            es.robust_note = f"interaction-weighted estimator not computed: {exc}"
    if inference:
        es.few = few_cluster(
            es,
            es.robust,
            B=B,
            seed=seed,
            weights=weights,
            scheme=ri_scheme,
            parts=[p for p in parts if p != "iw" or es.robust is not None],
            ri_statistic=ri_statistic,
        )
    return es


def true_event_effects(study: Study) -> dict[int, float] | None:
    """The simulation's true log effect by event time (``truth.json``: true_effects ->
    taiwan -> country_year -> by_event_time, computed from the process means), or None."""
    if not study.simulated:
        return None
    truth = (study.truth or {}).get("true_effects", {}).get("taiwan", {})
    by = truth.get("country_year", {}).get("by_event_time")
    return {int(k): float(v) for k, v in by.items()} if by else None


def _reference_option(value: Any) -> int | str:
    return POOLED if value == POOLED else int(value)


def _skip_reason(dummies: EventDummies) -> str | None:
    if dummies.switch_years:
        return None
    where = f"{dummies.first_year}-{dummies.last_year}"
    extra = (
        f" (excluded as switching away: {dummies.excluded_text})" if len(dummies.excluded) else ""
    )
    return f"no switch to Beijing falls in the window {where}{extra}"


def run(study: Study, panels: Any, out: str | Path, **params: Any) -> DesignOutput:
    """Fit the Taiwan-switch event study; write table and figure ``design_taiwan``.

    ``panels`` is the replication's ``{level: Panel}`` mapping (the country-year panel is
    built when absent); ``params`` may set ``leads``, ``lags``, ``reference``, ``away``,
    ``outcome``, ``controls``, ``bri_control`` (add ``bri_member`` to the controls),
    ``cluster``, ``switch_year_rule``/``switch_month`` (`event_time_dummies`),
    ``robust``/``few_cluster`` (bool, default true), ``B`` (999), ``seed``, ``weights``
    (``"webb"``), ``ri_scheme`` (``"treated"``) and ``ri_statistic`` (``"studentised"``)
    (`add_robust`).  Skipped, with the
    reason, when no switch to Beijing falls in the window or the switches cannot identify
    the coefficients.
    """
    out = Path(out)
    panel = country_year_panel(study, panels)
    options = {
        "leads": int(params.get("leads", 5)),
        "lags": int(params.get("lags", 5)),
        "reference": _reference_option(params.get("reference", POOLED)),
        "away": str(params.get("away", "exclude")),
        "switch_year_rule": str(params.get("switch_year_rule", "calendar")),
        "switch_month": int(params.get("switch_month", 11)),
    }
    try:
        dummies = event_time_dummies(panel, **options)
    except SpecError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"cannot build event-time indicators: {exc}")
    skipped = _skip_reason(dummies)
    if skipped is not None:
        return DesignOutput(NAME, TITLE, skipped=skipped)
    controls = tuple(params.get("controls", ()))
    if params.get("bri_control", False) and "bri_member" not in controls:
        controls += ("bri_member",)
    try:
        es = event_study(
            panel,
            dummies=dummies,
            outcome=str(params.get("outcome", "contacts")),
            controls=controls,
            cluster=str(params.get("cluster", UNIT)),
        )
    except CpcError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"event study not estimable: {exc}")
    add_robust(
        es,
        robust=bool(params.get("robust", True)),
        inference=bool(params.get("few_cluster", True)),
        B=int(params.get("B", 999)),
        seed=int(params.get("seed", 20261201)),
        weights=str(params.get("weights", "webb")),
        ri_scheme=str(params.get("ri_scheme", "treated")),
        ri_statistic=str(params.get("ri_statistic", "studentised")),
    )
    planted = planted_effect(study, STATUS)
    table = design_table(study, es)
    details = notes(study, es, planted)
    files = write_table(table, out, NAME)
    files.append(write_details(out, NAME, table.title, details, simulated=study.simulated))
    truth = true_event_effects(study)
    files += plot_event_study(
        es, stem=out / "figures" / NAME, simulated=study.simulated, planted=planted, truth=truth
    )
    record = {
        "simulated": bool(study.simulated),
        "planted_log_effect": planted,
        "true_effects_by_event_time": truth,
        "estimator": "fe-poisson with country and year fixed effects (TWFE event study) "
        "and interaction-weighted (Sun-Abraham) cohort x event-time cells",
        "se": "clustered by country (CR1); wild cluster score bootstrap and randomisation "
        "inference over switch years beside the analytic p-values",
        **es.to_record(),
        "details": details,
    }
    return DesignOutput(NAME, TITLE, files=files, models=[es.model], record=record)
