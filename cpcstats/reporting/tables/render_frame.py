"""The DataFrame renderer: the display grid as strings, for notebooks and tests.

Several header rows become a column MultiIndex; a spanning header
(`cpcstats.reporting.tables.layout.HeaderCell`) is repeated over the columns it spans,
so ``frame["Negative binomial"]`` selects the models under that span.
"""

from __future__ import annotations

import pandas as pd

from cpcstats.reporting.tables.layout import Layout, expand_header

__all__ = ["render_frame"]


def _columns(layout: Layout, rows: list[list[str]]) -> pd.Index:
    """Header rows become a MultiIndex (models, families), one header a plain Index."""
    headers = [expand_header(row)[1:] for row in layout.header_rows]
    if len(headers) > 1:
        return pd.MultiIndex.from_tuples(list(zip(*headers, strict=True)))
    if headers:
        return pd.Index(list(headers[0]))
    return pd.RangeIndex(len(rows[0]) if rows else 0)


def render_frame(layout: Layout) -> pd.DataFrame:
    """The display grid as strings (block headers become rows with empty cells)."""
    labels: list[str] = []
    rows: list[list[str]] = []
    width = layout.ncol - 1 if layout.header_rows else None
    for block in layout.blocks:
        if block.title:
            labels.append(block.title)
            rows.append([""] * (width if width is not None else len(block.rows[0].cells)))
        for row in block.rows:
            labels.append(row.label)
            rows.append([c.text() for c in row.cells])
    stub = (expand_header(layout.header_rows[0])[0] or None) if layout.header_rows else None
    index = pd.Index(labels, name=stub)
    return pd.DataFrame(rows, index=index, columns=_columns(layout, rows), dtype=object)
