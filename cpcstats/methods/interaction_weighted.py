"""Interaction-weighted event study (Sun and Abraham 2021) for an exponential (Poisson) mean.

Why: a two-way FE event study with one coefficient per event time is, under staggered
adoption, a weighted average of cohort-specific effects whose weights can be negative and
leak effects from other event times (Sun and Abraham 2021): when the effect of the event
differs by cohort (early and late switchers) or grows with time since the event, its
leads and lags are biased.  The interaction-weighted (IW) estimator avoids this:

1. fit FE-Poisson of ``yname`` on one indicator per cohort x event time (cohort = units
   with the same event period; *every* observed event time gets its own indicator,
   e = -1 omitted for every cohort) with unit and period fixed effects, the
   comparison group being the never-treated units (``control="never"``) or the last
   cohort before it is treated (``control="last"``: rows from the last cohort's event
   period on are dropped);
2. average the cohort coefficients at each event time with the cohort shares among the
   treated units observed at that event time (``n_{g,e} / sum_g n_{g,e}``), so each
   event-time effect is a convex combination of cohort effects at *that* event time.

Why saturate instead of binning the endpoints: a pooled ``e >= lags`` indicator (one per
cohort, or one for all as in the TWFE) cannot follow an effect that keeps growing, and its
misfit leaks into the period effects and so into every other coefficient (measured in
``tests/test_methods_interaction_weighted.py``).  With every treated row (but e = -1) on its
own indicator the period effects come from the comparison units alone.  Effects are
*reported* for e = -leads … lags; the endpoints are single event times, not bins.

Scales: ``estimate`` is the share-weighted average log rate ratio ``sum_g w_g b_{g,e}``
(the log scale), ``ratio`` the share-weighted average rate ratio ``sum_g w_g exp(b_{g,e})``
(the count scale: expected count with the event over without it, averaged over cohorts).
Leads e = -leads … -2 are estimated relative to e = -1 and tested jointly (Wald, the IW
lead vector).  Standard errors: delta method with the cluster-robust (CR1) covariance of
the cell coefficients; the cohort shares are treated as fixed (they are the design's
known cohort sizes), as in Sun and Abraham's variance without the weight-estimation term.
Cells not estimable (no nonzero outcome, or separated) get no weight, and are listed.
Units whose event precedes the panel are always treated: dropped (``always_treated=
"drop"``, Sun and Abraham) or kept as controls (``"control"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.methods.indicators import as_frame, attach_columns, observed_indicators
from cpcstats.methods.records import plain_records
from cpcstats.panels import Panel

__all__ = ["CONTROLS", "InteractionWeighted", "cell_term", "interaction_weighted"]

Z95 = float(stats.norm.ppf(0.975))
CONTROLS = ("never", "last")
ALWAYS = ("drop", "control")


def cell_term(index: int, event_time: int, prefix: str = "iw") -> str:
    """Formula-safe name of the indicator of cohort number ``index`` at ``event_time``."""
    e = f"m{-event_time}" if event_time < 0 else f"p{event_time}"
    return f"{prefix}{index}_{e}"


@dataclass
class InteractionWeighted:
    """The IW fit: cell coefficients, event-time effects, weights and the lead test.

    ``effects``: one row per event time -leads … lags (e = -1 the reference, 0) with
    ``estimate``/``std_error``/``lower``/``upper``/``p_value`` (log scale), ``ratio``/
    ``ratio_lower``/``ratio_upper`` (count scale, CI by the log of the ratio),
    ``n_cohorts``/``n_units`` (estimable cells and their units) and ``status``.
    ``cells``: one row per cohort x event time (``cohort``, ``event_time``, ``term``,
    ``estimate``, ``std_error``, ``n_units``, ``weight``, ``status``).  ``vcov`` is the
    covariance of the estimated effects (log scale, index = event time).
    """

    model: FitResult
    effects: pd.DataFrame
    cells: pd.DataFrame
    vcov: pd.DataFrame
    lead_test: dict[str, Any]
    control: str
    cohorts: dict[Any, int]  # unit -> cohort (event period) among the treated units used
    leads: int
    lags: int

    def to_record(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "effects": plain_records(self.effects, nonfinite_as_none=True),
            "cells": plain_records(self.cells, nonfinite_as_none=True),
            "lead_test": self.lead_test,
            "control": self.control,
            "n_cohorts": len(set(self.cohorts.values())),
            "n_treated_units": len(self.cohorts),
            "leads": self.leads,
            "lags": self.lags,
        }


def _timing(
    data: pd.DataFrame, idname: str, tname: str, gname: str, always_treated: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Rows kept and each unit's event period inside the window (NaN: comparison unit)."""
    first, last = data[tname].min(), data[tname].max()
    g = pd.to_numeric(data.groupby(idname, sort=True)[gname].max(), errors="coerce")
    before = g[g < first].index
    if always_treated == "drop":
        data = data[~data[idname].isin(list(before))]
        g = g.drop(before)
    g = g.where((g >= first) & (g <= last))
    return data, g


