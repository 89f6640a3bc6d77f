"""The diagnostics table as readers see it: values and p-values as text, then a table.

Why in reporting: `cpcstats.diagnostics.diagnostics_table` computes (tests and their
decisions) and returns numbers; how they are printed (``<0.001``, thousands separators) is
decided here, with the rest of the formatting (`cpcstats.reporting.format`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cpcstats.reporting.format import format_compact, format_p_value
from cpcstats.reporting.tables import SimpleTable, stats_table

__all__ = ["diagnostics_display", "diagnostics_stats_table"]


def diagnostics_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The diagnostics frame with its ``value`` and ``p_value`` columns as printed text.

    Values have three decimals (significant digits from a million on); p-values read
    ``<0.001`` rather than ``0.000`` and are empty where a row has no test.
    """
    shown = frame.copy()
    shown["value"] = [format_compact(v) for v in shown["value"]]
    shown["p_value"] = [
        "" if pd.isna(p) else format_p_value(p, space=False) for p in shown["p_value"]
    ]
    return shown


def diagnostics_stats_table(
    frame: pd.DataFrame,
    *,
    title: str = "Diagnostics",
    label: str | None = None,
    notes: Sequence[str] = (),
    simulated: bool = False,
) -> SimpleTable:
    """The table of `cpcstats.diagnostics.diagnostics_table`'s frame, ready to write."""
    return stats_table(
        diagnostics_display(frame), title=title, label=label, notes=notes, simulated=simulated
    )
