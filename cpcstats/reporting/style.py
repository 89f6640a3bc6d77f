"""The look every cpcstats figure shares: theme, canvas, simulated-data mark, saving.

Public so that every module drawing a figure (reporting's own plots, the designs, the topic
figure) uses one style instead of reaching into another module's private helpers.

Figures are drawn on bare `matplotlib.figure.Figure` objects with the Agg canvas,
never through ``pyplot``: nothing is registered globally (so there is nothing left open to
leak) and importing this module does not switch the backend of a user's notebook.  The theme
is seaborn's inside ``rc_context`` so the caller's rcParams are restored afterwards.  Every
figure is written as both PDF and PNG without time stamps or software versions in the
metadata, so reruns produce identical bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cpcstats.io import write_atomic

__all__ = [
    "PNG_DPI",
    "SIMULATED_MARK",
    "finish_figure",
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


def new_figure(width: float, height: float) -> Figure:
    """A figure with its own Agg canvas (inches), outside pyplot's global registry."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


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


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``<stem>.pdf`` and ``<stem>.png`` atomically, without run-dependent metadata."""
    stem = Path(stem)
    paths = []
    for fmt, metadata in (("pdf", {"CreationDate": None}), ("png", {"Software": None})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=metadata)
        paths.append(write_atomic(stem.parent / f"{stem.name}.{fmt}", buffer.getvalue()))
    return paths


def finish_figure(fig: Figure, stem: str | Path, *, simulated: bool) -> list[Path]:
    """Mark a simulated figure, lay it out (leaving room for the mark's caption), save it.

    The last three steps of every cpcstats figure, in one place so the caption strip and
    the layout are the same everywhere.  Returns the written ``[pdf, png]`` paths.
    """
    if simulated:
        mark_simulated(fig)
    fig.tight_layout(rect=(0, 0.04 if simulated else 0, 1, 1))
    return save_figure(fig, stem)
