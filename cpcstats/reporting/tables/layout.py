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

__all__ = ["Block", "Cell", "Layout", "Note", "Row"]


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
        else:
            body = format_number(self.value, self.digits, thousands=self.thousands)
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
class Layout:
    """The whole table: header rows (each with its stub cell), blocks, notes, caption, label."""

    header_rows: tuple[tuple[str, ...], ...]  # each includes the stub (first) cell
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...]
    title: str | None
    label: str | None
