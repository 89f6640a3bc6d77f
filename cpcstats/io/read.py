"""``read_table`` and ``read_panel``: a data file (CSV, Parquet, Stata, Excel) into a frame
and its `cpcstats.io.files.InputFile` record."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from cpcstats.errors import InputError
from cpcstats.io.fastcsv import read_contract_csv
from cpcstats.io.files import READABLE, InputFile, sha256_of
from cpcstats.io.mark import read_mark
from cpcstats.io.text import _check_unique_names, _decode, _Layout, _scan, _sniff_delimiter
from cpcstats.io.typed import _type_columns


def read_table(
    path: str | Path, *, sheet: str | int | None = None, typed: bool = False
) -> tuple[pd.DataFrame, InputFile]:
    """Read a data file into a DataFrame of its raw columns.

    CSV text is decoded strictly (see `_decode`); the delimiter (``,`` ``;`` tab
    ``|``) is detected.  A header name used twice, or a record with more cells than the
    header (pandas would shift the columns or fail obscurely), is an `InputError`.

    ``typed=False`` (the data contract's input files): CSV columns are text and empty
    cells missing; the contract converts values itself.  ``typed=True`` (a user's own
    panel, ``cpcstats fit --data``): CSV and Excel columns get their types by the rule of
    `_type_column`; Parquet and Stata keep the types stored in the file (Stata's
    missing values and Excel's empty cells are NaN).  The column types are recorded in
    `InputFile.column_types`, ``frame.attrs["file"]`` is the path and, when data
    records do not sit on lines 2, 3, ... (blank lines, multi-line cells),
    ``frame.attrs["file_lines"]`` gives the file line of each row.
    """
    path = Path(path)
    _check_nonempty_file(path)
    suffix = path.suffix.lower()
    try:
        frame, encoding, delimiter, layout, digest = _read_any(
            path, suffix, sheet=sheet, typed=typed
        )
    except InputError:
        raise
    except Exception as exc:  # library errors become one clear message
        raise InputError(
            f"could not be read as {suffix or 'a table'}: {exc}",
            file=str(path),
            fix="open it in a spreadsheet program and save it again as UTF-8 CSV",
        ) from exc
    frame = _check_header(frame, path, suffix)
    kinds: tuple[tuple[str, str], ...] | None = None
    if typed:
        frame, kinds = _typed(frame, path, layout, delimiter, suffix)
    info = InputFile(str(path), digest or sha256_of(path), len(frame), encoding, delimiter, kinds)
    return frame, info


def _check_nonempty_file(path: Path) -> None:
    """A missing or zero-byte file, named before any reader is tried."""
    if not path.exists():
        raise InputError(
            "the file does not exist",
            file=str(path),
            fix="check the path (relative paths resolve against the study file's folder)",
        )
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path), fix="export the data again")


def _read_any(
    path: Path, suffix: str, *, sheet: str | int | None, typed: bool
) -> tuple[pd.DataFrame, str | None, str | None, _Layout | None, str | None]:
    """The reader of the file's type: (frame, encoding, delimiter, CSV layout, sha256 if
    the reader computed it on the way)."""
    if suffix in (".csv", ".tsv", ".txt"):
        if not typed:  # a contract file: pandas reads the path (see cpcstats.io.fastcsv)
            fast = read_contract_csv(path)
            if fast is not None:
                frame, encoding, delimiter, digest = fast
                return frame, encoding, delimiter, None, digest
        return (*_read_csv(path, typed=typed), None)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        _check_unique_names(pq.read_schema(path).names, path)  # pyarrow fails obscurely
        return pd.read_parquet(path), None, None, None, None
    if suffix == ".dta":
        return pd.read_stata(path, convert_categoricals=True), None, None, None, None
    if suffix in (".xlsx", ".xls"):
        return _read_excel(path, sheet=sheet, typed=typed), None, None, None, None
    raise InputError(
        f"unknown file type '{suffix}'",
        file=str(path),
        fix=f"save the data as one of {', '.join(READABLE)}",
    )


def _read_csv(path: Path, *, typed: bool) -> tuple[pd.DataFrame, str, str, _Layout | None]:
    """CSV text decoded strictly, its delimiter detected and its records checked against the
    header before pandas parses it (pandas would shift long records silently)."""
    text, encoding = _decode(path.read_bytes(), path)
    if not text.strip():
        raise InputError("the file is empty", file=str(path), fix="export the data again")
    delimiter = _sniff_delimiter(text, path)
    layout = _scan(text, delimiter)
    if layout is not None:
        _check_unique_names(layout.header, path, layout.header_line)
        if layout.long:
            line, cells = layout.long[0]
            raise InputError(
                f"the record has {cells} cells but the header has "
                f"{len(layout.header)} names (delimiter {delimiter!r}); "
                f"{len(layout.long)} record(s) are longer than the header",
                file=str(path),
                row=line,
                fix='quote cells that contain the delimiter (e.g. "1,5"), or add '
                "the missing column name to the header",
            )
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    if not typed:
        frame = frame.replace({"": pd.NA})
    return frame, encoding, delimiter, layout


def _read_excel(path: Path, *, sheet: str | int | None, typed: bool) -> pd.DataFrame:
    """One sheet of a workbook (the first unless named), its header names checked."""
    which = 0 if sheet is None else sheet
    # "NA" is Namibia's ISO2 code: pandas' default missing tokens are not applied
    frame = pd.read_excel(path, sheet_name=which, keep_default_na=False)
    if not typed:
        frame = _excel_as_contract_reads_csv(frame)
    header = pd.read_excel(path, sheet_name=which, header=None, nrows=1)
    if len(header):
        _check_unique_names(list(header.iloc[0]), path)
    return frame


def _check_header(frame: pd.DataFrame, path: Path, suffix: str) -> pd.DataFrame:
    """Unique, stripped header names, at least one data row, no unnamed Excel columns."""
    _check_unique_names(list(frame.columns), path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError(
            "the file has a header but no data rows", file=str(path), fix="check the export"
        )
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:")]
    if unnamed and suffix in (".xlsx", ".xls"):
        raise InputError(
            f"the header row has empty cells ({len(unnamed)} unnamed columns); "
            "this usually means merged header cells or a title row above the header",
            file=str(path),
            row=1,
            fix="unmerge the header cells so that row 1 holds one name per column",
        )
    return frame


def _typed(
    frame: pd.DataFrame,
    path: Path,
    layout: _Layout | None,
    delimiter: str | None,
    suffix: str,
) -> tuple[pd.DataFrame, tuple[tuple[str, str], ...]]:
    """The typed read: column types, and the file line of each row where records do not
    sit on lines 2, 3, ... (so that messages name the line a user sees)."""
    lines = layout.starts if layout is not None and len(layout.starts) == len(frame) else None
    if lines is not None and lines == list(range(2, len(frame) + 2)):
        lines = None

    def line_of(position: int) -> int:
        return lines[position] if lines is not None else position + 2

    frame, kinds = _type_columns(
        frame,
        path,
        line_of,
        decimal_comma=delimiter not in (None, ","),
        convert=suffix in (".csv", ".tsv", ".txt", ".xlsx", ".xls"),
    )
    frame.attrs["file"] = str(path)
    if lines is not None:
        frame.attrs["file_lines"] = tuple(lines)
    return frame, kinds


def _excel_as_contract_reads_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel cells as the contract sees CSV cells: empty cells missing, text kept as text.

    Why: with pandas' default missing tokens, a text cell "NA" (Namibia) became NaN in an
    Excel file while the same cell in a CSV stayed "NA".  Columns whose every non-empty cell
    is a number keep their numeric dtype, as before.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column].replace({"": pd.NA})
        filled = values.dropna()
        numeric = filled.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if len(filled) and bool(numeric.all()):
            values = pd.to_numeric(values)
        out[column] = values
    return out


def read_panel(
    path: str | Path, *, sheet: str | int | None = None
) -> tuple[pd.DataFrame, InputFile]:
    """A user's own panel for ``fit``: `read_table` with ``typed=True``, indexed so that
    row label + 2 is the row in the file (row 1 is the header).

    Why the index: ``fit`` names rows in its messages as label + 2 when the frame carries
    ``attrs["file"]``; with a multi-line cell or a blank line in a CSV, the n-th record is
    not on line n + 1, and the index keeps those messages true.  ``frame.attrs`` carries
    the file's SIMULATED mark (``simulated``, ``study``, ``mark``; `cpcstats.io.mark`), which
    ``fit`` passes on to its result.
    """
    frame, info = read_table(path, sheet=sheet, typed=True)
    lines = frame.attrs.pop("file_lines", None)
    frame.index = pd.Index([n - 2 for n in lines]) if lines else pd.RangeIndex(len(frame))
    mark = read_mark(path, frame)
    frame.attrs.update(
        file=info.path, simulated=mark.simulated, study=mark.study or "", mark=mark.to_dict()
    )
    return frame, info


# The folder the current run may write into (set by ``confine_writes``); None: no limit.
