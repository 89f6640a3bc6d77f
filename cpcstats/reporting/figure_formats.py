"""Which files a figure is written to: the run's figure formats (PDF and PNG by default).

Why its own module: the replication configuration checks ``[figures] formats`` and the
CLI's ``check`` reads that configuration, which must not import matplotlib; `style`
saves figures in the formats set here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from cpcstats.tomlio import check_choices

__all__ = ["FIGURE_FORMATS", "check_figure_formats", "current_figure_formats", "figure_formats"]

#: the figure formats, in the order they are written, each with the metadata that keeps
#: its bytes free of dates and versions
FIGURE_FORMATS: dict[str, dict[str, None]] = {
    "pdf": {"CreationDate": None},
    "png": {"Software": None},
}

_FIGURE_FORMATS: ContextVar[tuple[str, ...]] = ContextVar(
    "cpcstats_figure_formats", default=tuple(FIGURE_FORMATS)
)


def check_figure_formats(formats: Sequence[str], *, file: str | None = None) -> tuple[str, ...]:
    """The formats in the order of `FIGURE_FORMATS`, refusing unknown, repeated or no
    formats (a typo must not silently drop the figures of a run)."""
    chosen = check_choices(
        formats, FIGURE_FORMATS, what="figure format", column="[figures] formats", file=file
    )
    return tuple(f for f in FIGURE_FORMATS if f in chosen)


def current_figure_formats() -> tuple[str, ...]:
    """The formats figures are saved in now (the run's, else PDF and PNG)."""
    return _FIGURE_FORMATS.get()


@contextmanager
def figure_formats(formats: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Within the block, `save_figure` writes ``formats`` only (restored on exit).

    Why: drawing a figure costs as much again per format; a run that needs only PNG for a
    web page, or only PDF for a journal, should not pay for both.
    """
    token = _FIGURE_FORMATS.set(check_figure_formats(formats))
    try:
        yield _FIGURE_FORMATS.get()
    finally:
        _FIGURE_FORMATS.reset(token)
