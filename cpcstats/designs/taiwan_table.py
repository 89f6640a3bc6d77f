"""The ``design_taiwan`` table and its notes: how the event study reads in print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cpcstats.designs.base import sample_note, unit_word
from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_sample import AWAY, TO_PRC, country
from cpcstats.estimation.hdfe import SEPARATED as SEPARATED_ROWS
from cpcstats.estimation.hdfe import ZERO_GROUP
from cpcstats.reporting.format import minus_sign
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
    TestRow,
)
from cpcstats.study import Study

__all__ = ["DROPPED", "KIND_LABEL", "NOT_OBSERVED", "SEPARATED", "design_table", "notes"]

NOT_OBSERVED = "not estimable: no switching country with contacts observed at this event time"
SEPARATED = "not estimable: all contacts zero at this event time (separated, omitted)"
DROPPED = "not estimable: omitted by the fit"
KIND_LABEL = {TO_PRC: "Switch to Beijing", AWAY: "Exit from Beijing"}
#: below this many switching countries, clustered SEs are flagged as fragile in the notes
FEW_SWITCHERS = 20


def _estimate_cell(row: Any, pooled: bool = False) -> Any:
    if row.status == "estimated":
        return float(row.estimate)
    if row.status == "reference":
        return "0 (pooled reference)" if pooled else "0 (reference)"
    if row.status == SEPARATED:
        return "n.e. (all zero)"
    if row.status == NOT_OBSERVED:
        return "n.e. (no switcher)"
    return "n.e. (omitted)"


def _num(value: Any) -> float | None:
    """A finite float, or None (blank cell)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _twfe_row(r: Any, pooled: bool, wild: float | None) -> EstimateRow | None:
    """A TWFE bin (None for the reference bins, named in the notes instead)."""
    prefix = "" if r.label[0] in "≤≥" else "= "
    label = f"e {prefix}{r.label} ({int(r.n_countries)})"
    if r.status == "reference":
        return None
    if r.status != "estimated":
        return EstimateRow(label, _estimate_cell(r, pooled))
    return EstimateRow(
        label,
        float(r.estimate),
        float(r.std_error),
        _num(r.lower),
        _num(r.upper),
        _num(r.p_value),
        _num(wild),
    )


def _twfe_panels(es: EventStudyResult) -> list[EstimatePanel]:
    kinds = list(dict.fromkeys(es.coefficients["kind"]))
    few = es.few
    panels = []
    for kind in kinds:
        rows = []
        for r in es.coefficients[es.coefficients["kind"] == kind].itertuples():
            mine = kind == TO_PRC and few is not None
            wild = few.twfe.get(int(r.event_time)) if mine and few is not None else None
            row = _twfe_row(r, es.dummies.pooled, wild)
            if row is not None:
                rows.append(row)
        what = "" if len(kinds) == 1 else f", {KIND_LABEL[kind].lower()}"
        panels.append(EstimatePanel(f"TWFE event study{what} (log scale)", tuple(rows)))
    return panels


def _iw_panel(es: EventStudyResult) -> EstimatePanel | None:
    if es.robust is None:
        return None
    rows = []
    for r in es.robust.effects.to_dict("records"):
        e = int(r["event_time"])
        label = f"e = {minus_sign(e)}"
        status = str(r["status"])
        if status == "reference":
            continue
        if not status.startswith("estimated"):
            rows.append(EstimateRow(label, "n.e. (all zero)" if "zero" in status else "n.e."))
            continue
        wild = es.few.iw.get(e) if es.few is not None else None
        rows.append(
            EstimateRow(
                label,
                _num(r["estimate"]),
                _num(r.get("std_error")),
                _num(r.get("lower")),
                _num(r.get("upper")),
                _num(r.get("p_value")),
                _num(wild),
            )
        )
    return EstimatePanel("Interaction-weighted (Sun–Abraham), count scale (log)", tuple(rows))


def _joint(name: str, test: Any, boot: float | None = None) -> TestRow:
    if test is None:
        return TestRow(f"{name} (not defined)", None)
    return TestRow(name, float(test.statistic), int(test.df), float(test.p_value), boot)


