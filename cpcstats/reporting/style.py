"""The look every cpcstats figure shares: theme, canvas, simulated-data mark, saving.

Public so that every module drawing a figure (reporting's own plots, the designs, the topic
figure) uses one style instead of reaching into another module's private helpers.

Figures are drawn on bare `matplotlib.figure.Figure` objects with the Agg canvas,
never through ``pyplot``: nothing is registered globally (so there is nothing left open to
leak) and importing this module does not switch the backend of a user's notebook.  The theme
is seaborn's inside ``rc_context`` so the caller's rcParams are restored afterwards.  Every
figure is written in the run's figure formats (`figure_formats`: PDF and PNG unless a run
asks for one of them) without time stamps or software versions in the metadata, so reruns
produce identical bytes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine

from cpcstats.io import write_atomic
from cpcstats.reporting.figure_formats import (
    FIGURE_FORMATS,
    check_figure_formats,
    current_figure_formats,
    figure_formats,
)

__all__ = [
    "FIGURE_FORMATS",
    "PNG_DPI",
    "SIMULATED_MARK",
    "ExhibitFigure",
    "check_figure_formats",
    "current_figure_formats",
    "figure_formats",
    "figure_note",
    "figure_paths",
    "finish_figure",
    "finish_plot",
    "layout_figure",
    "load_figure_savers",
    "mark_simulated",
    "new_figure",
    "save_figure",
    "style",
]

SIMULATED_MARK = "SIMULATED DATA (demo study)"
PNG_DPI = 150


@contextmanager
def style() -> Iterator[None]:
    """Seaborn look for one figure; the caller's rcParams come back on exit."""
    with mpl.rc_context():
        sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.15)
        yield


class ExhibitFigure(Figure):
    """A matplotlib `Figure` that remembers the files it was saved to (``paths``).

    Why: the ``plot_*`` functions return the figure (to show in a notebook, restyle or save
    elsewhere) and save it only when given a ``stem``.  Callers written when they returned
    the saved ``[pdf, png]`` paths (``files += plot_irr(..., stem=...)``, ``paths[1]``) keep
    working because the figure iterates and indexes over ``paths``; new code reads
    ``fig.paths`` (transitional: the iteration goes once every caller uses ``paths``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paths: list[Path] = []

    def __iter__(self) -> Iterator[Path]:
        return iter(self.paths)

    def __getitem__(self, index: int) -> Path:
        return self.paths[index]

    def _repr_png_(self) -> bytes:
        """The figure as PNG for notebooks: figures made outside pyplot have no backend
        that displays them, so a returned figure showed nothing without ``%matplotlib``."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def new_figure(width: float, height: float) -> ExhibitFigure:
    """A figure with its own Agg canvas (inches), outside pyplot's global registry."""
    fig = ExhibitFigure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def load_figure_savers() -> None:
    """Save an empty figure as PDF and as PNG, into memory, so that what matplotlib imports
    at its first save (fontTools for the PDF fonts, the image plugins) is imported now.

    Why: a process that forks workers calls it first, so the workers share those modules
    instead of each importing them at its first figure (`cpcstats.replicate.parallel`).
    """
    fig = new_figure(1.0, 1.0)
    fig.add_subplot().set_title("x")
    for fmt, metadata in FIGURE_FORMATS.items():
        with style():
            fig.savefig(io.BytesIO(), format=fmt, metadata=metadata)


def mark_simulated(fig: Figure) -> None:
    """A diagonal watermark plus a red caption: demo numbers must not pass as results."""
    fig.text(
        0.5,
        0.5,
        SIMULATED_MARK,
        fontsize=26,
        color="tab:red",
        alpha=0.13,
        rotation=25,
        ha="center",
        va="center",
        fontweight="bold",
        zorder=0,
    )
    fig.text(
        0.01,
        0.012,
        SIMULATED_MARK,
        fontsize=9,
        color="tab:red",
        fontweight="bold",
        ha="left",
        va="bottom",
    )


def figure_note(fig: Figure, text: str, *, simulated: bool, width: int = 110) -> None:
    """A small grey note under the axes (what the figure leaves out, its period).

    Drawn as the figure's ``supxlabel`` so the tight layout makes room for it; above the
    simulated-data caption strip when there is one.
    """
    if not text:
        return
    fig.supxlabel(
        textwrap.fill(text, width),
        x=0.01,
        y=0.045 if simulated else 0.01,
        ha="left",
        va="bottom",
        fontsize=8,
        color="0.3",
    )


def figure_paths(stem: str | Path) -> list[Path]:
    """The files `save_figure` writes now: ``<stem>.pdf`` and ``<stem>.png`` by default,
    those of `figure_formats` within its block (a dot in the stem is kept)."""
    stem = Path(stem)
    return [stem.parent / f"{stem.name}.{fmt}" for fmt in current_figure_formats()]


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write the figure in each current format (`figure_paths`) atomically, without
    run-dependent metadata.

    Saved inside `style` so a figure drawn earlier is written with the same settings
    wherever it is saved from.
    """
    paths = []
    with style():
        for path in figure_paths(stem):
            fmt = path.suffix[1:]
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=FIGURE_FORMATS[fmt])
            paths.append(write_atomic(path, buffer.getvalue()))
    if isinstance(fig, ExhibitFigure):
        fig.paths = list(paths)
    return paths


def layout_figure(fig: Figure, *, simulated: bool) -> None:
    """Tight layout leaving the bottom strip for the simulated-data caption.

    The engine is run once and not left on the figure: ``Figure.tight_layout`` leaves a
    placeholder layout engine behind, for which every ``savefig`` draws the whole figure
    once more before drawing it into the file (two of a figure's five drawings, the
    same pixels and PDF operators; tests/test_figure_formats.py compares the bytes).
    """
    TightLayoutEngine(rect=(0, 0.04 if simulated else 0, 1, 1)).execute(fig)


def finish_plot(fig: Figure, stem: str | Path | None, *, simulated: bool) -> Figure:
    """Mark a simulated figure, lay it out, save it when ``stem`` is given; return it.

    The end of every ``plot_*`` function: the figure is the result, saving is optional
    (the replication passes a stem; a notebook user shows or saves the figure).
    """
    if simulated:
        mark_simulated(fig)
    layout_figure(fig, simulated=simulated)
    if stem is not None:
        save_figure(fig, stem)
    return fig


def finish_figure(fig: Figure, stem: str | Path, *, simulated: bool) -> list[Path]:
    """Mark a simulated figure, lay it out (leaving room for the mark's caption), save it.

    The last three steps of every cpcstats figure, in one place so the caption strip and
    the layout are the same everywhere.  Returns the written paths (`figure_paths`; the
    designs' figures use it; the ``plot_*`` functions use `finish_plot`).
    """
    finish_plot(fig, stem, simulated=simulated)
    return figure_paths(stem)
