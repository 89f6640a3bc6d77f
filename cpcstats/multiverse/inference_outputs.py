"""What the joint inference writes: the table, the null-distribution figure and a JSON file.

Why the null mean is a column (not assumed to be the null value): a permutation within
strata keeps whatever the treatment shares with the strata (e.g. how many of a
country-year's parties govern), so a model without those strata as fixed effects can
centre its null estimates away from 1; the p-value compares the observed curve with that
distribution, not with 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.io import write_atomic
from cpcstats.multiverse.inference import STATISTICS, InferenceOutcome
from cpcstats.reporting.style import finish_figure, new_figure, style
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table

__all__ = ["inference_frame", "inference_record", "write_inference"]

LABELS = {
    "median": "median estimate",
    "share_sig_above": "share significant above the null",
    "share_sig_below": "share significant below the null",
    "mean_z": "mean z",
}


def _mc_se(p: float, n: int) -> float:
    """Monte Carlo standard error of a share estimated from ``n`` draws."""
    return math.sqrt(p * (1 - p) / n) if n and np.isfinite(p) else math.nan


def inference_frame(outcome: InferenceOutcome) -> pd.DataFrame:
    """One row per curve statistic: observed, null mean and 95th percentile, p, MC SE."""
    rows = {}
    for stat in STATISTICS:
        null = outcome.null[stat].dropna()
        p = outcome.p_values[stat]
        rows[LABELS[stat]] = {
            "observed": outcome.observed[stat],
            "null mean": float(null.mean()) if len(null) else math.nan,
            "null p95": float(null.quantile(0.95)) if len(null) else math.nan,
            "p-value": p,
            "MC SE": _mc_se(p, len(null)),
            "draws": len(null),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _plain(value: Any) -> Any:
    """NaN as null (JSON has no NaN), recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def inference_record(outcome: InferenceOutcome) -> dict[str, Any]:
    """Everything needed to redo the table or the figure, as JSON-ready values (NaN: null)."""
    s = outcome.settings
    return _plain(
        {
            "method": s.method,
            "variable": s.variable,
            "strata": list(s.strata),
            "subset": {k: list(v) for k, v in s.subset.items()},
            "seed": s.seed,
            "draws": outcome.draws,
            "specifications": outcome.specifications,
            "observed": outcome.observed,
            "p_values": outcome.p_values,
            "null": {c: outcome.null[c].tolist() for c in ("draw", *STATISTICS, "failed")},
        }
    )


def _figure(outcome: InferenceOutcome, stem: Path, label: str, simulated: bool) -> list[Path]:
    """Histograms of the null median and share significant, with the observed value."""
    above = outcome.observed["share_sig_above"] >= outcome.observed["share_sig_below"]
    share = "share_sig_above" if above else "share_sig_below"
    with style():
        fig = new_figure(9, 3.4)
        axes = fig.subplots(1, 2)
        for ax, stat, title in (
            (axes[0], "median", f"median {label}"),
            (axes[1], share, LABELS[share]),
        ):
            values, observed = outcome.null[stat].dropna(), outcome.observed[stat]
            span = (min(values.min(), observed), max(values.max(), observed))  # show both
            ax.hist(values, bins=np.linspace(*span, 41), color="tab:gray", edgecolor="none")
            ax.axvline(observed, color="tab:red", linewidth=1.2)
            ax.set_title(f"{title}: p = {outcome.p_values[stat]:.3f}", fontsize=9)
            ax.set_ylabel("null draws")
        fig.suptitle(
            f"{outcome.draws} draws with {outcome.settings.variable} permuted within "
            f"{', '.join(outcome.settings.strata) or 'the panel'} (red: observed)",
            fontsize=9,
        )
        return finish_figure(fig, stem, simulated=simulated)


def write_inference(
    outcome: InferenceOutcome, folder: Path, *, label: str, simulated: bool
) -> list[Path]:
    """The table, the figure ``figures/null_distribution`` and ``inference.json``."""
    s = outcome.settings
    where = ", ".join(s.strata) or "the whole panel"
    table = stats_table(
        inference_frame(outcome),
        title=f"Specification curve under the null: {label} ({outcome.specifications} "
        "specifications refitted per draw)",
        label="tab:multiverse_inference",
        notes=(
            f"Null imposed by permuting {s.variable} within {where} (exchangeable under the "
            f"null of no effect); {outcome.draws} draws seeded from {s.seed}. p-value: share "
            "of null draws at least as extreme as observed, one-sided in the observed "
            "direction (0 means below 1/draws); MC SE: its Monte Carlo standard error. "
            "Significant: p < 0.05; a failed refit is not significant.",
        ),
        digits={"draws": 0},
        simulated=simulated,
    )
    paths = write_table(table, folder, "multiverse_inference")
    paths += _figure(outcome, folder / "figures" / "null_distribution", label, simulated)
    text = json.dumps(inference_record(outcome), indent=1, sort_keys=True, allow_nan=False)
    paths.append(write_atomic(folder / "inference.json", (text + "\n").encode()))
    return paths
