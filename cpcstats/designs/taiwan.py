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

from cpcstats.designs.base import DesignOutput, country_year_panel, planted_effect
from cpcstats.designs.taiwan_figure import plot_event_study
from cpcstats.designs.taiwan_result import EventStudyResult
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
from cpcstats.designs.taiwan_table import DROPPED, NOT_OBSERVED, SEPARATED, notes, table_frame
from cpcstats.errors import CpcError, EstimationError, SpecError
from cpcstats.methods import event_study as generic
from cpcstats.methods.event_time import event_term
from cpcstats.panels import Panel
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "DROPPED",
    "NOT_OBSERVED",
    "SEPARATED",
    "EventDummies",
    "EventStudyResult",
    "event_study",
    "event_term",
    "event_time_dummies",
    "plot_event_study",
    "run",
]

NAME = "design_taiwan"
TITLE = "Taiwan recognition switches and party contact: event study (FE-Poisson)"
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
    """
    if dummies is None:
        dummies = event_time_dummies(panel, leads=leads, lags=lags, reference=reference, away=away)
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
    ``outcome``, ``controls`` and ``cluster``.  Skipped, with the reason, when no switch to
    Beijing falls in the window or the switches cannot identify the coefficients.
    """
    out = Path(out)
    panel = country_year_panel(study, panels)
    options = {
        "leads": int(params.get("leads", 5)),
        "lags": int(params.get("lags", 5)),
        "reference": _reference_option(params.get("reference", POOLED)),
        "away": str(params.get("away", "exclude")),
    }
    try:
        dummies = event_time_dummies(panel, **options)
    except SpecError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"cannot build event-time indicators: {exc}")
    skipped = _skip_reason(dummies)
    if skipped is not None:
        return DesignOutput(NAME, TITLE, skipped=skipped)
    try:
        es = event_study(
            panel,
            dummies=dummies,
            outcome=str(params.get("outcome", "contacts")),
            controls=tuple(params.get("controls", ())),
            cluster=str(params.get("cluster", UNIT)),
        )
    except CpcError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"event study not estimable: {exc}")
    planted = planted_effect(study, STATUS)
    table = stats_table(
        table_frame(es),
        title=TITLE,
        label=f"tab:{NAME}",
        notes=notes(study, es, planted),
        digits={"Switchers": 0},
        simulated=study.simulated,
    )
    files = write_table(table, out, NAME)
    files += plot_event_study(
        es, stem=out / "figures" / NAME, simulated=study.simulated, planted=planted
    )
    record = {
        "simulated": bool(study.simulated),
        "planted_log_effect": planted,
        "estimator": "fe-poisson with country and year fixed effects",
        "se": "clustered by country (CR1)",
        **es.to_record(),
    }
    return DesignOutput(NAME, TITLE, files=files, models=[es.model], record=record)
