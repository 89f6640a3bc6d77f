"""``cpcstats fit --data`` and ``panel``: the user's own panel file read (with its SIMULATED
mark), what was dropped, and ``--lag`` parsed.

Rows are reported in the file's numbering (row 1 is the header), so a user can find them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cpcstats.errors import CpcError

if TYPE_CHECKING:
    import pandas as pd

    from cpcstats.estimation.results import FitResult
    from cpcstats.io import InputFile
    from cpcstats.spec import ModelSpec


def parse_lags(items: list[str]) -> dict[str, list[int]]:
    """``contacts=1,2`` -> {"contacts": [1, 2]}; a bare name means lag 1."""
    out: dict[str, list[int]] = {}
    for item in items:
        name, _, ks = item.partition("=")
        try:
            out[name.strip()] = [int(k) for k in ks.split(",")] if ks else [1]
        except ValueError as exc:
            raise CpcError(
                f"--lag {item!r} is not VARIABLE or VARIABLE=1,2", fix="e.g. --lag contacts=1,2"
            ) from exc
    return out


def read_data(path: str) -> tuple[pd.DataFrame, InputFile]:
    """The user's own panel file (``--data``), typed, and what was read, printed."""
    from cpcstats.io import read_panel

    # typed: numbers are numbers, NA/empty/. are missing in numeric columns only;
    # index = file row - 2 (row 1 = header), as fit() numbers rows in its messages
    frame, info = read_panel(path)
    kinds: dict[str, list[str]] = {}
    for column, kind in info.column_types or ():
        kinds.setdefault(kind, []).append(column)
    how = f" ({info.encoding}, delimiter {info.delimiter!r})" if info.encoding else ""
    print(f"read {info.path}{how}: {info.rows:,} rows")
    for kind, columns in kinds.items():
        print(f"  {kind}: {', '.join(columns)}")
    mark = frame.attrs["mark"]
    for note in mark["notes"]:
        print(f"  note: {note}")
    if mark["simulated"]:  # the mark survives the export: cpcstats.io.mark
        derived = "derived from " if mark["notes"] else ""
        print(
            f"SIMULATED: this panel is {derived}SIMULATED data ({'; '.join(mark['how'])}); "
            "every result and table made from it says so"
        )
    return frame, info


def dropped_rows(spec: ModelSpec, frame: pd.DataFrame, result: FitResult) -> dict[str, list[int]]:
    """Which rows the model dropped for missing values, in the file's numbering.

    The same steps as fit's model sample (filter, then one variable at a time).
    """
    from cpcstats.formula import evaluate_filter

    if result.sample is None:
        return {}
    kept = frame
    if spec.sample:
        kept = kept[evaluate_filter(spec.sample, kept, file=spec.source).to_numpy()]
    rows: dict[str, list[int]] = {}
    for reason, count in result.sample.dropped.items():
        variable = reason.removeprefix("missing ")
        if reason == variable or not count or variable not in kept.columns:
            continue
        gone = kept[variable].isna().to_numpy()
        if int(gone.sum()) == count:
            rows[reason] = [int(label) + 2 for label in kept.index[gone]]
        kept = kept[~gone]
    return rows


def report_data_sample(
    spec: ModelSpec,
    frame: pd.DataFrame,
    info: InputFile,
    result: FitResult,
    record: dict[str, object],
) -> None:
    """Print and record the rows a model on ``--data`` dropped, and its text columns."""
    from cpcstats.formula import parse_formula

    study_name = Path(info.path).name
    tabular = Path(info.path).suffix.lower() not in (".parquet", ".pq", ".dta")
    rows = dropped_rows(spec, frame, result)
    print(result.sample.summary())
    text = {c for c, kind in info.column_types or () if kind == "text"}
    for variable in parse_formula(spec.formula, frame.columns).variables:
        if variable in text:  # say so: a number column would not be listed here
            levels = frame[variable].nunique()
            print(f"  {variable}: a text column, fitted as categories ({levels} levels)")
    for reason, numbers in rows.items():
        shown = ", ".join(map(str, numbers[:10]))
        more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
        where = (
            f"{'row' if len(numbers) == 1 else 'rows'} {shown}{more} of {study_name}; "
            "row 1 is the header"
            if tabular
            else f"records {', '.join(str(n - 1) for n in numbers[:10])}{more} "
            f"of {study_name}, counting from 1"
        )
        noun = "row" if len(numbers) == 1 else "rows"
        print(f"  dropped {len(numbers)} {noun} with {reason} ({where})")
    result.extra["dropped_rows"] = rows
    record["dropped_rows"] = rows
    record["input"] = info.to_dict()
