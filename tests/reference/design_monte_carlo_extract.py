"""Reading a design's record in the design Monte Carlo: one extractor per design.

Why separate from the harness: the designs were rewritten while the Monte Carlo was
built, so the extractors read records generically -- every list of event-time effects,
every overall ATT with an interval, every lead or pre-trend p-value, every break-test
p-value -- and pair each with the draw's true effect; this is the part that follows the
designs' APIs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

Z95 = 1.959963984540054


def _walk(x: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, x


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else None


def _test(quantity: str, p: Any) -> dict[str, Any]:
    return {"quantity": quantity, "kind": "test", "p_value": _number(p)}


def _estimate(quantity: str, est: Any, low: Any, high: Any, truth: float | None) -> dict:
    return {
        "quantity": quantity,
        "kind": "estimate",
        "estimate": _number(est),
        "lower": _number(low),
        "upper": _number(high),
        "truth": truth,
    }


def extract_xi(record: dict[str, Any], truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Every p-value the Xi design reports, except the pre-break trend term (the null of
    no break says nothing about it): each is a break test with a true null under
    ``no_break``."""
    rows = []
    for path, value in _walk(record):
        leaf = path.rsplit("/", 1)[-1]
        if "p_value" in leaf and "/terms/trend/" not in path and _number(value) is not None:
            rows.append(_test(path.strip("/"), value))
    return rows


def _interval(item: dict[str, Any], est: float | None) -> tuple[Any, Any]:
    """An item's 95 % interval under the names the records use, else est +- 1.96 SE."""
    for low, high in (
        ("log_effect_lower", "log_effect_upper"),
        ("lower", "upper"),
        ("ci_lower", "ci_upper"),
    ):
        if low in item:
            return item[low], item[high]
    for key in ("log_effect_ci", "ci"):
        if isinstance(item.get(key), list | tuple) and len(item[key]) == 2:
            return tuple(item[key])
    se = _number(item.get("log_effect_se", item.get("std_error")))
    return (None, None) if se is None or est is None else (est - Z95 * se, est + Z95 * se)


