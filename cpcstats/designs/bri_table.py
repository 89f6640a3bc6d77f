"""The ``design_bri`` tables and notes: TWFE, ETWFE and imputation ATTs and the tests.

Laid out as a `cpcstats.reporting.tables.design_table.DesignTable`: estimates in
lettered panels, the pre-trend tests in their own block, counts apart, four notes.  The
rest (cohorts, dropped countries and cells, the estimators in full, warnings) is `notes`,
written to ``design_bri.notes.md`` and the record's ``details``; what is dropped and why
as data goes to `notes_data` (the record's ``notes_data``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from cpcstats.designs.base import sample_note, unit_word
from cpcstats.estimation.results import FitResult
from cpcstats.methods.etwfe import ETWFEResult
from cpcstats.methods.imputation import ImputationResult
from cpcstats.reporting.labels import default_labels
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
    TestRow,
)
from cpcstats.study import Study

__all__ = ["aggregation_table", "design_table", "notes", "notes_data"]

VARIANTS = {
    "main": "Imputation",
    "no_control": "Imputation, no control",
    "baseline_x_year": "Imputation, first-year recognition × year",
}

Z95 = float(stats.norm.ppf(0.975))


def _est(label: str, value: float, se: float, p: float | None = None, **kw: Any) -> EstimateRow:
    """A row with a normal 95 % interval (as the design always reported ETWFE and TWFE)."""
    return EstimateRow(label, value, se, value - Z95 * se, value + Z95 * se, p, **kw)


def _rec(label: str, rec: dict[str, Any], key: str) -> EstimateRow:
    """A row from an imputation record (its own t intervals and p-value)."""
    return EstimateRow(
        label,
        rec[key],
        rec[f"{key}_se"],
        rec[f"{key}_lower"],
        rec[f"{key}_upper"],
        rec.get(f"{key}_p"),
    )


def _att_panel(
    twfe: FitResult,
    et: ETWFEResult,
    treatment: str,
    imps: dict[str, ImputationResult] | None,
    et_plain: ETWFEResult | None,
    wild: dict[str, Any],
) -> EstimatePanel:
    """TWFE, ETWFE and imputation ATTs, with and without the control."""
    b, s = float(twfe.params[treatment]), float(twfe.std_errors[treatment])
    boot = wild.get("twfe", {}).get("p_bootstrap")
    rows = [
        _est("TWFE Poisson (log scale)", b, s, float(twfe.pvalues[treatment]), bootstrap_p=boot)
    ]
    o = et.overall
    rows.append(_est("ETWFE (log scale)", o["log_effect"], o["log_effect_se"]))
    low, high = et.ci("log_effect")
    rows.append(
        EstimateRow(
            "ETWFE, exp(·) − 1", o["pct_effect"], o["pct_effect_se"], np.expm1(low), np.expm1(high)
        )
    )
    rows.append(_est("ETWFE, per treated country-year", o["att_count"], o["att_count_se"]))
    if et_plain is not None:
        p = et_plain.overall
        rows.append(_est("ETWFE, no control (log scale)", p["log_effect"], p["log_effect_se"]))
    if imps:
        main = imps["main"].overall
        rows.append(_rec("Imputation (log scale)", main, "log_effect"))
        rows.append(_rec("Imputation, count ratio", main, "ratio"))
        rows.append(_rec("Imputation, per treated country-year", main, "att_count"))
        for key, label in VARIANTS.items():
            if key != "main" and key in imps:
                rows.append(_rec(f"{label} (log scale)", imps[key].overall, "log_effect"))
    return EstimatePanel("Average effect on the treated (ATT)", tuple(rows))


def _event_panels(et: ETWFEResult, imps: dict[str, ImputationResult] | None) -> list[EstimatePanel]:
    """Event-time effects of ETWFE and the imputation estimator, and the balanced panel."""
    panels = [
        EstimatePanel(
            "ETWFE by event time (log scale)",
            tuple(
                _est(f"e = {r.event_time}", r.log_effect, r.log_effect_se)
                for r in et.event_time.itertuples()
            ),
        )
    ]
    if et.lead_average is not None:
        la = et.lead_average
        row = _est("Leads pooled (leads model)", la["log_effect"], la["std_error"], la["p_value"])
        panels.append(EstimatePanel("ETWFE pre-trend (log scale)", (row,)))
    if not imps:
        return panels
    main = imps["main"]
    rows = tuple(
        _rec(f"e = {r['event_time']}", r, "log_effect")
        for r in main.event_time.to_dict("records")
        if np.isfinite(r["log_effect"])
    )
    panels.append(EstimatePanel("Imputation by event time (log scale)", rows))
    cohorts = main.balanced_cohorts
    span = f"{cohorts[0]}–{cohorts[-1]}" if len(cohorts) > 1 else ", ".join(map(str, cohorts))
    rows = tuple(
        _rec(f"e = {r['event_time']}", r, "log_effect") for r in main.balanced.to_dict("records")
    )
    panels.append(EstimatePanel(f"Imputation, balanced cohorts {span} (log scale)", rows))
    return panels


def _tests(
    et: ETWFEResult, imps: dict[str, ImputationResult] | None, wild: dict[str, Any]
) -> list[TestRow]:
    rows: list[TestRow] = []
    if et.pretrend is not None:
        pt = et.pretrend
        rows.append(
            TestRow("All leads = 0 (ETWFE, score χ²)", pt.statistic, int(pt.df), pt.p_value)
        )
    lt = imps["main"].lead_test if imps else None
    if lt is not None:
        boot = wild.get("lead_bins", {}).get("p_bootstrap")
        rows.append(
            TestRow(
                "Binned leads = 0 (robust score χ²)", lt.statistic, int(lt.df), lt.p_value, boot
            )
        )
        wald = getattr(lt, "statistic_wald", None)
        rows.append(
            TestRow("Binned leads = 0 (Wald χ², oversized)", wald, int(lt.df), lt.p_value_wald)
        )
    return rows


def _counts(twfe: FitResult, et: ETWFEResult) -> list[CountRow]:
    dropped = sum(int(n) for n in et.cohorts.dropped_countries.values())
    return [
        CountRow("N, ETWFE (country-years)", int(et.nobs)),
        CountRow("N, TWFE (country-years)", int(twfe.nobs)),
        CountRow("Countries (ETWFE)", int(et.n_countries)),
        CountRow("Cohorts (signing years)", len(et.cohorts.cohorts)),
        CountRow("Always-treated countries dropped", int(et.cohorts.always_treated)),
        CountRow("Countries dropped (treatment not absorbing)", dropped),
        CountRow("ETWFE cells not estimated", len(et.omitted_cells)),
    ]


def design_table(
    study: Study,
    twfe: FitResult,
    et: ETWFEResult,
    treatment: str,
    imps: dict[str, ImputationResult] | None = None,
    et_plain: ETWFEResult | None = None,
    wild: dict[str, Any] | None = None,
    controls: Sequence[str] = (),
) -> DesignTable:
    """The ``design_bri`` table: ATT panel, event-time panels, tests, counts, 4 notes."""
    wild = wild or {}
    ctrl = ", ".join(default_labels().variable(c) for c in controls) if controls else "none"
    unit = unit_word(study)
    return DesignTable(
        title=f"Belt and Road membership and {unit}: staggered adoption "
        "(TWFE, ETWFE and imputation Poisson)",
        label="tab:design_bri",
        panels=(_att_panel(twfe, et, treatment, imps, et_plain, wild), *_event_panels(et, imps)),
        tests=tuple(_tests(et, imps, wild)),
        counts=tuple(_counts(twfe, et)),
        notes=(
            _sample_note(study, et),
            f"Estimators: FE-Poisson of {unit} with country and year effects (TWFE); "
            "Wooldridge (2023) extended TWFE (ETWFE); imputation (Borusyak, Jaravel and "
            f"Spiess), zero cells kept. Control: {ctrl}. Details: design_bri.notes.md.",
            f"Standard errors {twfe.se_description}; ETWFE by the delta method (normal "
            "intervals, which undercover at event times); imputation from the stacked "
            "influence function (t intervals). Bootstrap p: wild cluster score bootstrap.",
        ),
        simulated=study.simulated,
    )


def aggregation_table(study: Study, imp: ImputationResult) -> DesignTable:
    """Imputation ATTs (log scale) by signing cohort and by calendar year."""
    panels = []
    for title, frame, col in (
        ("By signing cohort", imp.cohort, "cohort"),
        ("By calendar year", imp.calendar, None),
    ):
        key = col or frame.columns[0]
        rows = tuple(
            _rec(f"{r[key]} (n = {r['n']})", r, "log_effect")
            for r in frame.to_dict("records")
            if np.isfinite(r["log_effect"])
        )
        panels.append(EstimatePanel(f"{title} (log scale)", rows))
    return DesignTable(
        title="Belt and Road membership: imputation ATTs by cohort and calendar year",
        label="tab:design_bri_imputation",
        panels=tuple(panels),
        notes=(
            "Imputation estimator of design_bri (log scale); n = treated country-years.",
            "Standard errors from the stacked influence function clustered by country "
            "(leave-own-country-out treated residuals); 95 % CI and p from t with "
            "(countries in the group − 1) df.",
        ),
        simulated=study.simulated,
    )


def _sample_note(study: Study, et: ETWFEResult) -> str:
    cohorts = et.cohorts.cohorts
    return sample_note(
        study,
        "country-year",
        et.nobs,
        f"Cohorts: BRI signing years {cohorts[0]}–{cohorts[-1]}; comparison group: "
        f"countries signing after {et.cohorts.last_year} or never.",
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
    """The design's details for ``design_bri.notes.md`` and the record: cohorts, dropped
    countries and cells, estimators and SEs in full, tests, compound treatment, warnings."""
    ctrl = ", ".join(controls) if controls else "none"
    dropped = len(et.omitted_cells)
    cohorts = ", ".join(str(g) for g in et.cohorts.cohorts)
    countries = "; ".join(f"{n} {k}" for k, n in et.cohorts.dropped_countries.items()) or "none"
    out = [
        f"Cohorts (BRI signing years): {cohorts}. Countries dropped: {countries}.",
        "TWFE: FE-Poisson on BRI membership, country and year effects. ETWFE: Wooldridge "
        f"(2023), one indicator per cohort and post-signing year; {dropped} cell(s) without "
        "any contact are separated and left out. Imputation (Borusyak-Jaravel-Spiess; "
        "Wooldridge 2023): FE-Poisson on never/not-yet signers, imputed E[y(0)] for every "
        "treated country-year, zero cells included; ATT = log(Σy / Σ E[y(0)]); count ratio "
        f"= Σy / Σ E[y(0)]. Controls: {ctrl} (common slope).",
        f"SEs {twfe.se_description}. ETWFE: delta method over all parameters, country and "
        "year effects included (analytic gradient), normal 95 % intervals; its event-time "
        "intervals undercover "
        "(81-96 % in 98 draws of the demo process: a country alone in its cohort-year cell "
        "adds no variance), so they are for comparison; the imputation intervals are the ones "
        "to read (91-99 % at e >= 0; balanced e = 0: 89 of 99 draws). Imputation: stacked "
        "influence function "
        "including the untreated model, treated residuals against leave-own-country-out "
        "cell effects (Borusyak-Jaravel-Spiess), CIs and p-values from t with (countries "
        "in the aggregation − 1) df. Bootstrap p: Kline-Santos wild cluster score bootstrap, "
        "Webb weights, 999 draws (TWFE coefficient; binned leads).",
        "Pre-trend: pooled leads (1 df) and all cohort-by-year leads (clustered score test) "
        "from ETWFE; binned leads (e = −2…−3, −4…−5, −6…−8, ≤ −9; untreated rows, e = −1 "
        "reference): reported p from the robust score test (size 4.1 % at 5 %, power 53 % "
        "at a 0.04/yr pre-trend, 100 draws of the demo process); the Wald p (13 % size) "
        "is shown for comparison only.",
    ]
    if imp is not None and imp.balanced_cohorts:
        out.append(
            "Balanced panel: cohorts "
            + ", ".join(str(g) for g in imp.balanced_cohorts)
            + " observed at every event time shown."
        )
    if compound:
        out.append(
            f"Compound treatment: {len(compound)} countr{'y' if len(compound) == 1 else 'ies'} "
            f"({', '.join(compound)}) switched recognition to Beijing in the BRI signing year; "
            "the rows without the control and with first-year recognition × year show how "
            "much it matters."
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
