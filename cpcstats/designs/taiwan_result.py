"""The Taiwan event study's result: coefficients, lead tests and the JSON record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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
    #: the interaction-weighted estimates (`cpcstats.methods.interaction_weighted`) and the
    #: few-cluster p-values (`cpcstats.designs.taiwan_robust.FewCluster`), when computed
    robust: Any = None
    few: Any = None
    robust_note: str = ""

    def estimates(self) -> pd.DataFrame:
        """One row per event time of the switch to Beijing: both estimators side by side.

        Columns ``twfe_*`` (``estimate``, ``std_error``, ``lower``, ``upper``, ``p``,
        ``p_wild``, ``status``), ``iw_*`` (the same plus ``ratio``, ``ratio_lower``,
        ``ratio_upper``) and ``p_ri`` (randomisation p of the post-switch bin; NaN for
        leads).  Missing pieces are NaN.
        """
        c = self.coefficients
        tw = c[c["kind"] == TO_PRC].set_index("event_time")
        out = pd.DataFrame(index=pd.Index(tw.index, name="event_time"))
        out["label"] = tw["label"]
        for col in ("estimate", "std_error", "lower", "upper"):
            out[f"twfe_{col}"] = tw[col]
        out["twfe_p"] = tw["p_value"]
        out["twfe_status"] = tw["status"]
        few = self.few
        out["twfe_p_wild"] = pd.Series(few.twfe if few else {}, dtype=float)
        if self.robust is not None:
            iw = self.robust.effects.set_index("event_time")
            for col in ("estimate", "std_error", "lower", "upper"):
                out[f"iw_{col}"] = iw.get(col, np.nan)
            out["iw_p"] = iw.get("p_value", np.nan)
            for col in ("ratio", "ratio_lower", "ratio_upper", "status", "n_units"):
                out[f"iw_{col}"] = iw.get(col, np.nan)
        out["iw_p_wild"] = pd.Series(few.iw if few else {}, dtype=float)
        out["p_ri"] = pd.Series(few.ri if few else {}, dtype=float)
        return out.reset_index()

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
            "switch_year_rule": d.switch_year_rule,
            "switch_month": d.switch_month,
            "late_switches": {k: list(v) for k, v in d.late_switches.items()},
            "event_time_estimates": plain_records(self.estimates(), nonfinite_as_none=True),
            "robust": None if self.robust is None else self.robust.to_record(),
            "few_cluster": None if self.few is None else self.few.to_record(),
        }
