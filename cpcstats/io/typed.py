"""Column types of a user's own panel (``read_table(..., typed=True)``): numbers, text and
what counts as missing, by one stated rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.errors import InputError

#: Cells that mean "missing" in a NUMERIC column: R's NA, empty, Stata's "." and its
#: extended missing values ".a"-".z", and NaN as pandas/numpy write it.  In a text column
#: they stay text ("NA" is Namibia's ISO2 code); only empty cells are missing there.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "NA", ".", "NaN", *(f".{c}" for c in "abcdefghijklmnopqrstuvwxyz")}
)
_DOT_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_COMMA_NUMBER = r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?"
_INTEGER = re.compile(r"[+-]?\d+")
#: numbers written in a way this reader does not take: a decimal comma, thousands
#: separators, a percent sign ("1,5", "1.234,5", "12 000", "1,234.5", "5%"); not dates
#: such as "02.01.2005"
_NUMERIC_LIKE = (
    r"[+-]?\d+(?:[.' ]\d{3})*(?:,\d+)?%?"
    r"|[+-]?\d+(?:[,' ]\d{3})*(?:\.\d+)?%?"
)


def _numbers(tokens: list[str], missing: np.ndarray, index: pd.Index, name: str) -> pd.Series:
    """Exact parse (Python's correctly rounded ``float``/``int``): int64 when every value is
    whole and none is missing, else float64 with NaN for the missing cells."""
    if not missing.any() and all(_INTEGER.fullmatch(t) for t in tokens):
        try:
            return pd.Series(np.array([int(t) for t in tokens], dtype=np.int64), index, name=name)
        except OverflowError:
            pass
    values = np.full(len(index), np.nan)
    parsed = np.array([float(t) for t in tokens], dtype=float)
    values[~missing] = parsed
    whole = np.all(np.isfinite(parsed)) and np.all(parsed % 1 == 0)
    if not missing.any() and whole and np.all(np.abs(parsed) < 2.0**53):
        return pd.Series(values.astype(np.int64), index, name=name)
    return pd.Series(values, index, name=name)


def _type_column(
    values: pd.Series, name: str, path: Path, line_of: Callable[[int], int], decimal_comma: bool
) -> tuple[pd.Series, str]:
    """Type one column of text cells (CSV) or mixed cells (Excel).

    Rule: strip spaces; set aside `MISSING_TOKENS`; if every remaining cell is a
    number ("12", "-0.5", "1e3") the column is numeric and the tokens are missing values.
    In a ``;``/tab/``|`` file a column whose numbers all use a decimal comma ("0,5") and
    none a point is read with decimal commas (stated as its type).  If at least half of
    the cells are numbers but some are not ("n/a", "12a"), or every cell looks like a
    number written another way ("1,5" in a comma file, "1.234,5", "5%"), the column is
    refused: read as text it would silently become one dummy per value.  Otherwise it is
    text, unchanged ("NA" stays Namibia).  As in R's ``read.csv``: "007" is the number 7,
    TRUE/FALSE stay text (a two-level factor), and "Inf" is not a number.  A column of
    only empty cells and "." is an all-missing number column.
    """
    text = values.astype("string").str.strip()
    missing = (text.isna() | text.isin(MISSING_TOKENS)).to_numpy(dtype=bool)
    present = text[~missing]
    if present.empty:
        if text.isin(["NA"]).any():  # only "NA": Namibia's code, or R's missing; keep text
            return values, "text"
        return pd.Series(np.full(len(values), np.nan), values.index, name=name), "number"
    dot = present.str.fullmatch(_DOT_NUMBER).to_numpy(dtype=bool)
    if dot.all():
        return _numbers(present.tolist(), missing, values.index, name), "number"
    comma = (
        present.str.fullmatch(_COMMA_NUMBER).to_numpy(dtype=bool)
        if decimal_comma
        else np.zeros(len(present), dtype=bool)
    )
    if comma.all():
        tokens = present.str.replace(",", ".", regex=False).tolist()
        return _numbers(tokens, missing, values.index, name), "number (decimal comma)"
    style = comma if comma.sum() > dot.sum() else dot
    numeric_like = present.str.fullmatch(_NUMERIC_LIKE).to_numpy(dtype=bool)
    if 2 * int(style.sum()) < len(present) and not numeric_like.all():
        return values, "text"
    odd = np.flatnonzero(~style)
    cells = list(dict.fromkeys(present.iloc[odd].tolist()))
    shown = ", ".join(repr(c) for c in cells[:3]) + (", ..." if len(cells) > 3 else "")
    position = int(np.flatnonzero(~missing)[odd[0]])
    if any(re.fullmatch(_NUMERIC_LIKE, c) for c in cells):
        how = (
            "write numbers with a decimal point and no thousands separator (1.5, 1234), or "
            "save the file with ';' as delimiter and a decimal comma in every number"
        )
    else:
        how = "replace each such cell with a number"
    raise InputError(
        f"column {name!r} looks numeric, but {len(odd)} of its {len(present)} filled cells "
        f"are not plain numbers ({shown}); read as text the column would be fitted as one dummy "
        "per distinct value",
        file=str(path),
        row=line_of(position),
        column=name,
        fix=f"{how}; leave a missing value empty or write NA (codes such as 'n/a', '-' or "
        "'-99' are not read as missing); if the column is a label, not a number, make every "
        "code text (e.g. 'c12')",
    )


def _type_columns(
    frame: pd.DataFrame,
    path: Path,
    line_of: Callable[[int], int],
    *,
    decimal_comma: bool,
    convert: bool,
) -> tuple[pd.DataFrame, tuple[tuple[str, str], ...]]:
    """Type the text/mixed columns of a frame (``convert``: CSV and Excel cells); numeric,
    date and categorical columns keep their types.  Blank text cells are missing."""
    kinds: list[tuple[str, str]] = []
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
            kind = "text"
            if convert:
                series, kind = _type_column(series, name, path, line_of, decimal_comma)
            if kind == "text":
                series = series.mask(series.astype("string").str.strip().fillna("") == "")
        elif pd.api.types.is_bool_dtype(dtype):
            kind = "text"
        elif pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            kind = "number"
        else:
            kind = str(dtype)
        columns[name] = series
        kinds.append((name, kind))
    typed = pd.DataFrame(columns, index=frame.index)
    typed.attrs.update(frame.attrs)
    return typed, tuple(kinds)