def _tests(es: EventStudyResult) -> list[TestRow]:
    """Lead tests, joint post-switch tests and the randomisation tests of each bin."""
    few_tests = es.few.tests if es.few is not None else {}
    kind = "score" if es.dummies.pooled else "Wald"
    boot = few_tests.get("twfe_leads", {}).get("p_bootstrap")
    rows = [_joint(f"Leads = 0 (TWFE, {kind} χ²)", es.leads_test, boot)]
    if es.dummies.away_years:
        rows.append(_joint(f"Exit leads = 0 (TWFE, {kind} χ²)", es.away_leads_test))
    if es.robust is not None and es.robust.lead_test.get("p_value") is not None:
        lt = es.robust.lead_test
        rows.append(
            TestRow("Leads = 0 (IW, score χ²)", lt["statistic"], int(lt["df"]), lt["p_value"])
        )
    if "twfe_post" in few_tests:
        t = few_tests["twfe_post"]
        rows.append(
            TestRow(
                "All e ≥ 0 = 0 (TWFE, score)",
                t["statistic"],
                t["df"],
                t["p_analytic"],
                t["p_bootstrap"],
            )
        )
    if "ri_post" in few_tests:
        ri = few_tests["ri_post"]
        rows.append(TestRow("Randomisation: all e ≥ 0", ri["statistic"], None, ri["p_value"]))
        for name, term in ri.get("per_term", {}).items():
            label = f"e ≥ {name[1:-1]}" if name.endswith("+") else f"e = {name[1:]}"
            rows.append(
                TestRow(f"Randomisation: {label}", term["statistic"], None, term["p_value"])
            )
    return rows


def _counts(es: EventStudyResult) -> list[CountRow]:
    d = es.dummies
    rows = [
        CountRow("N (country-years)", int(es.model.nobs)),
        CountRow("Countries (clusters)", int(es.model.n_clusters or 0)),
        CountRow("Switching countries: in window", len(d.switch_years)),
        CountRow("Switching countries: in sample", int(es.n_switchers_sample)),
    ]
    if es.robust is not None:
        rows.append(CountRow("Switching countries: in the IW model", len(es.robust.cohorts)))
    if d.away == "exclude":
        rows.append(CountRow("Countries excluded (left Beijing)", len(d.excluded)))
    else:
        rows.append(CountRow("Countries leaving Beijing (own indicators)", len(d.away_years)))
    if es.few is not None:
        rows.append(CountRow("Wild bootstrap draws", int(es.few.settings["B"])))
        ri = es.few.tests.get("ri_post")
        if ri:
            rows.append(CountRow("Randomisation assignments", int(ri["n_assignments"])))
    return rows


def design_table(study: Study, es: EventStudyResult) -> DesignTable:
    """The ``design_taiwan`` table: TWFE and IW panels, tests, counts and four notes."""
    d, m = es.dummies, es.model
    unit = unit_word(study)
    iw = _iw_panel(es)
    sample = sample_note(
        study,
        "country-year",
        int(m.nobs),
        f"{len(d.switch_years)} switches to Beijing in the window, {es.n_switchers_sample} "
        "with contacts (switchers per bin in parentheses); controls never switch.",
    )
    estimator = (
        f"Estimators: FE-Poisson of {unit} on event-time indicators, country and year effects"
        f" (TWFE; reference {d.reference_text}); interaction-weighted (IW) effects "
        "against non-switchers. n.e. = not estimable. Details: design_taiwan.notes.md."
    )
    se = (
        "Standard errors clustered by country (CR1); 95% CI and p from t with (switchers "
        "− 1) df (IW: cohorts − 1). Bootstrap p: wild cluster score bootstrap (Kline and "
        "Santos 2012); randomisation permutes switch years."
    )
    return DesignTable(
        title=f"Taiwan recognition switches and {unit}: event study "
        "(TWFE and interaction-weighted Poisson)",
        label="tab:design_taiwan",
        panels=tuple(_twfe_panels(es) + ([iw] if iw is not None else [])),
        tests=tuple(_tests(es)),
        counts=tuple(_counts(es)),
        notes=(sample, estimator, se),
        simulated=study.simulated,
    )


def switch_list(years: Mapping[str, int]) -> str:
    """``Liberia 2003, Dominica 2004, …`` ordered by year, then name."""
    ordered = sorted(years.items(), key=lambda kv: (kv[1], country(kv[0])))
    return ", ".join(f"{country(iso)} {year}" for iso, year in ordered) or "none"


def _sample_note(study: Study, es: EventStudyResult) -> str:
    d, m = es.dummies, es.model
    dropped = m.sample.dropped if m.sample else {}
    zero, sep = dropped.get(ZERO_GROUP, 0), dropped.get(SEPARATED_ROWS, 0)
    pre = ", ".join(country(i) for i in d.pre_window) or "none"
    return sample_note(
        study,
        "country-year",
        int(m.nobs),
        f"Switches to Beijing in the window ({len(d.switch_years)}): "
        f"{switch_list(d.switch_years)}; {es.n_switchers_sample} of them have at least "
        "one contact and identify the coefficients. Controls: countries recognising "
        "Beijing throughout the window (including those whose switch predates it: "
        f"{pre}) or Taipei throughout. Rows dropped by the model: {zero:,} in countries "
        f"(or years) without any contact, {sep:,} separated.",
    )


