r"""How a LaTeX table is put on the page, decided by rule from its content (no TeX run).

Why a rule and not per-table settings: the tables' content changes (labels, models, years),
and a table that fitted yesterday can run past the margin today.  The rule estimates the
table's natural width and height from what it will print -- per column the widest cell, in
Computer Modern 10 pt character widths (measured with pdflatex, `CHAR_WIDTHS`), plus
``2\tabcolsep`` -- and compares them with an A4 page with 2.5 cm margins
(`TEXT_WIDTH_PT` x `TEXT_HEIGHT_PT`):

1. fits the portrait text width and height, at 10 pt or in ``\small``: a ``table`` float
   (``"portrait"``); else, if it has columns of text (the stub, or columns without numbers)
   wider than `WRAP_MIN_PT`, those set as ragged-right paragraphs (``\parbox``) when that
   makes it fit;
2. else the same on a landscape page (``"landscape"``; wrapped text also in
   ``\footnotesize``);
3. else wider than a landscape page but, shrunk to its width (by no more than
   `MIN_SHRINK`), not taller: landscape and ``\resizebox`` to the line width (``"resize"``);
4. else (too tall for a page): a ``longtable`` that breaks across pages, portrait if it fits
   in ``\small`` or ``\footnotesize``, else landscape in the largest size whose width fits,
   text columns wrapped if that makes it fit (``"long"``).

Long header labels over narrow columns are broken into lines first (`wrap_header`), so a
header such as "Community of shared future" does not make its column three times as wide
as its numbers.  Estimates err on the wide side (`SAFETY`).  A ``Layout.placement`` other
than ``"auto"`` forces the choice.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, replace

from cpcstats.reporting.tables.layout import Layout, Row, header_cells

__all__ = [
    "CHAR_WIDTHS",
    "FLOAT_SIZES",
    "FONT_SIZES",
    "SAFETY",
    "TABCOLSEP_PT",
    "TEXT_HEIGHT_PT",
    "TEXT_WIDTH_PT",
    "Placement",
    "choose_placement",
    "column_widths",
    "text_width",
    "wrap_header",
]

#: A4 (21 cm x 29.7 cm) less 2.5 cm margins: 16 cm x 24.7 cm in TeX points.
TEXT_WIDTH_PT = 455.24
TEXT_HEIGHT_PT = 702.78
#: LaTeX's default ``\tabcolsep`` (space on each side of every column).
TABCOLSEP_PT = 6.0
#: Estimates are multiplied by this, so a table judged to fit does fit.
SAFETY = 1.04
#: Header labels are wrapped to at least this width (points) before widening a column.
MIN_HEADER_WIDTH_PT = 64.0
#: Text columns wider than this (points) may be set as paragraphs of at least this width.
WRAP_MIN_PT = 110.0
#: A table is resized only if that shrinks it to no less than this (else it would be unreadable).
MIN_SHRINK = 0.6
#: Height of one table row at 10 pt (``\baselineskip`` 12 pt) and of a booktabs rule's space.
ROW_HEIGHT_PT = 12.0
#: ``longtable`` font sizes tried in order, with their size relative to 10 pt.
FONT_SIZES: tuple[tuple[str, float], ...] = (
    ("", 1.0),
    (r"\small", 0.9),
    (r"\footnotesize", 0.8),
    (r"\scriptsize", 0.7),
    (r"\tiny", 0.5),
)
#: Font sizes a float may be set in before it goes landscape (a journal accepts ``\small``).
FLOAT_SIZES: tuple[str, ...] = ("", r"\small")

# Widths (pt) of the printable ASCII characters in Computer Modern Roman 10 pt, measured with
# pdflatex (\setbox0\hbox{c}\the\wd0) as the escaped text the LaTeX renderer writes.
_ASCII_WIDTHS = (
    "3.33 2.78 5.00 8.33 5.00 8.33 7.78 2.78 3.89 3.89 5.00 7.78 2.78 3.33 2.78 5.00 "  # ' '-/
    "5.00 5.00 5.00 5.00 5.00 5.00 5.00 5.00 5.00 5.00 2.78 2.78 7.78 7.78 7.78 4.72 "  # 0-?
    "7.78 7.50 7.08 7.22 7.64 6.81 6.53 7.85 7.50 3.61 5.14 7.78 6.25 9.17 7.50 7.78 "  # @-O
    "6.81 7.78 7.36 5.56 7.22 7.50 7.50 10.28 7.50 7.50 6.11 2.78 5.00 2.78 5.00 3.60 "  # P-_
    "2.78 5.00 5.56 4.44 5.56 4.44 3.06 5.00 5.56 2.78 3.06 5.28 2.78 8.33 5.56 5.00 "  # `-o
    "5.56 5.28 3.92 3.94 3.89 5.56 5.28 7.22 5.28 5.28 4.44 5.00 2.78 5.00 5.00"  # p-~
)
#: character -> width in points at 10 pt (printable ASCII, and the minus and times signs).
CHAR_WIDTHS: dict[str, float] = {
    chr(32 + i): float(w) for i, w in enumerate(_ASCII_WIDTHS.split())
} | {"−": 7.78, "×": 7.78, "—": 10.0, "–": 5.0}

_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?|[{}$]")


def text_width(text: str, *, raw_latex: bool = False) -> float:
    """Estimated width in points of ``text`` set in Computer Modern 10 pt.

    Characters outside `CHAR_WIDTHS` count 5 pt (accented Latin, Greek), wide East Asian
    ones 10 pt.  With ``raw_latex`` command names, braces and dollars are not counted.
    """
    if raw_latex:
        text = _LATEX_COMMAND.sub("", text)
    total = 0.0
    for ch in text:
        width = CHAR_WIDTHS.get(ch)
        if width is None:
            width = 10.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 5.0
        total += width
    return total


def wrap_header(text: str, width: float, *, raw_latex: bool = False) -> tuple[str, ...]:
    """``text`` broken at spaces into lines no wider than ``width`` points (greedy).

    A single word wider than ``width`` stays whole on its line.  Never breaks text that
    fits, so short headers are one line.
    """
    words = text.split(" ")
    lines: list[str] = []
    for word in words:
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(trial, raw_latex=raw_latex) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return tuple(lines)


def _body_widths(layout: Layout) -> list[float]:
    """Per column, the widest body cell (stub labels in column 0)."""
    raw = layout.raw_latex
    widths = [0.0] * layout.ncol
    for block in layout.blocks:
        for row in block.rows:
            widths[0] = max(widths[0], text_width(row.label, raw_latex=raw))
            for j, cell in enumerate(row.cells, start=1):
                if j < len(widths):
                    widths[j] = max(widths[j], text_width(cell.text(), raw_latex=raw))
    return widths


def _header_target(width: float) -> float:
    return max(width, MIN_HEADER_WIDTH_PT)


def column_widths(layout: Layout) -> tuple[list[float], list[tuple[tuple[str, ...], ...]]]:
    """Estimated content width of each column, and each header row's cells as lines.

    Single-column header labels wider than their column's body (and than
    `MIN_HEADER_WIDTH_PT`) are wrapped (`wrap_header`); a spanning label wider than the
    columns it spans widens the last of them, as LaTeX does.
    """
    raw = layout.raw_latex
    widths = _body_widths(layout)
    wrapped_rows = []
    for row in layout.header_rows:
        col, wrapped = 0, []
        for cell in header_cells(row):
            if cell.span == 1:
                lines = wrap_header(cell.text, _header_target(widths[col]), raw_latex=raw)
                widest = max(text_width(line, raw_latex=raw) for line in lines)
                widths[col] = max(widths[col], widest)
            else:
                lines = (cell.text,)
                inner = sum(widths[col : col + cell.span]) + 2 * TABCOLSEP_PT * (cell.span - 1)
                excess = text_width(cell.text, raw_latex=raw) - inner
                if excess > 0:
                    widths[col + cell.span - 1] += excess
            wrapped.append(lines)
            col += cell.span
        wrapped_rows.append(tuple(wrapped))
    return widths, wrapped_rows


def _note_lines(layout: Layout, width: float, scale: float) -> int:
    """Lines the notes take at ``\\footnotesize`` (0.8) in a block ``width`` points wide."""
    per_line = max(width, 120.0)
    return sum(1 + int(text_width(note.text) * 0.8 * scale / per_line) for note in layout.notes)


@dataclass(frozen=True)
class Placement:
    """The rule's decision: the kind, the estimates it was made from, the header lines."""

    kind: str  # "portrait" | "landscape" | "resize" | "long"
    landscape: bool
    width_pt: float
    height_pt: float
    font_size: str = ""  # a size command (``\\small``), "" for the document's size
    header_lines: tuple[tuple[tuple[str, ...], ...], ...] = ()
    wrap: tuple[tuple[int, float], ...] = ()  # (column, width in pt) of wrapped text columns


