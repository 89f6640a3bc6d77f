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

Reference (``reference``): ``-1`` (Sun and Abraham) or ``"pre"``, the pooled pre-event
period of each cohort — needed for a sparse count whose year before the event often has no
outcome at all (every cell relative to it would be +inf).  With ``"pre"`` only e >= 0 has
cohort cells; each lead e = -leads … -1 is then estimated by refitting with one indicator
of that event time added (pooled over cohorts: under no anticipation the lead effect is 0
in every cohort, so pooling mixes no heterogeneous effects), i.e. relative to the other
pre-event years, and the leads are tested jointly by the robust score test of adding the
lead indicators e = -leads … -2 (as the TWFE design does).

Standard errors of the event-time effects: the larger of the delta-method SE from the
cluster-robust (CR1) covariance of the cells and from their quasi-Poisson model-based
covariance (`model_vcov`), per event time.  Why the maximum: with cohorts of one cluster
(one switching country per year) the CR1 variance of a cell is degenerate (~0), and the
model-based one ignores within-cluster correlation; neither alone is safe.  Cohorts whose
reference rows have no outcome at all are not identified: their units are dropped and
listed.

Scales: ``estimate`` is the share-weighted average log rate ratio ``sum_g w_g b_{g,e}``
(the log scale), ``ratio`` the share-weighted average rate ratio ``sum_g w_g exp(b_{g,e})``
(the count scale: expected count with the event over without it, averaged over cohorts).
With ``reference=-1`` the leads e = -leads … -2 are cells relative to e = -1 and tested
jointly (Wald on the IW lead vector).  Standard errors: delta method with the
cluster-robust (CR1) covariance of the cell coefficients; the cohort shares are treated
as fixed (they are the design's known cohort sizes), as in Sun and Abraham's variance
without the weight-estimation term.  Cells with no outcome at all (log effect -inf) get no
weight on the log scale and ratio 0 on the ratio scale; all cells are listed.
Units whose event precedes the panel are always treated: dropped (``always_treated=
"drop"``, Sun and Abraham) or kept as controls (``"control"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.hdfe import Demeaner
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.score import score_test
from cpcstats.methods.indicators import as_frame, attach_columns, observed_indicators
from cpcstats.methods.records import plain_records
from cpcstats.panels import Panel

__all__ = ["CONTROLS", "InteractionWeighted", "cell_term", "interaction_weighted"]

Z95 = float(stats.norm.ppf(0.975))
CONTROLS = ("never", "last")
ALWAYS = ("drop", "control")
POOLED = "pre"
ZERO_CELL = "zero: no outcome in the cell (log effect -inf, ratio 0; rows dropped)"
LEAD = "iw_lead"


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
    reference: int | str = -1
    dropped_cohorts: dict[int, int] = field(default_factory=dict)  # cohort -> units dropped

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
            "reference": self.reference,
            "dropped_cohorts": {str(k): v for k, v in self.dropped_cohorts.items()},
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
    data: pd.DataFrame, g: pd.Series, idname: str, tname: str, control: str, pooled: bool
) -> tuple[pd.DataFrame, dict[str, np.ndarray], list[dict[str, Any]], pd.Series]:
    """Indicator columns of every cohort x event time observed (the reference omitted)."""
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
            if ev == -1 or (pooled and ev < 0):
                continue
            term = cell_term(k, ev)
            columns[term] = (in_c & (e == ev)).astype(int)
            rows.append({"cohort": c, "event_time": ev, "term": term})
    return data, columns, rows, g


def _unidentified(
    data: pd.DataFrame, g: pd.Series, yname: str, idname: str, tname: str, pooled: bool
) -> dict[int, int]:
    """Cohorts whose reference rows (e = -1, or every e < 0) have no outcome at all."""
    e = data[tname] - data[idname].map(g)
    ref = (e < 0) if pooled else (e == -1)
    total = data.loc[ref].groupby(data.loc[ref, idname].map(g))[yname].sum()
    cohorts = g.dropna()
    out = {}
    for c in sorted(cohorts.unique()):
        if float(total.get(c, 0.0)) <= 0:
            out[int(c)] = int((cohorts == c).sum())
    return out


def _fit(
    data: pd.DataFrame,
    terms: Sequence[str],
    yname: str,
    idname: str,
    tname: str,
    controls: Sequence[str],
    cluster: str,
) -> tuple[FitResult, list[str]]:
    fitted = observed_indicators(data, list(terms), yname, idname=idname, tname=tname)
    rhs = " + ".join([*fitted, *controls]) or "1"
    result = fit(
        f"{yname} ~ {rhs} | {idname} + {tname}",
        data,
        family="fe-poisson",
        cluster=cluster,
        name="interaction_weighted",
    )
    return result, fitted


def _zero_cells(
    data: pd.DataFrame, terms: Sequence[str], yname: str, idname: str, tname: str
) -> dict[str, int]:
    """Cells whose rows (in units and periods with some outcome) have no outcome at all,
    with their units.  Why dropped before the fit: their coefficient is -inf (the rows are
    separated), which the FE-Poisson finds only after slow iterations and refits."""
    alive = (data.groupby(idname)[yname].transform("sum") > 0) & (
        data.groupby(tname)[yname].transform("sum") > 0
    )
    out = {}
    for t in terms:
        on = alive & (data[t] == 1)
        if on.any() and float(data.loc[on, yname].sum()) <= 0:
            out[t] = int(data.loc[on, idname].nunique())
    return out


def _cell_table(
    rows: list[dict[str, Any]],
    result: FitResult,
    fitted: list[str],
    idname: str,
    zero: dict[str, int],
) -> pd.DataFrame:
    used = result.design.frame
    cells = pd.DataFrame(rows, columns=["cohort", "event_time", "term"])
    est = [t for t in cells["term"] if t in result.params.index]
    cells["estimate"] = cells["term"].map(result.params)
    cells["std_error"] = cells["term"].map(result.std_errors)
    cells["n_units"] = [
        int(used.loc[used[t] == 1, idname].nunique()) if t in used.columns else 0
        for t in cells["term"]
    ]
    cells["weight"] = 0.0
    cells["ratio_weight"] = 0.0
    omitted = np.where(
        cells["term"].isin(fitted),
        "not estimable: omitted by the fit (separated)",
        "not estimable: no nonzero outcome",
    )
    cells["status"] = np.where(cells["term"].isin(est), "estimated", omitted)
    is_zero = cells["term"].isin(list(zero))
    cells["status"] = np.where(is_zero, ZERO_CELL, cells["status"])
    cells["n_units"] = [
        zero.get(t, n) for t, n in zip(cells["term"], cells["n_units"], strict=True)
    ]
    return cells


def _lead_row(
    data: pd.DataFrame, e: np.ndarray, k: int, leads: int, fit_args: tuple
) -> dict[str, Any]:
    """Lead k (k = -leads: e <= -leads) against the other pre-event years (pooled cohorts)."""
    on = (e <= -leads) if k == -leads else (e == k)
    row: dict[str, Any] = {"event_time": k, "n_units": 0, "n_cohorts": 0}
    if not on.any():
        return {**row, "status": "not estimable: no cohort cell"}
    cells, yname, idname, tname, controls, cluster = fit_args
    if float(data.loc[on, yname].sum()) <= 0:
        n = int(data.loc[on, idname].nunique())
        return {
            **row,
            "n_units": n,
            "status": "not estimable: all outcomes zero at this event time",
        }
    frame = data.assign(**{LEAD: on.astype(int)})
    result, _ = _fit(frame, [*cells, LEAD], yname, idname, tname, controls, cluster)
    used = result.design.frame
    row["n_units"] = int(used.loc[used[LEAD] == 1, idname].nunique()) if LEAD in used else 0
    if LEAD not in result.params.index:
        return {**row, "status": "not estimable: all outcomes zero at this event time"}
    b, se = float(result.params[LEAD]), float(result.std_errors[LEAD])
    return {
        **row,
        "estimate": b,
        "std_error": se,
        "lower": b - Z95 * se,
        "upper": b + Z95 * se,
        "p_value": float(2 * stats.norm.sf(abs(b / se))),
        "ratio": float(np.exp(b)),
        "ratio_se": float(np.exp(b) * se),
        "ratio_lower": float(np.exp(b - Z95 * se)),
        "ratio_upper": float(np.exp(b + Z95 * se)),
        "status": "estimated (relative to the other pre-event years)",
    }


def _pooled_leads(
    result: FitResult, data: pd.DataFrame, g: pd.Series, leads: int, fit_args: tuple
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Lead estimates (one refit each) and the score test of the leads e = -leads … -2."""
    _, _, idname, tname, _, _ = fit_args
    e = (data[tname] - data[idname].map(g)).to_numpy(dtype=float)
    rows = [_lead_row(data, e, k, leads, fit_args) for k in range(-leads, 0)]
    columns = {
        f"{LEAD}_{-k}": ((e <= -leads) if k == -leads else (e == k)).astype(int)
        for k in range(-leads, -1)
    }
    added = data.assign(**columns)
    used = result.design.frame.index
    terms = [n for n in columns if bool(added.loc[used, n].any())]
    if not terms:
        return rows, {"statistic": None, "df": 0, "p_value": None, "note": "no lead rows"}
    test = score_test(result, terms, data=added)
    return rows, {
        "statistic": float(test.statistic),
        "df": int(test.df),
        "p_value": float(test.p_value),
        "test": "score (leads pooled by event time)",
        "event_times": list(range(-leads, -1)),
        "note": "",
    }


def model_vcov(result: FitResult, terms: Sequence[str]) -> pd.DataFrame:
    """Quasi-Poisson model-based covariance of ``terms``: Pearson dispersion times the
    inverse information, the fixed effects partialled out in the mu metric.

    Why: a cohort x event-time cell identified by one cluster is fitted exactly by its own
    indicator, so its clustered (and row-level) score is ~0 and the sandwich variance is
    degenerate; the model-based variance still reflects the cell's expected count.
    """
    core, design = result.core, result.design  # the estimation rows' X, y and FE codes
    keep = np.ones(len(design.data.y), dtype=bool) if core.keep is None else core.keep
    names = list(design.data.x_names)
    X = design.data.X[keep][:, [names.index(t) for t in terms]]
    y = design.data.y[keep]
    codes = [np.unique(c[keep], return_inverse=True)[1] for c in design.data.fe_codes]
    mu = np.asarray(core.fitted, dtype=float)
    Xt, _ = Demeaner(codes)(X, mu)
    info = (Xt * mu[:, None]).T @ Xt
    n, p = len(mu), len(core.names) + sum(int(c.max()) + 1 for c in codes)
    phi = float(np.sum((y - mu) ** 2 / mu) / max(n - p, 1))
    V = max(phi, 1.0) * np.linalg.pinv(info, hermitian=True)
    return pd.DataFrame(V, index=list(terms), columns=list(terms))


def _aggregate(
    cells: pd.DataFrame, V: pd.DataFrame, leads: int, lags: int, Vq: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share-weighted event-time effects (log and ratio scale) and their covariance.

    Log scale: cells with an estimate.  Ratio scale: those and the cells without any
    outcome (ratio 0, the limit of their MLE; no variance contribution), so the ratio is not
    pushed up by leaving out the cells where the event coincided with no outcome at all.
    """
    out, grads = [], {}
    ok = cells["status"] == "estimated"
    zero = cells["status"] == ZERO_CELL
    names = list(V.index)
    Vm = V.to_numpy()
    Vq_m = Vm if Vq is None else Vq.to_numpy()
    for ev in range(-leads, lags + 1):
        row: dict[str, Any] = {"event_time": ev, "n_cohorts": 0, "n_units": 0, "n_zero_cells": 0}
        if ev == -1:
            out.append({**row, "estimate": 0.0, "ratio": 1.0, "status": "reference"})
            continue
        at = (cells["event_time"] == ev) & (cells["n_units"] > 0)
        sel, both = cells[ok & at], cells[(ok | zero) & at]
        row["n_zero_cells"] = int((zero & at).sum())
        if sel.empty:
            out.append({**row, "status": "not estimable: no cohort cell with an outcome"})
            continue
        w = sel["n_units"].to_numpy(float) / sel["n_units"].sum()
        cells.loc[sel.index, "weight"] = w
        wr = both["n_units"].to_numpy(float) / both["n_units"].sum()
        cells.loc[both.index, "ratio_weight"] = wr
        b = sel["estimate"].to_numpy(float)
        idx = [names.index(t) for t in sel["term"]]
        grad, rgrad = np.zeros(len(names)), np.zeros(len(names))
        grad[idx] = w
        rgrad[idx] = wr[both.index.get_indexer(sel.index)] * np.exp(b)
        grads[ev] = grad
        est = float(w @ b)
        ratio = float(rgrad.sum())
        se_cr1 = float(np.sqrt(grad @ Vm @ grad))
        se_model = float(np.sqrt(grad @ Vq_m @ grad))
        se = max(se_cr1, se_model)
        rse = max(float(np.sqrt(rgrad @ Vm @ rgrad)), float(np.sqrt(rgrad @ Vq_m @ rgrad)))
        row.update(
            estimate=est,
            std_error=se,
            std_error_cr1=se_cr1,
            std_error_model=se_model,
            lower=est - Z95 * se,
            upper=est + Z95 * se,
            p_value=float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan,
            ratio=ratio,
            ratio_se=rse,
            ratio_lower=ratio * np.exp(-Z95 * rse / ratio) if ratio > 0 else np.nan,
            ratio_upper=ratio * np.exp(Z95 * rse / ratio) if ratio > 0 else np.nan,
            n_cohorts=len(sel),
            n_units=int(sel["n_units"].sum()),
            status="estimated",
        )
        out.append(row)
    G = np.array([grads[e] for e in grads]) if grads else np.zeros((0, len(names)))
    cov = pd.DataFrame(G @ Vm @ G.T, index=list(grads), columns=list(grads))
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
    reference: int | str = -1,
    control: str = "never",
    always_treated: str = "drop",
    controls: Sequence[str] = (),
    cluster: str | None = None,
) -> InteractionWeighted:
    """IW event study of ``yname`` around each unit's event period ``gname`` (FE-Poisson).

    See the module docstring; ``cluster`` defaults to ``idname``.  Raises `SpecError` for
    unknown columns or options and `EstimationError` when no comparison group is left.
    """
    if control not in CONTROLS or always_treated not in ALWAYS or reference not in (-1, POOLED):
        raise SpecError(
            f"control={control!r} / always_treated={always_treated!r} / reference="
            f"{reference!r}: use control in {CONTROLS}, always_treated in {ALWAYS} and "
            f'reference -1 or "{POOLED}"',
            column="control",
        )
    pooled = reference == POOLED
    data = as_frame(frame)
    missing = [c for c in (yname, idname, tname, gname, *controls) if c not in data.columns]
    if missing:
        raise SpecError(f"the panel has no column(s) {', '.join(missing)}", column=missing[0])
    data, g = _timing(data, idname, tname, gname, always_treated)
    dropped = _unidentified(data, g, yname, idname, tname, pooled)
    if dropped:
        gone = g[g.isin(list(dropped))].index
        data, g = data[~data[idname].isin(list(gone))], g.drop(gone)
    data, columns, rows, g = _cells(data, g, idname, tname, control, pooled)
    if not columns:
        raise EstimationError(f"no unit has an identified event inside the window of {tname}")
    data = attach_columns(data, columns)
    zero = _zero_cells(data, list(columns), yname, idname, tname)
    if zero:
        data = data[~data[list(zero)].any(axis=1)].reset_index(drop=True)
    terms = [t for t in columns if t not in zero]
    fit_args = (terms, yname, idname, tname, tuple(controls), cluster or idname)
    result, fitted = _fit(data, *fit_args)
    cells = _cell_table(rows, result, fitted, idname, zero)
    est = list(cells.loc[cells["status"] == "estimated", "term"])
    Vq = model_vcov(result, est) if est else None
    effects, cov = _aggregate(cells, result.vcov.loc[est, est], int(leads), int(lags), Vq)
    if pooled:
        lead_rows, lead_test = _pooled_leads(result, data, g, int(leads), fit_args)
        effects = pd.concat(
            [pd.DataFrame(lead_rows), effects[effects["event_time"] >= 0]], ignore_index=True
        )
    else:
        lead_test = _lead_test(effects, cov)
    used = set(result.design.frame[idname])
    return InteractionWeighted(
        model=result,
        effects=effects,
        cells=cells,
        vcov=cov,
        lead_test=lead_test,
        control=control,
        cohorts={k: int(v) for k, v in g.dropna().items() if k in used},
        leads=int(leads),
        lags=int(lags),
        reference=reference,
        dropped_cohorts=dropped,
    )
