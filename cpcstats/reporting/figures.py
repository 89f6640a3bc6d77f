"""Publication figures: yearly contact series and IRR coefficient plots.

Every ``plot_*`` function returns the matplotlib `Figure` (Agg canvas, not registered with
pyplot) and writes it only when given a ``stem`` (``<stem>.pdf`` and ``<stem>.png``, as
the replication does); ``save_figure(fig, stem)`` saves one later.  Rows, legends and axes
use the reader's labels (`cpcstats.reporting.labels`, the packaged labels file unless
``labels=`` is given).  The look, canvas, simulated-data mark and deterministic saving are
those of `cpcstats.reporting.style` (re-exported here: ``SIMULATED_MARK`` and
``save_figure`` have always been importable from this module).
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
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)
from matplotlib.transforms import Bbox

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.labels import Labels, default_labels
from cpcstats.reporting.style import (
    PNG_DPI,
    SIMULATED_MARK,
    finish_plot,
    layout_figure,
    mark_simulated,
    new_figure,
    save_figure,
    style,
)
from cpcstats.reporting.tables import split_part

__all__ = [
    "PNG_DPI",
    "SIMULATED_MARK",
    "log_axis_ticks",
    "model_label",
    "plot_irr",
    "plot_yearly_contacts",
    "save_figure",
    "tick_label_boxes",
]

_MARKERS = ("o", "s", "D", "^", "v", "P", "X")
_SERIES_LABELS = {
    "total": "Total",
    "party": "Party contacts",
    "ruling": "Ruling parties",
    "opposition": "Opposition parties",
    "non_party": "Non-party actors",
}


def model_label(model: FitResult, labels: Labels | None = None) -> str:
    """A model's reader's title: the labels file's ``[models]`` entry, else the spec's title.

    Why both: the labels file is the one place a user renames things; a model it does not
    name still has the title its specification gives (``title = ...``), which reads better
    than the internal name (``party_nb_ruling_fh``) the labels' fallback would make readable.
    """
    title = model.extra.get("title") if isinstance(model.extra, dict) else None
    default = str(title).replace(" x ", " × ") if title else None
    return (labels or default_labels()).model(model.name, default=default)


def _series_label(name: str) -> str:
    return _SERIES_LABELS.get(name, name.replace("_", " ").capitalize())


def plot_yearly_contacts(
    yearly: pd.DataFrame,
    *,
    break_year: int,
    simulated: bool,
    stem: Path | None = None,
    title: str | None = None,
) -> Figure:
    """Contacts per year, one line per series, with the Xi-era break marked (Figure 1).

    ``yearly`` has a ``year`` column and one or more numeric count columns.
    The dashed line sits at ``break_year - 0.5`` so the first Xi-era year lies
    to its right.  Returns the figure (saved to ``<stem>.pdf/.png`` when ``stem`` is given).
    """
    if "year" not in yearly.columns:
        raise ValueError("yearly needs a 'year' column")
    series = [c for c in yearly.columns if c != "year" and pd.api.types.is_numeric_dtype(yearly[c])]
    if not series:
        raise ValueError("yearly needs at least one numeric count column besides 'year'")
    data = yearly.sort_values("year", kind="mergesort")
    years = data["year"].to_numpy(dtype=float)

    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        palette = sns.color_palette("colorblind", len(series))
        for i, (col, colour) in enumerate(zip(series, palette, strict=True)):
            is_total = col == "total"
            ax.plot(
                years,
                data[col].to_numpy(dtype=float),
                label=_series_label(col),
                color="black" if is_total else colour,
                linewidth=2.2 if is_total else 1.5,
                marker=_MARKERS[i % len(_MARKERS)],
                markersize=4,
            )
        mark_break(ax, break_year)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Year")
        ax.set_ylabel("Contacts per year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if title:
            ax.set_title(textwrap.fill(title, 70))
        ax.legend(frameon=False, loc="best", fontsize=9)
        return finish_plot(fig, stem, simulated=simulated)


def mark_break(ax: Axes, break_year: int) -> None:
    """The dashed Xi-era line at ``break_year - 0.5`` with its label (Figures 1 and 2)."""
    ax.axvline(break_year - 0.5, color="0.35", linestyle="--", linewidth=1.2)
    ax.text(
        break_year - 0.5,
        0.97,
        f" Xi era (from {break_year})",
        transform=ax.get_xaxis_transform(),
        ha="left",
        va="top",
        fontsize=9,
        color="0.25",
    )


def _default_terms(models: Sequence[FitResult]) -> list[str]:
    """Count-equation terms in order of first appearance, without the constant."""
    terms: dict[str, None] = {}
    for m in models:
        for term in m.params.index:
            term = str(term)
            if term != "Intercept" and not split_part(term)[0]:
                terms.setdefault(term, None)
    return list(terms)


#: LogLocator ``subs`` tried in turn until the axis has enough candidate ticks.
_LOG_SUBS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0), tuple(range(1, 10)))


def log_axis_ticks(low: float, high: float, *, minimum: int = 4) -> list[float]:
    """Candidate major ticks of a log axis from matplotlib's `LogLocator`, 1 always among them.

    The decades first; when the axis spans too few of them, 1-2-5 and then finer
    mantissas (``subs``), so a narrow axis (0.8-1.3) still gets ticks; narrower still
    (0.97-1.03), evenly spaced ticks from `MaxNLocator`.  Which of them are
    labelled is decided from the drawn labels' sizes (`_prune_colliding_ticks`).
    """
    inside: list[float] = []
    for subs in _LOG_SUBS:
        values = LogLocator(base=10.0, subs=subs).tick_values(low, high)
        inside = sorted({float(f"{v:.6g}") for v in values if low <= v <= high})
        if len(inside) >= minimum:
            break
    else:  # narrower than any mantissa grid: evenly spaced ticks inside it
        values = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
        inside = sorted({float(f"{v:.6g}") for v in values if low <= v <= high} | set(inside))
    if low <= 1.0 <= high and 1.0 not in inside:
        inside = sorted({*inside, 1.0})
    return inside


def _tick_priority(value: float) -> tuple[int, float]:
    """1 first, then the decades, then 2 and 5 times a decade, then the rest."""
    mantissa = float(f"{value / 10.0 ** np.floor(np.log10(value)):.6g}")
    rank = 0 if value == 1.0 else 1 if mantissa == 1.0 else 2 if mantissa in (2.0, 5.0) else 3
    return rank, value


def tick_label_boxes(fig: Figure, ax: Axes) -> list[tuple[float, str, Bbox]]:
    """The drawn major x tick labels inside the view: ``(value, text, window extent)``.

    Public so a test can check exactly what a reader sees (unique, non-overlapping labels).
    """
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    low, high = sorted(ax.get_xlim())
    out = []
    for tick in ax.xaxis.get_major_ticks():
        value, label = float(tick.get_loc()), tick.label1
        if low <= value <= high and label.get_visible() and label.get_text():
            out.append((value, label.get_text(), label.get_window_extent(renderer)))
    return out


def _prune_colliding_ticks(fig: Figure, ax: Axes, *, pad: float = 6.0) -> list[float]:
    """Keep only the major ticks whose drawn labels are ``pad`` pixels apart or more.

    Why measured: whether "1" and "1.25" collide depends on the axis width, font and
    dpi; the labels' window extents on the figure's own renderer say it exactly.  Ticks
    are kept by priority (`_tick_priority`), so 1 and the decades survive.
    """
    boxes = {value: box.padded(pad / 2) for value, _, box in tick_label_boxes(fig, ax)}
    kept: list[float] = []
    for tick in sorted(boxes, key=_tick_priority):
        if all(not boxes[tick].overlaps(boxes[k]) for k in kept):
            kept.append(tick)
    kept.sort()
    ax.xaxis.set_major_locator(FixedLocator(kept))
    return kept


def _draw_model(
    ax: Axes,
    model: FitResult,
    name: str,
    chosen: Sequence[str],
    offset: float,
    marker: str,
    colour: object,
) -> list[float]:
    """One model's IRRs with their 95% CIs, dodged by ``offset``; returns the CI bounds.

    Terms the model lacks or whose IRR or bounds are not finite and positive (a log
    axis cannot show them) are skipped.  A model that did not converge gets hollow
    markers and says so in the legend.
    """
    table = model.irr()
    ys, xs, lo, hi, bounds = [], [], [], [], []
    for i, term in enumerate(chosen):
        if term not in table.index:
            continue
        row = table.loc[term]
        values = (float(row["irr"]), float(row["lower"]), float(row["upper"]))
        if not all(np.isfinite(v) and v > 0 for v in values):
            continue
        ys.append(i + offset)
        xs.append(values[0])
        lo.append(values[0] - values[1])
        hi.append(values[2] - values[0])
        bounds += [values[1], values[2]]
    ax.errorbar(
        xs,
        ys,
        xerr=[lo, hi],
        fmt=marker,
        color=colour,
        markerfacecolor=colour if model.converged else "white",
        markersize=5,
        capsize=2.5,
        elinewidth=1.3,
        label=textwrap.fill(name if model.converged else f"{name} (did not converge)", 60),
    )
    return bounds


def _irr_axes(ax: Axes, rows: Sequence[str], bounds: Sequence[float]) -> None:
    """The log IRR axis around 1 and every CI bound, and one labelled row per term."""
    ax.axvline(1.0, color="0.3", linestyle=":", linewidth=1.2, zorder=0)
    ax.set_xscale("log")
    if bounds:
        low = min(min(bounds), 1.0) / 1.08
        high = max(max(bounds), 1.0) * 1.08
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator(log_axis_ticks(low, high)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Incidence-rate ratio (95% CI, log scale)")


def plot_irr(
    models: Sequence[FitResult],
    *,
    stem: Path | None = None,
    terms: Sequence[str] | None = None,
    simulated: bool,
    model_names: Sequence[str] | None = None,
    labels: Labels | None = None,
) -> Figure:
    """IRRs with 95% CIs on a log axis, one dodged colour/marker per model.

    ``terms`` defaults to every count-equation term except the constant; rows and the
    legend read ``labels`` (default: the packaged labels file; ``model_names`` overrides
    the legend).  The log axis's ticks come from `LogLocator` and only those whose labels
    do not collide are kept.  Models that did not converge keep their points but get
    hollow markers and "(did not converge)" in the legend.  Returns the figure (saved to
    ``<stem>.pdf/.png`` when ``stem`` is given).
    """
    models = list(models)
    if not models:
        raise ValueError("plot_irr needs at least one model")
    labels = labels or default_labels()
    names = [model_label(m, labels) for m in models] if model_names is None else list(model_names)
    if len(names) != len(models):
        raise ValueError(f"{len(names)} model_names for {len(models)} models")
    chosen = list(terms) if terms is not None else _default_terms(models)
    chosen = [t for t in chosen if any(t in m.params.index for m in models)]
    if not chosen:
        raise ValueError("none of the requested terms is in any model")

    n = len(models)
    offsets = np.linspace(-0.3, 0.3, n) if n > 1 else np.zeros(1)
    with style():
        fig = new_figure(7.0, max(2.6, 0.55 * len(chosen) * max(1.0, n / 2.5) + 1.4))
        ax = fig.add_subplot()
        palette = sns.color_palette("colorblind", n)
        bounds: list[float] = []
        for j, (m, name, colour) in enumerate(zip(models, names, palette, strict=True)):
            bounds += _draw_model(
                ax, m, name, chosen, offsets[j], _MARKERS[j % len(_MARKERS)], colour
            )
        _irr_axes(ax, [labels.term(t) for t in chosen], bounds)
        if n > 1 or not models[0].converged:
            ax.legend(
                frameon=False,
                fontsize=9,
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncol=1 if max(len(x) for x in names) > 28 else min(n, 3),
            )
        if simulated:
            mark_simulated(fig)
        layout_figure(fig, simulated=simulated)
        if bounds:  # prune on the final layout, then lay out again without the dropped labels
            _prune_colliding_ticks(fig, ax)
            layout_figure(fig, simulated=simulated)
        if stem is not None:
            save_figure(fig, stem)
        return fig
