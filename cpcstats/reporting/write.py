"""Writing a finished table to the files a run asks for.

Why here and not in a design: every producer of tables (the replication's model tables, the
designs, the topic counts, the diagnostics) writes them the same way, so the choice of
formats is made once.  A run writes LaTeX, Markdown and HTML unless its configuration asks
for other formats (``formats = ["tex", "md"]`` in the replication configuration); the
replication sets the run's formats with `table_formats`, and `write_table`
uses them, so the designs need no extra parameter to honour the configuration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from cpcstats.reporting.tables.layout import Layout
from cpcstats.reporting.tables.render import RENDERERS, Renderer, render
from cpcstats.tomlio import check_choices

__all__ = [
    "DEFAULT_FORMATS",
    "TABLE_FORMATS",
    "RenderableTable",
    "check_formats",
    "current_formats",
    "table_formats",
    "write_table",
]


class RenderableTable(Protocol):
    """What a table needs to be written: its layout (every table type in
    `cpcstats.reporting.tables` has one); the renderers do the rest."""

    def layout(self) -> Layout: ...


#: file suffix -> renderer: the one registry of table formats
#: (`cpcstats.reporting.tables.render.RENDERERS`, the same mapping).
TABLE_FORMATS: dict[str, Renderer] = RENDERERS
DEFAULT_FORMATS: tuple[str, ...] = ("tex", "md", "html")

_FORMATS: ContextVar[tuple[str, ...]] = ContextVar(
    "cpcstats_table_formats", default=DEFAULT_FORMATS
)


def check_formats(formats: Sequence[str], *, file: str | None = None) -> tuple[str, ...]:
    """The formats as a tuple, refusing unknown or repeated ones (a typo must not silently
    drop a table format from a run)."""
    return check_choices(formats, TABLE_FORMATS, what="table format", column="formats", file=file)


def current_formats() -> tuple[str, ...]:
    """The formats tables are written in now (the run's, else ``DEFAULT_FORMATS``)."""
    return _FORMATS.get()


@contextmanager
def table_formats(formats: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Within the block, `write_table` writes ``formats`` (restored on exit)."""
    token = _FORMATS.set(check_formats(formats))
    try:
        yield _FORMATS.get()
    finally:
        _FORMATS.reset(token)


def write_table(
    table: RenderableTable, out: Path, stem: str, formats: Sequence[str] | None = None
) -> list[Path]:
    """Write a table as ``out/tables/<stem>.<format>`` for each format, in order.

    ``formats`` defaults to the run's (`table_formats`), which is ``.tex``, ``.md`` then
    ``.html`` unless the configuration asked for others.  Returns the written paths.
    """
    chosen = current_formats() if formats is None else check_formats(formats)
    paths = []
    for fmt in chosen:
        path = Path(out) / "tables" / f"{stem}.{fmt}"
        render(table.layout(), fmt, path)
        paths.append(path)
    return paths
