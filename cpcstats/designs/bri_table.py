"""The ``design_bri`` tables and notes: TWFE, ETWFE and imputation ATTs and the tests.

The table notes are short (estimator, SE method, which cells enter); what is dropped and
why goes to `notes_data` (the record's ``notes_data``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.designs.base import sample_note
from cpcstats.estimation.results import FitResult
from cpcstats.methods.etwfe import ETWFEResult
from cpcstats.methods.imputation import ImputationResult
from cpcstats.methods.records import plain
from cpcstats.study import Study

__all__ = ["aggregation_frame", "notes", "notes_data", "table_frame"]

VARIANTS = {
    "main": "Imputation",
    "no_control": "Imputation, no control",
    "baseline_x_year": "Imputation, first-year recognition × year",
}

Z95 = float(stats.norm.ppf(0.975))


def _stat(label: str, value: Any) -> tuple[str, Any, Any, Any, Any]:
    return (label, value, None, None, None)


def _lead_bin_rows(imp: ImputationResult, wild: dict[str, Any]) -> list[tuple]:
    rows: list[tuple] = []
    lt = imp.lead_test
    if lt is not None:
        rows.append(_stat("Pre-trend: binned leads, robust score χ²", lt.statistic))
        rows.append(_stat("Pre-trend: binned leads, df", int(lt.df)))
        rows.append(_stat("Pre-trend: binned leads, p-value (robust score)", lt.p_value))
        label = "Pre-trend: binned leads, Wald p (oversized, comparison)"
        rows.append(_stat(label, lt.p_value_wald))
    if "p_bootstrap" in wild.get("lead_bins", {}):
        rows.append(
            _stat("Pre-trend: binned leads, wild bootstrap p", wild["lead_bins"]["p_bootstrap"])
        )
    if "p_bootstrap" in wild.get("twfe", {}):
        rows.append(_stat("TWFE: wild score bootstrap p", wild["twfe"]["p_bootstrap"]))
    return rows


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


def _imputation_rows(imps: dict[str, ImputationResult]) -> list[tuple]:
    rows: list[tuple] = []

    def est(label: str, rec: dict[str, Any], key: str) -> None:
        rows.append((label, rec[key], rec[f"{key}_se"], rec[f"{key}_lower"], rec[f"{key}_upper"]))

    o = imps["main"].overall
    est("Imputation: ATT, log(Σy / Σ imputed E[y(0)])", o, "log_effect")
    est("Imputation: ATT, count ratio Σy / Σ E[y(0)]", o, "ratio")
    est("Imputation: ATT, contacts per treated country-year", o, "att_count")
    for key, label in VARIANTS.items():
        if key != "main" and key in imps:
            est(f"{label}: ATT (log scale)", imps[key].overall, "log_effect")
    main = imps["main"]
    for r in main.event_time.to_dict("records"):
        if np.isfinite(r["log_effect"]):
            est(f"Imputation event time e = {r['event_time']} (log scale)", r, "log_effect")
    cohorts = ", ".join(str(g) for g in main.balanced_cohorts)
    for r in main.balanced.to_dict("records"):
        est(f"Imputation balanced e = {r['event_time']} (cohorts {cohorts})", r, "log_effect")
    return rows


def table_frame(
    twfe: FitResult,
    et: ETWFEResult,
    treatment: str,
    imps: dict[str, ImputationResult] | None = None,
    et_plain: ETWFEResult | None = None,
    wild: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Estimates with SE and 95 % CI (TWFE, ETWFE and imputation: overall, by event time,
    balanced), then the tests."""
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
    if et_plain is not None:
        p = et_plain.overall
        est("ETWFE, no control: ATT (log scale)", p["log_effect"], p["log_effect_se"])
    for r in et.event_time.itertuples():
        est(f"ETWFE event time e = {r.event_time} (log scale)", r.log_effect, r.log_effect_se)
    if et.lead_average is not None:
        la = et.lead_average
        est("Pre-trend: leads pooled, log scale (leads model)", la["log_effect"], la["std_error"])
    if imps:
        rows += _imputation_rows(imps)
    rows += _statistics(twfe, et)
    if imps:
        rows[-5:-5] = _lead_bin_rows(imps["main"], wild or {})
    columns = ["Estimate", "SE", "95% CI lower", "95% CI upper"]
    index = pd.Index([r[0] for r in rows], name="")
    values = [[plain(v) for v in r[1:]] for r in rows]  # object cells keep integers integral
    return pd.DataFrame(values, index=index, columns=columns, dtype=object)


