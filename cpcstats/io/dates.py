"""Contact dates as written: ISO first, the other formats (and time zones) only for the
rows that need them.  Used by the data contract (`cpcstats.contract`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpcstats.io.fastcsv import factorize

TIME_ZONE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"


def parse_dates(raw: pd.Series) -> pd.Series:
    """Dates as written, time zones ignored.

    Why: a contact's day is the day the source reports.  pandas refuses a column that
    mixes time zones (a ValueError, i.e. an internal error) and cannot read a naive date
    after an aware one, so the zone suffix of a timestamp ("10:00+02:00", "Z") is dropped
    and the wall-clock date kept.  ISO dates (YYYY-MM-DD) are read first, by pandas' fast
    ISO parser; only the rows that fail it go through the zone rule and the mixed-format
    parser (a regex and a per-row parse: 3 of 5 CPU-s of a 1e6-row load).  Each distinct
    cell is parsed once (event logs repeat a few thousand dates over millions of rows)
    and the dates are taken back by the cells' codes; the parse of a cell depends on that
    cell alone, and the resolution on the set of cells, so the result, resolution
    included, is what the mixed parser gives on the whole column (tested).
    """
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        codes, distinct = factorize(raw)
        distinct = _parse_text(distinct)
        if isinstance(distinct.dtype, np.dtype) and distinct.dtype.kind == "M":
            # the dates' int64 ticks taken by NumPy, a missing cell (-1) the NaT put last
            ticks = np.append(distinct.to_numpy().view(np.int64), np.iinfo(np.int64).min)
            taken = ticks.take(codes).view(distinct.dtype)
            return pd.Series(taken, index=raw.index, name=raw.name, copy=False)
        taken = distinct.array.take(codes, allow_fill=True)
        return pd.Series(taken, index=raw.index, name=raw.name)
    dates = pd.to_datetime(raw, errors="coerce")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):  # an Excel/Parquet column with a zone
        dates = dates.dt.tz_localize(None)
    return dates


def _parse_text(raw: pd.Series) -> pd.Series:
    """Dates of text cells: ISO first, the other rows by `_other_dates`."""
    text = raw.astype("string").str.strip()
    dates = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
    rest = (dates.isna() & text.notna()).to_numpy()
    if rest.any():
        dates = _other_dates(text, dates, rest)
    return dates


def _other_dates(text: pd.Series, dates: pd.Series, rest: np.ndarray) -> pd.Series:
    """The rows the ISO parser left: zone suffix dropped, then the mixed-format parser;
    the finer of the two resolutions is kept (as one mixed parse of the column would)."""
    tail = text[rest].str.replace(TIME_ZONE, r"\1", regex=True, case=False)
    parsed = pd.to_datetime(tail, errors="coerce", format="mixed")
    order = ("s", "ms", "us", "ns")
    unit, other = (np.datetime_data(d.dtype)[0] for d in (dates, parsed))
    if parsed.notna().any() and order.index(other) > order.index(unit):
        dates = dates.astype(parsed.dtype)
    else:
        parsed = parsed.astype(dates.dtype)
    return dates.where(~rest, parsed.reindex(dates.index))
