"""Andrews (1993) sup-Wald test for a break at an unknown date, and its confidence set.

Inference: the asymptotic critical values (`cpcstats.methods.break_critical`) assume many
periods and independent periods; the reported p-value is a bootstrap one whenever
`cpcstats.methods.break_design.bootstrap_test` applies (a parametric bootstrap of the
quasi-Poisson sup-Wald of the period totals, with AR(1) period shocks; an FE-Poisson panel
is aggregated to its period totals with its composition as offset, or bootstrapped by a
wild score bootstrap over periods), the asymptotic p-value is kept beside it.

Why: finding a date without being told is stronger evidence for a break than testing one
chosen date (which invites date mining).  Works on any series or panel through
`cpcstats.methods.break_model.break_setting` (column names as arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.estimation.postestimation import wald_test
from cpcstats.estimation.results import FitResult
from cpcstats.methods.break_bootstrap import BootstrapTest
from cpcstats.methods.break_critical import (
    HANSEN_2000_C95,
    NULL_REPS,
    NULL_STEPS,
    candidate_years,
    critical_values,
    sup_wald_pvalue,
)
from cpcstats.methods.break_design import BootstrapOptions, bootstrap_test
from cpcstats.methods.break_model import (
    SHIFT_TERMS,
    BreakSetting,
    break_setting,
    estimator_text,
    fit_break,
)
from cpcstats.methods.break_profile import fast_profile
from cpcstats.panels import Panel

__all__ = ["SupWald", "dispersion_ratio", "sup_wald_test"]


@dataclass
class SupWald:
    """Result of the unknown-break-date test and the break-date confidence set."""

    kind: str
    shift: str
    n_params: int
    trim: float
    min_segment: int
    years: tuple[int, int]
    candidates: tuple[int, ...]
    #: columns year (the candidate date, whatever ``tname`` is), wald, p_pointwise, loglik,
    #: lr, lr_scaled, in_set
    profile: pd.DataFrame
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
    #: the candidate with the largest Wald statistic (``break_year`` is the likelihood's)
    wald_break_year: int | None = None
    #: the simulated asymptotic p-value of the sup-Wald (Andrews's limiting distribution)
    p_value_asymptotic: float = float("nan")
    #: the bootstrap test whose p-value is `p_value` (None: asymptotic inference only)
    bootstrap: BootstrapTest | None = None

    def rejects(self, level: float = 0.05) -> bool:
        """Bootstrap p-value below ``level``; without a bootstrap, sup-Wald above the
        asymptotic critical value at ``level`` (0.10, 0.05, 0.01)."""
        if self.bootstrap is not None:
            return self.bootstrap.p_value < level
        return self.statistic > self.critical_values[level]

    @property
    def candidate_range(self) -> str:
        """First and last candidate date, ``2005-2015``."""
        return f"{self.candidates[0]}-{self.candidates[-1]}"

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record of the test, its profile and its warnings."""
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
            "wald_break_year": self.wald_break_year,
            "critical_values": {f"{k:g}": v for k, v in self.critical_values.items()},
            "critical_values_source": self.critical_values_source,
            "rejects_5pct": self.rejects(0.05),
            "p_value": self.p_value,
            "p_value_method": self.p_value_method,
            "p_value_asymptotic": self.p_value_asymptotic,
            "bootstrap": self.bootstrap.to_record() if self.bootstrap else None,
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


def dispersion_ratio(result: FitResult, terms: Sequence[str]) -> float:
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


def _chosen(
    s: BreakSetting, trim: float, min_segment: int, candidates: Sequence[int] | None
) -> list[int]:
    """Candidate dates of the trimmed range with ``min_segment`` periods on each side."""
    trimmed = [
        y
        for y in candidate_years(s.first, s.last, trim)
        if y - s.first >= min_segment and s.last - y + 1 >= min_segment
    ]
    chosen = trimmed if candidates is None else [y for y in trimmed if y in set(candidates)]
    if not chosen:
        raise SpecError(
            f"no candidate break year inside the trimmed range {trimmed[0]}-{trimmed[-1]}"
            if trimmed
            else f"the sample {s.first}-{s.last} is too short for trimming {trim} and "
            f"{min_segment} year(s) on each side",
            fix="widen the candidates or lower trim",
        )
    return chosen


def _profile(
    s: BreakSetting, chosen: Sequence[int], terms: Sequence[str]
) -> tuple[pd.DataFrame, dict[int, FitResult], list[str]]:
    """Wald statistic, pointwise p-value and log-likelihood at every candidate date.

    The fast path (`cpcstats.methods.break_profile.fast_profile`: arrays built once, no
    formula per candidate) when it applies; `fit` is then called only for the
    likelihood-maximising date, whose result the test reports.
    """
    rows = []
    results: dict[int, FitResult] = {}
    fast = fast_profile(s, chosen, len(terms))
    if fast is not None:
        best = int(fast.loc[fast["loglik"].idxmax(), "year"])
        results = {best: fit_break(s, best, terms, f"break {best}")}
        warnings = [w for r in results.values() for w in r.warnings]
        return fast, results, warnings
    for year in chosen:
        result = fit_break(s, year, terms, f"break {year}")
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
    return profile, results, warnings


