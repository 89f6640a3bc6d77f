"""The Taiwan event study's result: coefficients, lead tests and the JSON record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cpcstats.designs.taiwan_sample import TO_PRC, UNIT, EventDummies
from cpcstats.estimation.postestimation import WaldTest
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.score import ScoreTest
from cpcstats.methods.records import plain_records

__all__ = ["EventStudyResult"]


@dataclass
class EventStudyResult:
    """The fitted event study: model, per-bin coefficients and the joint test of the leads.

    ``coefficients`` has one row per event time of each kind, the reference included (0 by
    construction), with ``estimate``, ``std_error``, ``lower``/``upper`` (95 %), ``p_value``,
    ``n_countries``/``n_rows`` (switching countries and rows in that bin in the model's
    sample, before separated rows are dropped) and ``status`` (``estimated``,
    ``reference`` or why it is not estimable).  ``leads_test`` is the Wald test that all
    estimable leads of the switch to Beijing are 0 — or, with the pooled pre-period
    reference, the robust score test that adding the leads changes nothing — None with
    ``leads_note`` saying why when none can be tested.
    """

    model: FitResult
    dummies: EventDummies
    coefficients: pd.DataFrame
    leads_test: WaldTest | ScoreTest | None
    leads_note: str = ""
    away_leads_test: WaldTest | ScoreTest | None = None
    outcome: str = "contacts"
    controls: tuple[str, ...] = ()
    n_switchers_sample: int = 0

    def post(self, kind: str = TO_PRC) -> pd.DataFrame:
        """Rows for e >= 0 of one kind."""
        c = self.coefficients
        return c[(c["kind"] == kind) & (c["event_time"] >= 0)]

    def leads(self, kind: str = TO_PRC) -> pd.DataFrame:
        """Rows for e < 0 of one kind, the reference included."""
        c = self.coefficients
        return c[(c["kind"] == kind) & (c["event_time"] < 0)]

    def to_record(self) -> dict[str, Any]:
        """Plain JSON types: coefficients, tests, sample and the country classification."""
        d = self.dummies
        m = self.model
        return {
            "coefficients": plain_records(self.coefficients, nonfinite_as_none=True),
            "leads_test": None if self.leads_test is None else self.leads_test.to_dict(),
            "leads_note": self.leads_note,
            "away_leads_test": (
                None if self.away_leads_test is None else self.away_leads_test.to_dict()
            ),
            "nobs": int(m.nobs),
            "n_clusters": m.n_clusters,
            "n_countries": int(m.design.frame[UNIT].nunique()) if m.design is not None else None,
            "switch_years": dict(d.switch_years),
            "n_switchers_window": len(d.switch_years),
            "n_switchers_sample": int(self.n_switchers_sample),
            "away": d.away,
            "away_years": dict(d.away_years),
            "excluded": plain_records(d.excluded, nonfinite_as_none=True),
            "excluded_rows": d.excluded_rows,
            "pre_window_controls": list(d.pre_window),
            "reversed_in_year_controls": list(d.reversed_in_year),
            "leads": d.leads,
            "lags": d.lags,
            "reference": d.reference,
            "outcome": self.outcome,
            "controls": list(self.controls),
            "sample": dict(m.sample.dropped) if m.sample else {},
            "warnings": list(m.warnings),
        }
