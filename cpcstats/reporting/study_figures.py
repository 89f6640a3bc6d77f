"""The reference study's descriptive figures: direction per year, contacts per party, regimes.

Figure 2 (inbound vs outbound contacts per year), Figure 4 (the distribution of the number
of contacts per party) and Figure 5 (contacts with government and opposition parties by
Freedom House status, as counts).  Each function draws what it is given (the counting is
`cpcstats.descriptives`'s, one layer up, so any study's data can be drawn) and returns the
matplotlib `Figure`; it is saved only when a ``stem`` is given.  Log axes take their ticks
from matplotlib's `LogLocator`; labels come from the labels file (`cpcstats.reporting.labels`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from cpcstats.reporting.figures import mark_break
from cpcstats.reporting.labels import Labels, default_labels
from cpcstats.reporting.style import figure_note, finish_plot, new_figure, style

__all__ = [
    "DIRECTION_LABELS",
    "log_bins",
    "plot_contacts_per_party",
    "plot_direction_by_year",
    "plot_government_opposition",
]

#: The bars of Figure 2 and their legend entries.
DIRECTION_LABELS = {
    "inbound": "Inbound (received in China)",
    "outbound": "Outbound (Chinese side abroad)",
}


def plot_direction_by_year(
    frame: pd.DataFrame,
    *,
    break_year: int | None,
    simulated: bool,
    stem: Path | None = None,
    title: str | None = None,
    note: str = "",
) -> Figure:
    """Figure 2: inbound and outbound contacts per year, side by side.

    ``frame`` has ``year``, ``inbound`` and ``outbound`` (``contacts_by_direction``);
    an ``unknown`` column is not drawn but counted in the note, so the bars need not add
    up to the year's total without saying why.
    """
    missing = [c for c in ("year", *DIRECTION_LABELS) if c not in frame.columns]
    if missing:
        raise ValueError(f"the direction frame lacks column(s) {', '.join(missing)}")
    data = frame.sort_values("year", kind="mergesort")
    years = data["year"].to_numpy(dtype=float)
    unknown = int(data["unknown"].sum()) if "unknown" in data else 0
    if unknown:
        note = (
            f"{note} {unknown:,} contacts whose direction the source does not state are not shown."
        )
    with style():
        fig = new_figure(7.5, 4.4)
        ax = fig.add_subplot()
        colours = sns.color_palette("colorblind", 2)
        for k, (column, label) in enumerate(DIRECTION_LABELS.items()):
            ax.bar(
                years + (k - 0.5) * 0.4,
                data[column].to_numpy(dtype=float),
                width=0.4,
                color=colours[k],
                label=label,
            )
        if break_year is not None:
            mark_break(ax, break_year)
        ax.set_xlabel("Year")
        ax.set_ylabel("Contacts per year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.legend(frameon=False, loc="lower left", fontsize=9, bbox_to_anchor=(0.0, 1.0), ncol=2)
        if title:
            fig.suptitle(textwrap.fill(title, 70))
        figure_note(fig, note.strip(), simulated=simulated)
        return finish_plot(fig, stem, simulated=simulated)


def log_bins(top: int) -> np.ndarray:
    """Integer bin edges from 1 to past ``top``, one per count up to 10, then log-spaced.

    Why integers: a bin [3, 4) holds parties with exactly 3 contacts; log spacing above 10
    keeps the long tail (a few parties with 100+ contacts) readable on a log axis.
    """
    top = max(int(top), 1)
    edges = set(range(1, min(top, 10) + 2))
    if top >= 10:
        edges |= {int(e) for e in np.rint(np.geomspace(10, top + 1, 12))}
    edges.add(top + 1)
    return np.array(sorted(edges), dtype=float)


def _log_count_axis(ax: Axes, high: float) -> None:
    """A log x axis of contact counts, 1 to ``high``, ticks from `LogLocator` (1-2-5)."""
    ax.set_xscale("log")
    ax.set_xlim(0.9, high * 1.1)
    ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _ecdf_panel(ax: Axes, values: np.ndarray, colour: object) -> None:
    """Share of parties with at most x contacts, the study's two thresholds marked.

    The zeros are in the denominator (the curve starts above 0 at x = 1); the box states
    the study's measures both over every party and over the parties met.
    """
    xs = np.sort(values[values > 0])
    n, met = len(values), values[values > 0]
    zeros = n - len(met)
    ys = (zeros + np.arange(1, len(xs) + 1)) / n
    ax.step(xs, ys, where="post", color=colour, linewidth=1.8)
    for threshold in (2, 5):
        ax.axvline(threshold, color="0.45", linestyle=":", linewidth=1.0)
    lines = [
        f"At most 2 contacts: {np.mean(values <= 2):.0%} of all",
        f"5 or more: {np.mean(values >= 5):.0%} of all",
    ]
    if zeros:
        lines[0] += f", {np.mean(met <= 2):.0%} of those met"
        lines[1] += f", {np.mean(met >= 5):.0%} of those met"
    ax.text(
        0.97,
        0.05,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.2",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.8"},
    )
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Parties with at most x contacts")


def plot_contacts_per_party(
    counts: pd.Series,
    *,
    simulated: bool,
    stem: Path | None = None,
    title: str | None = None,
    note: str = "",
) -> Figure:
    """Figure 4: how many parties have 1, 2, 3 ... contacts (histogram and ECDF, log x).

    ``counts`` is one number per party (``contacts_per_party``).  Parties with zero
    contacts cannot sit on a log axis: the histogram starts at 1 and the note gives their
    number; the ECDF (right) counts them in its denominator, so "at most 2 contacts" is a
    share of every party in ``counts``.
    """
    values = pd.to_numeric(counts, errors="raise").to_numpy(dtype=float)
    if not len(values) or values.max() <= 0:
        raise ValueError("no party has a contact: nothing to draw")
    zeros = int((values == 0).sum())
    if zeros:
        note = f"{note} {zeros:,} parties with no contact are counted in the right panel only."
    edges = log_bins(int(values.max()))
    with style():
        fig = new_figure(9.0, 4.0)
        left, right = fig.subplots(1, 2)
        colour = sns.color_palette("colorblind", 1)[0]
        heights, _ = np.histogram(values[values > 0], bins=edges)
        left.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color=colour, alpha=0.85)
        left.set_ylabel("Parties")
        left.yaxis.set_major_locator(MaxNLocator(integer=True))
        _ecdf_panel(right, values, colour)
        for ax in (left, right):
            _log_count_axis(ax, float(edges[-1]))
            ax.set_xlabel("Contacts per party (log scale)")
        left.grid(axis="x", visible=False)
        if title:
            fig.suptitle(textwrap.fill(title, 80))
        figure_note(fig, note.strip(), simulated=simulated)
        return finish_plot(fig, stem, simulated=simulated)


def plot_government_opposition(
    table: pd.DataFrame,
    *,
    simulated: bool,
    stem: Path | None = None,
    title: str | None = None,
    note: str = "",
    labels: Labels | None = None,
    regimes: Sequence[str] = ("F", "PF", "NF"),
) -> Figure:
    """Figure 5: contacts with government and with opposition parties by regime, as counts.

    ``table`` is indexed by Freedom House status with ``government`` and ``opposition``
    columns (``government_opposition_by_regime``); other columns and rows are not drawn
    (the caller's ``note`` says what they hold).  Each bar carries its count.
    """
    labels = labels or default_labels()
    shown = table.reindex(index=list(regimes), fill_value=0)
    x = np.arange(len(shown), dtype=float)
    with style():
        fig = new_figure(7.0, 4.4)
        ax = fig.add_subplot()
        colours = sns.color_palette("colorblind", 2)
        for k, (column, label) in enumerate(
            (("government", "Governing parties"), ("opposition", "Opposition parties"))
        ):
            bars = ax.bar(
                x + (k - 0.5) * 0.38,
                shown[column].to_numpy(dtype=float),
                width=0.38,
                color=colours[k],
                label=label,
            )
            ax.bar_label(bars, labels=[f"{int(v):,}" for v in shown[column]], fontsize=8, padding=2)
        ax.set_xticks(x, [labels.level("fh_status", r) for r in shown.index])
        ax.set_xlabel(labels.variable("fh_status"))
        ax.set_ylabel("Party contacts")
        ax.set_ylim(0, float(shown[["government", "opposition"]].to_numpy().max()) * 1.12 + 1)
        ax.grid(axis="x", visible=False)
        # above the axes: inside, it covered the tallest bar's count on the real-universe demo
        ax.legend(frameon=False, loc="lower left", fontsize=9, bbox_to_anchor=(0.0, 1.0), ncol=2)
        if title:
            fig.suptitle(textwrap.fill(title, 70))
        figure_note(fig, note.strip(), simulated=simulated)
        return finish_plot(fig, stem, simulated=simulated)
