"""Driver 5, the Xi era: did contact break in level and/or trend when Xi took office?

Xi Jinping became General Secretary in November 2012, so the study expects a
break in 2013.  Three questions, three tools:

(a) :func:`known_break` — with the date taken as known, how large are the level
    shift and the trend shift, and are they jointly zero?  Count model of
    contacts on a linear trend, ``post_break`` = 1{year >= break} and
    ``post_trend`` = (year - break)·post_break; unit fixed effects and clustered
    SEs on panels, quasi-Poisson (Pearson-scaled) SEs on the yearly total series
    (NB2 with HC1 SEs on request), as in segmented interrupted-time-series regression.
(b) :func:`sup_wald` — does the data pick 2013 without being told?  The Wald
    statistic for the break terms at every candidate year of the trimmed
    range, its maximum (Andrews 1993 sup-Wald) with Andrews's asymptotic
    critical values, an asymptotic p-value simulated from the same limiting
    distribution, and a likelihood-ratio confidence set for the break year
    (Hansen 2000).
(c) :func:`break_interactions` — did the *pattern* change (the ruling-party
    premium and the regime gradient), not just the level?

:func:`run` writes table and figure ``design_xi``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.designs.base import DesignOutput, sample_note
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.postestimation import WaldTest, wald_test
from cpcstats.estimation.results import FitResult
from cpcstats.panels import Panel
from cpcstats.panels.build import yearly_totals
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style
from cpcstats.reporting.tables import Block, Layout, SimpleTable, stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "ANDREWS_1993_TABLE_I",
    "HANSEN_2000_C95",
    "BreakInteractions",
    "KnownBreak",
    "SupWald",
    "andrews_critical_values",
    "break_interactions",
    "candidate_years",
    "known_break",
    "run",
    "sup_wald",
    "sup_wald_pvalue",
]

NAME = "design_xi"
TITLE = "The Xi era: level and trend breaks in contact"

TREND = "trend"  # year - break year (so the level shift is the jump at the break year)
LEVEL = "post_break"  # 1{year >= break year}
TREND_SHIFT = "post_trend"  # (year - break year) * post_break
SHIFT_TERMS: dict[str, tuple[str, ...]] = {
    "level": (LEVEL,),
    "level+trend": (LEVEL, TREND_SHIFT),
}

#: Andrews, D. W. K. (1993), "Tests for Parameter Instability and Structural Change with
#: Unknown Change Point", Econometrica 61(4), 821-856, Table I: asymptotic critical values of
#: the sup-Wald/LM/LR statistics for p restrictions and trimming pi0 (candidate break
#: fractions in [pi0, 1 - pi0]).  Keys (p, pi0) -> {significance level: critical value}.
#: The same numbers divided by p are Stock and Watson's "QLR critical values with 15%
#: trimming" (q = 1: 7.12 / 8.68 / 12.16; q = 2: 5.00 / 5.86 / 7.78).  They are reproduced by
#: simulating the limiting distribution (``_null_draws``; see tests/test_design_xi.py).
ANDREWS_1993_TABLE_I: dict[tuple[int, float], dict[float, float]] = {
    (1, 0.15): {0.10: 7.12, 0.05: 8.68, 0.01: 12.16},
    (2, 0.15): {0.10: 10.00, 0.05: 11.72, 0.01: 15.56},
}

#: Hansen, B. E. (2000), "Sample Splitting and Threshold Estimation", Econometrica 68(3),
#: 575-603: the 95 % critical value of the LR statistic for the break date,
#: c = -2 log(1 - sqrt(0.95)) ~ 7.35.  Derived for a threshold/break in a regression with a
#: shrinking break; used here as an approximation for a fixed-size break in a count model.
HANSEN_2000_C95: float = -2.0 * math.log(1.0 - math.sqrt(0.95))

#: Monte Carlo settings of the simulated limiting distribution (fixed: reruns are identical).
NULL_REPS = 20_000
NULL_STEPS = 1_000
NULL_SEED = 19930701


# --------------------------------------------------------------------------- data handling
@dataclass(frozen=True)
class _Data:
    """One estimation setting shared by every candidate break: data, model, SEs."""

    frame: pd.DataFrame
    panel: Panel | None
    outcome: str
    unit: str | None
    family: str
    cluster: str | None
    se: str | None
    kind: str  # "yearly series", "country-year panel", "party-year panel", "panel"
    simulated: bool
    controls: tuple[str, ...] = ()

    @property
    def first(self) -> int:
        return int(self.frame["year"].min())

    @property
    def last(self) -> int:
        return int(self.frame["year"].max())


def _prepare(
    data: Panel | pd.DataFrame,
    *,
    unit_fe: bool | str,
    family: str | None,
    cluster: str | None,
    outcome: str | None,
    controls: Sequence[str] = (),
) -> _Data:
    """Decide series vs panel, FE, family and SEs once, so every candidate uses the same."""
    panel = data if isinstance(data, Panel) else None
    frame = data.data if isinstance(data, Panel) else data
    if not isinstance(frame, pd.DataFrame) or "year" not in frame.columns:
        raise SpecError(
            "break designs need a Panel or a DataFrame with a 'year' column",
            fix="pass cpcstats.country_year(study), cpcstats.party_year(study) or "
            "cpcstats.panels.build.yearly_totals(study)",
        )
    if outcome is None:
        outcome = "contacts" if "contacts" in frame.columns else "total"
    if outcome not in frame.columns:
        raise SpecError(f"no outcome column {outcome!r}", fix="pass outcome=...")
    simulated = panel.simulated if panel is not None else bool(frame.attrs.get("simulated"))
    series = panel is None and not frame["year"].duplicated().any()
    if series:
        if isinstance(unit_fe, str):
            raise SpecError(
                f"unit_fe={unit_fe!r} given for a yearly series (one row per year)",
                fix="use unit_fe=False for a series, or pass a panel",
            )
        fam = family or "poisson"
        if fam not in ("poisson", "negbin"):
            raise SpecError(
                f"family {fam!r} for the yearly series", fix="use 'poisson' or 'negbin'"
            )
        # HC variances are biased downwards with 11-22 yearly points; one Pearson scale
        # factor captures the aggregate's overdispersion (quasi-Poisson)
        se = "quasi" if fam == "poisson" else "hc1"
        return _Data(
            frame, None, outcome, None, fam, None, se, "yearly series", simulated, controls
        )
    default_unit = (
        panel.unit if panel is not None else ("party_id" if "party_id" in frame else "iso3")
    )
    unit = unit_fe if isinstance(unit_fe, str) else (default_unit if unit_fe else None)
    fam = family or ("fe-poisson" if unit else "poisson")
    if fam == "fe-poisson" and unit is None:
        raise SpecError("family 'fe-poisson' needs unit fixed effects", fix="set unit_fe=True")
    clus = cluster if cluster is not None else "iso3"
    kind = f"{panel.level} panel" if panel is not None else "panel"
    return _Data(frame, panel, outcome, unit, fam, clus, "cluster", kind, simulated, controls)


def _with_break(frame: pd.DataFrame, break_year: int) -> pd.DataFrame:
    """Add the trend and break regressors for one candidate break year."""
    out = frame.copy()
    year = pd.to_numeric(out["year"]).astype(float)
    out[TREND] = year - break_year
    out[LEVEL] = (year >= break_year).astype(int)
    out[TREND_SHIFT] = out[TREND] * out[LEVEL]
    return out


def _fit_break(d: _Data, break_year: int, terms: Sequence[str], name: str) -> FitResult:
    frame = _with_break(d.frame, break_year)
    formula = f"{d.outcome} ~ {' + '.join([TREND, *terms, *d.controls])}"
    if d.unit:
        formula += f" | {d.unit}"
    source: Panel | pd.DataFrame
    if d.panel is not None:
        source = replace(d.panel, data=frame)
    else:
        frame.attrs["simulated"] = d.simulated
        source = frame
    return fit(formula, source, family=d.family, cluster=d.cluster, se=d.se, name=name)


def _estimator(result: FitResult, d: _Data) -> str:
    """One sentence a table note can carry: model, fixed effects, standard errors."""
    label = result.extra.get("family_label", result.family)
    fe = f" with {d.unit} fixed effects" if d.unit else ""
    return f"{d.kind}: {label}{fe}; SEs {result.se_description}"


# --------------------------------------------------------------------------- (a) known break
@dataclass
class KnownBreak:
    """Level and trend shift at a given break year, with their joint Wald test."""

    break_year: int
    kind: str
    result: FitResult
    wald: WaldTest
    estimator: str

    def estimates(self) -> pd.DataFrame:
        """Trend, level shift and trend shift (log scale) with SEs, CIs and IRRs."""
        return self.result.coef_table().loc[[TREND, LEVEL, TREND_SHIFT]]

    def to_record(self) -> dict[str, Any]:
        table = self.estimates()
        return {
            "break_year": self.break_year,
            "sample": self.kind,
            "estimator": self.estimator,
            "nobs": int(self.result.nobs),
            "n_clusters": self.result.n_clusters,
            "terms": {
                term: {k: float(v) for k, v in row.items()} for term, row in table.iterrows()
            },
            "wald_level_and_trend_shift": self.wald.to_dict(),
        }


def known_break(
    data: Panel | pd.DataFrame,
    break_year: int,
    *,
    unit_fe: bool | str = True,
    family: str | None = None,
    cluster: str | None = None,
    outcome: str | None = None,
    controls: Sequence[str] = (),
) -> KnownBreak:
    """Trend + level shift + trend shift at ``break_year``; joint Wald test of both shifts.

    Why: the Xi-era hypothesis is "a level and/or trend break in 2013"; with the
    date fixed, the joint test asks whether anything changed, the two
    coefficients say what.  ``trend`` is centred at the break, so ``post_break``
    is the jump at the break year relative to the pre-break trend.

    Panels (``Panel`` or a DataFrame with repeated years): ``unit_fe=True`` uses
    the panel's unit (``iso3`` / ``party_id``) as fixed effects with
    ``fe-poisson`` (PPML); ``unit_fe=False`` pools (``poisson``); a string names
    the fixed-effect column.  SEs are clustered by ``cluster`` (default
    ``iso3``).  A yearly series (one row per year, outcome ``contacts`` or
    ``total``) uses quasi-Poisson SEs (``family="negbin"``: NB2 with HC1 SEs).
    ``controls`` are extra regressors (e.g. ``bri_member``; note that BRI is itself
    an Xi-era policy, so controlling for it removes part of the break).
    """
    d = _prepare(
        data, unit_fe=unit_fe, family=family, cluster=cluster, outcome=outcome, controls=controls
    )
    result = _fit_break(d, break_year, SHIFT_TERMS["level+trend"], f"known break {break_year}")
    wald = wald_test(result, list(SHIFT_TERMS["level+trend"]))
    return KnownBreak(break_year, d.kind, result, wald, _estimator(result, d))


# --------------------------------------------------------------------------- (b) unknown date
def candidate_years(first: int, last: int, trim: float = 0.15) -> list[int]:
    """Break years whose pre-break share of the T years lies in [trim, 1 - trim].

    A break at year ``first + k`` leaves k pre-break years (fraction k / T), so
    with T = 16 (2002-2017) and trim 0.15 the candidates are 2005-2015 (at least
    three years on each side).
    """
    if not 0 < trim < 0.5:
        raise SpecError(f"trim must be in (0, 0.5), not {trim!r}", fix="e.g. trim=0.15")
    n_years = last - first + 1
    k_min = max(1, math.ceil(trim * n_years - 1e-9))
    k_max = min(n_years - 1, math.floor((1 - trim) * n_years + 1e-9))
    return [first + k for k in range(k_min, k_max + 1)]


def andrews_critical_values(n_params: int, trim: float = 0.15) -> dict[float, float]:
    """Andrews (1993, Table I) sup-Wald critical values at 10 / 5 / 1 % (asymptotic).

    Only the entries this design uses are stored (p = 1, 2 at trim 0.15);
    other combinations raise, and :func:`sup_wald` then uses quantiles of the
    simulated limiting distribution instead (and says so).
    """
    key = (int(n_params), round(float(trim), 6))
    if key not in ANDREWS_1993_TABLE_I:
        raise KeyError(f"Andrews (1993) Table I values are stored only for {ANDREWS_1993_TABLE_I}")
    return dict(ANDREWS_1993_TABLE_I[key])


@lru_cache(maxsize=8)
def _null_draws(
    n_params: int,
    trim: float,
    reps: int = NULL_REPS,
    steps: int = NULL_STEPS,
    seed: int = NULL_SEED,
) -> np.ndarray:
    """Sorted draws of sup_{l in [trim, 1-trim]} |B(l)|^2 / (l (1 - l)), B a p-dim bridge.

    Why: this is the limiting distribution tabulated by Andrews (1993) and
    approximated by Hansen (1997); simulating it (Brownian motion as scaled
    partial sums of ``steps`` normals) gives p-values for any statistic.
    """
    rng = np.random.default_rng(seed)
    lam = np.arange(1, steps + 1) / steps
    keep = (lam >= trim - 1e-12) & (lam <= 1 - trim + 1e-12)
    inner = lam[keep]
    out = np.empty(reps)
    chunk = 1_000
    for start in range(0, reps, chunk):
        m = min(chunk, reps - start)
        walk = np.cumsum(rng.standard_normal((m, steps, n_params)), axis=1) / math.sqrt(steps)
        bridge = walk[:, keep, :] - inner[None, :, None] * walk[:, -1:, :]
        out[start : start + m] = ((bridge**2).sum(axis=2) / (inner * (1 - inner))).max(axis=1)
    out.sort()
    return out


def sup_wald_pvalue(statistic: float, n_params: int, trim: float = 0.15) -> float:
    """Asymptotic p-value of a sup-Wald statistic, simulated from the limiting distribution.

    Not Hansen's (1997) response-surface formula (its coefficient tables are not
    reproduced here) but the distribution both approximate: 20,000 draws on a
    1,000-step grid, Monte Carlo SE about 0.0015 at p = 0.05; the smallest reportable
    value is 1 / 20,001 (shown as < 0.0001).
    """
    draws = _null_draws(int(n_params), round(float(trim), 6))
    exceed = len(draws) - np.searchsorted(draws, statistic, side="left")
    return float((exceed + 1) / (len(draws) + 1))


@dataclass
class SupWald:
    """Result of the unknown-break-date test and the break-year confidence set."""

    kind: str
    shift: str
    n_params: int
    trim: float
    min_segment: int
    years: tuple[int, int]
    candidates: tuple[int, ...]
    profile: pd.DataFrame  # year, wald, p_pointwise, loglik, lr, lr_scaled, in_set
    statistic: float
    break_year: int
    critical_values: dict[float, float]
    critical_values_source: str
    p_value: float
    p_value_method: str
    lr_break_year: int
    eta2: float
    confidence_set: tuple[int, ...]
    lr_critical: float
    estimator: str
    nobs: int
    warnings: list[str] = field(default_factory=list)

    def rejects(self, level: float = 0.05) -> bool:
        """Sup-Wald above the asymptotic critical value at ``level`` (0.10, 0.05, 0.01)."""
        return self.statistic > self.critical_values[level]

    @property
    def candidate_range(self) -> str:
        return f"{self.candidates[0]}-{self.candidates[-1]}"

    def to_record(self) -> dict[str, Any]:
        return {
            "sample": self.kind,
            "shift": self.shift,
            "n_break_params": self.n_params,
            "trim": self.trim,
            "min_segment": self.min_segment,
            "years": list(self.years),
            "candidates": list(self.candidates),
            "sup_wald": self.statistic,
            "break_year": self.break_year,
            "critical_values": {f"{k:g}": v for k, v in self.critical_values.items()},
            "critical_values_source": self.critical_values_source,
            "rejects_5pct": self.rejects(0.05),
            "p_value": self.p_value,
            "p_value_method": self.p_value_method,
            "lr_break_year": self.lr_break_year,
            "lr_scale_eta2": self.eta2,
            "lr_critical_95": self.lr_critical,
            "confidence_set_95": list(self.confidence_set),
            "estimator": self.estimator,
            "nobs": self.nobs,
            "profile": [
                {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
                for row in self.profile.to_dict(orient="records")
            ],
            "warnings": list(self.warnings),
        }


def _dispersion_ratio(result: FitResult, terms: Sequence[str]) -> float:
    """eta^2 = tr(V_model^-1 V_robust) / p for the break terms (1 when the model is right).

    Why: the Poisson log-likelihood ratio is chi-squared-like only when the
    variance is the Poisson one; with overdispersion or within-cluster
    dependence it is inflated by about this factor; Hansen (2000) divides the LR
    statistic by such a ratio when the errors are heteroskedastic.
    """
    core = result.core
    names = list(core.names)
    idx = [names.index(t) for t in terms]
    model = np.asarray(core.bread)[np.ix_(idx, idx)]
    robust = np.asarray(result.full_vcov)[np.ix_(idx, idx)]
    return float(np.trace(np.linalg.solve(model, robust)) / len(idx))


def sup_wald(
    data: Panel | pd.DataFrame,
    candidates: Sequence[int] | None = None,
    *,
    trim: float = 0.15,
    shift: str = "level",
    unit_fe: bool | str = True,
    family: str | None = None,
    cluster: str | None = None,
    outcome: str | None = None,
    controls: Sequence[str] = (),
    min_segment: int | None = None,
    scale_lr: bool = True,
) -> SupWald:
    """Andrews (1993) sup-Wald test for a break at an unknown year, and its date.

    Why: finding 2013 without being told is stronger evidence for a Xi-era
    break than testing 2013 alone (which invites date mining).

    For every candidate year in the trimmed range (:func:`candidate_years`; the
    first and last ``trim`` share of years are not candidates; ``candidates``
    may narrow the set further) the model of :func:`known_break` is fitted with
    the break terms of ``shift`` (``"level"``: ``post_break``, p = 1;
    ``"level+trend"``: ``post_break`` and ``post_trend``, p = 2) and the Wald
    statistic of those terms is computed with the model's SEs (clustered on
    panels, quasi-Poisson on a series).  The sup-Wald statistic is their maximum and the
    estimated break year its argmax.  Critical values are Andrews's asymptotic
    ones (Table I); the p-value is simulated from the same limiting
    distribution.  Both are asymptotic in the number of years; with 16 years
    and a panel they are an approximation.

    Confidence set for the break year (Hansen 2000): the candidates τ with
    LR(τ) = 2 [loglik(τ_ML) - loglik(τ)] / eta^2 below c = -2 log(1 - sqrt(.95))
    ~ 7.35, τ_ML the likelihood-maximising candidate.  eta^2 rescales the
    (quasi-)likelihood ratio for overdispersion and clustering
    (:func:`_dispersion_ratio`; ``scale_lr=False`` uses 1).  An approximation:
    Hansen's distribution is derived for a shrinking break in a regression.

    ``min_segment``: fewest years on each side of a candidate break.  Panels
    default to 1 (the trimming decides).  A yearly series defaults to
    2p + 1 (3 for a level shift, 5 for level + trend): with fewer, a regime's
    own intercept and slope nearly interpolate its few points, their leverage
    approaches 1 and the variance collapses (on 2002-2012 a break in 2011
    leaves two points for two parameters and a "Wald" of several hundred).
    A narrower candidate range makes Andrews's critical values conservative.
    """
    if shift not in SHIFT_TERMS:
        raise SpecError(f"shift must be one of {list(SHIFT_TERMS)}, not {shift!r}")
    terms = SHIFT_TERMS[shift]
    d = _prepare(
        data, unit_fe=unit_fe, family=family, cluster=cluster, outcome=outcome, controls=controls
    )
    if min_segment is None:
        min_segment = 2 * len(terms) + 1 if d.unit is None and d.cluster is None else 1
    trimmed = [
        y
        for y in candidate_years(d.first, d.last, trim)
        if y - d.first >= min_segment and d.last - y + 1 >= min_segment
    ]
    chosen = trimmed if candidates is None else [y for y in trimmed if y in set(candidates)]
    if not chosen:
        raise SpecError(
            f"no candidate break year inside the trimmed range {trimmed[0]}-{trimmed[-1]}"
            if trimmed
            else f"the sample {d.first}-{d.last} is too short for trimming {trim} and "
            f"{min_segment} year(s) on each side",
            fix="widen the candidates or lower trim",
        )
    rows = []
    results: dict[int, FitResult] = {}
    for year in chosen:
        result = _fit_break(d, year, terms, f"break {year}")
        test = wald_test(result, list(terms))
        results[year] = result
        rows.append(
            {
                "year": year,
                "wald": test.statistic,
                "p_pointwise": test.p_value,
                "loglik": float(result.loglik),
                "nobs": int(result.nobs),
            }
        )
    profile = pd.DataFrame(rows)
    warnings = [w for r in results.values() for w in r.warnings]
    if profile["nobs"].nunique() > 1:
        warnings.append(
            "the estimation sample differs across candidate years (separation drops); "
            "likelihoods are not strictly comparable"
        )
    best = int(profile.loc[profile["wald"].idxmax(), "year"])
    lr_best = int(profile.loc[profile["loglik"].idxmax(), "year"])
    eta2 = _dispersion_ratio(results[lr_best], terms) if scale_lr else 1.0
    profile["lr"] = 2.0 * (profile["loglik"].max() - profile["loglik"])
    profile["lr_scaled"] = profile["lr"] / eta2
    profile["in_set"] = profile["lr_scaled"] <= HANSEN_2000_C95
    p = len(terms)
    try:
        critical = andrews_critical_values(p, trim)
        source = "Andrews (1993, Table I), asymptotic"
    except KeyError:
        draws = _null_draws(p, round(float(trim), 6))
        critical = {a: float(np.quantile(draws, 1 - a)) for a in (0.10, 0.05, 0.01)}
        source = "simulated limiting distribution (Andrews 1993), asymptotic"
    statistic = float(profile["wald"].max())
    return SupWald(
        kind=d.kind,
        shift=shift,
        n_params=p,
        trim=trim,
        min_segment=min_segment,
        years=(d.first, d.last),
        candidates=tuple(chosen),
        profile=profile.drop(columns="nobs"),
        statistic=statistic,
        break_year=best,
        critical_values=critical,
        critical_values_source=source,
        p_value=sup_wald_pvalue(statistic, p, trim),
        p_value_method=(
            f"simulated asymptotic distribution of Andrews (1993) ({NULL_REPS:,} draws, "
            f"{NULL_STEPS:,}-step Brownian bridge); not Hansen's (1997) response surface"
        ),
        lr_break_year=lr_best,
        eta2=eta2,
        confidence_set=tuple(int(y) for y in profile.loc[profile["in_set"], "year"]),
        lr_critical=HANSEN_2000_C95,
        estimator=_estimator(results[best], d),
        nobs=int(results[best].nobs),
        warnings=list(dict.fromkeys(warnings)),
    )


# --------------------------------------------------------------------------- (c) interactions
@dataclass
class BreakInteractions:
    """Ruling x regime model interacted with the post-break indicator, and the joint test."""

    break_year: int
    result: FitResult
    wald: WaldTest

    def to_record(self) -> dict[str, Any]:
        return {
            "break_year": self.break_year,
            "formula": self.result.formula,
            "estimator": f"{self.result.extra.get('family_label')}; SEs "
            f"{self.result.se_description}",
            "nobs": int(self.result.nobs),
            "n_clusters": self.result.n_clusters,
            "joint_wald_post_interactions": self.wald.to_dict(),
            "terms": {
                t: {"estimate": float(self.result.params[t]), "std_error": float(s)}
                for t, s in self.result.std_errors.items()
            },
        }


def _is_post_interaction(term: str) -> bool:
    parts = term.split(":")
    return len(parts) > 1 and LEVEL in parts


def break_interactions(
    party_panel: Panel | pd.DataFrame,
    break_year: int,
    *,
    family: str = "negbin",
    cluster: str = "iso3",
    controls: Sequence[str] = (),
) -> BreakInteractions:
    """Does the ruling premium or the regime gradient change after the break?

    Why: the study expects the Xi era to change what the party channel is
    used for, not only how much; a pure level break multiplies every rate
    and leaves these interactions at zero.  Party-year NB2 of contacts on
    ``ruling * C(fh_status) * post_break`` (+ ``controls``), SEs clustered by
    country; the joint Wald test covers every term interacted with
    ``post_break`` (ruling, freedom status and ruling x freedom status).
    """
    frame = _with_break(
        party_panel.data if isinstance(party_panel, Panel) else party_panel, break_year
    )
    rhs = " + ".join([f"ruling * C(fh_status) * {LEVEL}", *controls])
    source: Panel | pd.DataFrame
    source = replace(party_panel, data=frame) if isinstance(party_panel, Panel) else frame
    result = fit(
        f"contacts ~ {rhs}",
        source,
        family=family,
        cluster=cluster,
        name=f"ruling x regime x post {break_year}",
    )
    terms = [t for t in result.params.index if _is_post_interaction(str(t))]
    if not terms:
        raise EstimationError("no post-break interaction terms were estimated")
    return BreakInteractions(break_year, result, wald_test(result, terms))


# --------------------------------------------------------------------------- table and figure
@dataclass(frozen=True)
class _BlockTable(SimpleTable):
    """A SimpleTable with several titled blocks (one per part of the design)."""

    blocks: tuple[Block, ...] = ()

    def _layout(self) -> Layout:
        return Layout(
            header_rows=((self.stub_header, *self.columns),),
            blocks=self.blocks,
            notes=self.notes,
            title=self.title,
            label=self.label,
        )


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}".replace("-", "−") if np.isfinite(value) else "—"


def _p_text(p: float, digits: int = 3) -> str:
    """p-values as text: '< 0.001' rather than a misleading '0.000'."""
    floor = 10.0**-digits
    return f"{p:.{digits}f}" if p >= floor else f"< {floor:.{digits}f}"


def _years_text(years: Sequence[int]) -> str:
    """2011, 2012, 2013 -> '2011–2013'; gaps listed with commas."""
    if not years:
        return "(empty)"
    runs: list[list[int]] = [[years[0]]]
    for y in years[1:]:
        if y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _known_rows(fits: dict[str, KnownBreak | None]) -> pd.DataFrame:
    labels = {
        TREND: "Pre-break trend (per year)",
        LEVEL: "Level shift at the break",
        TREND_SHIFT: "Trend shift after the break",
    }
    data: dict[str, list[Any]] = {}
    index: list[str] = []
    for label in labels.values():
        index += [label, "  (s.e.)"]
    index += ["Level shift, 95% CI", "Wald χ²(2): level and trend shift", "  p-value", "N"]
    index += ["Clusters"]
    for column, kb in fits.items():
        if kb is None:
            data[column] = [None] * len(index)
            continue
        r = kb.result
        values: list[Any] = []
        for term in labels:
            values += [float(r.params[term]), f"({_fmt(float(r.std_errors[term]))})"]
        ci = r.conf_int().loc[LEVEL]
        values.append(f"[{_fmt(float(ci['lower']))}, {_fmt(float(ci['upper']))}]")
        values += [kb.wald.statistic, _p_text(kb.wald.p_value), int(r.nobs), r.n_clusters]
        data[column] = values
    return pd.DataFrame(data, index=index)


def _sup_rows(tests: dict[str, SupWald | None]) -> pd.DataFrame:
    index = [
        "Candidate break years",
        "sup-Wald",
        "Estimated break year",
        "Critical values 10% / 5% / 1%",
        "Rejects at 5%",
        "Asymptotic p-value (simulated)",
        "95% confidence set (LR)",
    ]
    data: dict[str, list[Any]] = {}
    for column, sw in tests.items():
        if sw is None:
            data[column] = [None] * len(index)
            continue
        cv = sw.critical_values
        data[column] = [
            sw.candidate_range.replace("-", "–"),
            sw.statistic,
            str(sw.break_year),
            f"{cv[0.10]:.2f} / {cv[0.05]:.2f} / {cv[0.01]:.2f}",
            "yes" if sw.rejects(0.05) else "no",
            _p_text(sw.p_value, 4),
            _years_text(list(sw.confidence_set)),
        ]
    return pd.DataFrame(data, index=index)


def _interaction_rows(columns: Sequence[str], inter: BreakInteractions | None) -> pd.DataFrame:
    index = ["Post × ruling", "  (s.e.)", "Joint Wald: all post-break interactions", "  df"]
    index += ["  p-value", "N"]
    data: dict[str, list[Any]] = {c: [None] * len(index) for c in columns}
    if inter is not None:
        r = inter.result
        term = f"ruling:{LEVEL}"
        data[columns[-1]] = [
            float(r.params[term]),
            f"({_fmt(float(r.std_errors[term]))})",
            inter.wald.statistic,
            int(inter.wald.df),
            _p_text(inter.wald.p_value),
            int(r.nobs),
        ]
    return pd.DataFrame(data, index=index)


def _block(frame: pd.DataFrame, title: str) -> Block:
    body = stats_table(frame, digits=3).body
    return Block(body.rows, title=title)


def _fitted_series(kb: KnownBreak, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted means at ``years`` of the pre-break regime and of the post-break regime.

    Both are evaluated at every year given, so the pre-break curve beyond the
    break is the counterfactual "pre-break trend continued".
    """
    b = kb.result.params
    t = years - kb.break_year
    pre = b.get("Intercept", 0.0) + b[TREND] * t
    return np.exp(pre), np.exp(pre + b[LEVEL] + b[TREND_SHIFT] * t)


