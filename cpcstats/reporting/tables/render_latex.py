r"""The LaTeX renderer: booktabs tables placed on the page by rule, notes set to their width.

Every ``.tex`` file starts with a comment naming the packages it needs (`LATEX_PREAMBLE`:
booktabs, threeparttable, threeparttablex, siunitx, pdflscape, longtable, graphicx).
What is written:

* spanning header cells (`cpcstats.reporting.tables.layout.HeaderCell`) as
  ``\multicolumn{k}{c}{...}`` with a ``\cmidrule(lr)`` under each labelled span;
* notes under the table in a ``threeparttable`` (``tablenotes``), so they are as wide as
  the table (a long table: threeparttablex's ``ThreePartTable``, in its last foot); under
  a resized table, a footnote-size block as wide as the line;
* the placement chosen by `cpcstats.reporting.tables.page_fit.choose_placement`:
  a ``table`` float, the float on a ``landscape`` page, ``\resizebox`` to the line width, or
  a ``longtable`` that breaks across pages with its header repeated;
* columns of long text, when the rule wraps them, as ragged-right ``\parbox`` paragraphs;
* with ``Layout.decimal_align``, siunitx ``S`` columns aligned on the decimal point (stars
  and brackets are braced text beside the number, so they compile and align);
* a real minus sign (``$-$``) for every negative number, in cells given as text too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cpcstats.reporting.format import MINUS, format_number, minus_sign
from cpcstats.reporting.tables.layout import Cell, Layout, header_cells
from cpcstats.reporting.tables.page_fit import Placement, choose_placement, wrap_header
from cpcstats.reporting.tables.text import (
    LATEX_PREAMBLE,
    clean_text,
    latex_escape,
    needs_unicode_engine,
    preamble_header,
    safe_label,
    unicode_header,
)

__all__ = ["column_count", "latex_text", "render_latex"]

# A hyphen that is a minus sign: before a digit (or ".5"), not inside a word or a range.
_MINUS = re.compile(r"(?<![\w.)\]])-(?=\.?\d)")
_NUMBER = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def column_count(layout: Layout) -> int:
    """Columns of the grid including the stub: from the header, else from the first row."""
    return layout.ncol


def latex_text(text: str, *, raw: bool = False) -> str:
    """Text for LaTeX: escaped with real minus signs, or (``raw``) only cleaned."""
    if raw:
        return clean_text(text)
    return latex_escape(_MINUS.sub(MINUS, clean_text(text)))


def _latex_row(cells: Sequence[str]) -> str:
    """One tabular row; a first cell starting with ``*`` would be read as ``\\\\*``."""
    first = list(cells)
    if first and first[0].startswith("*"):
        first[0] = "{}" + first[0]
    return " & ".join(first) + r" \\"


# --------------------------------------------------------------------------- decimal columns


def _numeric_parts(cell: Cell) -> tuple[str, str, str] | None:
    """(text before, number, text after) of a numeric cell, for an siunitx ``S`` column."""
    if cell.value is None or isinstance(cell.value, str):
        return None
    number = format_number(cell.value, cell.digits)
    if not _NUMBER.match(number):
        return None
    return ("(" if cell.paren else ""), number, (")" if cell.paren else "") + cell.stars


def _decimal_columns(layout: Layout) -> dict[int, str]:
    """Column index -> siunitx column spec, for columns holding at least one number."""
    parts: dict[int, list[tuple[str, str, str]]] = {}
    grouped: set[int] = set()
    for block in layout.blocks:
        for row in block.rows:
            for j, cell in enumerate(row.cells, start=1):
                found = _numeric_parts(cell)
                if found:
                    parts.setdefault(j, []).append(found)
                    if cell.thousands:
                        grouped.add(j)
    specs = {}
    for j, items in sorted(parts.items()):
        matches = [_NUMBER.match(number) for _, number, _ in items]
        sign = "-" if any(m and m.group(1) for m in matches) else ""
        ints = max(len(m.group(2)) for m in matches if m)
        decs = max(len(m.group(3) or "") for m in matches if m)
        fmt = f"{sign}{ints}.{decs}" if decs else f"{sign}{ints}"
        pre = max((p for p, _, _ in items), key=len)
        post = max((a for _, _, a in items), key=len)
        opts = [f"table-format={fmt}", "table-align-text-before=false"]
        opts.append("table-align-text-after=false")
        # thousands separators as the other formats print them (1,234), else none
        opts += ["group-separator={,}", "group-minimum-digits=4"] if j in grouped else []
        opts += [] if j in grouped else ["group-digits=false"]
        if pre:
            opts.append(f"table-space-text-pre={{{pre}}}")
        if post:
            opts.append(f"table-space-text-post={{{post}}}")
        specs[j] = "S[" + ",".join(opts) + "]"
    return specs


def _cell_latex(cell: Cell, decimal: bool, raw: bool) -> str:
    """A body cell: braced text around the number in an ``S`` column, else the text."""
    if decimal:
        found = _numeric_parts(cell)
        if found:
            pre, number, post = found
            return (f"{{{pre}}}" if pre else "") + number + (f"{{{post}}}" if post else "")
        # text, an interval or nothing: centred over the S column, not aligned
        body = latex_text(cell.text(), raw=raw) if isinstance(cell.value, str) else cell.latex()
        return rf"\multicolumn{{1}}{{c}}{{{body}}}" if body else ""
    if isinstance(cell.value, str):
        return latex_text(cell.text(), raw=raw)
    return latex_escape(minus_sign(cell.text()))


# --------------------------------------------------------------------------- rows


def _header_text(lines: tuple[str, ...], raw: bool) -> str:
    """A header label; wrapped labels as a bottom-aligned one-column tabular."""
    if len(lines) == 1:
        return latex_text(lines[0], raw=raw)
    body = r" \\ ".join(latex_text(line, raw=raw) for line in lines)
    return rf"\begin{{tabular}}[b]{{@{{}}c@{{}}}}{body}\end{{tabular}}"


def _header(layout: Layout, place: Placement, decimal: dict[int, str]) -> list[str]:
    """Header rows: spans as ``\\multicolumn`` with ``\\cmidrule(lr)`` under labelled spans."""
    raw, wrap = layout.raw_latex, dict(place.wrap)
    out = []
    for row, lines_row in zip(layout.header_rows, place.header_lines, strict=True):
        cells, rules, col = [], [], 0
        for cell, lines in zip(header_cells(row), lines_row, strict=True):
            if cell.span == 1 and col in wrap:
                lines = wrap_header(cell.text, wrap[col], raw_latex=raw)
            text = _header_text(lines, raw)
            if cell.span > 1:
                cells.append(rf"\multicolumn{{{cell.span}}}{{c}}{{{text}}}")
                if cell.text.strip():
                    rules.append(rf"\cmidrule(lr){{{col + 1}-{col + cell.span}}}")
            elif col in decimal and text:
                cells.append(rf"\multicolumn{{1}}{{c}}{{{text}}}")
            else:
                cells.append(text)
            col += cell.span
        out.append(_latex_row(cells))
        if rules:
            out.append(" ".join(rules))
    return out


def _paragraph(text: str, width: float | None, *, stub: bool = False) -> str:
    """A cell of a wrapped text column: a paragraph ``width`` points wide, ragged right in
    the stub and centred in the body (as the body's ``c`` columns are)."""
    if width is None or not text:
        return text
    align = r"\raggedright" if stub else r"\centering"
    return rf"\parbox[t]{{{width}pt}}{{{align}\strut {text}\strut}}"


def _blocks(layout: Layout, decimal: dict[int, str], wrap: dict[int, float]) -> list[str]:
    """Each block after a ``\\midrule``, with its italic title row."""
    raw, ncol = layout.raw_latex, layout.ncol
    out = []
    for block in layout.blocks:
        out.append(r"\midrule")
        if block.title:
            title = latex_text(block.title, raw=raw)
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{title}}}}} \\")
        for row in block.rows:
            cells = [
                _paragraph(_cell_latex(c, j in decimal, raw), wrap.get(j))
                for j, c in enumerate(row.cells, start=1)
            ]
            label = _paragraph(latex_text(row.label, raw=raw), wrap.get(0), stub=True)
            out.append(_latex_row([label, *cells]))
    return out


