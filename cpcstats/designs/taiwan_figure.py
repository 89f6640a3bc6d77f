"""The ``design_taiwan`` figure: event-time coefficients with 95 % intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scipy import stats

from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_sample import AWAY, TO_PRC, bin_label
from cpcstats.designs.taiwan_table import KIND_LABEL
from cpcstats.reporting.format import minus_sign
from cpcstats.reporting.style import finish_figure, new_figure, style

__all__ = ["plot_event_study"]

Z95 = float(stats.norm.ppf(0.975))


def _series(ax: Any, es: EventStudyResult) -> None:
    """Estimates with intervals per kind of event; ``n.e.`` under bins not estimable."""
    c = es.coefficients
    for kind, colour, marker, shift in [
        (TO_PRC, "tab:blue", "o", 0.0),
        (AWAY, "tab:orange", "s", 0.18),
    ]:
        rows = c[(c["kind"] == kind) & (c["status"] == "estimated")]
        if rows.empty:
            continue
        ax.errorbar(
            rows["event_time"].to_numpy(dtype=float) + shift,
            rows["estimate"].to_numpy(dtype=float),
            yerr=Z95 * rows["std_error"].to_numpy(dtype=float),
            fmt=marker,
            color=colour,
            capsize=2.5,
            markersize=4.5,
            elinewidth=1.2,
            label=KIND_LABEL[kind] if es.dummies.away_years else "Estimate (95% CI)",
        )
        missing = c[(c["kind"] == kind) & c["status"].str.startswith("not estimable")]
        for e in missing["event_time"]:
            ax.annotate(
                "n.e.",
                (float(e) + shift, 0.0),
                xytext=(0, -12 if kind == TO_PRC else -22),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=colour,
            )


def _reference_and_planted(ax: Any, es: EventStudyResult, planted: float | None) -> None:
    d = es.dummies
    reference = list(range(-d.leads, 0)) if d.pooled else [d.reference]
    test = es.leads_test
    ax.plot(
        reference,
        [0.0] * len(reference),
        marker="D",
        color="0.25",
        markerfacecolor="white",
        linestyle="none",
        label=(
            "Pooled reference (all e < 0)"
            if d.pooled
            else f"Reference period (e = {minus_sign(d.reference)})"
        )
        + ("" if test is None else f"; leads test p = {test.p_value:.2f}"),
    )
    if planted is None:
        return
    ax.axhline(
        planted,
        color="tab:red",
        linestyle="--",
        linewidth=1.0,
        label=f"Planted effect ({planted:g}, simulated)",
    )
    if d.away_years:
        ax.axhline(
            -planted,
            color="tab:orange",
            linestyle="--",
            linewidth=1.0,
            label=f"Planted exit effect ({minus_sign(f'{-planted:g}')}, simulated)",
        )


def plot_event_study(
    es: EventStudyResult, *, stem: Path, simulated: bool, planted: float | None = None
) -> list[Path]:
    """Coefficients by event time with 95 % CIs, zero line, reference marked, bins labelled."""
    d = es.dummies
    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.3", linewidth=1.0, zorder=1)
        ax.axvline(-0.5, color="0.6", linestyle=":", linewidth=1.0, zorder=1)
        _series(ax, es)
        _reference_and_planted(ax, es, planted)
        ticks = list(range(-d.leads, d.lags + 1))
        ax.set_xticks(ticks, [bin_label(k, d.leads, d.lags) for k in ticks])
        ax.set_xlim(-d.leads - 0.6, d.lags + 0.6)
        what = "switch" if d.away_years else "switch to Beijing"
        ax.set_xlabel(f"Years since the {what} (e = year − switch year; ends binned)")
        ax.set_ylabel("Effect on log expected contacts (95% CI)")
        ax.legend(frameon=True, framealpha=0.85, fontsize=8, loc="best")
        return finish_figure(fig, stem, simulated=simulated)