def _event_rows(
    record: dict[str, Any], truth_by_e: dict[int, float], pooled: dict[int, float] | None
) -> list[dict[str, Any]]:
    """Every event-time estimate in the record: lists of dicts with ``event_time`` (not
    cohort cells), log scale, estimated status only; leads have a true value of 0 (no
    pre-trend is planted in ``shipped``).  A label with "≥" takes the pooled truth
    (``pooled``: true effect of the rows at e >= k, by k)."""
    rows = []

    def visit(x: Any, path: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                visit(v, f"{path}/{k}")
        elif isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
            if all("event_time" in i and "cohort" not in i for i in x):
                for item in x:
                    add(item, path)
            else:
                for n, item in enumerate(x):
                    visit(item, f"{path}[{n}]")

    def add(item: dict[str, Any], path: str) -> None:
        if item.get("status", "estimated") != "estimated":
            return
        e = int(item["event_time"])
        est = _number(item.get("log_effect", item.get("estimate")))
        binned = pooled is not None and "≥" in str(item.get("label", ""))
        truth = 0.0 if e < 0 else (pooled or {}).get(e) if binned else truth_by_e.get(e)
        if est is None or truth is None:
            return
        label = item.get("label", e)
        rows.append(_estimate(f"{path.strip('/')} e={label}", est, *_interval(item, est), truth))

    visit(record, "")
    return rows


def _lead_tests(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every p-value whose path names a lead or pre-trend test (null true in
    ``shipped``; power in ``pretrend``)."""
    return [
        _test(path.strip("/"), value)
        for path, value in _walk(record)
        if path.rsplit("/", 1)[-1] in ("p_value", "p_bootstrap", "p_analytic")
        and any(w in path.lower() for w in ("lead", "pretrend", "pre_trend", "placebo"))
        and _number(value) is not None
    ]


def _keyed_rows(record: dict[str, Any], key: str, truth_by: dict[int, float]) -> list[dict]:
    """Lists of dicts keyed by ``key`` (``cohort``, ``year``) without ``event_time``: the
    cohort and calendar aggregations, vs the true effect of the same rows."""
    rows = []
    for path, value in _walk_lists(record):
        if not all(key in i and "event_time" not in i and "lo" not in i for i in value):
            continue
        for item in value:
            est = _number(item.get("log_effect"))
            truth = truth_by.get(int(item[key]))
            if est is not None and truth is not None:
                name = f"{path} {key}={int(item[key])}"
                rows.append(_estimate(name, est, *_interval(item, est), truth))
    return rows


def _walk_lists(x: Any, path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every non-empty list of dicts in a record, with its path."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _walk_lists(v, f"{path}/{k}" if path else k)
    elif isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
        yield path, x


def _balanced_truth(record: dict[str, Any], cells: dict[tuple[int, int], tuple]) -> dict:
    """True event-time effects over the cohorts of a balanced aggregation."""
    out = {}
    for path, value in _walk_lists(record):
        if not path.endswith("balanced"):
            continue
        parent: Any = record
        for k in path.split("/")[:-1]:
            parent = parent[k]
        cohorts = set(parent.get("balanced_cohorts", []))
        truth = {}
        for e in {int(i["event_time"]) for i in value}:
            mu = [v for (g, ee), v in cells.items() if ee == e and g in cohorts]
            if mu:
                truth[e] = float(np.log(sum(m[0] for m in mu) / sum(m[1] for m in mu)))
        out[path] = truth
    return out


def extract_bri(record: dict[str, Any], truth: dict[str, Any]) -> list[dict[str, Any]]:
    """BRI: every overall ATT in the record (dicts with ``log_effect`` and an interval:
    imputation, ETWFE) and the TWFE coefficient vs the true ATT; every event-time,
    cohort and calendar effect vs the true one (balanced event time: over its cohorts);
    every lead test."""
    rows = []
    for path, _ in _walk(record):
        if not path.endswith("/log_effect") or "[" in path:
            continue
        parent = path.rsplit("/", 1)[0]
        node: Any = record
        for k in parent.strip("/").split("/"):
            node = node[k]
        if "event_time" in node or "lead" in parent.lower():
            continue
        est = _number(node["log_effect"])
        interval = _interval(node, est)
        rows.append(_estimate(f"{parent.strip('/')} ATT (log)", est, *interval, truth["bri_att"]))
    tw = record.get("twfe") or {}
    if "estimate" in tw:
        rows.append(
            _estimate("twfe coefficient (log)", tw["estimate"], *tw["ci"], truth["bri_att"])
        )
    balanced = _balanced_truth(record, truth["bri_cells"])
    rows += [
        r
        for r in _event_rows(record, truth["bri_by_event_time"], None)
        if not r["quantity"].split(" e=")[0].endswith("balanced")
    ]
    for path, by_e in balanced.items():
        node: Any = record
        for k in path.split("/"):
            node = node[k]
        rows += _event_rows({path: node}, by_e, None)
    rows += _keyed_rows(record, "cohort", truth["bri_by_cohort"])
    rows += _keyed_rows(record, "year", truth["bri_by_year"])
    # the binned leads' Wald p-value: shown for comparison only (the reported p is the score)
    wald = [
        _test(f"{path.strip('/')} (asymptotic, comparison)", value)
        for path, value in _walk(record)
        if path.endswith("lead_test/p_value_wald") and _number(value) is not None
    ]
    return rows + _lead_tests(record) + wald


def extract_taiwan(record: dict[str, Any], truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Taiwan: every event-time effect in the record (TWFE, heterogeneity-robust) vs the
    true effect (bins labelled "≥ 5" take the pooled truth), and every lead test."""
    rows = _event_rows(record, truth["taiwan_by_event_time_raw"], truth["taiwan_from"])
    return rows + _lead_tests(record)