def aggregation_frame(imp: ImputationResult) -> pd.DataFrame:
    """Imputation ATTs (log scale) by signing cohort and by calendar year."""
    rows = []
    for kind, frame, col in (("Cohort", imp.cohort, "cohort"), ("Year", imp.calendar, None)):
        key = col or frame.columns[0]
        for r in frame.to_dict("records"):
            if np.isfinite(r["log_effect"]):
                rows.append(
                    (
                        f"{kind} {r[key]} (n = {r['n']})",
                        r["log_effect"],
                        r["log_effect_se"],
                        r["log_effect_lower"],
                        r["log_effect_upper"],
                    )
                )
    columns = ["Estimate", "SE", "95% CI lower", "95% CI upper"]
    index = pd.Index([r[0] for r in rows], name="")
    return pd.DataFrame(
        [[plain(v) for v in r[1:]] for r in rows], index=index, columns=columns, dtype=object
    )


def _sample_note(study: Study, et: ETWFEResult) -> str:
    cohorts = ", ".join(str(g) for g in et.cohorts.cohorts)
    dropped = "; ".join(f"{n} {k}" for k, n in et.cohorts.dropped_countries.items()) or "none"
    return sample_note(
        study,
        "country-year",
        et.nobs,
        f"Cohorts (BRI signing years): {cohorts}; comparison group: countries signing "
        f"after {et.cohorts.last_year} or never. Countries dropped: {dropped} (details in "
        "the record's notes_data).",
    )


def notes(
    study: Study,
    twfe: FitResult,
    et: ETWFEResult,
    controls: Sequence[str],
    planted: float | None,
    imp: ImputationResult | None = None,
    compound: Sequence[str] = (),
) -> list[str]:
    """The table's notes (short): sample, estimators, SEs, cells used, control, tests."""
    ctrl = ", ".join(controls) if controls else "none"
    dropped = len(et.omitted_cells)
    out = [
        _sample_note(study, et),
        "TWFE: FE-Poisson on BRI membership, country and year effects. ETWFE: Wooldridge "
        f"(2023), one indicator per cohort and post-signing year; {dropped} cell(s) without "
        "any contact are separated and left out. Imputation (Borusyak-Jaravel-Spiess; "
        "Wooldridge 2023): FE-Poisson on never/not-yet signers, imputed E[y(0)] for every "
        "treated country-year, zero cells included; ATT = log(Σy / Σ E[y(0)]). "
        f"Controls: {ctrl} (common slope).",
        f"SEs {twfe.se_description}. ETWFE: delta method over all parameters, country and "
        "year effects included (analytic gradient); its event-time intervals undercover "
        "(85-93 % in 98 draws of the demo process: a country alone in its cohort-year cell "
        "adds no variance), so they are for comparison; the imputation intervals are the ones "
        "to read. Imputation: stacked influence function "
        "including the untreated model, treated residuals against leave-own-country-out "
        "cell effects (Borusyak-Jaravel-Spiess), CIs and p-values from t with (countries "
        "in the aggregation − 1) df. Wild bootstrap: Kline-Santos score bootstrap, "
        "Webb weights, 999 draws.",
        "Pre-trend: pooled leads (1 df) and all cohort-by-year leads (clustered score test) "
        "from ETWFE; binned leads (e = −2…−3, −4…−5, −6…−8, ≤ −9; untreated rows, e = −1 "
        "reference): reported p from the robust score test (size 4.1 % at 5 %, power 53 % "
        "at a 0.04/yr pre-trend, 100 draws of the demo process); the Wald p (13 % size) "
        "is shown for comparison only.",
    ]
    if compound:
        out.append(
            f"Compound treatment: {len(compound)} countr{'y' if len(compound) == 1 else 'ies'} "
            "switched recognition to Beijing in the BRI signing year; the rows without the "
            "control and with first-year recognition × year show how much it matters."
        )
    if planted is not None:
        out.append(f"Planted BRI effect of the simulation (log scale): {planted:g}.")
    out.extend(et.cohorts.notes)
    for w in [*twfe.warnings, *et.model.warnings]:
        out.append(f"Warning: {w}")
    return out


def notes_data(et: ETWFEResult, imp: ImputationResult, compound: Sequence[str]) -> dict[str, Any]:
    """What is dropped and why, for the record (kept out of the table notes)."""
    account = et.model.sample
    return {
        "etwfe_cells_not_estimated": list(et.omitted_cells),
        "etwfe_notes": list(et.notes),
        "etwfe_rows_dropped_by_model": {}
        if account is None
        else {k: int(n) for k, n in account.dropped.items() if n},
        "countries_dropped": dict(et.cohorts.dropped_countries),
        "imputation_zero_cells_kept": imp.zero_cells,
        "imputation_dropped": {k: {"countries": u, "rows": r} for k, (u, r) in imp.dropped.items()},
        "compound_treatment_countries": list(compound),
        "balanced_cohorts": list(imp.balanced_cohorts),
        "balanced_window": list(imp.balanced_window),
    }