def _figure(
    yearly: pd.DataFrame,
    kb: KnownBreak,
    profiles: dict[str, SupWald],
    simulated: bool,
    stem: Path,
) -> list[Path]:
    years = yearly["year"].to_numpy(dtype=float)
    fine = np.linspace(years.min(), years.max(), 400)
    with style():
        fig = new_figure(10.0, 4.2)
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        left.plot(years, yearly["contacts"], "o", color="black", markersize=4, label="Contacts")
        by = kb.break_year
        pre_years = fine[fine <= by - 0.5]
        post_years = fine[fine >= by - 0.5]
        left.plot(pre_years, _fitted_series(kb, pre_years)[0], color="tab:blue", label="Fitted")
        counterfactual, post_fit = _fitted_series(kb, post_years)
        left.plot(post_years, post_fit, color="tab:blue")
        left.plot(
            post_years,
            counterfactual,
            color="tab:blue",
            linestyle=":",
            label="Pre-break trend continued",
        )
        left.axvline(by - 0.5, color="0.35", linestyle="--", linewidth=1.1)
        left.set_ylim(bottom=0)
        left.set_xlabel("Year")
        left.set_ylabel("Contacts per year")
        left.set_title(f"Yearly contacts, break at {by} ({kb.result.extra.get('family_label')})")
        left.legend(frameon=False, fontsize=8, loc="upper left")
        colours = ("tab:orange", "tab:green", "tab:purple")
        for (label, sw), colour in zip(profiles.items(), colours, strict=False):
            right.plot(
                sw.profile["year"],
                sw.profile["wald"],
                marker="o",
                markersize=4,
                color=colour,
                label=f"{label} (p = {sw.n_params})",
            )
            right.axhline(
                sw.critical_values[0.05],
                color=colour,
                linestyle="--",
                linewidth=1.0,
                label=f"5% critical value {sw.critical_values[0.05]:.2f}",
            )
        right.set_xlabel("Candidate break year")
        right.set_ylabel("Wald statistic")
        first = next(iter(profiles.values()))
        right.set_title(f"sup-Wald profile ({first.kind})")
        right.set_ylim(bottom=0)
        right.legend(frameon=False, fontsize=8, loc="upper left")
        for ax in (left, right):
            ax.xaxis.get_major_locator().set_params(integer=True)
        if simulated:
            mark_simulated(fig)
        fig.tight_layout(rect=(0, 0.04 if simulated else 0, 1, 1))
        return save_figure(fig, stem)