def sup_wald_test(
    data: Panel | pd.DataFrame,
    candidates: Sequence[int] | None = None,
    *,
    yname: str,
    tname: str,
    idname: str | None = None,
    family: str | None = None,
    cluster: str | None = None,
    controls: Sequence[str] = (),
    trim: float = 0.15,
    shift: str = "level",
    min_segment: int | None = None,
    scale_lr: bool = True,
    sample: str | None = None,
    se: str | None = None,
    bootstrap: BootstrapOptions | None = None,
) -> SupWald:
    """Andrews (1993) sup-Wald test for a break at an unknown date, and its date.

    For every candidate date in the trimmed range (`candidate_years`; the first and
    last ``trim`` share of periods are not candidates; ``candidates`` may narrow the set)
    the break model (`cpcstats.methods.break_model.fit_break`) is fitted with the
    terms of ``shift`` (``"level"``: ``post_break``, p = 1; ``"level+trend"``: also
    ``post_trend``, p = 2) and their Wald statistic computed with the model's SEs.  The
    sup-Wald is the maximum; the estimated date (``break_year``) is the likelihood
    maximiser (the ML / least-squares break-date estimator, Bai 1997), not the Wald argmax
    (``wald_break_year``): a Wald statistic whose variance comes from the few years of a
    short regime is inflated near the ends of the window (simulated 22-year panels with a
    2010 step: the Driscoll-Kraay Wald argmax was 2017, 2019, 2007 in 3 of 5 draws, the
    likelihood's 2010); critical values are Andrews's
    asymptotic ones (simulated where Table I has no entry), the p-value simulated.

    Confidence set (Hansen 2000): the candidates τ with LR(τ) = 2 [loglik(τ_ML) -
    loglik(τ)] / eta^2 below c = -2 log(1 - sqrt(.95)) ~ 7.35; eta^2
    (`dispersion_ratio`; ``scale_lr=False`` uses 1) rescales for overdispersion and
    clustering.  ``min_segment``: fewest periods on each side, default 2p + 1 for a series
    and a panel alike (with fewer, a regime's own intercept and slope nearly interpolate
    its periods and the variance collapses; the break terms vary by period only, so a
    panel has no more periods than its series: with min_segment 1 the party-year
    level-and-trend test of the demo picked 2020, whose 4-year regime fits the end-of-window
    downturn and whose Wald, with a variance from 4 periods, is inflated).

    ``bootstrap`` (default `BootstrapOptions()`: 999 replicates, fixed seed; ``reps=0``
    for none): the reported `SupWald.p_value` and `SupWald.rejects` come from
    `cpcstats.methods.break_design.bootstrap_test` (series: parametric bootstrap of
    this sup-Wald; FE-Poisson panel: of the sup-Wald of its composition-adjusted period
    totals; see `BootstrapOptions`), valid with few periods, common period shocks and
    mildly persistent ones; the asymptotic p-value stays in
    ``p_value_asymptotic``.  ``se="driscoll-kraay"`` gives the panel Wald statistics
    period-robust SEs.
    """
    if shift not in SHIFT_TERMS:
        raise SpecError(f"shift must be one of {list(SHIFT_TERMS)}, not {shift!r}")
    terms = SHIFT_TERMS[shift]
    s = break_setting(
        data,
        yname=yname,
        tname=tname,
        idname=idname,
        family=family,
        cluster=cluster,
        controls=controls,
        sample=sample,
        se=se,
    )
    if min_segment is None:
        min_segment = 2 * len(terms) + 1
    chosen = _chosen(s, trim, min_segment, candidates)
    profile, results, warnings = _profile(s, chosen, terms)
    out = _assemble(s, shift, trim, min_segment, chosen, profile, results, warnings, scale_lr)
    boot = bootstrap_test(s, chosen, len(terms), bootstrap or BootstrapOptions())
    if boot is not None:
        out.bootstrap = boot
        out.p_value_asymptotic, out.p_value = out.p_value, boot.p_value
        out.p_value_method = f"{boot.statistic_name}: {boot.method}"
    else:
        out.p_value_asymptotic = out.p_value
    return out


def _assemble(
    s: BreakSetting,
    shift: str,
    trim: float,
    min_segment: int,
    chosen: Sequence[int],
    profile: pd.DataFrame,
    results: dict[int, FitResult],
    warnings: list[str],
    scale_lr: bool,
) -> SupWald:
    """The test's result from the profile: argmax, LR confidence set, critical values."""
    terms = SHIFT_TERMS[shift]
    best = int(profile.loc[profile["wald"].idxmax(), "year"])
    lr_best = int(profile.loc[profile["loglik"].idxmax(), "year"])
    eta2 = dispersion_ratio(results[lr_best], terms) if scale_lr else 1.0
    profile["lr"] = 2.0 * (profile["loglik"].max() - profile["loglik"])
    profile["lr_scaled"] = profile["lr"] / eta2
    profile["in_set"] = profile["lr_scaled"] <= HANSEN_2000_C95
    p = len(terms)
    critical, source = critical_values(p, trim)
    statistic = float(profile["wald"].max())
    return SupWald(
        kind=s.kind,
        shift=shift,
        n_params=p,
        trim=trim,
        min_segment=min_segment,
        years=(s.first, s.last),
        candidates=tuple(chosen),
        profile=profile.drop(columns="nobs"),
        statistic=statistic,
        break_year=lr_best,
        wald_break_year=best,
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
        estimator=estimator_text(results[lr_best], s),
        nobs=int(results[lr_best].nobs),
        warnings=list(dict.fromkeys(warnings)),
    )
