"""Wooldridge's extended TWFE (ETWFE) Poisson for staggered adoption: any columns.

Why: with units adopting an absorbing treatment in different periods, the usual TWFE
coefficient mixes clean comparisons (with not-yet and never treated units) with
"forbidden" ones (already treated units as controls) and is biased when effects grow with
time since adoption.  ETWFE (Wooldridge, "Simple approaches to nonlinear
difference-in-differences with panel data", Econometrics Journal 2023) saturates the
exponential-mean model in cohort-by-period treatment cells, so every effect is estimated
against not-yet/never treated units only, and aggregates the cell effects afterwards:
for every treated row E[y | treated] - E[y | cell indicator 0], averaged (count scale)
and as log(sum E1 / sum E0) (log scale), by cell, by event time and overall, with
delta-method SEs over the full parameter vector, the unit and period effects included
(`cpcstats.methods.fe_mean.FEPoissonMean`, analytic gradients).

A cell whose outcomes are all zero is separated: the fit drops it and the aggregates
leave its counterfactual out, which overstates the effect; the imputation estimator
(`cpcstats.methods.imputation`) keeps such cells and equals ETWFE when none is dropped
and there are no controls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import CpcError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.score import ScoreTest, score_test
from cpcstats.methods.cohorts import Cohorts, staggered_cohorts
from cpcstats.methods.fe_mean import FEPoissonMean
from cpcstats.methods.indicators import observed_indicators
from cpcstats.methods.intervals import Z95
from cpcstats.methods.records import plain_records
from cpcstats.panels import Panel

__all__ = ["ETWFEResult", "aggregate", "etwfe", "etwfe_fit", "twfe"]


def _formula(yname: str, terms: Sequence[str], idname: str, tname: str) -> str:
    return f"{yname} ~ {' + '.join(terms)} | {idname} + {tname}"


def twfe(
    panel: Panel | pd.DataFrame,
    *,
    yname: str,
    dname: str,
    idname: str,
    tname: str,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    name: str = "twfe_poisson",
) -> FitResult:
    """The usual TWFE Poisson: one ``dname`` coefficient with unit and period FE.

    Why: it is the estimate most studies report, and the benchmark whose bias under
    heterogeneous, dynamic effects ETWFE removes.
    """
    formula = _formula(yname, [dname, *controls], idname, tname)
    return fit(formula, panel, family="fe-poisson", cluster=cluster or idname, name=name)


def _groups_of(labels: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    return [(key, labels == key) for key in pd.unique(labels)]


def _add_intervals(frame: pd.DataFrame) -> None:
    for col in ("att", "log_effect"):
        frame[f"{col}_lower"] = frame[col] - Z95 * frame[f"{col}_se"]
        frame[f"{col}_upper"] = frame[col] + Z95 * frame[f"{col}_se"]
        frame[f"{col}_p"] = 2 * stats.norm.sf(np.abs(frame[col] / frame[f"{col}_se"]))


def _group_rows(
    groups: list[tuple[Any, np.ndarray]],
    start: int,
    key: Callable[[Any], dict[str, Any]],
    value: np.ndarray,
    se: np.ndarray,
) -> list[dict[str, Any]]:
    """One record per group; ``value``/``se`` hold K count effects, then K log effects."""
    half = len(value) // 2
    records = []
    for i, (label, mask) in enumerate(groups):
        k = start + i
        records.append(
            {
                **key(label),
                "n": int(mask.sum()),
                "att": float(value[k]),
                "att_se": float(se[k]),
                "log_effect": float(value[half + k]),
                "log_effect_se": float(se[half + k]),
            }
        )
    return records


def _overall(
    model: FEPoissonMean, present: list[str], value: np.ndarray, se: np.ndarray, treated: np.ndarray
) -> dict[str, float]:
    half = len(value) // 2
    overall = {
        "att_count": float(value[0]),
        "att_count_se": float(se[0]),
        "log_effect": float(value[half]),
        "log_effect_se": float(se[half]),
        "n_treated": int(treated.sum()),
    }
    overall["pct_effect"] = float(np.expm1(value[half]))
    overall["pct_effect_se"] = float(np.exp(value[half]) * se[half])
    mu1, mu0 = model.means(present)
    overall["mean_treated"] = float(mu1[treated].mean())
    overall["mean_untreated"] = float(mu0[treated].mean())
    return overall


def aggregate(
    model: FEPoissonMean, cells: Mapping[str, tuple[int, int]]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Cell, event-time and overall effects of the indicators ``cells`` switched off.

    For every treated row: E[y | treated] - E[y | indicator 0].  Cells and event times
    average these differences (count scale) and give log(sum E1 / sum E0) (log scale).
    SEs: delta method over the full parameter vector, fixed effects included, with
    analytic gradients (`cpcstats.methods.fe_mean.FEPoissonMean.aggregate`).
    """
    present = [n for n in cells if n in model.names]
    treated = np.zeros(len(model.X), dtype=bool)
    cell_of = np.full(len(model.X), "", dtype=object)
    for name in present:
        on = model.column(name) == 1
        treated |= on
        cell_of[on] = name
    cohort = np.array([cells[n][0] if n else 0 for n in cell_of])
    year = np.array([cells[n][1] if n else 0 for n in cell_of])
    event = year - cohort
    cell_groups = [(n, cell_of == n) for n in present]
    event_groups = sorted(_groups_of(event[treated]), key=lambda kv: kv[0])
    tr = np.flatnonzero(treated)
    columns = [treated] + [mask for _, mask in cell_groups]
    for _, sub in event_groups:
        col = np.zeros(len(treated), dtype=bool)
        col[tr[sub]] = True
        columns.append(col)
    value, se, _ = model.aggregate(present, np.column_stack(columns))
    overall = _overall(model, present, value, se, treated)

    def cell_key(n: str) -> dict[str, Any]:
        g, s = cells[n]
        return {"term": n, "cohort": g, "year": s, "event_time": s - g}

    cell_frame = pd.DataFrame(_group_rows(cell_groups, 1, cell_key, value, se))
    start = 1 + len(cell_groups)
    event_frame = pd.DataFrame(
        _group_rows(event_groups, start, lambda e: {"event_time": int(e)}, value, se)
    )
    for frame in (cell_frame, event_frame):
        if not frame.empty:
            _add_intervals(frame)
    return cell_frame, event_frame, overall


