"""Plain JSON values from the numpy/pandas cells of estimator results.

Why one function: every estimator's ``to_record`` turns DataFrame rows into plain Python
values for the replication's JSON; numpy booleans, integers and floats must become their
Python types, and whether a non-finite float is kept or becomes ``None`` is the caller's
documented choice, not a copy-dependent accident.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain", "plain_records"]


def plain(value: Any, *, nonfinite_as_none: bool = False) -> Any:
    """A numpy/pandas scalar as a plain Python value.

    With ``nonfinite_as_none`` NaN/inf floats and missing values (``None``, ``pd.NA``,
    ``NaT``) become ``None``; otherwise floats stay floats (NaN included) and other values
    pass through.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if nonfinite_as_none and not np.isfinite(value):
            return None
        return float(value)
    if nonfinite_as_none and (value is None or (not isinstance(value, str) and pd.isna(value))):
        return None
    return value


def plain_records(frame: pd.DataFrame, *, nonfinite_as_none: bool = False) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dictionaries of plain values (see `plain`)."""
    return [
        {k: plain(v, nonfinite_as_none=nonfinite_as_none) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