def _text_columns(layout: Layout) -> list[int]:
    """Columns holding only text (the stub, and body columns without numbers): the ones
    that may wrap into lines (not the stub of a table with standard-error rows)."""
    numeric: set[int] = set()
    for block in layout.blocks:
        for row in block.rows:
            for j, cell in enumerate(row.cells, start=1):
                if cell.value is not None and not isinstance(cell.value, str):
                    numeric.add(j)
    # the stub of a table with standard-error rows stays whole: a wrapped label would push
    # the estimate's standard error a line away from it
    paired = any(row.kind == "se" for block in layout.blocks for row in block.rows)
    return [j for j in range(1 if paired else 0, layout.ncol) if j not in numeric]


def _cell_text(row: Row, j: int) -> str:
    """The text of column ``j`` of a row (0: its label; "" past a short row's end)."""
    if j == 0:
        return row.label
    return row.cells[j - 1].text() if j <= len(row.cells) else ""


def _wrap_width(widths: list[float], room: float) -> float:
    """The width W with sum(min(w, W)) == room (columns narrower than W keep theirs)."""
    rest = sorted(widths)
    for i, w in enumerate(rest):
        share = room / (len(rest) - i)
        if w >= share:
            return share
        room -= w
    return max(rest)


def _wrap(
    layout: Layout,
    widths: list[float],
    lines: list,
    landscape: bool,
    size: str,
    font: float = 1.0,
) -> Placement | None:
    """The table with its long text columns set as paragraphs so it fits the line, or None.

    Why: a column of sentences (interpretations, match reports) otherwise forces a
    resize that makes every number unreadable; wrapping it keeps 10 pt (or ``\\small``).
    ``font`` scales Computer Modern widths to the font the table is set in (DejaVu
    Serif under lualatex: real party names with curly apostrophes overflowed by 4 pt).
    """
    scale = dict(FONT_SIZES)[size] * font
    ncol, avail_w = layout.ncol, _page(landscape)[0]
    wide = [j for j in _text_columns(layout) if widths[j] * scale > WRAP_MIN_PT]
    if not wide:
        return None
    room = avail_w / SAFETY - 2 * TABCOLSEP_PT * ncol
    room -= scale * sum(w for j, w in enumerate(widths) if j not in wide)
    target = _wrap_width([widths[j] * scale for j in wide], room)
    if target < WRAP_MIN_PT:
        return None
    extra = 0
    for block in layout.blocks:
        for row in block.rows:
            texts = [_cell_text(row, j) for j in wide]
            need = [text_width(text) * scale / (0.9 * target) for text in texts]
            extra += max(0, math.ceil(max(need)) - 1)
    rows_height = ROW_HEIGHT_PT * scale * extra * SAFETY
    height = _height(layout, lines, avail_w, scale) + rows_height
    wrap = tuple((j, round(target, 1)) for j in wide if widths[j] * scale > target)
    kind = "landscape" if landscape else "portrait"
    return Placement(kind, landscape, avail_w, height, size, tuple(lines), wrap)


