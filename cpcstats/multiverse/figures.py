"""The specification curve and the leave-one-out influence figure.

Why this layout (Simonsohn, Simmons & Nelson 2020): the estimates sorted by size with
their intervals on top, and below, aligned column by column, which option of every
dimension each specification used — so a reader sees at a glance which choices move the
estimate.  Drawn with the shared cpcstats style and written by ``save_figure``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.multiverse.expand import option_base
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style

__all__ = [
    "curve_figure",
    "dimension_columns",
    "influence_figure",
    "significant",
    "usable",
]


def dimension_columns(results: pd.DataFrame) -> list[str]:
    return [c for c in results.columns if c.startswith("dim_")]


def usable(fitted: pd.DataFrame) -> pd.Series:
    """Fits that are results: converged, with a finite standard error and interval.

    Why one rule: a boundary or separated fit (a hurdle IRR of 1e25 without an SE) must not
    set the curve's axis, the summary's percentiles or a leave-one-out shift; every row
    stays in the results file, and the figure and table count the ones left out.
    """
    finite = np.ones(len(fitted), dtype=bool)
    for column in ("std_error", "ci_low", "ci_high"):
        finite &= np.isfinite(fitted[column].to_numpy(dtype=float))
    return fitted["converged"].astype(bool) & finite


def significant(ok: pd.DataFrame) -> pd.Series:
    """p < 0.05; a NaN p (no usable standard error) is not significant."""
    return ok["p_value"].lt(0.05)


def curve_figure(
    results: pd.DataFrame, stem: Path, *, null: float, label: str, simulated: bool
) -> list[Path]:
    """Sorted estimates with 95 % intervals above, the choice indicators below.

    Only fits that are results are drawn: converged, with a finite standard error and
    interval (a boundary or separated fit, e.g. a hurdle IRR of 1e25 without an SE, would
    otherwise set the axis and flatten every other estimate); how many were left out is in
    the title, and every row stays in the results file.  IRRs are ratios, so their axis is
    logarithmic.
    """
    fitted = results[results["error"] == ""]
    ok_rows = usable(fitted)
    left_out = int((~ok_rows).sum())
    ok = fitted[ok_rows].sort_values(["estimate", "spec_id"], kind="mergesort")
    dims = dimension_columns(ok)
    rows = [(d, o) for d in dims for o in dict.fromkeys(ok[d].map(option_base))]
    x = np.arange(len(ok))
    sig = significant(ok).to_numpy()
    with style():
        fig = new_figure(10, 3 + 0.16 * len(rows))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 0.25 * len(rows) + 0.5])
        colors = np.where(sig, "tab:blue", "tab:gray")
        top.vlines(x, ok["ci_low"], ok["ci_high"], colors=colors, alpha=0.35, linewidth=0.8)
        top.scatter(x, ok["estimate"], c=colors, s=6, zorder=3)
        top.axhline(null, color="black", linewidth=0.8)
        top.axhline(float(ok["estimate"].median()), color="tab:red", linestyle="--", linewidth=0.8)
        top.set_ylabel(label)
        if null == 1.0 and bool((ok["ci_low"] > 0).all()):
            _log_ratio_axis(top)
        title = f"Specification curve: {len(ok)} specifications (blue: 95 % CI excludes {null:g})"
        if left_out:
            title += f"\n{left_out} not converged or without a standard error: not drawn"
        top.set_title(title, fontsize=10)
        for i, (dim, option) in enumerate(rows):
            hit = (ok[dim].map(option_base) == option).to_numpy()
            bottom.scatter(x[hit], np.full(hit.sum(), -i), marker="|", s=30, c=colors[hit])
        bottom.set_yticks([-i for i in range(len(rows))])
        bottom.set_yticklabels([f"{d[4:]}: {o}" for d, o in rows], fontsize=7)
        bottom.set_xlabel("specification (sorted by estimate)")
        bottom.grid(False)
        fig.tight_layout()
        if simulated:
            mark_simulated(fig)
        return save_figure(fig, stem)


def _log_ratio_axis(ax: Any) -> None:
    """A log axis for ratios, labelled 1, 2, 5, 10 … as numbers (not powers of ten)."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def influence_figure(
    shifts: pd.DataFrame, stem: Path, *, label: str, simulated: bool, top: int = 25
) -> list[Path]:
    """Which left-out country or region moves the estimate most (see ``loo_shifts``)."""
    if shifts.empty:
        return []
    mean = shifts.groupby("left_out", sort=True)["shift"].mean()
    mean = mean.sort_values(key=np.abs, ascending=False, kind="mergesort").head(top)[::-1]
    with style():
        fig = new_figure(7, 1.5 + 0.22 * len(mean))
        ax = fig.subplots()
        ax.barh(np.arange(len(mean)), mean.to_numpy(), color="tab:blue")
        ax.set_yticks(np.arange(len(mean)))
        ax.set_yticklabels(mean.index, fontsize=7)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"change in {label} when left out (mean over specifications)")
        ax.set_title("Leave-one-out influence")
        fig.tight_layout()
        if simulated:
            mark_simulated(fig)
        return save_figure(fig, stem)