@dataclass
class ETWFEResult:
    """ETWFE Poisson estimates: the models, the aggregated effects and the pre-trend tests.

    ``overall`` holds ``att_count`` (outcome per treated row), ``log_effect`` (log of
    summed E[y] treated over untreated), ``pct_effect`` (exp(log) - 1), their SEs and the
    number of treated rows; ``cells`` and ``event_time`` hold the same by cohort-period
    cell and by e = period - cohort.  From the leads model: ``leads`` (event-time lead
    effects, e <= -2) and ``lead_average`` (the leads pooled into one log-scale effect, a
    1-df test); ``pretrend`` is the joint score test, at the main model, that all
    cohort-by-period leads are 0.  ``no_outcome_cells`` are cells whose cohort has no
    nonzero outcome (not fitted), ``separated_cells`` cells the fit omitted (both are in
    ``omitted_cells``); ``pretrend_error`` says why the joint test is missing.
    ``n_countries`` counts the units of the estimation sample (the record's key).
    """

    model: FitResult
    leads_model: FitResult | None
    cohorts: Cohorts
    cells: pd.DataFrame
    event_time: pd.DataFrame
    overall: dict[str, float]
    n_countries: int
    leads: pd.DataFrame | None = None
    pretrend: ScoreTest | None = None
    lead_average: dict[str, float] | None = None
    omitted_cells: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    no_outcome_cells: tuple[str, ...] = ()
    separated_cells: tuple[str, ...] = ()
    pretrend_error: str | None = None

    def ci(self, key: str = "log_effect") -> tuple[float, float]:
        """95 % interval of an overall effect (``log_effect`` or ``att_count``)."""
        est, se = self.overall[key], self.overall[f"{key}_se"]
        return est - Z95 * se, est + Z95 * se

    @property
    def nobs(self) -> int:
        return int(self.model.nobs)

    def to_record(self) -> dict[str, Any]:
        """Plain JSON types: every estimate, SE and interval, the tests and the sample."""
        low, high = self.ci("log_effect")
        clow, chigh = self.ci("att_count")
        return {
            "overall": {
                **self.overall,
                "log_effect_ci": [low, high],
                "att_count_ci": [clow, chigh],
                "pct_effect_ci": [float(np.expm1(low)), float(np.expm1(high))],
            },
            "cells": plain_records(self.cells),
            "event_time": plain_records(self.event_time),
            "leads": None if self.leads is None else plain_records(self.leads),
            "pretrend_all_leads": None if self.pretrend is None else self.pretrend.to_dict(),
            "pretrend_average_lead": self.lead_average,
            "cohorts": list(self.cohorts.cohorts),
            "nobs": self.nobs,
            "nobs_leads_model": None if self.leads_model is None else int(self.leads_model.nobs),
            "n_countries": self.n_countries,
            "n_clusters": self.model.n_clusters,
            "dropped_countries": dict(self.cohorts.dropped_countries),
            "dropped_rows": dict(self.cohorts.dropped_rows),
            "always_treated_dropped": self.cohorts.always_treated,
            "omitted_cells": list(self.omitted_cells),
            "sample": None if self.model.sample is None else self.model.sample.to_dict(),
            "warnings": list(self.model.warnings),
            "notes": [*self.cohorts.notes, *self.notes],
        }


