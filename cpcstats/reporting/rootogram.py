"""Hanging rootograms (Tukey 1977; Kleiber & Zeileis 2016) of fitted count models.

A hanging rootogram shows, for each count k, a bar of height sqrt(observed
frequency) hung from the curve of sqrt(expected frequency).  The square root
stabilises the variance so small frequencies in the tail stay visible, and
hanging the bars moves the comparison to the zero line: a bar ending below 0
means the model under-predicts that count (typically k = 0 for a Poisson fit to
data with excess zeros), one ending above 0 that it over-predicts it.  The
figure helpers (style, canvas, watermark, deterministic saving) are those of
`cpcstats.reporting.style`; `plot_rootogram` returns the matplotlib `Figure` and saves it
only when given a ``stem``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cpcstats.diagnostics import rootogram_data
from cpcstats.errors import SpecError
from cpcstats.estimation.results import FitResult
from cpcstats.reporting.labels import Labels, default_labels
from cpcstats.reporting.style import finish_plot, new_figure, style

__all__ = ["plot_rootogram"]

_REQUIRED = ("observed", "expected", "sqrt_observed", "sqrt_expected", "bottom")


def _rootogram_frame(
    result_or_data: FitResult | pd.DataFrame, simulated: bool
) -> tuple[pd.DataFrame, bool]:
    """The rootogram frame and whether it is simulated, refusing what cannot be drawn."""
    if isinstance(result_or_data, FitResult):
        data = rootogram_data(result_or_data)
        simulated = simulated or bool(result_or_data.simulated)
    elif isinstance(result_or_data, pd.DataFrame):
        data = result_or_data
        missing = [c for c in _REQUIRED if c not in data.columns]
        if missing:
            raise SpecError(
                f"rootogram data lacks column(s) {', '.join(missing)}",
                fix="pass a fitted model or the frame returned by rootogram_data()",
            )
        simulated = simulated or bool(data.attrs.get("simulated", False))
    else:
        raise SpecError(
            f"plot_rootogram takes a FitResult or a DataFrame, not {type(result_or_data).__name__}",
            fix="pass a model from cpcstats.fit or the frame from rootogram_data()",
        )
    if data.empty:
        raise SpecError("rootogram data has no rows", fix="pass rootogram_data(result)")
    return data, simulated


def _draw_expected(
    ax: Axes, x: np.ndarray, sqrt_exp: np.ndarray, pooled: np.ndarray, colour: object
) -> None:
    """The sqrt(expected) curve; a pooled tail is not the next count, so it is linked by a
    dotted line and drawn as an open marker."""
    body = ~pooled
    ax.plot(
        x[body],
        sqrt_exp[body],
        color=colour,
        marker="o",
        markersize=4,
        linewidth=1.8,
        label="√expected",
        zorder=3,
    )
    if not pooled.any():
        return
    last = int(np.flatnonzero(body)[-1]) if body.any() else None
    tail = np.flatnonzero(pooled)
    if last is not None:
        ax.plot(
            [x[last], x[tail[0]]],
            [sqrt_exp[last], sqrt_exp[tail[0]]],
            color=colour,
            linestyle=":",
            linewidth=1.4,
            zorder=3,
        )
    ax.plot(
        x[tail],
        sqrt_exp[tail],
        linestyle="none",
        marker="o",
        markersize=5,
        markerfacecolor="white",
        markeredgecolor=colour,
        label="√expected, pooled tail",
        zorder=3,
    )


def _rootogram_axes(ax: Axes, data: pd.DataFrame, top: float, bottom: np.ndarray) -> None:
    """Limits around zero and every bar, count ticks (at most ~20, always the last one)."""
    x = np.arange(len(data), dtype=float)
    labels = [str(i) for i in data.index]
    low = min(0.0, float(np.nanmin(bottom)))
    high = max(top, 1.0)
    pad = 0.06 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.axhline(0.0, color="black", linewidth=1.0, zorder=4)
    step = max(1, int(np.ceil(len(x) / 20)))
    shown = list(range(0, len(x), step))
    if shown[-1] != len(x) - 1:
        shown.append(len(x) - 1)  # always label the pooled tail
    ax.set_xticks(x[shown], [labels[i] for i in shown])
    ax.set_xlim(-0.7, len(x) - 0.3)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("Count")
    ax.set_ylabel("√Frequency")


def plot_rootogram(
    result_or_data: FitResult | pd.DataFrame,
    *,
    stem: str | Path | None = None,
    simulated: bool,
    title: str | None = None,
    labels: Labels | None = None,
) -> Figure:
    """Draw the hanging rootogram of a model (or of `rootogram_data` output).

    The last bar is the pooled upper tail when the data come from
    `cpcstats.diagnostics.rootogram_data`.  The simulated-data watermark is
    drawn when ``simulated`` is true or the model was fitted on simulated data, so
    demo numbers cannot pass as results.  The default title names the model by its
    reader's label (``labels``, default the packaged file) and its estimator.  Returns the
    figure (saved to ``<stem>.pdf/.png`` when ``stem`` is given).
    """
    data, simulated = _rootogram_frame(result_or_data, simulated)
    if title is None and "model" in data.attrs:
        model = (labels or default_labels()).model(str(data.attrs["model"]))
        title = f"Hanging rootogram: {model} ({data.attrs.get('family', '')})"
    x = np.arange(len(data), dtype=float)
    sqrt_exp = data["sqrt_expected"].to_numpy(dtype=float)
    sqrt_obs = data["sqrt_observed"].to_numpy(dtype=float)
    bottom = data["bottom"].to_numpy(dtype=float)
    pooled = (
        data["pooled"].to_numpy(dtype=bool)
        if "pooled" in data.columns
        else np.zeros(len(data), dtype=bool)
    )
    with style():
        colours = sns.color_palette("colorblind", 4)
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        ax.bar(
            x,
            sqrt_obs,
            bottom=bottom,
            width=0.8,
            color=colours[0],
            alpha=0.55,
            edgecolor=colours[0],
            linewidth=0.8,
            label="√observed (hanging)",
            zorder=2,
        )
        _draw_expected(ax, x, sqrt_exp, pooled, colours[3])
        top = max(float(np.nanmax(sqrt_exp)), float(np.nanmax(bottom + sqrt_obs)))
        _rootogram_axes(ax, data, top, bottom)
        if title:
            ax.set_title(title)
        ax.legend(frameon=False, loc="upper right", fontsize=9)
        return finish_plot(fig, stem, simulated=simulated)