def _cells(
    data: pd.DataFrame, g: pd.Series, idname: str, tname: str, leads: int, lags: int, control: str
) -> tuple[pd.DataFrame, dict[str, np.ndarray], list[dict[str, Any]], pd.Series]:
    """Indicator columns of every cohort x event time observed (e = -1 omitted)."""
    cohorts = sorted(int(c) for c in g.dropna().unique())
    if control == "last":
        if len(cohorts) < 2:
            raise EstimationError("control='last' needs at least two cohorts")
        last = cohorts.pop()
        data = data[data[tname] < last]
        g = g.where(g != last)
    elif not g.isna().any():
        raise EstimationError(
            "no never-treated unit is left as a comparison group",
            fix='use control="last" (the last cohort before its event)',
        )
    unit_g = data[idname].map(g).to_numpy(dtype=float)
    e = data[tname].to_numpy(dtype=float) - unit_g
    columns: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    for k, c in enumerate(cohorts):
        in_c = unit_g == c
        for ev in sorted(int(v) for v in np.unique(e[in_c])):
            if ev == -1:
                continue
            on = in_c & (e == ev)
            term = cell_term(k, ev)
            columns[term] = on.astype(int)
            rows.append({"cohort": c, "event_time": ev, "term": term})
    return data, columns, rows, g