def _lead_average(lead_overall: Mapping[str, float]) -> dict[str, float]:
    est, se = lead_overall["log_effect"], lead_overall["log_effect_se"]
    return {
        "log_effect": est,
        "std_error": se,
        "ci": [est - Z95 * se, est + Z95 * se],
        "z": est / se,
        "p_value": float(2 * stats.norm.sf(abs(est / se))),
        "n_rows": lead_overall["n_treated"],
    }


def etwfe_fit(
    layout: Cohorts,
    *,
    yname: str,
    idname: str,
    tname: str,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    leads: bool = True,
) -> ETWFEResult:
    """ETWFE Poisson on a cohort layout (see `etwfe`)."""
    data = layout.frame
    cluster = cluster or idname
    # a cell seen only in units (or periods) without any outcome is reported, not fitted
    seen = set(
        observed_indicators(data, [*layout.post, *layout.leads], yname, idname=idname, tname=tname)
    )
    post = {t: c for t, c in layout.post.items() if t in seen}
    lead_terms = {t: c for t, c in layout.leads.items() if t in seen}
    no_outcome = tuple(t for t in layout.post if t not in post)
    main = fit(
        _formula(yname, [*post, *controls], idname, tname),
        data,
        family="fe-poisson",
        cluster=cluster,
        name="etwfe_poisson",
    )
    mm = FEPoissonMean.of(main, cluster)
    cells, event, overall = aggregate(mm, post)
    omitted = tuple(n for n in post if n not in mm.names)
    result = ETWFEResult(
        main,
        None,
        layout,
        cells,
        event,
        overall,
        n_countries=int(mm.frame[idname].nunique()),
        omitted_cells=no_outcome + omitted,
        no_outcome_cells=no_outcome,
        separated_cells=omitted,
    )
    del mm  # its dense design (rows x slopes and dummies) is not held through the leads fit
    if leads and lead_terms:
        # post cells first: when a cohort's reference year g - 1 is separated (its outcomes
        # are zero), its lead and post cells are collinear with its unit effects and the
        # fit drops the later one (`hdfe`, formula order) -- the lead, which would be
        # measured against a post-treatment year, not the reference year
        lead_fit = fit(
            _formula(yname, [*post, *lead_terms, *controls], idname, tname),
            data,
            family="fe-poisson",
            cluster=cluster,
            name="etwfe_poisson_leads",
        )
        _, lead_event, lead_overall = aggregate(FEPoissonMean.of(lead_fit, cluster), lead_terms)
        result.leads_model = lead_fit
        result.leads = lead_event
        result.lead_average = _lead_average(lead_overall)
        try:
            result.pretrend = score_test(main, list(lead_terms), data=data)
        except CpcError as exc:
            result.pretrend_error = exc.problem
    return result


def etwfe(
    panel: Panel | pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str,
    dname: str,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    leads: bool = True,
    prefix: str = "cell",
) -> ETWFEResult:
    """Wooldridge's ETWFE Poisson of ``yname`` on staggered adoption ``gname``/``dname``.

    With one indicator per cohort g and period s >= g (jointly with unit and period FE and
    the controls, which enter with a common slope), each cell effect is identified against
    units not (yet) treated in s only.  The leads model adds the indicators of the
    pre-treatment periods s < g - 1 (reference g - 1); its leads pooled like the ATT give a
    1-df pre-trend test.  The joint test that every cohort-by-period lead is 0 is a
    clustered score test at the main model: the Wald version has many restrictions, each
    identified by one cohort's units, so its clustered variance is near singular and
    over-rejects; the score test needs no lead estimates.
    """
    layout = staggered_cohorts(
        panel, idname=idname, tname=tname, dname=dname, gname=gname, prefix=prefix
    )
    return etwfe_fit(
        layout,
        yname=yname,
        idname=idname,
        tname=tname,
        controls=controls,
        cluster=cluster,
        leads=leads,
    )
