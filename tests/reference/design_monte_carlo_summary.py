"""Summary of the design Monte Carlo (``design_monte_carlo.py``): the Markdown table and
the JSON beside it, from the per-draw JSON lines.

Why separate: the summary is rerun (``--summarise``) on whatever draws have finished,
and tests read the committed JSON without importing the harness's design code.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FOLDER = Path(__file__).resolve().parent
# CPCSTATS_MC_OUT: write the results elsewhere (a trial run that must not touch the committed ones)
OUT = Path(os.environ.get("CPCSTATS_MC_OUT", str(FOLDER)))
RESULTS = OUT / "design_monte_carlo.jsonl"
JSON_OUT = OUT / "design_monte_carlo.json"
MARKDOWN = OUT / "design_monte_carlo.md"
ROOT_SEED = 20261201
Z95 = 1.959963984540054
#: p-values a design shows for comparison only (its table labels them asymptotic)
COMPARISON = ("asymptotic", "wald_level_and_trend_shift")


def role(quantity: str) -> str:
    """``test`` (a reported decision), ``interval`` (a coefficient's 95 % interval as a
    z-test) or ``comparison`` (shown for reference only)."""
    if any(c in quantity for c in COMPARISON):
        return "comparison"
    return "interval" if "/terms/" in quantity else "test"


def read_rows(path: Path = RESULTS) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per-draw rows and timing records from the JSON lines (the last run of a draw wins),
    or from the committed JSON when the JSON lines (not committed) are absent."""
    rows, timing = [], []
    if not path.exists() and JSON_OUT.exists():  # the committed JSON holds the same rows
        saved = json.loads(JSON_OUT.read_text())
        return pd.DataFrame(saved["draws"]), saved["timing"]
    for line in path.read_text().splitlines():
        r = json.loads(line)
        (timing if r.get("kind") == "timing" else rows).append(r)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.drop_duplicates(["scenario", "draw", "design", "quantity"], keep="last")
    return frame, timing


def _wilson(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a binomial proportion (the Monte Carlo band)."""
    if n == 0:
        return (math.nan, math.nan)
    p, z2 = k / n, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario, design and quantity: draws, rejection rate at 5 % with its
    Wilson band (tests), bias on the log and count-ratio scales and 95 % coverage
    (estimates), and the number of draws in which the design failed."""
    out = []
    errors = frame[frame["kind"] == "error"].groupby(["scenario", "design"]).size()
    for (scen, design, quantity), g in frame[frame["kind"] != "error"].groupby(
        ["scenario", "design", "quantity"], sort=False
    ):
        row: dict[str, Any] = {"scenario": scen, "design": design, "quantity": quantity}
        row["failed_draws"] = int(errors.get((scen, design), 0))
        if g["kind"].iloc[0] == "test":
            p = g["p_value"].dropna()
            k = int((p < 0.05).sum())
            row.update(draws=len(p), reject_5pct=k / len(p) if len(p) else math.nan)
            row["role"] = role(quantity)
            row["band_low"], row["band_high"] = _wilson(k, len(p))
        else:
            g = g.dropna(subset=["estimate", "truth"])
            d = g["estimate"] - g["truth"]
            ok = g.dropna(subset=["lower", "upper"])
            row.update(
                draws=len(g),
                mean_truth=g["truth"].mean(),
                bias_log=d.mean(),
                bias_log_mcse=d.std(ddof=1) / math.sqrt(len(g)) if len(g) > 1 else math.nan,
                bias_ratio=np.exp(g["estimate"]).mean() / np.exp(g["truth"]).mean() - 1,
                sd_estimate=g["estimate"].std(ddof=1),
                coverage=((ok["lower"] <= ok["truth"]) & (ok["truth"] <= ok["upper"])).mean(),
            )
        out.append(row)
    table = pd.DataFrame(out)
    for column in (
        "role",
        "reject_5pct",
        "band_low",
        "band_high",
        "mean_truth",
        "bias_log",
        "bias_log_mcse",
        "bias_ratio",
        "sd_estimate",
        "coverage",
    ):
        if column not in table.columns:
            table[column] = math.nan
    return table


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{100 * x:.1f} %" if pct else (f"{x:.3f}" if isinstance(x, float) else str(x))


def markdown(table: pd.DataFrame, timing: list[dict[str, Any]]) -> str:
    """The Markdown report: tests (size or power) and estimates (bias, coverage)."""
    lines = [
        "# Monte Carlo of the designs over redraws of the demo process",
        "",
        "Written by `tests/reference/design_monte_carlo.py` (scenarios in its docstring);",
        "per-draw results in `design_monte_carlo.json`.  Rejection rates at nominal 5 % with",
        "their 95 % Wilson band; `shipped` and `no_break` rates are sizes, `pretrend` rates",
        "powers.  Bias: mean of estimate minus the draw's true effect (log scale) and",
        "mean exp(estimate) / mean exp(truth) - 1 (count-ratio scale).  Role: `test` a",
        "p-value the design reports for a decision, `interval` a reported coefficient's",
        "95 % interval read as a z-test of 0, `comparison` an asymptotic p-value the design",
        "shows for reference only.",
        "",
        "| scenario | design | test | role | draws | rejects at 5 % | MC band | failed draws |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tests = table[table["reject_5pct"].notna()]
    for r in tests.itertuples():
        lines.append(
            f"| {r.scenario} | {r.design} | {r.quantity} | {r.role} | {r.draws} | "
            f"{_fmt(r.reject_5pct, True)}"
            f" | {_fmt(r.band_low, True)} - {_fmt(r.band_high, True)} | {r.failed_draws} |"
        )
    lines += [
        "",
        "| scenario | design | estimate | draws | mean truth | bias (log) | MC SE | "
        "bias (count ratio) | SD | 95 % coverage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    est = table[table["coverage"].notna()]
    for r in est.itertuples():
        lines.append(
            f"| {r.scenario} | {r.design} | {r.quantity} | {r.draws} | {_fmt(r.mean_truth)} | "
            f"{_fmt(r.bias_log)} | {_fmt(r.bias_log_mcse)} | {_fmt(r.bias_ratio, True)} | "
            f"{_fmt(r.sd_estimate)} | {_fmt(r.coverage, True)} |"
        )
    lines += ["", "Runtime:", ""]
    for t in timing:
        lines.append(
            f"- {t['scenario']} ({', '.join(t.get('designs', []))}; commit "
            f"{t.get('commit', '?')}): draws {t.get('first', 0)}-"
            f"{t.get('first', 0) + t['draws'] - 1} on {t['workers']} workers in "
            f"{t['wall_seconds']:.0f} s"
        )
    return "\n".join(lines) + "\n"


def write_summary() -> pd.DataFrame:
    """Rewrite the Markdown table and the JSON (summary, timing, per-draw rows)."""
    frame, timing = read_rows()
    table = summarise(frame)
    MARKDOWN.write_text(markdown(table, timing), encoding="utf-8")
    payload = {
        "root_seed": ROOT_SEED,
        "summary": json.loads(table.to_json(orient="records")),
        "timing": timing,
        "draws": json.loads(
            frame.drop(columns=["seconds"], errors="ignore").to_json(
                orient="records", double_precision=5
            )
        ),
    }
    JSON_OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    return table
