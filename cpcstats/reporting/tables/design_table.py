"""The table of a research design, laid out like a regression table.

Why a table type of its own: a design reports estimates of several estimators (TWFE,
ETWFE, imputation; a known and an unknown break), tests of their assumptions (pre-trends,
breaks, leads) and the counts that say what the estimates rest on.  Mixed into one
"Estimate" column, a χ² reads as an effect and a country count as a coefficient.  Here:

* estimates come in lettered panels (Panel A, B, … — unique letters), one row per
  quantity with the columns Estimate, SE, 95 % CI and p-value (and Bootstrap p when any
  row has one);
* tests come in their own block whose columns are Statistic, df and p-value (the same
  grid columns as SE and p-value, so the p-values line up);
* counts (N, countries, cohorts, dropped) come in a statistics block;
* at most `MAX_NOTES` notes sit under the table (simulated banner, sample, estimator,
  standard errors); everything else belongs in the design's companion notes file.

Every number is formatted by `cpcstats.reporting.format` with a true minus sign (U+2212,
``$-$`` in LaTeX) in every format, so no table shows an ASCII hyphen for a minus.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpcstats.reporting.format import (
    MISSING,
    format_number,
    format_p_value,
    format_signed,
    minus_sign,
)
from cpcstats.reporting.labels import default_labels
from cpcstats.reporting.tables.base import LayoutTable
from cpcstats.reporting.tables.layout import Block, Cell, Layout, Note, Row
from cpcstats.reporting.tables.notes import SIMULATED_NOTE

__all__ = [
    "BOOTSTRAP_COLUMN",
    "ESTIMATE_COLUMNS",
    "MAX_NOTES",
    "STATISTICS_TITLE",
    "TESTS_TITLE",
    "TEST_COLUMNS",
    "CountRow",
    "DesignTable",
    "EstimatePanel",
    "EstimateRow",
    "TestRow",
    "panel_letter",
]

#: Column headers of the estimates panels (Bootstrap p is added when a row has one).
ESTIMATE_COLUMNS: tuple[str, ...] = ("Estimate", "SE", "95% CI", "p-value")
#: Column headers of the tests block, in the same grid columns.
TEST_COLUMNS: tuple[str, ...] = ("Statistic", "df", "", "p-value")
BOOTSTRAP_COLUMN = "Bootstrap p"
TESTS_TITLE = "Tests"
STATISTICS_TITLE = "Statistics"
#: Notes under a design table, the simulated banner included.
MAX_NOTES = 4


def panel_letter(index: int) -> str:
    """``0 -> 'A'``, ``1 -> 'B'``, … (a design has far fewer than 26 panels)."""
    if not 0 <= index < 26:
        raise ValueError(f"panel index {index} out of range 0-25")
    return chr(ord("A") + index)


@dataclass(frozen=True)
class EstimateRow:
    """One estimated quantity: the estimate (or a text such as ``n.e.``) and its inference."""

    label: str
    estimate: float | str | None
    se: float | None = None
    lower: float | None = None
    upper: float | None = None
    p: float | None = None
    bootstrap_p: float | None = None


@dataclass(frozen=True)
class TestRow:
    """One test: its statistic, degrees of freedom, p-value and bootstrap p-value."""

    __test__ = False  # not a pytest test class, despite the name

    label: str
    statistic: float | None
    df: int | float | str | None = None
    p: float | None = None
    bootstrap_p: float | None = None


@dataclass(frozen=True)
class CountRow:
    """One count (or a short text such as a year range) of the statistics block."""

    label: str
    value: int | float | str | None


@dataclass(frozen=True)
class EstimatePanel:
    """A titled group of estimates; its letter comes from its position in the table."""

    title: str
    rows: tuple[EstimateRow, ...]


def _finite(value: float | None) -> bool:
    return value is not None and value == value and abs(value) != float("inf")


def _number(value: float | int | str | None, digits: int) -> Cell:
    if value is None:
        return Cell()
    if isinstance(value, str):
        return Cell(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Cell(value, thousands=True)
    if not _finite(float(value)):
        return Cell(MISSING)
    return Cell(minus_sign(format_number(float(value), digits)))


def _p(value: float | None) -> Cell:
    return Cell(format_p_value(float(value))) if _finite(value) else Cell()


def _interval(lower: float | None, upper: float | None, digits: int) -> Cell:
    if not (_finite(lower) and _finite(upper)):
        return Cell()
    assert lower is not None and upper is not None
    return Cell(f"[{format_signed(lower, digits)}, {format_signed(upper, digits)}]")


def _df(value: int | float | str | None) -> Cell:
    if value is None or isinstance(value, str):
        return Cell(value)
    number = float(value)
    return Cell(int(number)) if number.is_integer() else Cell(number, 1)


@dataclass(frozen=True)
class DesignTable(LayoutTable):
    """A design's table: lettered estimate panels, a tests block, a statistics block.

    Raises ``ValueError`` when the notes (the simulated banner included) exceed
    `MAX_NOTES`: what does not fit belongs in the design's notes file, not under the
    table.
    """

    title: str
    label: str
    panels: tuple[EstimatePanel, ...]
    tests: tuple[TestRow, ...] = ()
    counts: tuple[CountRow, ...] = ()
    notes: tuple[str, ...] = ()
    simulated: bool = False
    digits: int = 3

    def __post_init__(self) -> None:
        total = len(self.notes) + int(self.simulated)
        if total > MAX_NOTES:
            raise ValueError(
                f"design table {self.label!r} has {total} notes; at most {MAX_NOTES} "
                "(simulated banner, sample, estimator, standard errors) go under the table, "
                "the rest into its notes file"
            )

    @property
    def has_bootstrap(self) -> bool:
        """Whether any estimate or test has a bootstrap p-value (adds that column)."""
        rows = [r for panel in self.panels for r in panel.rows]
        return any(_finite(r.bootstrap_p) for r in [*rows, *self.tests])

    def columns(self) -> tuple[str, ...]:
        """The header of the grid, stub excluded."""
        return ESTIMATE_COLUMNS + ((BOOTSTRAP_COLUMN,) if self.has_bootstrap else ())

    def _estimate_row(self, r: EstimateRow, boot: bool) -> Row:
        cells = [
            _number(r.estimate, self.digits),
            Cell(float(r.se), self.digits) if _finite(r.se) else Cell(),
            _interval(r.lower, r.upper, self.digits),
            _p(r.p),
        ]
        if boot:
            cells.append(_p(r.bootstrap_p))
        return Row(r.label, tuple(cells), kind="estimate")

    def _test_block(self, boot: bool) -> Block:
        head = [Cell(c) if c else Cell() for c in TEST_COLUMNS]
        if boot:
            head.append(Cell(BOOTSTRAP_COLUMN))
        rows = [Row("", tuple(head), kind="header")]
        for t in self.tests:
            cells = [_number(t.statistic, self.digits), _df(t.df), Cell(), _p(t.p)]
            if boot:
                cells.append(_p(t.bootstrap_p))
            rows.append(Row(t.label, tuple(cells), kind="stat"))
        return Block(tuple(rows), title=TESTS_TITLE)

    def _count_block(self, width: int) -> Block:
        blank = (Cell(),) * (width - 1)
        rows = [Row(c.label, (_number(c.value, self.digits), *blank)) for c in self.counts]
        return Block(tuple(rows), title=STATISTICS_TITLE)

    def _layout(self) -> Layout:
        boot = self.has_bootstrap
        columns = self.columns()
        blocks = [
            Block(
                tuple(self._estimate_row(r, boot) for r in panel.rows),
                title=f"Panel {panel_letter(i)}: {panel.title}",
            )
            for i, panel in enumerate(self.panels)
        ]
        if self.tests:
            blocks.append(self._test_block(boot))
        if self.counts:
            blocks.append(self._count_block(len(columns)))
        notes = [Note(SIMULATED_NOTE, strong=True)] if self.simulated else []
        labels = default_labels()  # raw variable names in a note read as their labels
        notes.extend(Note(labels.relabel_text(n)) for n in self.notes)
        return Layout(
            header_rows=(("", *columns),),
            blocks=tuple(blocks),
            notes=tuple(notes),
            title=self.title,
            label=self.label,
        )