def _method_notes(es: EventStudyResult) -> list[str]:
    d = es.dummies
    estimator = (
        "Estimator: FE-Poisson (PPML) of contacts on event-time indicators with country and "
        "year fixed effects"
        + (f" and controls {', '.join(es.controls)}" if es.controls else "")
        + "; coefficients on the log scale. Event time e = year − year of the switch to "
        "Beijing; recognition is the status on 31 December, so e = 0 is the first year "
        f"ending with recognition of Beijing. Binning: e ≤ −{d.leads} and e ≥ {d.lags} are "
        "pooled into the endpoint bins; the reference period, "
        f"{d.reference_text}, has no indicator (coefficient 0)"
        + (
            ", so each coefficient compares contact at e with the switchers' average "
            "pre-switch level (a single reference year often has no contact at all)."
            if d.pooled
            else "."
        )
    )
    inference = (
        "Standard errors clustered by country (CR1); 95% intervals and p from Student t "
        "with (switchers in the bin − 1) degrees of freedom (few treated clusters: with "
        "normal critical values the intervals covered 88-92% in the demo Monte Carlo; in "
        "the JSON record, normal p as p_value_normal). Leads test: "
        + (
            "robust score (Lagrange multiplier) χ² test, clustered by country, that adding "
            f"lead indicators e = −{d.leads} … −2 (relative to e = −1) changes nothing, i.e. "
            "that the pre-switch period is flat; it is computed at the fitted model, so it "
            "exists even when a lead bin has no contact. "
            if d.pooled
            else "joint Wald χ² test that all estimable lead coefficients are zero. "
        )
        + "n.e. = not estimable: "
        "a bin whose contacts are all zero is separated (its coefficient would be −∞) and "
        "omitted. Switchers = switching countries with rows in the bin."
    )
    return [estimator, inference, *_robust_notes(es)]


def _robust_notes(es: EventStudyResult) -> list[str]:
    """What the IW column, the wild bootstrap and the randomisation p-values are."""
    out = []
    if es.robust is not None:
        iw = es.robust
        dropped = ", ".join(f"{c} ({n})" for c, n in iw.dropped_cohorts.items()) or "none"
        out.append(
            "IW = interaction-weighted estimator (Sun and Abraham 2021) for the Poisson "
            "mean: FE-Poisson with one indicator per switch cohort x event time e ≥ 0 "
            "(every e, no endpoint bin) and country and year FE, against the countries "
            "that do not switch in the window; each event-time effect is the count-scale "
            "effect log(Σ contacts / Σ fitted untreated means) over the switchers' rows at "
            "that e (the cells' exp(b) averaged with their untreated means as weights; "
            "the estimand of the demo truth), so it does not mix effects of other event "
            "times or "
            "cohorts as the TWFE bins can (e ≥ "
            f"{es.dummies.lags} in the TWFE pools e = {es.dummies.lags} … the end of the "
            f"window; the IW row is e = {es.dummies.lags} alone). Reference: each "
            "cohort's pooled pre-switch years; cohorts with no contact before the switch "
            "have a fitted untreated level of 0: their cells are not identified "
            f"(cohort (countries): {dropped}), their contacts stay in Σ contacts (leaving "
            "them out selects cohorts on positive pre-switch draws and biased the "
            "share-weighted log mean by −0.33 at e ≥ 3 in the Monte Carlo). IW leads: "
            "each lead e refitted with one indicator of that e (pooled over cohorts) "
            "against the other pre-switch years; the IW lead test is the robust score "
            "test of adding the leads e ≤ −2 to the IW model. IW ratio = exp(IW); "
            "cells whose contacts are all zero count with 0 contacts and their untreated "
            "mean. IW SE: the largest of the delta-method SE in the cells (weights = the "
            "cells' shares of the contacts) with the clustered (CR1) or the quasi-Poisson "
            "model-based covariance and the ratio-estimator SE with the cohorts at e as "
            "the sampling units (it carries the noise of each cohort's few pre-switch "
            "contacts; the clustered score of a cell identified by one country is almost "
            "0); intervals and IW p from Student t with (cohorts at e − 1) degrees of "
            "freedom. The IW p still rests on few countries: read the IW p wild column."
        )
    elif es.robust_note:
        out.append(f"IW: {es.robust_note}.")
    few = es.few
    if few is not None:
        st = few.settings
        out.append(
            "Few-cluster inference: p wild = wild cluster score bootstrap (Kline and Santos "
            "2012) of H0: coefficient = 0 — the model refitted under H0, the efficient score "
            "summed by country, the studentised score statistic recomputed with "
            f"{st['B']} draws of {st['weights']} weights per country (seed {st['seed']}); "
            "for an IW effect H0 is the contact-share weighted sum of its cells = 0 (the "
            "linearised count-scale effect). p RI = "
            "randomisation inference of the sharp null that a switch changes nothing: "
            + (
                "the switch years are permuted among the switching countries"
                if st["ri_scheme"] == "treated"
                else "the switch years (and never) are permuted over all countries"
            )
            + f" ({st['B']} permutations), the "
            + (
                "raw efficient score"
                if st.get("ri_statistic") == "score"
                else "studentised robust score statistic"
            )
            + " of each post-switch bin (e ≥ lags pooled) recomputed at the one restricted "
            "fit without any switch terms; it tests that bin, not a coefficient of one "
            "estimator. Score tests evaluated at the no-effect fit lose power far from H0 "
            "(the joint tests of all lags here), and permuting dates among switchers uses "
            "timing variation only."
            + (f" Not computed: {'; '.join(few.notes)}." if few.notes else "")
        )
    return out