def _notes_text(layout: Layout) -> list[str]:
    return [
        rf"\textbf{{{latex_text(n.text)}}}" if n.strong else latex_text(n.text)
        for n in layout.notes
    ]


def _note_block(layout: Layout) -> list[str]:
    """Notes as a footnote-size block as wide as the line (under a resized table)."""
    if not layout.notes:
        return []
    lines = [r"\par\smallskip", r"\noindent\begin{minipage}{\linewidth}\footnotesize\raggedright"]
    lines += [text + r"\par" for text in _notes_text(layout)]
    return [*lines, r"\end{minipage}"]


def _caption(layout: Layout, long: bool = False) -> list[str]:
    out = []
    if layout.title:
        out.append(rf"\caption{{{latex_text(layout.title)}}}")
    label = safe_label(layout.label)
    if label:
        out.append(rf"\label{{{label}}}")
    if long and out:
        out[-1] += r" \\"
    return out


def _spec(layout: Layout, decimal: dict[int, str]) -> str:
    return "l" + "".join(decimal.get(j, "c") for j in range(1, layout.ncol))


# --------------------------------------------------------------------------- placements


def _float(layout: Layout, place: Placement, decimal: dict[int, str]) -> list[str]:
    """A ``table`` float (resized to the line if the rule says so), notes under it."""
    tabular = [rf"\begin{{tabular}}{{{_spec(layout, decimal)}}}", r"\toprule"]
    tabular += [*_header(layout, place, decimal), *_blocks(layout, decimal, dict(place.wrap))]
    tabular += [r"\bottomrule", r"\end{tabular}"]
    out = [r"\begin{table}[htbp]", r"\centering"]
    if place.font_size:
        out.append(place.font_size)
    if place.kind == "resize":
        out += _caption(layout)
        out += [r"\resizebox{\linewidth}{!}{%", *tabular[:-1], tabular[-1] + "}"]
        out += _note_block(layout)
    elif layout.notes:
        out += [r"\begin{threeparttable}", *_caption(layout), *tabular]
        out += [r"\begin{tablenotes}[flushleft]", r"\footnotesize"]
        out += [rf"\item {text}" for text in _notes_text(layout)]
        out += [r"\end{tablenotes}", r"\end{threeparttable}"]
    else:
        out += [*_caption(layout), *tabular]
    return [*out, r"\end{table}"]


