"""The HTML renderer: a self-contained ``<table>`` (caption, ``thead``, a ``tbody`` per block,
notes in ``tfoot``), entity-escaped.

Spanning headers (`cpcstats.reporting.tables.layout.HeaderCell`) become
``<th colspan="k">``.  Every string is escaped (`cpcstats.reporting.tables.text.html_escape`),
so the fragment is valid HTML on its own whatever a label contains.
"""

from __future__ import annotations

from cpcstats.reporting.tables.layout import Layout, header_cells
from cpcstats.reporting.tables.render_latex import column_count
from cpcstats.reporting.tables.text import html_escape as esc
from cpcstats.reporting.tables.text import safe_label

__all__ = ["render_html"]


def _head(layout: Layout) -> list[str]:
    if not layout.header_rows:
        return []
    rows = [
        "".join(
            f'<th colspan="{h.span}" style="text-align:center">{esc(h.text)}</th>'
            if h.span > 1
            else f"<th>{esc(h.text)}</th>"
            for h in header_cells(header)
        )
        for header in layout.header_rows
    ]
    return ["<thead>", *(f"<tr>{cells}</tr>" for cells in rows), "</thead>"]


def _blocks(layout: Layout, ncol: int) -> list[str]:
    out = []
    for block in layout.blocks:
        out.append("<tbody>")
        if block.title:
            out.append(
                f'<tr><th colspan="{ncol}" style="text-align:left">'
                f"<em>{esc(block.title)}</em></th></tr>"
            )
        for row in block.rows:
            cells = "".join(
                f'<td style="text-align:center">{esc(c.text())}</td>' for c in row.cells
            )
            out.append(f"<tr><td>{esc(row.label)}</td>{cells}</tr>")
        out.append("</tbody>")
    return out


def _foot(layout: Layout, ncol: int) -> list[str]:
    if not layout.notes:
        return []
    out = ["<tfoot>"]
    for note in layout.notes:
        text = f"<strong>{esc(note.text)}</strong>" if note.strong else esc(note.text)
        out.append(f'<tr><td colspan="{ncol}">{text}</td></tr>')
    out.append("</tfoot>")
    return out


def render_html(layout: Layout) -> str:
    """The table as one ``<table class="cpcstats-table">``; its label becomes the ``id``."""
    ncol = column_count(layout)
    label = safe_label(layout.label)
    table_id = f' id="{esc(label)}"' if label else ""
    out = [f'<table class="cpcstats-table"{table_id}>']
    if layout.title:
        out.append(f"<caption>{esc(layout.title)}</caption>")
    out += [*_head(layout), *_blocks(layout, ncol), *_foot(layout, ncol), "</table>"]
    return "\n".join(out) + "\n"
