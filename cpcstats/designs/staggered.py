"""Belt and Road membership as a staggered-adoption design: TWFE versus ETWFE Poisson.

Why: countries sign a BRI cooperation document in different years and the effect on
party contact need not be the same for every signing cohort or constant after signing.
The usual two-way fixed-effects (TWFE) Poisson coefficient on ``bri_member`` then mixes
clean comparisons (with not-yet and never signers) with "forbidden" ones (already
signed countries as controls) and is biased when effects grow with time since signing.
Wooldridge's extended TWFE (ETWFE; "Simple approaches to nonlinear
difference-in-differences with panel data", Econometrics Journal 2023) saturates the
exponential-mean model in cohort-by-year treatment cells, so every effect is estimated
against not-yet/never-treated countries only, and aggregates the cell effects afterwards.

* :func:`twfe_poisson` — FE-Poisson of contacts on ``bri_member`` with country and year FE.
* :func:`staggered_cohorts` — cohorts, the rows that identify them and the cell indicators.
* :func:`etwfe_poisson` — the ETWFE Poisson, its aggregations (cells, overall, event time)
  with delta-method SEs, a joint pre-trend score test and a leads model for the lead
  effects.
* :func:`run` — the ``design_bri`` table and figure of the replication.

Delta-method standard errors use a numeric gradient with respect to the model's shown
coefficients and their clustered variance (``result.vcov``).  The country and year fixed
effects enter the expected counts at their estimates, re-solved from the FE-Poisson score
equations for each perturbed coefficient vector; their own sampling error is ignored (they
are treated as known given the coefficients).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import stats

from cpcstats.designs.base import (
    DesignOutput,
    country_year_panel,
    observed_indicators,
    planted_effect,
    sample_note,
)
from cpcstats.errors import CpcError, EstimationError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.score import ScoreTest, score_test
from cpcstats.panels import Panel
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "Cohorts",
    "ETWFEResult",
    "etwfe_poisson",
    "no_variation_reason",
    "plot_event_time",
    "run",
    "staggered_cohorts",
    "twfe_poisson",
]

NAME = "design_bri"
TITLE = "Belt and Road membership and party contact: staggered adoption (TWFE vs ETWFE Poisson)"
UNIT = "iso3"
TIME = "year"
TREATMENT = "bri_member"
SIGNING = "bri_signing_year"
COHORT = "_cohort"  # signing year of a cohort identified in the window, 0 = control
Z95 = float(stats.norm.ppf(0.975))
_STEP = 1e-5  # relative step of the numeric gradient

DROP_ALWAYS = "signed in or before the window's first year (always treated)"
DROP_NO_PRE = "no panel row in the year before signing (no reference year)"
DROP_EXIT = "left the BRI within the window (treatment not absorbing)"


# --------------------------------------------------------------------------- data
def _as_frame(panel: Panel | pd.DataFrame) -> pd.DataFrame:
    """A copy of the panel's rows that keeps the simulated flag for ``fit``."""
    if isinstance(panel, Panel):
        frame = panel.data.copy()
        frame.attrs.update({"simulated": panel.simulated, "study": panel.study})
        return frame
    frame = panel.copy()
    frame.attrs.update(panel.attrs)
    return frame


def _formula(outcome: str, terms: Sequence[str]) -> str:
    return f"{outcome} ~ {' + '.join(terms)} | {UNIT} + {TIME}"


def twfe_poisson(
    panel: Panel | pd.DataFrame,
    outcome: str = "contacts",
    controls: Sequence[str] = ("recognizes_prc",),
    cluster: str = UNIT,
) -> FitResult:
    """The usual TWFE Poisson: one ``bri_member`` coefficient with country and year FE.

    Why: it is the estimate most studies report, and the benchmark whose bias under
    heterogeneous, dynamic effects ETWFE removes.
    """
    formula = _formula(outcome, [TREATMENT, *controls])
    return fit(formula, panel, family="fe-poisson", cluster=cluster, name="twfe_poisson")


@dataclass(frozen=True)
class Cohorts:
    """The staggered-adoption layout of a panel: who is treated when, and which rows count.

    ``frame`` holds the rows kept, with the cohort (signing year, 0 for not treated in the
    window) and one 0/1 column per treatment cell (``post``) and per pre-treatment cell
    other than the reference year g - 1 (``leads``); each maps a column to (g, s).
    """

    frame: pd.DataFrame
    post: dict[str, tuple[int, int]]
    leads: dict[str, tuple[int, int]]
    cohorts: tuple[int, ...]
    first_year: int
    last_year: int
    dropped_countries: dict[str, int] = field(default_factory=dict)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def always_treated(self) -> int:
        return self.dropped_countries.get(DROP_ALWAYS, 0)


