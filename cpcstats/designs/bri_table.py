"""The ``design_bri`` table and its notes: TWFE beside the ETWFE aggregations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.designs.base import sample_note
from cpcstats.estimation.results import FitResult
from cpcstats.methods.etwfe import ETWFEResult
from cpcstats.methods.records import plain
from cpcstats.study import Study

__all__ = ["notes", "table_frame"]

Z95 = float(stats.norm.ppf(0.975))


def _statistics(twfe: FitResult, et: ETWFEResult) -> list[tuple[str, Any, Any, Any, Any]]:
    rows: list[tuple[str, Any, Any, Any, Any]] = []
    if et.lead_average is not None:
        rows.append(
            ("Pre-trend: leads pooled, p-value", et.lead_average["p_value"], None, None, None)
        )
    if et.pretrend is not None:
        rows.append(("Pre-trend: all leads = 0, score χ²", et.pretrend.statistic, None, None, None))
        rows.append(("Pre-trend: all leads = 0, df", int(et.pretrend.df), None, None, None))
        rows.append(("Pre-trend: all leads = 0, p-value", et.pretrend.p_value, None, None, None))
    rows.append(("N (ETWFE country-years)", int(et.nobs), None, None, None))
    rows.append(("N (TWFE country-years)", int(twfe.nobs), None, None, None))
    rows.append(("Countries (ETWFE)", et.n_countries, None, None, None))
    rows.append(("Cohorts (signing years)", len(et.cohorts.cohorts), None, None, None))
    rows.append(("Always-treated countries dropped", et.cohorts.always_treated, None, None, None))
    return rows


def table_frame(twfe: FitResult, et: ETWFEResult, treatment: str) -> pd.DataFrame:
    """Estimates with SE and 95 % CI (TWFE, ETWFE overall and by event time), then tests."""
    rows: list[tuple[str, Any, Any, Any, Any]] = []

    def est(label: str, value: float, se: float) -> None:
        rows.append((label, value, se, value - Z95 * se, value + Z95 * se))

    b, s = float(twfe.params[treatment]), float(twfe.std_errors[treatment])
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
    rows += _statistics(twfe, et)
    columns = ["Estimate", "SE", "95% CI lower", "95% CI upper"]
    index = pd.Index([r[0] for r in rows], name="")
    values = [[plain(v) for v in r[1:]] for r in rows]  # object cells keep integers integral
    return pd.DataFrame(values, index=index, columns=columns, dtype=object)


def _sample_note(study: Study, et: ETWFEResult) -> str:
    cohorts = ", ".join(str(g) for g in et.cohorts.cohorts)
    dropped = "; ".join(f"{n} {k}" for k, n in et.cohorts.dropped_countries.items()) or "none"
    account = et.model.sample
    model_drops = (
        "; ".join(f"{n:,} country-years: {k}" for k, n in account.dropped.items() if n)
        if account is not None
        else ""
    )
    return sample_note(
        study,
        "country-year",
        et.nobs,
        f"Cohorts (BRI signing years): {cohorts}; comparison group: countries signing "
        f"after {et.cohorts.last_year} or never. Countries dropped: {dropped}. "
        f"Dropped by the ETWFE model: {model_drops or 'none'}.",
    )


def notes(
    study: Study,
    twfe: FitResult,
    et: ETWFEResult,
    controls: Sequence[str],
    planted: float | None,
) -> list[str]:
    """The table's notes: sample, estimators, inference, pre-trend tests, warnings."""
    ctrl = ", ".join(controls) if controls else "none"
    out = [
        _sample_note(study, et),
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
    if planted is not None:
        out.append(f"Planted BRI effect of the simulation (log scale): {planted:g}.")
    out.extend([*et.cohorts.notes, *et.notes])
    for w in [*twfe.warnings, *et.model.warnings]:
        out.append(f"Warning: {w}")
    return out