# --------------------------------------------------------------------------- run
def run(study: Study, panels: dict[str, Panel], out: Path, **params: Any) -> DesignOutput:
    """Fit (a)-(c) on the study, write table and figure ``design_xi``, return the record.

    Parameters: ``break_year`` (default the study's), ``trim`` (0.15),
    ``yearly_family`` (``"poisson"``, or ``"negbin"``), ``interaction_controls``
    (extra regressors of the interaction model).
    """
    out = Path(out)
    break_year = int(params.get("break_year", study.break_year))
    trim = float(params.get("trim", 0.15))
    yearly_family = str(params.get("yearly_family", "poisson"))
    controls = tuple(params.get("interaction_controls", ()))

    yearly = yearly_totals(study)[["year", "total"]].rename(columns={"total": "contacts"})
    yearly.attrs["simulated"] = study.simulated
    country = panels.get("country-year")
    if country is None:
        from cpcstats.panels import country_year

        country = country_year(study)
    party = panels.get("party-year")
    skipped_party = None
    if party is None:
        skipped_party = (
            "no party-year panel (the study has no parties / party status): "
            "party-level break and interaction models skipped"
        )

    known = {
        "Yearly series": known_break(yearly, break_year, family=yearly_family),
        "Country-year": known_break(country, break_year),
        "Party-year": None if party is None else known_break(party, break_year),
    }
    sups: dict[str, dict[str, SupWald | None]] = {}
    for shift in SHIFT_TERMS:
        sups[shift] = {
            "Yearly series": sup_wald(yearly, trim=trim, shift=shift, family=yearly_family),
            "Country-year": sup_wald(country, trim=trim, shift=shift),
            "Party-year": None if party is None else sup_wald(party, trim=trim, shift=shift),
        }
    inter = None if party is None else break_interactions(party, break_year, controls=controls)

    columns = list(known)
    blocks = [
        _block(_known_rows(known), f"(a) Known break at {break_year}"),
        _block(_sup_rows(sups["level"]), "(b) Unknown break year: level shift (p = 1)"),
        _block(
            _sup_rows(sups["level+trend"]),
            "(b) Unknown break year: level and trend shift (p = 2)",
        ),
        _block(
            _interaction_rows(columns, inter),
            "(c) Ruling × freedom status × post-break (party-year NB2)",
        ),
    ]
    notes = _notes(study, yearly, country, party, known, sups, inter, break_year, trim)
    if skipped_party:
        notes.append(f"Party-year columns empty: {skipped_party}.")
    base = stats_table(
        pd.DataFrame({c: [] for c in columns}),
        title=TITLE,
        label=f"tab:{NAME}",
        notes=notes,
        simulated=study.simulated,
    )
    tab = _BlockTable(
        stub_header="",
        columns=tuple(columns),
        body=base.body,
        notes=base.notes,
        title=base.title,
        label=base.label,
        blocks=tuple(blocks),
    )
    files = write_table(tab, out, NAME)
    figure_profiles = {
        "Level shift": sups["level"]["Country-year"],
        "Level and trend shift": sups["level+trend"]["Country-year"],
    }
    files += _figure(
        yearly,
        known["Yearly series"],  # type: ignore[arg-type]
        {k: v for k, v in figure_profiles.items() if v is not None},
        study.simulated,
        out / "figures" / NAME,
    )
    record: dict[str, Any] = {
        "break_year": break_year,
        "trim": trim,
        "simulated": study.simulated,
        "known_break": {k: (v.to_record() if v else None) for k, v in known.items()},
        "sup_wald": {
            shift: {k: (v.to_record() if v else None) for k, v in tests.items()}
            for shift, tests in sups.items()
        },
        "interactions": inter.to_record() if inter else None,
        "skipped": {"party-year": skipped_party} if skipped_party else {},
    }
    if study.truth:
        record["truth"] = {
            "xi_era_party_year": study.truth.get("party_year_effects", {}).get("xi_era"),
            "xi_era_country_year": study.truth.get("country_year_effects", {}).get("xi_era"),
        }
    models = [kb.result for kb in known.values() if kb is not None]
    if inter is not None:
        models.append(inter.result)
    return DesignOutput(NAME, TITLE, files=files, models=models, record=record)