def _timing_note(es: EventStudyResult) -> str:
    """The switch-year rule and what it does to the late-year switches."""
    d = es.dummies
    late = "; ".join(
        f"{country(iso)} {date} ({days} day{'s' if days != 1 else ''} of {date[:4]} "
        f"recognising Beijing; e = 0 is {year})"
        for iso, (date, days, year) in sorted(d.late_switches.items(), key=lambda kv: kv[1][0])
    )
    rule = (
        "calendar (default): a switch counts from the calendar year it falls in, the 31 "
        "December status"
        if d.switch_year_rule == "calendar"
        else f"next_if_after_month: a switch dated after month {d.switch_month} counts "
        "from the next year (its few days in the switch year fall into e = −1, the "
        "reference)"
    )
    text = (
        f"Switch-year rule: {rule}. Each switch is dated on the day the new relations were "
        "both in force and public (cpcstats/reference/README.md)"
        + (
            ", e.g. Malawi's communiqué signed 28 Dec 2007 but announced 14 Jan 2008 "
            "counts in 2008 (dated 28 Dec it would be a 2007 switcher with 4 days treated "
            "at e = 0)."
            if "MWI" in d.switch_years
            else "."
        )
    )
    if late:
        text += f" Switches after the end of month {d.switch_month}: {late}" + (
            "; under the calendar rule their e = 0 is barely treated, which dilutes "
            'the e = 0 estimates towards 0 (switch_year_rule = "next_if_after_month" '
            "moves them to the next year)."
            if d.switch_year_rule == "calendar"
            else "."
        )
    if "bri_member" not in es.controls:
        text += (
            " Several switchers also signed the Belt and Road in or near their switch year; "
            "bri_control = true adds bri_member as a control."
        )
    return text


def _away_note(es: EventStudyResult) -> str:
    d = es.dummies
    if d.away == "exclude":
        away = (
            "Countries that left Beijing inside the window (switched_to_roc, judged by the "
            f"31 December status) are excluded with all their rows: {d.excluded_text}."
            if len(d.excluded)
            else "No country left Beijing inside the window."
        )
    else:
        away = (
            "Countries that left Beijing inside the window keep their rows with their own "
            f"exit indicators (same bins, reference {d.reference_text}): "
            f"{switch_list(d.away_years)}."
        )
    if d.reversed_in_year:
        away += (
            " Moves away from Beijing reversed within the year (status on 31 December "
            f"unchanged) are controls: {', '.join(country(i) for i in d.reversed_in_year)}."
        )
    return away


def notes(study: Study, es: EventStudyResult, planted: float | None) -> list[str]:
    """The design's details (``design_taiwan.notes.md`` and the record's ``details``):
    sample, estimator, inference, cautions, exclusions, warnings in full."""
    out = [_sample_note(study, es), *_method_notes(es)]
    if es.n_switchers_sample < FEW_SWITCHERS:
        out.append(
            f"Caution: only {es.n_switchers_sample} switching countries identify the "
            "event-time coefficients; clustered standard errors with few treated clusters "
            "understate the uncertainty (MacKinnon and Webb 2017), so the intervals are "
            "likely too narrow: the bootstrap and randomisation p-values do not rely on them."
        )
    out.append(_timing_note(es))
    out.append(_away_note(es))
    if es.leads_note:
        out.append(f"Leads test: {es.leads_note}.")
    if planted is not None:
        out.append(
            f"Planted level effect of recognising Beijing in the simulation (log scale): "
            f"{planted:g}; the figure marks the true effect at each event time from the "
            "process (truth.json), no pre-trend."
        )
    out.extend(f"Warning: {w}" for w in es.model.warnings)
    return out
