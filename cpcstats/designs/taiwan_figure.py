"""The ``design_taiwan`` figure: event-time coefficients with 95 % intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cpcstats.designs.taiwan_result import EventStudyResult
from cpcstats.designs.taiwan_sample import AWAY, TO_PRC, bin_label
from cpcstats.designs.taiwan_table import KIND_LABEL
from cpcstats.reporting.format import minus_sign
from cpcstats.reporting.style import finish_figure, new_figure, style

__all__ = ["plot_event_study"]


#: horizontal offsets so the two estimators' intervals do not overlap
SHIFT = {"twfe": -0.15, "iw": 0.15, AWAY: 0.32}


def _errorbar(ax: Any, x: Any, rows: Any, colour: str, marker: str, label: str) -> None:
    """Point and the row's own 95 % interval (TWFE: t with switchers - 1 df; IW: normal)."""
    y = rows["estimate"].to_numpy(dtype=float)
    low, high = rows["lower"].to_numpy(dtype=float), rows["upper"].to_numpy(dtype=float)
    ax.errorbar(
        x,
        y,
        yerr=np.vstack([y - low, high - y]),
        fmt=marker,
        color=colour,
        capsize=2.5,
        markersize=4.5,
        elinewidth=1.2,
        label=label,
    )


def _not_estimable(ax: Any, events: Any, shift: float, colour: str, offset: int) -> None:
    for e in events:
        ax.annotate(
            "n.e.",
            (float(e) + shift, 0.0),
            xytext=(0, offset),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color=colour,
        )


def _series(ax: Any, es: EventStudyResult) -> None:
    """TWFE estimates per kind of event, the IW estimates (leads included), ``n.e.`` marks."""
    c = es.coefficients
    for kind, colour, marker, shift in [
        (TO_PRC, "tab:blue", "o", SHIFT["twfe"]),
        (AWAY, "tab:orange", "s", SHIFT[AWAY]),
    ]:
        rows = c[(c["kind"] == kind) & (c["status"] == "estimated")]
        if rows.empty:
            continue
        label = KIND_LABEL[kind] + " (TWFE)" if es.dummies.away_years else "TWFE (95% CI)"
        _errorbar(
            ax,
            rows["event_time"].to_numpy(dtype=float) + shift,
            rows,
            colour,
            marker,
            label,
        )
        missing = c[(c["kind"] == kind) & c["status"].str.startswith("not estimable")]
        _not_estimable(ax, missing["event_time"], shift, colour, -12 if kind == TO_PRC else -22)
    if es.robust is None:
        return
    iw = es.robust.effects
    ok = iw[iw["status"].str.startswith("estimated")]
    lead = ok["event_time"] < 0
    _errorbar(
        ax,
        ok["event_time"].to_numpy(dtype=float) + SHIFT["iw"],
        ok,
        "tab:green",
        "s",
        "Interaction-weighted (95% CI)" + (", leads vs other pre-years" if lead.any() else ""),
    )
    missing = iw[iw["status"].str.startswith("not estimable")]
    _not_estimable(ax, missing["event_time"], SHIFT["iw"], "tab:green", -22)


def _reference_and_truth(
    ax: Any, es: EventStudyResult, planted: float | None, truth: dict[int, float] | None
) -> None:
    d = es.dummies
    reference = list(range(-d.leads, 0)) if d.pooled else [d.reference]
    test = es.leads_test
    ax.plot(
        np.asarray(reference, dtype=float) + SHIFT["twfe"],
        [0.0] * len(reference),
        marker="D",
        color="0.25",
        markerfacecolor="white",
        linestyle="none",
        label=(
            "TWFE pooled reference (e < 0)"
            if d.pooled
            else f"TWFE reference period (e = {minus_sign(d.reference)})"
        )
        + ("" if test is None else f", leads test p = {test.p_value:.2f}"),
    )
    if truth:
        ks = sorted(k for k in truth if -d.leads <= k <= d.lags)
        ax.plot(
            ks,
            [truth[k] for k in ks],
            marker="x",
            color="tab:red",
            linestyle="none",
            markersize=7,
            label="True effect at e (simulated)",
        )
        return
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
    es: EventStudyResult,
    *,
    stem: Path,
    simulated: bool,
    planted: float | None = None,
    truth: dict[int, float] | None = None,
) -> list[Path]:
    """TWFE and IW estimates by event time with 95 % CIs side by side (offset), the TWFE
    reference marked, the IW leads estimated, the simulation's truth when known."""
    d = es.dummies
    with style():
        fig = new_figure(7.0, 5.4)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.3", linewidth=1.0, zorder=1)
        ax.axvline(-0.5, color="0.6", linestyle=":", linewidth=1.0, zorder=1)
        _series(ax, es)
        _reference_and_truth(ax, es, planted, truth)
        ticks = list(range(-d.leads, d.lags + 1))
        ax.set_xticks(ticks, [bin_label(k, d.leads, d.lags) for k in ticks])
        ax.set_xlim(-d.leads - 0.6, d.lags + 0.6)
        what = "switch" if d.away_years else "switch to Beijing"
        ax.set_xlabel(f"Years since the {what} (e = year − switch year)")
        ax.set_ylabel("Effect on log expected contacts (95% CI)")
        ax.legend(
            frameon=False,
            fontsize=7.5,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.15),
            ncol=1,
        )
        return finish_figure(fig, stem, simulated=simulated)