def _panel_note(study: Study, level: str, panel: Panel, kb: KnownBreak) -> str:
    """The panel's sample line plus what the fixed-effect model dropped, by reason."""
    account = kb.result.sample
    reasons = {k: v for k, v in (account.dropped if account else {}).items() if v}
    why = "; ".join(f"{v:,} dropped: {k}" for k, v in reasons.items())
    extra = f"Break models use {kb.result.nobs:,} of {len(panel.data):,} {level}s"
    extra += f" ({why}; such units carry no information with unit fixed effects)." if why else "."
    return sample_note(study, level, len(panel.data), extra)


def _notes(
    study: Study,
    yearly: pd.DataFrame,
    country: Panel,
    party: Panel | None,
    known: dict[str, KnownBreak | None],
    sups: dict[str, dict[str, SupWald | None]],
    inter: BreakInteractions | None,
    break_year: int,
    trim: float,
) -> list[str]:
    """Samples, estimators, SEs and the approximations, in words."""
    what = "SIMULATED embedded demo study" if study.simulated else study.name
    country_kb, party_kb = known["Country-year"], known["Party-year"]
    assert country_kb is not None
    notes = [
        f"Yearly series: total contacts per year of the {what}, "
        f"{study.first_year}-{study.last_year} ({len(yearly)} observations).",
        _panel_note(study, "country-year", country, country_kb),
    ]
    if party is not None and party_kb is not None:
        notes.append(_panel_note(study, "party-year", party, party_kb))
    notes.append(
        "Estimators: "
        + "; ".join(kb.estimator for kb in known.values() if kb is not None)
        + f". Regressors: trend = year - {break_year}, level shift = 1[year >= {break_year}], "
        "trend shift = trend x level shift; coefficients on the log scale."
    )
    level = sups["level"]["Country-year"]
    series = sups["level+trend"]["Yearly series"]
    assert level is not None and series is not None
    notes.append(
        f"(b) Wald statistics at every candidate year of the trimmed range (first and last "
        f"{trim:.0%} of years dropped: {level.candidate_range}) with the same estimators and "
        f"SEs; the yearly series also needs {series.min_segment} years on each side of a "
        "level-and-trend break (variances collapse when a regime's own intercept and "
        "slope nearly interpolate its points), which makes the critical values conservative "
        f"there. Critical values: {level.critical_values_source}; asymptotic in the number of "
        f"years, so an approximation with {len(yearly)} years. p-values: "
        f"{level.p_value_method}."
    )
    notes.append(
        "Confidence set: candidate years whose likelihood-ratio statistic against the "
        "likelihood-maximising year, divided by the variance ratio eta^2 (clustered or "
        f"quasi-Poisson over model-based), is below Hansen's (2000) c = -2 log(1 - sqrt(0.95)) = "
        f"{HANSEN_2000_C95:.2f}; an approximation (Hansen's theory assumes a shrinking break "
        "in a regression)."
    )
    if inter is not None:
        notes.append(
            f"(c) Party-year NB2 of contacts on ruling x freedom status x post-break "
            f"(N = {inter.result.nobs:,}), SEs {inter.result.se_description}; joint Wald test "
            f"of the {inter.wald.df} post-break interaction terms (post x ruling, post x "
            "status, post x ruling x status)."
        )
    return notes
