"""Tables as layout data: cells, rows, blocks and notes, semantic until a renderer runs.

Why data: keeping numbers as numbers until the last step lets every format show the same
figures with its own typography (``$-$0.123`` in LaTeX, ``-0.123`` elsewhere) and keeps the
output byte-identical for identical input.  The renderers (one module per format, listed
in `cpcstats.reporting.tables.render`) read only these classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpcstats.reporting.format import format_number, minus_sign
from cpcstats.reporting.tables.text import latex_escape

__all__ = [
    "PLACEMENTS",
    "Block",
    "Cell",
    "HeaderCell",
    "HeaderItem",
    "Layout",
    "Note",
    "Row",
    "expand_header",
    "header_cells",
]

#: How a LaTeX table is placed on the page: ``"auto"`` decides by rule from the table's
#: estimated width and length (`cpcstats.reporting.tables.page_fit`); the others force it.
PLACEMENTS: tuple[str, ...] = ("auto", "portrait", "landscape", "resize", "long")


@dataclass(frozen=True)
class Cell:
    """One grid cell, kept semantic (number plus decorations) until a renderer formats it."""

    value: float | int | str | None = None
    digits: int = 3
    stars: str = ""
    paren: bool = False
    thousands: bool = False

    @property
    def is_empty(self) -> bool:
        return self.value is None

    def text(self) -> str:
        """Plain text (Markdown, HTML and ``to_frame`` use this)."""
        if self.value is None:
            return ""
        if isinstance(self.value, str):
            body = self.value
        else:  # a typographic minus in every format, as the design tables print numbers
            body = minus_sign(format_number(self.value, self.digits, thousands=self.thousands))
        return f"({body}){self.stars}" if self.paren else f"{body}{self.stars}"

    def latex(self) -> str:
        """LaTeX text: escaped strings, and a real minus sign for negative numbers."""
        if self.value is None:
            return ""
        if isinstance(self.value, str):
            return latex_escape(self.text())
        text = self.text()
        return latex_escape(minus_sign(text))


@dataclass(frozen=True)
class Row:
    """A labelled row; ``term`` keeps the raw model term so callers can find rows."""

    label: str
    cells: tuple[Cell, ...]
    kind: str = "stat"  # "estimate", "se" or "stat"
    term: str | None = None


@dataclass(frozen=True)
class Block:
    """Rows separated from the previous block by a rule, with an optional header row."""

    rows: tuple[Row, ...]
    title: str | None = None


@dataclass(frozen=True)
class Note:
    """A table note; ``strong`` ones (simulated data, failed fits) are set in bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class HeaderCell:
    """A header cell spanning ``span`` grid columns (a spanning header over models 2-4).

    A header row mixes plain strings (one column each) and `HeaderCell` items; the spans
    of a row add up to the table's column count, the stub included.
    """

    text: str
    span: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.span, int) or isinstance(self.span, bool) or self.span < 1:
            raise ValueError(
                f"HeaderCell({self.text!r}) has span {self.span!r}; a span is an integer >= 1"
            )


#: One item of a header row: a plain string (span 1) or a `HeaderCell`.
HeaderItem = str | HeaderCell


def header_cells(row: tuple[HeaderItem, ...]) -> tuple[HeaderCell, ...]:
    """The row with every item as a `HeaderCell` (plain strings span one column)."""
    return tuple(item if isinstance(item, HeaderCell) else HeaderCell(str(item)) for item in row)


def expand_header(row: tuple[HeaderItem, ...]) -> tuple[str, ...]:
    """The row with one string per grid column: a spanning label repeated over its span.

    Why repeat: formats without spans (Markdown pipe tables, a DataFrame's column
    MultiIndex) then show, in every column, which group it belongs to.
    """
    return tuple(cell.text for cell in header_cells(row) for _ in range(cell.span))


def _row_span(row: tuple[HeaderItem, ...]) -> int:
    return sum(cell.span for cell in header_cells(row))


@dataclass(frozen=True)
class Layout:
    """The whole table: header rows (each with its stub cell), blocks, notes, caption, label.

    Typesetting options (defaults keep the plain output): ``placement`` chooses how LaTeX
    puts the table on the page (one of `PLACEMENTS`; ``"auto"`` decides by rule);
    ``decimal_align`` aligns numeric columns on the decimal point (siunitx ``S`` columns
    in LaTeX); ``raw_latex`` says that labels, headers and string cells are LaTeX already
    and are written unescaped (only for text the user wrote; never for data).
    """

    header_rows: tuple[tuple[HeaderItem, ...], ...]  # each includes the stub (first) cell
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...]
    title: str | None
    label: str | None
    placement: str = "auto"
    decimal_align: bool = False
    raw_latex: bool = False

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(
                f"unknown table placement {self.placement!r}; use one of {', '.join(PLACEMENTS)}"
            )
        spans = [_row_span(row) for row in self.header_rows]
        if spans and len(set(spans)) != 1:
            raise ValueError(
                f"header rows span {spans} columns; every header row (stub included) "
                "must span the same number of columns"
            )
        body = next((len(r.cells) + 1 for b in self.blocks for r in b.rows), None)
        if spans and body is not None and spans[0] != body:
            raise ValueError(
                f"header rows span {spans[0]} columns but rows have {body} (stub included); "
                "make the HeaderCell spans add up to the column count"
            )

    @property
    def ncol(self) -> int:
        """Columns of the grid including the stub: from the header, else from the first row."""
        if self.header_rows:
            return _row_span(self.header_rows[0])
        return next((len(r.cells) + 1 for b in self.blocks for r in b.rows), 1)
