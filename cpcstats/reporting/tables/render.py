"""The one registry of table renderers: file suffix -> function from a layout to its text.

Adding an output format is one renderer module (``Layout -> str``) plus one line here;
`cpcstats.reporting.write.write_table`, the replication's ``formats`` setting and the
tables' ``to_*`` methods all read this mapping.  The DataFrame renderer
(`cpcstats.reporting.tables.render_frame.render_frame`) returns a frame, not a file,
so it is not a file format here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cpcstats.io import write_atomic
from cpcstats.reporting.tables.layout import Layout
from cpcstats.reporting.tables.render_html import render_html
from cpcstats.reporting.tables.render_latex import render_latex
from cpcstats.reporting.tables.render_markdown import render_markdown

__all__ = ["RENDERERS", "Renderer", "render"]

#: What a renderer is: the whole table as text in one format.
Renderer = Callable[[Layout], str]

#: file suffix -> renderer (LaTeX, Markdown, HTML); ``formats = [...]`` names these keys.
RENDERERS: dict[str, Renderer] = {
    "tex": render_latex,
    "md": render_markdown,
    "html": render_html,
}


def render(layout: Layout, fmt: str, path: str | Path | None = None) -> str:
    """The layout in format ``fmt`` (a key of `RENDERERS`), written to ``path`` if given."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown table format {fmt!r}; known: {', '.join(RENDERERS)}") from None
    text = renderer(layout)
    if path is not None:
        write_atomic(path, text)
    return text
