"""The ``design_taiwan`` table and its notes: how the event study reads in print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.designs.base import sample_note
from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_sample import AWAY, TO_PRC, country
from cpcstats.estimation.hdfe import SEPARATED as SEPARATED_ROWS
from cpcstats.estimation.hdfe import ZERO_GROUP
from cpcstats.study import Study

__all__ = ["DROPPED", "KIND_LABEL", "NOT_OBSERVED", "SEPARATED", "notes", "table_frame"]

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


COLUMNS = [
    "TWFE",
    "TWFE SE",
    "p",
    "p wild",
    "p RI",
    "IW",
    "IW SE",
    "IW p",
    "IW p wild",
    "IW ratio",
    "Switchers",
]


def _num(value: Any) -> float | None:
    """A finite float, or None (blank cell)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _iw_cells(es: EventStudyResult, kind: str, event_time: int) -> tuple[Any, ...]:
    """IW estimate, SE, p, wild p, ratio of one event time (blank for other kinds)."""
    if kind != TO_PRC or es.robust is None:
        return (None,) * 5
    iw = es.robust.effects.set_index("event_time")
    if event_time not in iw.index:
        return (None,) * 5
    r = iw.loc[event_time]
    wild = es.few.iw.get(int(event_time)) if es.few is not None else None
    if str(r["status"]) == "reference":
        return ("0 (reference)", None, None, None, 1.0)
    if not str(r["status"]).startswith("estimated"):
        return ("n.e. (all zero)" if "zero" in str(r["status"]) else "n.e.", None, None, None, None)
    return (
        _num(r["estimate"]),
        _num(r.get("std_error")),
        _num(r.get("p_value")),
        _num(wild),
        _num(r.get("ratio")),
    )


def _coefficient_rows(es: EventStudyResult) -> list[tuple[Any, ...]]:
    kinds = list(dict.fromkeys(es.coefficients["kind"]))
    few = es.few
    rows: list[tuple[Any, ...]] = []
    for r in es.coefficients.itertuples():
        prefix = f"{KIND_LABEL[r.kind]}: " if len(kinds) > 1 else ""
        relation = "" if r.label[0] in "≤≥" else "= "
        ok = r.status == "estimated"
        mine = r.kind == TO_PRC and few is not None
        rows.append(
            (
                f"{prefix}e {relation}{r.label}",
                _estimate_cell(r, es.dummies.pooled),
                float(r.std_error) if ok else None,
                float(r.p_value) if ok else None,
                _num(few.twfe.get(int(r.event_time))) if mine and ok else None,
                _num(few.ri.get(int(r.event_time))) if mine else None,
                *_iw_cells(es, r.kind, int(r.event_time)),
                int(r.n_countries),
            )
        )
    return rows


def _test_rows(name: str, test: Any, kind: str) -> list[tuple[str, Any]]:
    if test is None:
        return [(f"{name}: joint {kind} χ² (all = 0)", "not defined")]
    return [
        (f"{name}: joint {kind} χ² (all = 0)", float(test.statistic)),
        (f"{name}: df", int(test.df)),
        (f"{name}: p-value", float(test.p_value)),
    ]


def _few_cluster_rows(es: EventStudyResult) -> list[tuple[str, Any]]:
    """The IW lead test, the bootstrap and randomisation p-values of the joint tests."""
    out: list[tuple[str, Any]] = []
    if es.robust is not None:
        lt = es.robust.lead_test
        if lt.get("p_value") is not None:
            out.append(("Leads (IW model): score χ²", float(lt["statistic"])))
            out.append(("Leads (IW model): df", int(lt["df"])))
            out.append(("Leads (IW model): p-value", float(lt["p_value"])))
    few = es.few
    if few is None:
        return out
    tests = few.tests
    if "twfe_leads" in tests:
        out.append(("Leads: wild bootstrap p", float(tests["twfe_leads"]["p_bootstrap"])))
    if "twfe_post" in tests:
        out.append(("All e ≥ 0 (TWFE): wild bootstrap p", float(tests["twfe_post"]["p_bootstrap"])))
    if "ri_post" in tests:
        out.append(("All e ≥ 0: randomisation p", float(tests["ri_post"]["p_value"])))
    st = few.settings
    out.append((f"Wild bootstrap draws ({st['weights']} weights, seed {st['seed']})", int(st["B"])))
    if "ri_post" in tests:
        out.append(("Randomisation: assignments", int(tests["ri_post"]["n_assignments"])))
    return out


def _statistics(es: EventStudyResult) -> list[tuple[str, Any]]:
    d = es.dummies
    kind = "score" if d.pooled else "Wald"
    stats = _test_rows("Leads", es.leads_test, kind)
    if d.away_years:
        stats += _test_rows("Exit leads", es.away_leads_test, kind)
    stats += _few_cluster_rows(es)
    stats.append(("N (country-years)", int(es.model.nobs)))
    stats.append(("Countries (clusters)", int(es.model.n_clusters or 0)))
    stats.append(("Switching countries: in window", len(d.switch_years)))
    stats.append(("Switching countries: in sample", int(es.n_switchers_sample)))
    if es.robust is not None:
        stats.append(("Switching countries: in the IW model", len(es.robust.cohorts)))
    if d.away == "exclude":
        excluded = f"{len(d.excluded)} ({d.excluded_rows} rows)" if len(d.excluded) else "none"
        stats.append(("Excluded countries (left Beijing)", excluded))
    else:
        stats.append(("Countries leaving Beijing (own indicators)", len(d.away_years)))
    return stats


def table_frame(es: EventStudyResult) -> pd.DataFrame:
    """One row per bin (TWFE and IW side by side), then the tests and counts (object cells)."""
    rows = _coefficient_rows(es)
    blank = (None,) * (len(COLUMNS) - 1)
    rows += [(label, value, *blank) for label, value in _statistics(es)]
    frame = pd.DataFrame(rows, columns=["", *COLUMNS])
    frame = frame.set_index("").astype(object)
    frame.index.name = ""
    return frame.where(frame.notna(), None)


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
    """The table's notes: sample, estimator, inference, cautions, exclusions, warnings."""
    out = [_sample_note(study, es), *_method_notes(es)]
    if es.n_switchers_sample < FEW_SWITCHERS:
        out.append(
            f"Caution: only {es.n_switchers_sample} switching countries identify the "
            "event-time coefficients; clustered standard errors with few treated clusters "
            "understate the uncertainty (MacKinnon and Webb 2017), so the intervals are "
            "likely too narrow: the p wild and p RI columns do not rely on them."
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
