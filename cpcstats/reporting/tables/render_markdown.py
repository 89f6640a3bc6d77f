"""The Markdown renderer: a pipe table followed by the notes as paragraphs.

Pipe tables have no spanning cells, so a spanning header
(`cpcstats.reporting.tables.layout.HeaderCell`) is repeated in every column it spans
(`cpcstats.reporting.tables.layout.expand_header`): each column still says which group
it belongs to.
"""

from __future__ import annotations

from cpcstats.reporting.tables.layout import Layout, expand_header
from cpcstats.reporting.tables.text import markdown_escape

__all__ = ["render_markdown"]


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(layout: Layout) -> str:
    """A pipe table; header rows after the first (the families) become the first body rows."""
    ncol = layout.ncol
    headers = tuple(expand_header(row) for row in layout.header_rows) or (("",) * ncol,)
    lines = [_line([markdown_escape(h) for h in headers[0]])]
    lines.append("|:---" + "|:---:" * (ncol - 1) + "|")
    for header in headers[1:]:
        lines.append(_line([markdown_escape(h) for h in header]))
    for block in layout.blocks:
        if block.title:
            lines.append(_line([f"**{markdown_escape(block.title)}**"] + [""] * (ncol - 1)))
        for row in block.rows:
            cells = [markdown_escape(row.label), *(markdown_escape(c.text()) for c in row.cells)]
            lines.append(_line(cells))
    parts = []
    if layout.title:
        parts.append(f"**{markdown_escape(layout.title)}**")
    parts.append("\n".join(lines))
    for note in layout.notes:
        text = markdown_escape(note.text)
        parts.append(f"**{text}**" if note.strong else text)
    return "\n\n".join(parts) + "\n"