def _longtable(layout: Layout, place: Placement, decimal: dict[int, str]) -> list[str]:
    """A ``longtable`` breaking across pages, header repeated, notes as wide as the table
    after the last row (threeparttablex's ``ThreePartTable``)."""
    ncol = layout.ncol
    head = [r"\toprule", *_header(layout, place, decimal)]
    blocks = _blocks(layout, decimal, dict(place.wrap))
    out = ["{" + place.font_size if place.font_size else "{"]
    if layout.notes:
        out += [r"\begin{ThreePartTable}", r"\begin{TableNotes}[flushleft]", r"\footnotesize"]
        out += [rf"\item {text}" for text in _notes_text(layout)]
        out += [r"\end{TableNotes}"]
    out += [rf"\begin{{longtable}}{{{_spec(layout, decimal)}}}"]
    out += [*_caption(layout, long=True), *head, r"\midrule", r"\endfirsthead"]
    out += [rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{(continued)}}}} \\", *head, r"\midrule"]
    out += [r"\endhead", r"\midrule"]
    out += [rf"\multicolumn{{{ncol}}}{{r}}{{\textit{{continued on the next page}}}} \\"]
    out += [r"\endfoot", r"\bottomrule"]
    out += [r"\insertTableNotes \\"] if layout.notes else []
    out += [r"\endlastfoot"]
    out += blocks[1:]  # the first block's \midrule closes the header
    out += [r"\end{longtable}"]
    out += [r"\end{ThreePartTable}"] if layout.notes else []
    return [*out, "}"]


def render_latex(layout: Layout) -> str:
    """The table as LaTeX, placed by `cpcstats.reporting.tables.page_fit.choose_placement`.

    The file starts with a comment naming the packages of `LATEX_PREAMBLE`; with
    non-Latin text it starts with a comment naming lualatex and
    `cpcstats.reporting.tables.text.UNICODE_PREAMBLE`.  Identical input gives identical
    bytes.
    """
    decimal = _decimal_columns(layout) if layout.decimal_align else {}
    probe = latex_escape(
        " ".join([layout.title or "", *(n.text for n in layout.notes), _plain(layout)])
    )
    unicode_engine = needs_unicode_engine(probe)
    place = choose_placement(layout, unicode_engine=unicode_engine)
    if place.kind == "long":
        out = _longtable(layout, place, decimal)
    else:
        out = _float(layout, place, decimal)
    if place.landscape:
        out = [r"\begin{landscape}", *out, r"\end{landscape}"]
    text = "\n".join(out) + "\n"
    header = preamble_header(place.kind, LATEX_PREAMBLE)
    if needs_unicode_engine(text):
        header = unicode_header(text) + header
    return header + text


def _plain(layout: Layout) -> str:
    """All labels and cells as one string (to decide the engine before laying out)."""
    parts = [h.text for row in layout.header_rows for h in header_cells(row)]
    for block in layout.blocks:
        parts += [block.title or ""]
        for row in block.rows:
            parts += [row.label, *(c.text() for c in row.cells)]
    return " ".join(parts)
