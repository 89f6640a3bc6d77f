"""The Xi-era break design's presentation: its table (one block per part), its notes in
words and its JSON record.

Why apart from `cpcstats.designs.xi_break`: the binding decides what is fitted, this
module only shapes the results into rows (``reporting.tables`` renders them), text and a
record, so a change of wording or layout touches no estimation code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cpcstats.designs.base import sample_note
from cpcstats.methods.break_critical import HANSEN_2000_C95
from cpcstats.methods.breaks import (
    LEVEL,
    TREND,
    TREND_SHIFT,
    BreakInteractions,
    KnownBreak,
    SupWald,
)
from cpcstats.panels import Panel
from cpcstats.reporting.format import format_number
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
    TestRow,
)
from cpcstats.study import Study

__all__ = ["xi_notes", "xi_record", "xi_short_notes", "xi_table"]

SupTests = dict[str, dict[str, SupWald | None]]


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


TERM_LABELS = {
    TREND: "Pre-break trend (per year)",
    LEVEL: "Level shift at the break",
    TREND_SHIFT: "Trend shift after the break",
}


def _known_panel(column: str, kb: KnownBreak, break_year: int) -> EstimatePanel:
    """The three break terms of one series with the SEs of `KnownBreak.inference`."""
    table = kb.estimates()
    rows = tuple(
        EstimateRow(
            label,
            float(table.loc[term, "estimate"]),
            float(table.loc[term, "std_error"]),
            float(table.loc[term, "ci_lower"]),
            float(table.loc[term, "ci_upper"]),
            float(table.loc[term, "p_value"]),
        )
        for term, label in TERM_LABELS.items()
    )
    return EstimatePanel(f"{column}, known break at {break_year} (log scale)", rows)


def _interaction_panel(inter: BreakInteractions) -> EstimatePanel:
    r = inter.result
    term = f"ruling:{LEVEL}"
    low, high = (float(v) for v in r.conf_int().loc[term])
    row = EstimateRow(
        "Post-break × ruling party",
        float(r.params[term]),
        float(r.std_errors[term]),
        low,
        high,
        float(r.pvalues[term]),
    )
    return EstimatePanel("Ruling × freedom status × post-break (party-year NB2, log scale)", (row,))


def _same(a: float, b: float) -> bool:
    return format_number(a, 3) == format_number(b, 3)


def _with_bootstrap(label: str, stat: float, df: int, p: float, boot: Any) -> list[TestRow]:
    """One row when the bootstrap recomputes the same statistic; else the bootstrap's own
    statistic (a panel's year totals) on a row of its own."""
    if boot is None:
        return [TestRow(label, stat, df, p)]
    if _same(stat, boot.statistic):
        return [TestRow(label, stat, df, p, boot.p_value)]
    return [
        TestRow(label, stat, df, p),
        TestRow(f"{label}, year totals", boot.statistic, df, None, boot.p_value),
    ]


def _tests(
    known: dict[str, KnownBreak | None], sups: SupTests, inter: BreakInteractions | None
) -> list[TestRow]:
    rows: list[TestRow] = []
    for column, kb in known.items():
        if kb is None:
            continue
        w = kb.wald
        rows += _with_bootstrap(
            f"{column}: Wald, known break", w.statistic, 2, w.p_value, kb.bootstrap
        )
        for shift, df in (("level", 1), ("level+trend", 2)):
            sw = sups[shift].get(column)
            if sw is not None:
                what = "level" if df == 1 else "level and trend"
                rows += _with_bootstrap(
                    f"{column}: sup-Wald, {what}",
                    sw.statistic,
                    df,
                    sw.p_value_asymptotic,
                    sw.bootstrap,
                )
    if inter is not None:
        wald = inter.wald
        rows.append(
            TestRow("Post-break interactions (Wald)", wald.statistic, int(wald.df), wald.p_value)
        )
    return rows


def _one_or_each(values: dict[str, str]) -> str:
    """``2013`` when every series agrees, else ``2013 / 2013 / 2018`` in column order."""
    distinct = set(values.values())
    return next(iter(distinct)) if len(distinct) == 1 else " / ".join(values.values())


def _counts(
    known: dict[str, KnownBreak | None], sups: SupTests, inter: BreakInteractions | None
) -> list[CountRow]:
    rows = [
        CountRow(f"N, {column.lower()}", int(kb.result.nobs))
        for column, kb in known.items()
        if kb is not None
    ]
    if inter is not None:
        rows.append(CountRow("N, party-year NB2 (interactions)", int(inter.result.nobs)))
    for shift, what in (("level", "level"), ("level+trend", "level and trend")):
        tests = {c: sw for c, sw in sups[shift].items() if sw is not None}
        if tests:
            ranges = {c: sw.candidate_range.replace("-", "–") for c, sw in tests.items()}
            years = {c: str(sw.break_year) for c, sw in tests.items()}
            rows.append(CountRow(f"Candidate break years, {what}", _one_or_each(ranges)))
            rows.append(CountRow(f"Estimated break year, {what}", _one_or_each(years)))
    return rows


def xi_table(
    known: dict[str, KnownBreak | None],
    sups: SupTests,
    inter: BreakInteractions | None,
    *,
    break_year: int,
    notes: Sequence[str],
    title: str,
    label: str,
    simulated: bool,
) -> DesignTable:
    """A panel per series (known break), the interaction panel, the break tests, counts."""
    panels = [_known_panel(c, kb, break_year) for c, kb in known.items() if kb is not None]
    if inter is not None:
        panels.append(_interaction_panel(inter))
    return DesignTable(
        title=title,
        label=label,
        panels=tuple(panels),
        tests=tuple(_tests(known, sups, inter)),
        counts=tuple(_counts(known, sups, inter)),
        notes=tuple(notes),
        simulated=simulated,
    )


def xi_short_notes(
    study: Study,
    yearly: pd.DataFrame,
    known: dict[str, KnownBreak | None],
    break_year: int,
) -> list[str]:
    """The three notes under the table: sample, estimators, standard errors."""
    what = "SIMULATED embedded demo study" if study.simulated else study.name
    levels = " and ".join(c.lower() for c, kb in known.items() if kb is not None)
    return [
        f"Sample: {what}, {study.first_year}–{study.last_year}: {levels} ({len(yearly)} years).",
        "Estimators: Poisson of the yearly totals; FE-Poisson of the panels with unit "
        f"effects; trend = year − {break_year}, level shift = 1[year ≥ {break_year}]. "
        "Unknown break: sup-Wald over the trimmed years. Details: design_xi.notes.md.",
        "Standard errors quasi-Poisson from the year totals (t intervals); bootstrap p: "
        "parametric bootstrap of the year totals with AR(1) year shocks; asymptotic "
        "sup-Wald p from Andrews' limiting distribution; interactions clustered by country.",
    ]


def _panel_note(study: Study, level: str, panel: Panel, kb: KnownBreak) -> str:
    """The panel's sample line plus what the fixed-effect model dropped, by reason."""
    account = kb.result.sample
    reasons = {k: v for k, v in (account.dropped if account else {}).items() if v}
    why = "; ".join(f"{v:,} dropped: {k}" for k, v in reasons.items())
    extra = f"Break models use {kb.result.nobs:,} of {len(panel.data):,} {level}s"
    extra += f" ({why}; such units carry no information with unit fixed effects)." if why else "."
    return sample_note(study, level, len(panel.data), extra)


def _sample_notes(
    study: Study,
    yearly: pd.DataFrame,
    country: Panel,
    party: Panel | None,
    known: dict[str, KnownBreak | None],
) -> list[str]:
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
    return notes


def _critical_notes(sups: SupTests) -> list[str]:
    """Asymptotic critical values, the 5 % decision and the LR confidence set of each
    sup-Wald test (kept out of the table: one line per test)."""
    out = []
    for shift, tests in sups.items():
        for column, sw in tests.items():
            if sw is None:
                continue
            cv = sw.critical_values
            out.append(
                f"Unknown break ({shift}), {column.lower()}: sup-Wald {sw.statistic:.3f} at "
                f"{sw.break_year}; asymptotic critical values 10% / 5% / 1%: "
                f"{cv[0.10]:.2f} / {cv[0.05]:.2f} / {cv[0.01]:.2f}; rejects at 5% "
                f"(bootstrap p): {'yes' if sw.rejects(0.05) else 'no'}; 95% confidence set "
                f"(LR): {_years_text(list(sw.confidence_set))}."
            )
    return out


def _bri_wave_note(country: Panel, sups: SupTests) -> str | None:
    """Why a one-break test may date the break after 2013: the BRI wave competes.

    Each test looks for the single largest change of level (and slope); BRI membership, an
    Xi-era policy with its own effect, spreads over later years (most signatures fall in
    2017-2019), and a level-and-trend break there can fit better than the 2013 step.
    Said in the notes whenever the panel has ``bri_member``.
    """
    frame = country.data
    if "bri_member" not in frame.columns:
        return None
    share = frame.groupby("year")["bri_member"].mean()
    jumps = (share - share.shift(1)).dropna()
    if jumps.empty or jumps.max() <= 0:
        return None
    year = int(jumps.idxmax())
    dated = {
        f"{shift} {col.lower()}: {sw.break_year}"
        for shift, tests in sups.items()
        for col, sw in tests.items()
        if sw is not None
    }
    return (
        "Each unknown-break (sup-Wald) test looks for one change of level (and slope). "
        "BRI membership, an Xi-era "
        f"policy with its own effect, jumps most in {year} (from {share.shift(1)[year]:.0%} to "
        f"{share[year]:.0%} of country-years), so a break dated near {year} rather than at "
        "2013 can reflect the BRI wave (and that period's year shocks) rather than a failure "
        "to see the Xi-era step. Estimated years: " + "; ".join(sorted(dated)) + "."
    )


DEMO_PROCESS_SIZES: dict[str, tuple[int, int]] = {
    "Yearly series": (9, 15),
    "Country-year": (7, 14),
    "Party-year": (2, 11),
    "interactions": (12, 12),
}
"""Rejection rates (%, nominal 5 %) of the Xi tests and shift intervals, lowest and highest
per column, on 100 draws of the demo process without a Xi effect (real parties, simulated
contacts; tests/reference/design_monte_carlo.md).  `demo_size_note` states them in every
table's notes; tests/test_design_monte_carlo.py checks them against the Monte Carlo."""


def demo_size_note() -> str:
    """The measured size of the Xi tests on the demo process, and what it means."""
    y, c, p, i = (
        DEMO_PROCESS_SIZES[k]
        for k in ("Yearly series", "Country-year", "Party-year", "interactions")
    )
    return (
        "Size on the demo process without a Xi effect (real parties, simulated contacts; "
        "100 draws, tests/reference/design_monte_carlo.md): the tests and shift intervals "
        f"rejected at 5% in {y[0]}-{y[1]}% of draws on the yearly series, {c[0]}-{c[1]}% on "
        f"the country-year panel, {p[0]}-{p[1]}% on the party-year panel and {i[0]}% for the "
        "interaction Wald. A year total also moves when a party with many contacts enters, "
        "leaves or changes government status; the real party universe has such turnover and "
        "only the party-year panel's status terms and party effects hold it fixed, so a "
        "break in the yearly series or the country-year panel is a change in total contact, "
        "not a Xi effect net of who governs."
    )


def _inference_notes(
    sups: SupTests, known: dict[str, KnownBreak | None], n_years: int, trim: float
) -> list[str]:
    """What is tested, with which variance, critical values and bootstrap (B, seed)."""
    level = sups["level"]["Country-year"]
    series = sups["level+trend"]["Yearly series"]
    panel_kb = known["Country-year"]
    assert level is not None and series is not None and panel_kb is not None
    notes = [
        "Why this inference: the break terms vary by year only, so every column has "
        f"{n_years} years of information, and a shock common to all countries in a year "
        f"moves every row of that year. Panel estimates: FE-Poisson; their known-break shift SEs, "
        "95% CIs and Wald test are quasi-Poisson ones of the year totals with the panel's "
        "composition (sum of the units' fitted effects present in each year) as offset, "
        "which reproduces the panel's coefficients exactly. Not clustered by country "
        "(ignores year shocks), and not the panel's Driscoll-Kraay SEs "
        f"({panel_kb.result.se_description}; in the results file as std_error_panel, and "
        "in the sup-Wald statistics): on the demo process without a break (100 draws) "
        "the Driscoll-Kraay 95% CI of the level shift excluded 0 in 27-28% of draws, the "
        "reported one (t with T - 4 df) in 9-11% (tests/reference/xi_break_demo_size.md). "
        "With about 20 years "
        "asymptotic tests are oversized, so every p-value used for a decision is a "
        "bootstrap one."
    ]
    notes.append(
        f"sup-Wald: Wald statistics at every candidate year of the trimmed range (first and last "
        f"{trim:.0%} of years dropped: {level.candidate_range}) with the same estimators and "
        f"SEs, and at least {series.min_segment} years on each side of a level-and-trend "
        "break (a regime's own intercept and slope nearly interpolate fewer years, and its "
        "variance, from fewer years, is too small). Asymptotic critical values and p-values: "
        f"{level.critical_values_source} and the simulated limiting distribution (Andrews "
        "1993), shown for reference only: asymptotic in the number of years."
    )
    boot = series.bootstrap or level.bootstrap
    reps = f"B = {boot.reps} replicates, seed {boot.seed}" if boot else "no bootstrap"
    notes.append(
        f"Bootstrap p-values ({reps}; p = (1 + #exceeding) / (B + 1)): parametric, under the "
        "no-break quasi-Poisson fit of the year totals (panels: the year totals with the "
        "panel's composition from the no-break FE-Poisson fit as offset, so every column is "
        f"tested on its {n_years} year totals; the 'bootstrap statistic' rows), the same "
        "(sup-)Wald recomputed on every replicate. Replicate year shocks are lognormal with "
        "the moment NB2 dispersion and follow an AR(1) whose coefficient is the "
        "bias-corrected lag-1 autocorrelation of the break fit's residuals (0 if negative): "
        "the units' persistent terms (party turnover, regime scores) leave the year totals "
        "autocorrelated, and bootstraps treating years as independent (the NB2 bootstrap, a "
        "wild score bootstrap over years) rejected 6-10% at 5% on the demo process without a "
        "break. Size: tests/reference/xi_break_demo_size.md (demo process), "
        "tests/reference/xi_break_size.md and xi_break_size_ar1.md (synthetic panels, "
        "independent and AR(1) year shocks). 'Rejects at 5%' uses the bootstrap p-value."
    )
    notes.append(demo_size_note())
    return notes


def xi_notes(
    study: Study,
    yearly: pd.DataFrame,
    country: Panel,
    party: Panel | None,
    known: dict[str, KnownBreak | None],
    sups: SupTests,
    inter: BreakInteractions | None,
    break_year: int,
    trim: float,
) -> list[str]:
    """The design's details (``design_xi.notes.md``, the record's ``details``): samples,
    estimators, SEs, critical values, confidence sets and the approximations, in words."""
    notes = _sample_notes(study, yearly, country, party, known)
    notes += _critical_notes(sups)
    notes.append(
        "Estimators: "
        + "; ".join(kb.estimator for kb in known.values() if kb is not None)
        + f". Regressors: trend = year - {break_year}, level shift = 1[year >= {break_year}], "
        "trend shift = trend x level shift; coefficients on the log scale."
    )
    notes += _inference_notes(sups, known, len(yearly), trim)
    bri = _bri_wave_note(country, sups)
    if bri:
        notes.append(bri)
    notes.append(
        "Confidence set: candidate years whose likelihood-ratio statistic against the "
        "likelihood-maximising year, divided by the variance ratio η² (Driscoll-Kraay "
        "or quasi-Poisson over model-based), is below Hansen's (2000) "
        f"c = -2 log(1 - sqrt(0.95)) = {HANSEN_2000_C95:.2f}; an approximation (Hansen's "
        "theory assumes a shrinking break in a regression)."
    )
    if inter is not None:
        notes.append(
            f"Interactions: party-year NB2 of contacts on ruling x freedom status x post-break "
            f"(N = {inter.result.nobs:,}), SEs {inter.result.se_description}; joint Wald test "
            f"of the {inter.wald.df} post-break interaction terms (post x ruling, post x "
            "status, post x ruling x status). These contrasts vary within a year, so a shock "
            "common to all parties of a year cancels from them (unlike the break terms)."
        )
    return notes


def xi_record(
    study: Study,
    break_year: int,
    trim: float,
    known: dict[str, KnownBreak | None],
    sups: SupTests,
    inter: BreakInteractions | None,
    skipped_party: str | None,
) -> dict[str, Any]:
    """The JSON-ready record of the design (and the simulation's truth on the demo)."""
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
    return record
