"""Heterogeneity-robust estimates and few-cluster p-values for the Taiwan event study.

Why: the TWFE event study pools 16 staggered switch years into one coefficient per event
time, which is biased when the response differs by switch cohort or keeps growing beyond
the ``e >= lags`` bin (Sun and Abraham 2021); and its CR1 standard errors rest on 16
treated clusters.  This module binds the design's columns to three generic methods:

* `cpcstats.methods.interaction_weighted` — cohort x event-time cells against the
  never-switching countries (always-Beijing, always-Taipei and pre-window switchers, the
  TWFE's controls), aggregated on the count scale (`cpcstats.methods.iw_aggregate`:
  log(sum Y / sum fitted untreated mean) per event time) and as a rate ratio, leads
  relative to e = -1 estimated;
* `cpcstats.methods.wild_bootstrap` — wild cluster score bootstrap (Kline-Santos) of each
  TWFE coefficient, of the TWFE leads (score test at the pooled-reference fit), of all
  TWFE lags jointly, and of each IW event-time effect (a linear restriction on the cells);
* `cpcstats.methods.randomization` — the sharp null "a switch changes nothing" tested by
  permuting the switch years among the switching countries (scheme ``"treated"``) or
  over all countries (``"all"``), with the score statistic of each post-switch bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_sample import TIME, TO_PRC, UNIT
from cpcstats.errors import CpcError
from cpcstats.methods.interaction_weighted import InteractionWeighted, interaction_weighted
from cpcstats.methods.randomization import event_bin_regressors, randomization_score_test
from cpcstats.methods.wild_bootstrap import wild_score_test

__all__ = ["FewCluster", "few_cluster", "robust_event_study"]

#: the switch year per row, added for the generic estimators
GNAME = "_switch_year"


def _with_switch(es: EventStudyResult) -> pd.DataFrame:
    """The design's rows with the switch year; countries leaving Beijing dropped."""
    d = es.dummies
    data = d.data
    if d.away_years:
        data = data[~data[UNIT].isin(list(d.away_years))]
    return data.assign(**{GNAME: data[UNIT].map(d.switch_years).astype(float)})


def robust_event_study(es: EventStudyResult) -> InteractionWeighted:
    """Interaction-weighted event study on the TWFE's sample, window and controls."""
    d = es.dummies
    return interaction_weighted(
        _with_switch(es),
        yname=es.outcome,
        idname=UNIT,
        tname=TIME,
        gname=GNAME,
        leads=d.leads,
        lags=d.lags,
        reference="pre",
        control="never",
        always_treated="control",
        controls=es.controls,
        cluster=UNIT,
    )


@dataclass
class FewCluster:
    """p-values by name: ``twfe`` / ``iw`` map event time -> wild bootstrap p; ``ri`` maps
    event time (0 … lags, lags = the ``e >= lags`` bin) -> randomisation p; ``tests`` holds
    the joint tests (``twfe_leads``, ``twfe_post``, ``ri_post``) as dictionaries."""

    twfe: dict[int, float] = field(default_factory=dict)
    iw: dict[int, float] = field(default_factory=dict)
    ri: dict[int, float] = field(default_factory=dict)
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return {
            "wild_p_twfe": {str(k): v for k, v in self.twfe.items()},
            "wild_p_iw": {str(k): v for k, v in self.iw.items()},
            "ri_p": {str(k): v for k, v in self.ri.items()},
            "tests": self.tests,
            "settings": self.settings,
            "notes": list(self.notes),
        }


