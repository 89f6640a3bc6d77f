"""The LaTeX renderer: a booktabs ``table`` float that needs only ``\\usepackage{booktabs}``."""

from __future__ import annotations

from collections.abc import Sequence

from cpcstats.reporting.tables.layout import Layout
from cpcstats.reporting.tables.text import (
    latex_escape,
    needs_unicode_engine,
    safe_label,
    unicode_header,
)

__all__ = ["column_count", "render_latex"]


def column_count(layout: Layout) -> int:
    """Columns of the grid including the stub: from the header, else from the first row."""
    return layout.ncol


def _latex_row(cells: Sequence[str]) -> str:
    """One tabular row; a first cell starting with ``*`` would be read as ``\\\\*``."""
    first = list(cells)
    if first and first[0].startswith("*"):
        first[0] = "{}" + first[0]
    return " & ".join(first) + r" \\"


def _body(layout: Layout, ncol: int) -> list[str]:
    """Header rows, then each block after a ``\\midrule`` with its italic title row."""
    out = [_latex_row([latex_escape(h) for h in header]) for header in layout.header_rows]
    for block in layout.blocks:
        out.append(r"\midrule")
        if block.title:
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{latex_escape(block.title)}}}}} \\")
        for row in block.rows:
            out.append(_latex_row([latex_escape(row.label), *(c.latex() for c in row.cells)]))
    return out


def _notes(layout: Layout) -> list[str]:
    """The notes in a footnote-size paragraph under the tabular; strong ones in bold."""
    if not layout.notes:
        return []
    out = [r"\par\smallskip", r"{\footnotesize\raggedright"]
    for note in layout.notes:
        text = latex_escape(note.text)
        out.append((rf"\textbf{{{text}}}" if note.strong else text) + r"\par")
    out.append("}")
    return out


def render_latex(layout: Layout) -> str:
    """booktabs LaTeX in a ``table`` float.

    With non-Latin text the text starts with a comment naming lualatex and
    `cpcstats.reporting.tables.text.UNICODE_PREAMBLE`; Latin text compiles with
    pdflatex.
    """
    ncol = column_count(layout)
    out = [r"\begin{table}[htbp]", r"\centering"]
    if layout.title:
        out.append(rf"\caption{{{latex_escape(layout.title)}}}")
    label = safe_label(layout.label)
    if label:
        out.append(rf"\label{{{label}}}")
    out.append(rf"\begin{{tabular}}{{l{'c' * (ncol - 1)}}}")
    out.append(r"\toprule")
    out.extend(_body(layout, ncol))
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    out.extend(_notes(layout))
    out.append(r"\end{table}")
    text = "\n".join(out) + "\n"
    if needs_unicode_engine(text):
        text = unicode_header(text) + text
    return text
