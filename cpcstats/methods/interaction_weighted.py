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
2. aggregate the cells at each event time on the count scale, ``log(sum Y / sum mu0)``
   over the treated rows at e (`cpcstats.methods.iw_aggregate`: the cells' exp(b_ge)
   averaged with their fitted untreated means as weights), so each event-time effect
   mixes only cohort effects at *that* event time.  Why not Sun and Abraham's
   share-weighted mean of the cohort log effects (kept as ``share_weighted_log``): with
   one sparse unit per cohort it is biased down (-0.33 at e >= 3 in the Taiwan demo
   Monte Carlo, see that module).

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

Standard errors and intervals of the event-time effects: see
`cpcstats.methods.iw_aggregate` (the largest of the CR1 and quasi-Poisson model-based
delta-method SEs and the ratio-estimator SE over the cohorts; Student t with cohorts - 1
df).  Why not CR1 alone: with cohorts of one cluster (one switching country per year) the
CR1 variance of a cell is degenerate (~0).  Cohorts whose reference rows have no outcome at
all have no identified cells: their units are dropped from the fit and listed, their
outcomes stay in the count-scale sums.  With ``reference=-1`` the leads e = -leads … -2 are
aggregated like the lags and tested jointly (Wald on the IW lead vector, CR1 covariance).
Scales: ``estimate`` is the log count ratio, ``ratio`` = exp(estimate) with the interval's
exponentiated ends.
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
from cpcstats.methods.intervals import Z95
from cpcstats.methods.iw_aggregate import aggregate_count_scale, untreated_means
from cpcstats.methods.records import plain_records
from cpcstats.panels import Panel

__all__ = ["CONTROLS", "InteractionWeighted", "cell_term", "interaction_weighted"]

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
    ``n_cohorts``/``n_units`` (cohorts and units in the count-scale sums) and ``status``.
    ``cells``: one row per cohort x event time (``cohort``, ``event_time``, ``term``,
    ``estimate``, ``std_error``, ``n_units``, ``y_sum`` (outcome total), ``mu0_sum`` (fitted
    untreated mean total), ``weight`` (share of the event time's outcome: the gradient of
    the count-scale effect), ``status``).  ``vcov`` is the
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


def _zero_reference_outcomes(
    data: pd.DataFrame,
    g: pd.Series,
    dropped: dict[int, int],
    yname: str,
    idname: str,
    tname: str,
    pooled: bool,
) -> dict[int, list[float]]:
    """Outcome totals per event time of each dropped cohort that *has* reference
    rows but no outcome in them (fitted untreated level 0; kept in the count-scale sums).
    Cohorts without any reference row (events in the first period) are left out."""
    unit_g = data[idname].map(g)
    on = unit_g.isin(list(dropped)).to_numpy()
    e = (data[tname] - unit_g).to_numpy(dtype=float)
    ref = (e < 0) if pooled else (e == -1)
    has_ref = set(unit_g[on & ref].dropna().astype(int))
    keep = on & unit_g.isin(list(has_ref)).to_numpy()
    sub = pd.DataFrame({"e": e[keep], "y": data.loc[keep, yname], "g": unit_g[keep]})
    out: dict[int, list[float]] = {}
    for (ev, _), y in sub.groupby(["e", "g"])["y"].sum().items():
        out.setdefault(int(ev), []).append(float(y))
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
    extra = _zero_reference_outcomes(data, g, dropped, yname, idname, tname, pooled)
    if dropped:
        gone = g[g.isin(list(dropped))].index
        data, g = data[~data[idname].isin(list(gone))], g.drop(gone)
    data, columns, rows, g = _cells(data, g, idname, tname, control, pooled)
    if not columns:
        raise EstimationError(f"no unit has an identified event inside the window of {tname}")
    data = attach_columns(data, columns)
    full = data
    zero = _zero_cells(data, list(columns), yname, idname, tname)
    if zero:
        data = data[~data[list(zero)].any(axis=1)].reset_index(drop=True)
    terms = [t for t in columns if t not in zero]
    fit_args = (terms, yname, idname, tname, tuple(controls), cluster or idname)
    result, fitted = _fit(data, *fit_args)
    cells = _cell_table(rows, result, fitted, idname, zero)
    mu0 = untreated_means(result, full, idname, tname, controls)
    cells["y_sum"] = [float(full.loc[full[t] == 1, yname].sum()) for t in cells["term"]]
    cells["mu0_sum"] = [float(mu0[full[t].to_numpy() == 1].sum()) for t in cells["term"]]
    est = list(cells.loc[cells["status"] == "estimated", "term"])
    V = result.vcov.loc[est, est]
    Vq = model_vcov(result, est) if est else V
    effects, cov = aggregate_count_scale(cells, V, Vq, int(leads), int(lags), extra)
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