def _height(layout: Layout, header_lines: list, width: float, scale: float = 1.0) -> float:
    rows = sum(len(b.rows) + (1 if b.title else 0) for b in layout.blocks)
    head = sum(max((len(c) for c in row), default=1) for row in header_lines)
    rules = 6.0 * (len(layout.blocks) + 2)
    caption = 30.0 if layout.title else 0.0
    notes = 9.5 * scale * _note_lines(layout, width, scale)
    return SAFETY * (ROW_HEIGHT_PT * scale * (rows + head) + rules + caption + notes)


def _width(content: float, ncol: int, scale: float) -> float:
    """Estimated table width (points) of ``content`` points of text set at ``scale``."""
    return SAFETY * (content * scale + 2 * TABCOLSEP_PT * ncol)


def _page(landscape: bool) -> tuple[float, float]:
    """(width, height) of the text block on a portrait or landscape page."""
    return (TEXT_HEIGHT_PT, TEXT_WIDTH_PT) if landscape else (TEXT_WIDTH_PT, TEXT_HEIGHT_PT)


def _long(layout: Layout, content: float, widths: list[float], lines: list) -> Placement:
    """A longtable: portrait in the largest size down to ``\\footnotesize`` whose estimated
    width fits (its text columns wrapped if need be), else landscape likewise down to
    ``\\tiny``; resized as the last resort."""
    portrait = [(False, s, f) for s, f in FONT_SIZES if f >= 0.8]
    for landscape, size, scale in [*portrait, *((True, s, f) for s, f in FONT_SIZES)]:
        width = _width(content, layout.ncol, scale)
        if width <= _page(landscape)[0]:
            height = _height(layout, lines, width, scale)
            return Placement("long", landscape, width, height, size, tuple(lines))
        wrapped = _wrap(layout, widths, lines, landscape, size)
        if wrapped is not None:
            return replace(wrapped, kind="long")
    wide = _float(layout, content, lines, True, "")
    return replace(wide, kind="resize")


