"""Descriptive tables (shares, counts, test results) with the regression tables' renderers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.reporting.tables.base import LayoutTable
from cpcstats.reporting.tables.layout import Block, Cell, Layout, Note, Row
from cpcstats.reporting.tables.notes import SIMULATED_NOTE

__all__ = ["BlockTable", "SimpleTable", "stats_table"]


@dataclass(frozen=True)
class SimpleTable(LayoutTable):
    """A descriptive table (shares, counts) with the same renderers as regression tables."""

    stub_header: str
    columns: tuple[str, ...]
    body: Block
    notes: tuple[Note, ...] = ()
    title: str | None = None
    label: str | None = None

    def _layout(self) -> Layout:
        return Layout(
            header_rows=((self.stub_header, *self.columns),),
            blocks=(self.body,),
            notes=self.notes,
            title=self.title,
            label=self.label,
        )


@dataclass(frozen=True)
class BlockTable(SimpleTable):
    """A `SimpleTable` with several titled blocks (one per part of a design).

    ``body`` is not shown (pass ``Block(())``); ``blocks`` are, in order, each after a rule
    with its title row.
    """

    blocks: tuple[Block, ...] = ()

    def _layout(self) -> Layout:
        return Layout(
            header_rows=((self.stub_header, *self.columns),),
            blocks=self.blocks,
            notes=self.notes,
            title=self.title,
            label=self.label,
        )


def _cell_from_value(value: Any, digits: int, thousands: bool) -> Cell:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return Cell()
    if isinstance(value, (bool, np.bool_)):
        return Cell("yes" if value else "no")
    if isinstance(value, (int, np.integer)):
        return Cell(int(value), thousands=thousands)
    if isinstance(value, (float, np.floating)):
        return Cell(float(value), digits, thousands=thousands)
    return Cell(str(value))


def stats_table(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    label: str | None = None,
    notes: Sequence[str] = (),
    digits: int | Mapping[str, int] = 3,
    thousands: bool = True,
    simulated: bool = False,
) -> SimpleTable:
    """Render a descriptive DataFrame (index = row labels) with the regression renderers.

    ``digits`` may be a mapping column → digits; integers keep no decimals.
    ``thousands=False`` suits integer columns such as years.
    """
    columns = [
        " ".join(str(c) for c in col) if isinstance(col, tuple) else str(col)
        for col in frame.columns
    ]
    per_column = [
        digits.get(str(col), 3) if isinstance(digits, Mapping) else int(digits)
        for col in frame.columns
    ]
    rows = []
    for idx, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        label_text = " ".join(str(i) for i in idx) if isinstance(idx, tuple) else str(idx)
        cells = tuple(
            _cell_from_value(v, d, thousands) for v, d in zip(values, per_column, strict=True)
        )
        rows.append(Row(label_text, cells))
    all_notes = [Note(SIMULATED_NOTE, strong=True)] if simulated else []
    all_notes.extend(Note(str(n)) for n in notes)
    stub = frame.index.name if isinstance(frame.index.name, str) else ""
    return SimpleTable(
        stub_header=stub,
        columns=tuple(columns),
        body=Block(tuple(rows)),
        notes=tuple(all_notes),
        title=title,
        label=label,
    )