def _twfe_wild(es: EventStudyResult, data: pd.DataFrame, out: FewCluster, kw: dict) -> None:
    """Each estimated TWFE coefficient, all lags jointly, and the leads."""
    c = es.coefficients
    rows = c[(c["kind"] == TO_PRC) & (c["status"] == "estimated")]
    terms = [t for t in es.model.params.index if t not in es.controls]
    xnames = [*terms, *es.controls]
    for r in rows.itertuples():
        test = wild_score_test(data, xnames=xnames, restriction=[r.term], **kw)
        out.twfe[int(r.event_time)] = test.p_bootstrap
    post = [t for t in rows.loc[rows["event_time"] >= 0, "term"]]
    if post:
        out.tests["twfe_post"] = wild_score_test(
            data, xnames=xnames, restriction=post, **kw
        ).to_dict()
    lead = es.leads_test
    if lead is not None and es.dummies.pooled:
        added = list(lead.terms)
        out.tests["twfe_leads"] = wild_score_test(
            data, xnames=[*xnames, *added], restriction=added, **kw
        ).to_dict()


def _iw_wild(iw: InteractionWeighted, out: FewCluster, kw: dict) -> None:
    """Each IW event-time effect: H0 sum_g w_g b_ge = 0 with w = the cells' shares of the
    contacts at e (the count-scale effect linearised), a linear restriction on the cells."""
    cells = iw.cells[iw.cells["status"] == "estimated"]
    controls = [n for n in iw.model.params.index if n not in set(cells["term"])]
    xnames = [*cells["term"], *controls]
    frame = iw.model.design.frame
    for ev_time in sorted(set(cells["event_time"]) & set(range(-iw.leads, iw.lags + 1))):
        sel = cells[(cells["event_time"] == ev_time) & (cells["weight"] > 0)]
        if sel.empty:
            continue
        R = np.zeros((1, len(xnames)))
        for term, w in zip(sel["term"], sel["weight"], strict=True):
            R[0, xnames.index(term)] = w
        out.iw[int(ev_time)] = wild_score_test(
            frame, xnames=xnames, restriction=R, **kw
        ).p_bootstrap


def few_cluster(
    es: EventStudyResult,
    iw: InteractionWeighted | None,
    *,
    B: int = 999,
    seed: int = 20261201,
    weights: str = "webb",
    scheme: str = "treated",
    parts: Sequence[str] = ("twfe", "iw", "ri"),
    ri_statistic: str = "studentised",
) -> FewCluster:
    """Wild score bootstrap and randomisation p-values (seeded; B stated in ``settings``).

    ``parts`` selects what is computed (the IW bootstrap refits the saturated model once
    per event time, the costliest part).  A part that fails is reported in ``notes``.
    """
    data = _with_switch(es)
    out = FewCluster(
        settings={
            "B": B,
            "seed": seed,
            "weights": weights,
            "ri_scheme": scheme,
            "parts": list(parts),
        }
    )
    kw = {
        "yname": es.outcome,
        "fe": [UNIT, TIME],
        "cluster": UNIT,
        "B": B,
        "seed": seed,
        "weights": weights,
    }
    steps = {
        "twfe": lambda: _twfe_wild(es, data, out, kw),
        "iw": lambda: _iw_wild(iw, out, kw) if iw is not None else None,
        "ri": lambda: _randomization(es, data, out, B, seed, scheme, ri_statistic),
    }
    for part in parts:
        try:
            steps[part]()
        except CpcError as exc:
            out.notes.append(f"{part}: not computed ({exc})")
    return out


def _randomization(
    es: EventStudyResult,
    data: pd.DataFrame,
    out: FewCluster,
    B: int,
    seed: int,
    scheme: str,
    statistic: str,
) -> None:
    lags = es.dummies.lags
    names, build = event_bin_regressors(lags)
    ri = randomization_score_test(
        data,
        yname=es.outcome,
        idname=UNIT,
        tname=TIME,
        gname=GNAME,
        fe=[UNIT, TIME],
        cluster=UNIT,
        xnames=list(es.controls),
        regressors=(names, build),
        scheme=scheme,
        B=B,
        seed=seed,
        statistic=statistic,
    )
    for k, name in enumerate(names):
        out.ri[k] = ri.per_term[name][1]
    out.tests["ri_post"] = ri.to_dict()
