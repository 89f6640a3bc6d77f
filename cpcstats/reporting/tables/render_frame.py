"""The DataFrame renderer: the display grid as strings, for notebooks and tests."""

from __future__ import annotations

import pandas as pd

from cpcstats.reporting.tables.layout import Layout

__all__ = ["render_frame"]


def _columns(layout: Layout, rows: list[list[str]]) -> pd.Index:
    """Header rows become a MultiIndex (models, families), one header a plain Index."""
    if len(layout.header_rows) > 1:
        return pd.MultiIndex.from_tuples(
            list(zip(*(h[1:] for h in layout.header_rows), strict=True))
        )
    if layout.header_rows:
        return pd.Index(list(layout.header_rows[0][1:]))
    return pd.RangeIndex(len(rows[0]) if rows else 0)


def render_frame(layout: Layout) -> pd.DataFrame:
    """The display grid as strings (block headers become rows with empty cells)."""
    labels: list[str] = []
    rows: list[list[str]] = []
    width = len(layout.header_rows[0]) - 1 if layout.header_rows else None
    for block in layout.blocks:
        if block.title:
            labels.append(block.title)
            rows.append([""] * (width if width is not None else len(block.rows[0].cells)))
        for row in block.rows:
            labels.append(row.label)
            rows.append([c.text() for c in row.cells])
    stub = (layout.header_rows[0][0] or None) if layout.header_rows else None
    index = pd.Index(labels, name=stub)
    return pd.DataFrame(rows, index=index, columns=_columns(layout, rows), dtype=object)