def _aggregate(
    cells: pd.DataFrame, V: pd.DataFrame, leads: int, lags: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share-weighted event-time effects (log and ratio scale) and their covariance."""
    out, grads = [], {}
    ok = cells["status"] == "estimated"
    names = list(V.index)
    for ev in range(-leads, lags + 1):
        row: dict[str, Any] = {"event_time": ev, "n_cohorts": 0, "n_units": 0}
        if ev == -1:
            row.update(estimate=0.0, ratio=1.0, status="reference")
            out.append(row)
            continue
        sel = cells[ok & (cells["event_time"] == ev) & (cells["n_units"] > 0)]
        if sel.empty:
            row.update(estimate=np.nan, ratio=np.nan, status="not estimable: no cohort cell")
            out.append(row)
            continue
        w = sel["n_units"].to_numpy(float) / sel["n_units"].sum()
        cells.loc[sel.index, "weight"] = w
        b = sel["estimate"].to_numpy(float)
        grad = np.zeros(len(names))
        grad[[names.index(t) for t in sel["term"]]] = w
        grads[ev] = grad
        rgrad = np.zeros(len(names))
        rgrad[[names.index(t) for t in sel["term"]]] = w * np.exp(b)
        est, ratio = float(w @ b), float(w @ np.exp(b))
        se = float(np.sqrt(grad @ V.to_numpy() @ grad))
        rse = float(np.sqrt(rgrad @ V.to_numpy() @ rgrad))
        row.update(
            estimate=est,
            std_error=se,
            lower=est - Z95 * se,
            upper=est + Z95 * se,
            p_value=float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan,
            ratio=ratio,
            ratio_se=rse,
            ratio_lower=ratio * np.exp(-Z95 * rse / ratio),
            ratio_upper=ratio * np.exp(Z95 * rse / ratio),
            n_cohorts=len(sel),
            n_units=int(sel["n_units"].sum()),
            status="estimated",
        )
        out.append(row)
    G = np.array([grads[e] for e in grads]) if grads else np.zeros((0, len(names)))
    cov = pd.DataFrame(G @ V.to_numpy() @ G.T, index=list(grads), columns=list(grads))
    return pd.DataFrame(out), cov


def _lead_test(effects: pd.DataFrame, cov: pd.DataFrame) -> dict[str, Any]:
    """Joint Wald test that the IW leads e <= -2 are all 0."""
    leads = [e for e in cov.index if e <= -2]
    if not leads:
        return {"statistic": None, "df": 0, "p_value": None, "note": "no lead is estimable"}
    b = effects.set_index("event_time").loc[leads, "estimate"].to_numpy(float)
    C = cov.loc[leads, leads].to_numpy()
    stat = float(b @ np.linalg.pinv(C, rcond=1e-10) @ b)
    df = int(np.linalg.matrix_rank(C))
    p = float(stats.chi2.sf(stat, df))
    return {"statistic": stat, "df": df, "p_value": p, "event_times": leads, "note": ""}


def interaction_weighted(
    frame: Panel | pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str,
    leads: int = 5,
    lags: int = 5,
    control: str = "never",
    always_treated: str = "drop",
    controls: Sequence[str] = (),
    cluster: str | None = None,
) -> InteractionWeighted:
    """IW event study of ``yname`` around each unit's event period ``gname`` (FE-Poisson).

    See the module docstring; ``cluster`` defaults to ``idname``.  Raises `SpecError` for
    unknown columns or options and `EstimationError` when no comparison group is left.
    """
    if control not in CONTROLS or always_treated not in ALWAYS:
        raise SpecError(
            f"control={control!r} / always_treated={always_treated!r}: use control in "
            f"{CONTROLS} and always_treated in {ALWAYS}",
            column="control",
        )
    data = as_frame(frame)
    missing = [c for c in (yname, idname, tname, gname, *controls) if c not in data.columns]
    if missing:
        raise SpecError(f"the panel has no column(s) {', '.join(missing)}", column=missing[0])
    data, g = _timing(data, idname, tname, gname, always_treated)
    data, columns, rows, g = _cells(data, g, idname, tname, int(leads), int(lags), control)
    if not columns:
        raise EstimationError(f"no unit has an event inside the window of {tname}")
    data = attach_columns(data, columns)
    fitted = observed_indicators(data, list(columns), yname, idname=idname, tname=tname)
    rhs = " + ".join([*fitted, *controls])
    result = fit(
        f"{yname} ~ {rhs} | {idname} + {tname}",
        data,
        family="fe-poisson",
        cluster=cluster or idname,
        name="interaction_weighted",
    )
    used = result.design.frame
    cells = pd.DataFrame(rows)
    est = [t for t in cells["term"] if t in result.params.index]
    cells["estimate"] = cells["term"].map(result.params)
    cells["std_error"] = cells["term"].map(result.std_errors)
    cells["n_units"] = [
        int(used.loc[used[t] == 1, idname].nunique()) if t in used.columns else 0
        for t in cells["term"]
    ]
    cells["weight"] = 0.0
    cells["status"] = np.where(
        cells["term"].isin(est),
        "estimated",
        np.where(
            cells["term"].isin(fitted),
            "not estimable: omitted by the fit",
            "not estimable: no nonzero outcome",
        ),
    )
    V = result.vcov.loc[est, est]
    effects, cov = _aggregate(cells, V, int(leads), int(lags))
    treated = {k: int(v) for k, v in g.dropna().items() if k in set(used[idname])}
    return InteractionWeighted(
        model=result,
        effects=effects,
        cells=cells,
        vcov=cov,
        lead_test=_lead_test(effects, cov),
        control=control,
        cohorts=treated,
        leads=int(leads),
        lags=int(lags),
    )