def _signing_years(frame: pd.DataFrame) -> pd.Series:
    per_country = frame.groupby(UNIT, sort=True)[SIGNING]
    if (per_country.nunique() > 1).any():
        bad = per_country.nunique()
        raise EstimationError(
            f"{SIGNING!r} varies within country: {', '.join(bad[bad > 1].index[:5])}",
            column=SIGNING,
            fix="give one signing year per country (the panel builder does)",
        )
    return pd.to_numeric(per_country.first(), errors="coerce")


def no_variation_reason(frame: pd.DataFrame) -> str | None:
    """Why a panel cannot identify a staggered BRI effect, or None when it can."""
    missing = [c for c in (UNIT, TIME, TREATMENT, SIGNING) if c not in frame.columns]
    if missing:
        return f"the panel has no {', '.join(missing)} column(s)"
    first, last = int(frame[TIME].min()), int(frame[TIME].max())
    signing = _signing_years(frame)
    inside = signing[(signing > first) & (signing <= last)]
    if inside.empty:
        return f"no country signed a BRI document within {first + 1}-{last}"
    if (signing.isna() | (signing > last)).sum() == 0 and inside.nunique() < 2:
        return "every country signs in the same year of the window: no comparison group"
    return None


def staggered_cohorts(panel: Panel | pd.DataFrame) -> Cohorts:
    """Cohorts g = signing year and the cohort-by-year cells that identify their effects.

    Why: ETWFE needs each treated country's pre-period (for its fixed effect) and a
    comparison group in every treated year.  Countries that signed in or before the
    window's first year are always treated (dropped and counted), as are countries without
    a row in the year before signing and countries that left within the window.  Countries
    signing after the window and never-signers are the comparison group; when there are
    none, the last cohort becomes the comparison group and its treated years are cut.
    """
    frame = _as_frame(panel)
    reason = no_variation_reason(frame)
    if reason is not None:
        raise EstimationError(f"no staggered BRI variation: {reason}", column=SIGNING)
    first, last = int(frame[TIME].min()), int(frame[TIME].max())
    signing = _signing_years(frame)
    dropped: dict[str, list[str]] = {DROP_ALWAYS: [], DROP_NO_PRE: [], DROP_EXIT: []}
    signing_row = pd.to_numeric(frame[SIGNING], errors="coerce").astype(float)
    signed = signing_row.notna() & (frame[TIME] >= signing_row.fillna(np.inf))
    exits = frame.loc[signed & (frame[TREATMENT] == 0), UNIT].unique()
    dropped[DROP_EXIT] = sorted(exits)
    dropped[DROP_ALWAYS] = sorted(signing[signing <= first].index.difference(exits))
    rows_by_country = frame.groupby(UNIT)[TIME].apply(set)
    for iso, g in signing[(signing > first) & (signing <= last)].items():
        if iso not in exits and int(g) - 1 not in rows_by_country[iso]:
            dropped[DROP_NO_PRE].append(iso)
    removed = {iso for names in dropped.values() for iso in names}
    original = frame
    frame = frame[~frame[UNIT].isin(removed)].copy()
    cohort = frame[UNIT].map(signing).fillna(0.0)
    cohort[(cohort > last) | (cohort <= first)] = 0.0
    frame[COHORT] = cohort.astype(int)
    notes: list[str] = []
    dropped_rows = {
        reason: int(original[UNIT].isin(names).sum()) for reason, names in dropped.items() if names
    }
    if (frame[COHORT] == 0).sum() == 0:
        g_last = int(frame[COHORT].max())
        cut = frame[TIME] >= g_last
        dropped_rows[f"years from {g_last} on (no never or not-yet treated countries)"] = int(
            cut.sum()
        )
        frame = frame[~cut].copy()
        frame.loc[frame[COHORT] == g_last, COHORT] = 0
        last = g_last - 1
        notes.append(
            f"No country is untreated at the end of the window: the {g_last} cohort serves as "
            f"the comparison group and years from {g_last} on are dropped."
        )
    cohorts = tuple(sorted(int(g) for g in frame[COHORT].unique() if g > 0))
    if not cohorts:
        raise EstimationError("no BRI cohort is identified in the window", column=SIGNING)
    post: dict[str, tuple[int, int]] = {}
    leads: dict[str, tuple[int, int]] = {}
    years = frame[TIME].to_numpy()
    indicators: dict[str, np.ndarray] = {}
    for g in cohorts:
        in_cohort = frame[COHORT].to_numpy() == g
        for s in range(first, last + 1):
            if s == g - 1:
                continue
            cell = in_cohort & (years == s)
            if not cell.any():
                continue
            name = f"bri_g{g}_y{s}" if s >= g else f"bri_lead_g{g}_y{s}"
            indicators[name] = cell.astype(int)
            (post if s >= g else leads)[name] = (g, s)
    attrs = dict(frame.attrs)
    frame = pd.concat(
        [frame.reset_index(drop=True), pd.DataFrame(indicators, index=range(len(frame)))],
        axis=1,
    )
    frame.attrs.update(attrs)
    return Cohorts(
        frame=frame,
        post=post,
        leads=leads,
        cohorts=cohorts,
        first_year=first,
        last_year=last,
        dropped_countries={k: len(v) for k, v in dropped.items() if v},
        dropped_rows=dropped_rows,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- delta method
@dataclass
class _MeanModel:
    """E[y] of a fitted FE-Poisson on its own estimation rows, as a function of the betas.

    Why the fixed effects are re-solved: a slope such as ``recognizes_prc`` that is nearly
    constant within countries moves E[y] one-for-one when the country effects are frozen,
    although the estimated country effects would absorb that move.  So for every trial
    vector of coefficients the fixed effects are updated to satisfy the FE-Poisson score
    equations (sum of y = sum of E[y] in every country and every year; iterative
    proportional fitting from the estimates).  Their sampling error beyond this response
    is ignored: given the slopes, the fixed effects are treated as known.
    """

    result: FitResult
    X: np.ndarray  # estimation rows x estimated columns, in the order of core.params
    frame: pd.DataFrame  # estimation rows
    names: list[str]
    theta: np.ndarray
    shown: np.ndarray  # positions of result.params in theta
    y: np.ndarray
    codes: list[np.ndarray]  # fixed-effect level of each estimation row, per FE
    profile: bool = True

    @classmethod
    def of(cls, result: FitResult, profile: bool = True) -> _MeanModel:
        core, design = result.core, result.design
        keep = np.ones(len(design.data.y), dtype=bool) if core.keep is None else core.keep
        cols = [design.data.x_names.index(n) for n in core.names]
        names = list(core.names)
        shown = np.array([names.index(n) for n in result.params.index], dtype=int)
        codes = [np.unique(c[keep], return_inverse=True)[1] for c in design.data.fe_codes]
        return cls(
            result,
            design.data.X[keep][:, cols],
            design.frame[keep].reset_index(drop=True),
            names,
            np.asarray(core.params, dtype=float),
            shown,
            design.data.y[keep],
            codes,
            profile,
        )

    def column(self, name: str) -> np.ndarray:
        return self.X[:, self.names.index(name)]

    def _fe_shift(self, theta: np.ndarray) -> np.ndarray | None:
        """Change of the fixed-effect part of log E[y] that restores the FE score equations."""
        if not self.profile or not self.codes:
            return None
        mu = np.asarray(self.result.core.mean(theta, self.X), dtype=float)
        shift = np.zeros(len(mu))
        sums = [np.bincount(c, weights=self.y) for c in self.codes]
        for _ in range(1000):
            largest = 0.0
            for c, ysum in zip(self.codes, sums, strict=True):
                step = np.log(ysum / np.bincount(c, weights=mu, minlength=len(ysum)))
                shift += step[c]
                mu *= np.exp(step[c])
                largest = max(largest, float(np.abs(step).max()))
            if largest < 1e-13:
                break
        return shift

    def means(self, theta: np.ndarray, switch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """E[y] as estimated, and with the ``switch`` indicators set to 0 (same FE)."""
        idx = [self.names.index(n) for n in switch]
        off = self.X.copy()
        off[:, idx] = 0.0
        mean = self.result.core.mean
        shift = self._fe_shift(theta)
        return (
            np.asarray(mean(theta, self.X, None, shift), dtype=float),
            np.asarray(mean(theta, off, None, shift), dtype=float),
        )

    def delta(self, func: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Values of ``func(theta)`` and their covariance (numeric gradient, result.vcov)."""
        value = np.asarray(func(self.theta), dtype=float)
        jac = np.empty((len(value), len(self.shown)))
        for j, pos in enumerate(self.shown):
            h = _STEP * max(abs(self.theta[pos]), 1.0)
            up, down = self.theta.copy(), self.theta.copy()
            up[pos] += h
            down[pos] -= h
            jac[:, j] = (np.asarray(func(up)) - np.asarray(func(down))) / (2 * h)
        V = self.result.vcov.to_numpy(dtype=float)
        return value, jac @ V @ jac.T


def _groups_of(labels: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    return [(key, labels == key) for key in pd.unique(labels)]


def _aggregate(
    model: _MeanModel, cells: Mapping[str, tuple[int, int]]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Cell, event-time and overall effects of the indicators ``cells`` switched off.

    For every treated row: E[y | treated] - E[y | indicator 0].  Cells and event times
    average these differences (count scale) and give log(sum E1 / sum E0) (log scale).
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

    def func(theta: np.ndarray) -> np.ndarray:
        mu1, mu0 = model.means(theta, present)
        d = mu1 - mu0
        out = [d[treated].mean(), np.log(mu1[treated].sum() / mu0[treated].sum())]
        for _, mask in cell_groups:
            out += [d[mask].mean(), np.log(mu1[mask].sum() / mu0[mask].sum())]
        for _, sub in event_groups:
            rows = tr[sub]
            out += [d[rows].mean(), np.log(mu1[rows].sum() / mu0[rows].sum())]
        return np.array(out)

    value, cov = model.delta(func)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    overall = {
        "att_count": float(value[0]),
        "att_count_se": float(se[0]),
        "log_effect": float(value[1]),
        "log_effect_se": float(se[1]),
        "n_treated": int(treated.sum()),
    }
    overall["pct_effect"] = float(np.expm1(value[1]))
    overall["pct_effect_se"] = float(np.exp(value[1]) * se[1])
    mu1, mu0 = model.means(model.theta, present)
    overall["mean_treated"] = float(mu1[treated].mean())
    overall["mean_untreated"] = float(mu0[treated].mean())

    def rows(groups: list[tuple[Any, np.ndarray]], start: int, key: Callable) -> list[dict]:
        records = []
        for i, (label, mask) in enumerate(groups):
            k = start + 2 * i
            records.append(
                {
                    **key(label),
                    "n": int(mask.sum()),
                    "att": float(value[k]),
                    "att_se": float(se[k]),
                    "log_effect": float(value[k + 1]),
                    "log_effect_se": float(se[k + 1]),
                }
            )
        return records

    cell_frame = pd.DataFrame(
        rows(
            cell_groups,
            2,
            lambda n: {
                "term": n,
                "cohort": cells[n][0],
                "year": cells[n][1],
                "event_time": cells[n][1] - cells[n][0],
            },
        )
    )
    event_frame = pd.DataFrame(
        rows(event_groups, 2 + 2 * len(cell_groups), lambda e: {"event_time": int(e)})
    )
    for frame in (cell_frame, event_frame):
        if not frame.empty:
            _add_intervals(frame)
    return cell_frame, event_frame, overall


def _add_intervals(frame: pd.DataFrame) -> None:
    for col in ("att", "log_effect"):
        frame[f"{col}_lower"] = frame[col] - Z95 * frame[f"{col}_se"]
        frame[f"{col}_upper"] = frame[col] + Z95 * frame[f"{col}_se"]
        frame[f"{col}_p"] = 2 * stats.norm.sf(np.abs(frame[col] / frame[f"{col}_se"]))


# --------------------------------------------------------------------------- ETWFE
@dataclass
class ETWFEResult:
    """ETWFE Poisson estimates: the models, the aggregated effects and the pre-trend tests.

    ``overall`` holds ``att_count`` (contacts per treated country-year), ``log_effect``
    (log of summed E[y] treated over untreated), ``pct_effect`` (exp(log) - 1), their SEs
    and the number of treated rows; ``cells`` and ``event_time`` hold the same by
    cohort-year cell and by e = year - cohort.  From the leads model: ``leads`` (event-time
    lead effects, e <= -2) and ``lead_average`` (the leads pooled into one log-scale
    effect, a 1-df test); ``pretrend`` is the joint score test, at the main model, that
    all cohort-by-year leads are 0.
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
            "cells": _records(self.cells),
            "event_time": _records(self.event_time),
            "leads": None if self.leads is None else _records(self.leads),
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


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def etwfe_poisson(
    panel: Panel | pd.DataFrame,
    outcome: str = "contacts",
    controls: Sequence[str] = ("recognizes_prc",),
    cluster: str = UNIT,
    leads: bool = True,
) -> ETWFEResult:
    """Wooldridge's ETWFE Poisson with staggered BRI signing, aggregated to ATTs.

    Why: with one indicator per cohort g and year s >= g (jointly with country and year
    FE and the controls, which enter with a common slope), each cell effect is identified
    against countries not (yet) treated in year s only, so heterogeneous and dynamic
    effects do not contaminate one another.  The leads model adds the indicators of the
    pre-treatment years s < g - 1 (reference g - 1); its leads pooled like the ATT (log of
    summed E[y] with over without the leads, all pre-treatment rows but g - 1) give a 1-df
    pre-trend test.  The joint test that every cohort-by-year lead is 0 is a clustered
    score test at the main model: the Wald version has many restrictions, each identified
    by one cohort's countries, so its clustered variance of the lead estimates is near
    singular and it rejected in every null redraw of the demo process; the score test needs
    no lead estimates and keeps its size (``tests/test_design_bri.py``).
    """
    layout = staggered_cohorts(panel)
    data = layout.frame
    # a cell seen only in countries (or years) without any contact is reported, not fitted
    seen = set(observed_indicators(data, [*layout.post, *layout.leads], outcome, UNIT))
    post = {t: c for t, c in layout.post.items() if t in seen}
    lead_terms = {t: c for t, c in layout.leads.items() if t in seen}
    no_contact = tuple(t for t in layout.post if t not in post)
    main = fit(
        _formula(outcome, [*post, *controls]),
        data,
        family="fe-poisson",
        cluster=cluster,
        name="etwfe_poisson",
    )
    mm = _MeanModel.of(main)
    cells, event, overall = _aggregate(mm, post)
    omitted = tuple(n for n in post if n not in mm.names)
    result = ETWFEResult(
        main,
        None,
        layout,
        cells,
        event,
        overall,
        n_countries=int(mm.frame[UNIT].nunique()),
        omitted_cells=omitted,
    )
    if no_contact:
        result.notes.append(
            f"{len(no_contact)} treatment cell(s) not estimated (the cohort's countries have "
            "no contact at all in the window, so they leave the sample): " + ", ".join(no_contact)
        )
        result.omitted_cells = no_contact + omitted
    if omitted:
        result.notes.append(
            f"{len(omitted)} treatment cell(s) not estimated (separated: all outcomes zero): "
            + ", ".join(omitted)
        )
    if leads and lead_terms:
        lead_fit = fit(
            _formula(outcome, [*lead_terms, *post, *controls]),
            data,
            family="fe-poisson",
            cluster=cluster,
            name="etwfe_poisson_leads",
        )
        lm = _MeanModel.of(lead_fit)
        _, lead_event, lead_overall = _aggregate(lm, lead_terms)
        result.leads_model = lead_fit
        result.leads = lead_event
        est, se = lead_overall["log_effect"], lead_overall["log_effect_se"]
        result.lead_average = {
            "log_effect": est,
            "std_error": se,
            "ci": [est - Z95 * se, est + Z95 * se],
            "z": est / se,
            "p_value": float(2 * stats.norm.sf(abs(est / se))),
            "n_rows": lead_overall["n_treated"],
        }
    if leads and lead_terms:
        try:
            result.pretrend = score_test(main, list(lead_terms), data=data)
        except CpcError as exc:
            result.notes.append(f"Joint pre-trend test not computed: {exc.problem}")
    return result


# --------------------------------------------------------------------------- run
def _table_frame(twfe: FitResult, et: ETWFEResult) -> pd.DataFrame:
    rows: list[tuple[str, Any, Any, Any, Any]] = []

    def est(label: str, value: float, se: float) -> None:
        rows.append((label, value, se, value - Z95 * se, value + Z95 * se))

    b, s = float(twfe.params[TREATMENT]), float(twfe.std_errors[TREATMENT])
    est("TWFE Poisson: BRI member (log scale)", b, s)
    o = et.overall
    est("ETWFE: ATT, log(E[y|treated] / E[y|untreated])", o["log_effect"], o["log_effect_se"])
    low, high = et.ci("log_effect")
    rows.append(
        (
            "ETWFE: ATT, exp(·) − 1",
            o["pct_effect"],
            o["pct_effect_se"],
            np.expm1(low),
            np.expm1(high),
        )
    )
    est("ETWFE: ATT, contacts per treated country-year", o["att_count"], o["att_count_se"])
    for r in et.event_time.itertuples():
        est(f"ETWFE event time e = {r.event_time} (log scale)", r.log_effect, r.log_effect_se)
    if et.lead_average is not None:
        la = et.lead_average
        est("Pre-trend: leads pooled, log scale (leads model)", la["log_effect"], la["std_error"])
        rows.append(("Pre-trend: leads pooled, p-value", la["p_value"], None, None, None))
    if et.pretrend is not None:
        rows.append(("Pre-trend: all leads = 0, score χ²", et.pretrend.statistic, None, None, None))
        rows.append(("Pre-trend: all leads = 0, df", int(et.pretrend.df), None, None, None))
        rows.append(("Pre-trend: all leads = 0, p-value", et.pretrend.p_value, None, None, None))
    rows.append(("N (ETWFE country-years)", int(et.nobs), None, None, None))
    rows.append(("N (TWFE country-years)", int(twfe.nobs), None, None, None))
    rows.append(("Countries (ETWFE)", et.n_countries, None, None, None))
    rows.append(("Cohorts (signing years)", len(et.cohorts.cohorts), None, None, None))
    rows.append(("Always-treated countries dropped", et.cohorts.always_treated, None, None, None))
    columns = ["Estimate", "SE", "95% CI lower", "95% CI upper"]
    index = pd.Index([r[0] for r in rows], name="")
    values = [[_plain(v) for v in r[1:]] for r in rows]  # object cells keep integers integral
    return pd.DataFrame(values, index=index, columns=columns, dtype=object)


def _notes(study: Study, twfe: FitResult, et: ETWFEResult, controls: Sequence[str]) -> list[str]:
    cohorts = ", ".join(str(g) for g in et.cohorts.cohorts)
    dropped = "; ".join(f"{n} {k}" for k, n in et.cohorts.dropped_countries.items()) or "none"
    ctrl = ", ".join(controls) if controls else "none"
    account = et.model.sample
    model_drops = (
        "; ".join(f"{n:,} country-years: {k}" for k, n in account.dropped.items() if n)
        if account is not None
        else ""
    )
    notes = [
        sample_note(
            study,
            "country-year",
            et.nobs,
            f"Cohorts (BRI signing years): {cohorts}; comparison group: countries signing "
            f"after {et.cohorts.last_year} or never. Countries dropped: {dropped}. "
            f"Dropped by the ETWFE model: {model_drops or 'none'}.",
        ),
        "Estimators: TWFE = FE-Poisson (PPML) of contacts on BRI membership with country and "
        "year fixed effects; ETWFE = Wooldridge (2023) extended TWFE Poisson with one "
        "indicator per cohort and post-signing year, country and year fixed effects; "
        f"controls: {ctrl}. Log-scale ATT = log of summed expected contacts with over "
        "without treatment over all treated country-years; count ATT = their mean "
        "difference; event time e = year − signing year.",
        f"Standard errors {twfe.se_description}. ETWFE aggregates by the delta method "
        "(numeric gradient with respect to the coefficients, their clustered variance); the "
        "fixed effects are re-solved for each perturbed coefficient vector but otherwise "
        "treated as known (their own sampling error is ignored).",
        "Pre-trend tests from a leads model that adds cohort-by-year indicators for every "
        "pre-signing year but the year before signing (the reference): the leads pooled "
        "into one log-scale effect (1 df); and the joint test that all leads are zero, a "
        "robust score (Lagrange multiplier) test clustered by country at the main model "
        "(each lead is identified by one cohort's countries only, so a Wald test of the "
        "estimated leads has a near-singular clustered variance and over-rejects).",
    ]
    planted = planted_effect(study, TREATMENT)
    if planted is not None:
        notes.append(f"Planted BRI effect of the simulation (log scale): {planted:g}.")
    notes.extend([*et.cohorts.notes, *et.notes])
    for w in [*twfe.warnings, *et.model.warnings]:
        notes.append(f"Warning: {w}")
    return notes


def plot_event_time(
    et: ETWFEResult, *, stem: Path, simulated: bool, planted: float | None = None
) -> list[Path]:
    """Event-time effects on the log scale, leads (leads model) and lags, with 95 % CIs."""
    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.3", linewidth=1.0, zorder=1)
        ax.axvline(-0.5, color="0.55", linestyle=":", linewidth=1.0, zorder=1)
        series = [("Lags (ETWFE)", et.event_time, "o", "tab:blue")]
        if et.leads is not None and not et.leads.empty:
            series.insert(0, ("Leads (leads model)", et.leads, "s", "tab:orange"))
        for label, frame, marker, colour in series:
            e = frame["event_time"].to_numpy(dtype=float)
            v = frame["log_effect"].to_numpy(dtype=float)
            half = Z95 * frame["log_effect_se"].to_numpy(dtype=float)
            ax.errorbar(
                e,
                v,
                yerr=half,
                fmt=marker,
                color=colour,
                capsize=2.5,
                markersize=4.5,
                elinewidth=1.2,
                label=label,
            )
        ax.plot(
            [-1],
            [0.0],
            marker="D",
            color="0.3",
            markerfacecolor="white",
            linestyle="none",
            label="Reference year (e = −1)",
        )
        if planted is not None:
            ax.axhline(
                planted,
                color="tab:red",
                linestyle="--",
                linewidth=1.0,
                label=f"Planted effect ({planted:g}, simulated)",
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Years since BRI signing (e = year − signing year)")
        ax.set_ylabel("Effect on log expected contacts (95% CI)")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        if simulated:
            mark_simulated(fig)
        fig.tight_layout(rect=(0, 0.04 if simulated else 0, 1, 1))
        return save_figure(fig, stem)


def run(study: Study, panels: Any, out: str | Path, **params: Any) -> DesignOutput:
    """Fit TWFE and ETWFE Poisson of contacts on BRI signing; write ``design_bri``.

    ``panels`` is the replication's ``{level: Panel}`` mapping (the country-year panel is
    built when absent); ``params`` may set ``outcome``, ``controls`` and ``cluster``.
    Skipped, with the reason, when no country signs within the window.
    """
    out = Path(out)
    panel = country_year_panel(study, panels)
    frame = panel.data if isinstance(panel, Panel) else panel
    reason = no_variation_reason(frame)
    if reason is not None:
        return DesignOutput(NAME, TITLE, skipped=f"no BRI variation in the window: {reason}")
    outcome = str(params.get("outcome", "contacts"))
    controls = tuple(params.get("controls", ("recognizes_prc",)))
    cluster = str(params.get("cluster", UNIT))
    twfe = twfe_poisson(panel, outcome, controls, cluster)
    et = etwfe_poisson(panel, outcome, controls, cluster)
    table = stats_table(
        _table_frame(twfe, et),
        title=TITLE,
        label=f"tab:{NAME}",
        notes=_notes(study, twfe, et, controls),
        simulated=study.simulated,
    )
    files = write_table(table, out, NAME)
    planted = planted_effect(study, TREATMENT)
    files += plot_event_time(
        et, stem=out / "figures" / NAME, simulated=study.simulated, planted=planted
    )
    record = {
        "simulated": bool(study.simulated),
        "outcome": outcome,
        "controls": list(controls),
        "cluster": cluster,
        "planted_log_effect": planted,
        "twfe": {
            "estimate": float(twfe.params[TREATMENT]),
            "std_error": float(twfe.std_errors[TREATMENT]),
            "ci": [float(v) for v in twfe.conf_int().loc[TREATMENT]],
            "p_value": float(twfe.pvalues[TREATMENT]),
            "nobs": int(twfe.nobs),
            "n_clusters": twfe.n_clusters,
        },
        "etwfe": et.to_record(),
        "se": f"{twfe.se_description}; ETWFE aggregates by the delta method with a numeric "
        "gradient with respect to the coefficients, fixed effects re-solved for each perturbed "
        "coefficient vector and otherwise treated as known",
    }
    models = [twfe, et.model] + ([et.leads_model] if et.leads_model is not None else [])
    return DesignOutput(NAME, TITLE, files=files, models=models, record=record)
