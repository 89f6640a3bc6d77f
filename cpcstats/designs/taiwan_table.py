"""The ``design_taiwan`` table and its notes: how the event study reads in print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _coefficient_rows(es: EventStudyResult) -> list[tuple[Any, ...]]:
    kinds = list(dict.fromkeys(es.coefficients["kind"]))
    rows: list[tuple[Any, ...]] = []
    for r in es.coefficients.itertuples():
        prefix = f"{KIND_LABEL[r.kind]}: " if len(kinds) > 1 else ""
        relation = "" if r.label[0] in "≤≥" else "= "
        ok = r.status == "estimated"
        rows.append(
            (
                f"{prefix}e {relation}{r.label}",
                _estimate_cell(r, es.dummies.pooled),
                float(r.std_error) if ok else None,
                float(r.lower) if ok else None,
                float(r.upper) if ok else None,
                float(r.p_value) if ok else None,
                int(r.n_countries),
            )
        )
    return rows


def _statistics(es: EventStudyResult) -> list[tuple[str, Any]]:
    d = es.dummies
    stats: list[tuple[str, Any]] = []
    tests = [("Leads", es.leads_test)]
    if d.away_years:
        tests.append(("Exit leads", es.away_leads_test))
    kind = "score" if d.pooled else "Wald"
    for name, test in tests:
        if test is None:
            stats.append((f"{name}: joint {kind} χ² (all = 0)", "not defined"))
            continue
        stats.append((f"{name}: joint {kind} χ² (all = 0)", float(test.statistic)))
        stats.append((f"{name}: df", int(test.df)))
        stats.append((f"{name}: p-value", float(test.p_value)))
    stats.append(("N (country-years)", int(es.model.nobs)))
    stats.append(("Countries (clusters)", int(es.model.n_clusters or 0)))
    stats.append(("Switching countries: in window", len(d.switch_years)))
    stats.append(("Switching countries: in sample", int(es.n_switchers_sample)))
    if d.away == "exclude":
        excluded = f"{len(d.excluded)} ({d.excluded_rows} rows)" if len(d.excluded) else "none"
        stats.append(("Excluded countries (left Beijing)", excluded))
    else:
        stats.append(("Countries leaving Beijing (own indicators)", len(d.away_years)))
    return stats


def table_frame(es: EventStudyResult) -> pd.DataFrame:
    """One row per bin, then the lead tests and the sample counts (object cells)."""
    rows = _coefficient_rows(es)
    rows += [(label, value, None, None, None, None, None) for label, value in _statistics(es)]
    frame = pd.DataFrame(
        rows, columns=["", "Estimate", "SE", "95% CI lower", "95% CI upper", "p", "Switchers"]
    )
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
        "Standard errors clustered by country (CR1); normal 95% intervals. Leads test: "
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
    return [estimator, inference]


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
            "likely too narrow."
        )
    out.append(_away_note(es))
    if es.leads_note:
        out.append(f"Leads test: {es.leads_note}.")
    if planted is not None:
        out.append(
            f"Planted effect of recognising Beijing in the simulation (log scale): {planted:g}, "
            "a jump at e = 0 with no pre-trend."
        )
    out.extend(f"Warning: {w}" for w in es.model.warnings)
    return out
