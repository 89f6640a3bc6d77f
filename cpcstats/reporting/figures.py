"""Publication figures: yearly contact series and IRR coefficient plots.

The look, canvas, simulated-data mark and deterministic saving are those of
`cpcstats.reporting.style` (re-exported here: ``SIMULATED_MARK`` and ``save_figure``
have always been importable from this module).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.style import (
    PNG_DPI,
    SIMULATED_MARK,
    finish_figure,
    new_figure,
    save_figure,
    style,
)
from cpcstats.reporting.tables import pretty_term, split_part

__all__ = ["PNG_DPI", "SIMULATED_MARK", "plot_irr", "plot_yearly_contacts", "save_figure"]

_MARKERS = ("o", "s", "D", "^", "v", "P", "X")
_SERIES_LABELS = {
    "total": "Total",
    "party": "Party contacts",
    "ruling": "Ruling parties",
    "opposition": "Opposition parties",
    "non_party": "Non-party actors",
}


def _series_label(name: str) -> str:
    return _SERIES_LABELS.get(name, name.replace("_", " ").capitalize())


def plot_yearly_contacts(
    yearly: pd.DataFrame,
    *,
    break_year: int,
    simulated: bool,
    stem: Path,
    title: str | None = None,
) -> list[Path]:
    """Contacts per year, one line per series, with the Xi-era break marked.

    ``yearly`` has a ``year`` column and one or more numeric count columns.
    The dashed line sits at ``break_year - 0.5`` so the first Xi-era year lies
    to its right.  Returns the written ``[pdf, png]`` paths.
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
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Year")
        ax.set_ylabel("Contacts per year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if title:
            ax.set_title(title)
        ax.legend(frameon=False, loc="upper left", fontsize=9)
        return finish_figure(fig, stem, simulated=simulated)


def _default_terms(models: Sequence[FitResult]) -> list[str]:
    """Count-equation terms in order of first appearance, without the constant."""
    terms: dict[str, None] = {}
    for m in models:
        for term in m.params.index:
            term = str(term)
            if term != "Intercept" and not split_part(term)[0]:
                terms.setdefault(term, None)
    return list(terms)


def _log_ticks(low: float, high: float) -> list[float]:
    """Readable ticks (0.5, 1, 2, ...) for a log axis that may span less than a decade."""
    mantissas = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
    candidates = [
        m * 10.0**k
        for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in mantissas
    ]
    inside = [t for t in candidates if low <= t <= high]
    step = max(1, math.ceil(len(inside) / 8))
    ticks = inside[::step]
    if 1.0 not in ticks and low <= 1.0 <= high:
        ticks = sorted({*ticks, 1.0})
    return ticks


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
        label=name if model.converged else f"{name} (did not converge)",
    )
    return bounds


def _irr_axes(ax: Axes, chosen: Sequence[str], bounds: Sequence[float]) -> None:
    """The log IRR axis around 1 and every CI bound, and one labelled row per term."""
    ax.axvline(1.0, color="0.3", linestyle=":", linewidth=1.2, zorder=0)
    ax.set_xscale("log")
    if bounds:
        low = min(min(bounds), 1.0) / 1.08
        high = max(max(bounds), 1.0) * 1.08
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator(_log_ticks(low, high)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(chosen)), [pretty_term(t) for t in chosen])
    ax.set_ylim(len(chosen) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Incidence-rate ratio (95% CI, log scale)")


def plot_irr(
    models: Sequence[FitResult],
    *,
    stem: Path,
    terms: Sequence[str] | None = None,
    simulated: bool,
    model_names: Sequence[str] | None = None,
) -> list[Path]:
    """IRRs with 95% CIs on a log axis, one dodged colour/marker per model.

    ``terms`` defaults to every count-equation term except the constant.
    Models that did not converge keep their points but get hollow markers and
    "(did not converge)" in the legend.  Returns the written ``[pdf, png]`` paths.
    """
    models = list(models)
    if not models:
        raise ValueError("plot_irr needs at least one model")
    names = [m.name for m in models] if model_names is None else list(model_names)
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
        _irr_axes(ax, chosen, bounds)
        if n > 1 or not models[0].converged:
            ax.legend(
                frameon=False,
                fontsize=9,
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncol=min(n, 3),
            )
        return finish_figure(fig, stem, simulated=simulated)