def _float(layout: Layout, content: float, lines: list, landscape: bool, size: str) -> Placement:
    scale = dict(FONT_SIZES)[size]
    width = _width(content, layout.ncol, scale)
    height = _height(layout, lines, min(width, _page(landscape)[0]), scale)
    kind = "landscape" if landscape else "portrait"
    return Placement(kind, landscape, width, height, size, tuple(lines))


def _fits(place: Placement) -> bool:
    avail_w, avail_h = _page(place.landscape)
    return place.width_pt <= avail_w and place.height_pt <= avail_h


def choose_placement(layout: Layout, *, unicode_engine: bool = False) -> Placement:
    """Where the table goes, by the rule in the module docstring (or as ``placement`` says).

    ``unicode_engine``: the table is set by lualatex in DejaVu Serif, about 15 % wider
    than Computer Modern, so widths are scaled up.
    """
    widths, lines = column_widths(layout)
    font = 1.15 if unicode_engine else 1.0
    titles = [
        text_width(b.title) - 2 * TABCOLSEP_PT * layout.ncol for b in layout.blocks if b.title
    ]
    content = font * max([sum(widths), *titles])
    forced = layout.placement
    if forced in ("portrait", "landscape"):
        return _float(layout, content, lines, forced == "landscape", "")
    if forced == "long":
        return _long(layout, content, widths, lines)
    wide = _float(layout, content, lines, True, "")
    if forced == "resize":
        return Placement("resize", False, wide.width_pt, wide.height_pt, "", tuple(lines))
    for landscape in (False, True):
        for size in FLOAT_SIZES:
            place = _float(layout, content, lines, landscape, size)
            if _fits(place):
                return place
        for size in (*FLOAT_SIZES, r"\footnotesize") if landscape else FLOAT_SIZES:
            wrapped = _wrap(layout, widths, lines, landscape, size, font)
            if wrapped is not None and _fits(wrapped):
                return wrapped
    shrink = TEXT_HEIGHT_PT / wide.width_pt
    if MIN_SHRINK <= shrink < 1 and wide.height_pt * shrink <= TEXT_WIDTH_PT:
        return Placement("resize", True, wide.width_pt, wide.height_pt, "", tuple(lines))
    return _long(layout, content, widths, lines)
