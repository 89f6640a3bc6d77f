"""Readers for the data contract's input files and users' panels: CSV, Parquet, Stata, Excel.

For the contract's files readers only read (CSV columns stay text); checking columns
and values is the contract's job.  A user's own panel (``read_panel``, used by
``cpcstats fit --data``) is read with its types, because nothing downstream converts
it: a numeric column left as text would be fitted as one dummy per value.  Readers
never guess silently: text is decoded strictly (mixed encodings are refused, naming
the lines), a header name used twice and a record longer than the header are refused,
every library failure becomes an :class:`InputError` naming the file and the fix, and
the file's SHA-256 is recorded so the manifest can prove which bytes a run used.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import hashlib
import io
import itertools
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.errors import InputError, OutputError

READABLE = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".dta", ".xlsx", ".xls")


@dataclass(frozen=True)
class InputFile:
    """A file a run read: where, its hash, how many data rows, how it was decoded."""

    path: str
    sha256: str
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    #: (column, type) pairs of a typed read (``read_table(..., typed=True)``), e.g.
    #: ("x", "number"), ("iso2", "text"), ("share", "number (decimal comma)")
    column_types: tuple[tuple[str, str], ...] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path,
            "sha256": self.sha256,
            "rows": self.rows,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }
        if self.column_types is not None:
            out["column_types"] = dict(self.column_types)
        return out


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode CSV bytes strictly, so that no name is silently garbled.

    Why strict: decoding a file that is UTF-8 except a few Latin-1 lines as cp1252 turns
    every UTF-8 name into mojibake ("CÃ´te d'Ivoire") without any sign of it, and the
    garbled names then fail to match or become new categories.  So:

    * a UTF-8 file (with or without BOM) or a UTF-16 file with BOM is decoded as such;
    * a file with no valid UTF-8 multi-byte character at all (a legacy single-byte
      export) is decoded as Windows-1252 (Latin-1 if a byte is undefined there), and
      the encoding is recorded in :class:`InputFile`;
    * a file that mixes the two (some lines UTF-8, others not, or a UTF-8 BOM followed
      by invalid bytes) is an :class:`InputError` naming the first lines that are not
      UTF-8 and how to re-save the file.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc})",
                file=str(path),
                fix="save the file again as UTF-8 CSV",
            ) from exc
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    encoding = "utf-8-sig" if bom else "utf-8"
    try:
        return body.decode("utf-8"), encoding
    except UnicodeDecodeError:
        pass
    bad: list[int] = []
    utf8: list[int] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
        else:
            if not line.isascii():
                utf8.append(number)
    if not utf8 and not bom:
        # cp1252 is a superset of Latin-1 for printable text and what spreadsheets write.
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"
    first = body.split(b"\n")[bad[0] - 1].decode("utf-8", errors="backslashreplace").strip()
    shown = ", ".join(map(str, bad[:5])) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    where = (
        f"line(s) {', '.join(map(str, utf8[:3]))} are UTF-8"
        if utf8
        else "it starts with a UTF-8 BOM"
    )
    raise InputError(
        f"the file mixes text encodings: {where}, but line(s) {shown} are not valid UTF-8 "
        f"(probably Latin-1/Windows-1252; line {bad[0]}: {first[:80]!r}); decoding it either "
        "way would garble the names on the other lines",
        file=str(path),
        row=bad[0],
        fix="correct the characters on those lines in a text editor and save the whole file "
        "as UTF-8 (in Excel: Save As 'CSV UTF-8')",
    )


_DELIMITERS = (",", ";", "\t", "|")


def _is_blank(record: list[str]) -> bool:
    """A record pandas skips as a blank line (nothing, or only spaces, on the line)."""
    return not record or (len(record) == 1 and not record[0].strip())


def _sniff_delimiter(text: str, path: Path) -> str:
    """The delimiter that splits the header and the first 50 records into equal widths.

    Why not only ``csv.Sniffer``: in a ``;`` file with decimal commas ("0,5;1,2") both
    characters occur equally often on data lines and the sniffer prefers ``,``.  Parsing
    the sample with each candidate (quotes respected) and asking that every record has as
    many cells as the header (at least two) decides it; the widest consistent candidate
    wins (ties: tab, ``|``, ``;``, ``,``).  When none is consistent (ragged rows), the
    sniffer guesses as before.
    """
    if path.suffix.lower() == ".tsv":
        return "\t"
    head = list(itertools.islice(io.StringIO(text), 51))
    truncated = len(head) > 50
    sample = "".join(head[:50])
    widths: dict[str, int] = {}
    for candidate in _DELIMITERS:
        try:
            records = [
                r for r in csv.reader(io.StringIO(sample), delimiter=candidate) if not _is_blank(r)
            ]
        except csv.Error:
            continue
        if truncated and len(records) > 2:
            records = records[:-1]  # the cut may fall inside a quoted cell
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        if all(len(r) == width for r in records[1:]):
            widths[candidate] = width
    if widths:
        # a tie (a tab file whose cells all hold one comma): the character that is rarest
        # inside text cells wins
        widest = max(widths.values())
        return next(d for d in ("\t", "|", ";", ",") if widths.get(d) == widest)
    try:  # ragged rows: the sniffer guesses
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


@dataclass(frozen=True)
class _Layout:
    """What a pass of the csv module saw: the header cells and where each record starts."""

    header: list[str]
    header_line: int
    starts: list[int]  # file line on which each data record starts (blank lines skipped)
    long: list[tuple[int, int]]  # (line, cells) of records with more cells than the header


def _scan(text: str, delimiter: str) -> _Layout | None:
    """Read the records once with the csv module (None if it cannot parse them)."""
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # long news texts
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 1
    starts: list[int] = []
    long: list[tuple[int, int]] = []
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if _is_blank(record):
                continue
            if header is None:
                header, header_line = record, start
                continue
            starts.append(start)
            if len(record) > len(header):
                long.append((start, len(record)))
    except csv.Error:
        return None
    return _Layout(header or [], header_line, starts, long)


def _letters(position: int) -> str:
    """Spreadsheet column letters of a 1-based position (1 -> A, 27 -> AA)."""
    out = ""
    while position:
        position, rest = divmod(position - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _check_unique_names(names: Sequence[object], path: Path, row: int = 1) -> None:
    """Two columns under one header name: pandas renames the second ``name.1`` (and keeps the
    first), so a formula silently uses one of them.  Refuse, naming both positions."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name is None or (isinstance(name, float) and np.isnan(name)):
            continue
        key = str(name).strip()
        if not key:
            continue
        if key in seen:
            first = seen[key]
            raise InputError(
                f"columns {first} ({_letters(first)}) and {position} ({_letters(position)}) "
                f"both have the header name {key!r}; only one of them would be used",
                file=str(path),
                row=row,
                column=key,
                fix="rename one of the two columns (or delete the copy) so that every header "
                "name is unique",
            )
        seen[key] = position


# --------------------------------------------------------------------------- typed panels
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

    Rule: strip spaces; set aside :data:`MISSING_TOKENS`; if every remaining cell is a
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


def read_table(
    path: str | Path, *, sheet: str | int | None = None, typed: bool = False
) -> tuple[pd.DataFrame, InputFile]:
    """Read a data file into a DataFrame of its raw columns.

    CSV text is decoded strictly (see :func:`_decode`); the delimiter (``,`` ``;`` tab
    ``|``) is detected.  A header name used twice, or a record with more cells than the
    header (pandas would shift the columns or fail obscurely), is an :class:`InputError`.

    ``typed=False`` (the data contract's input files): CSV columns are text and empty
    cells missing; the contract converts values itself.  ``typed=True`` (a user's own
    panel, ``cpcstats fit --data``): CSV and Excel columns get their types by the rule of
    :func:`_type_column`; Parquet and Stata keep the types stored in the file (Stata's
    missing values and Excel's empty cells are NaN).  The column types are recorded in
    :attr:`InputFile.column_types`, ``frame.attrs["file"]`` is the path and, when data
    records do not sit on lines 2, 3, ... (blank lines, multi-line cells),
    ``frame.attrs["file_lines"]`` gives the file line of each row.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            "the file does not exist",
            file=str(path),
            fix="check the path (relative paths resolve against the study file's folder)",
        )
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path), fix="export the data again")
    suffix = path.suffix.lower()
    encoding = delimiter = None
    layout: _Layout | None = None
    try:
        if suffix in (".csv", ".tsv", ".txt"):
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
        elif suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            _check_unique_names(pq.read_schema(path).names, path)  # pyarrow fails obscurely
            frame = pd.read_parquet(path)
        elif suffix == ".dta":
            frame = pd.read_stata(path, convert_categoricals=True)
        elif suffix in (".xlsx", ".xls"):
            which = 0 if sheet is None else sheet
            # "NA" is Namibia's ISO2 code: pandas' default missing tokens are not applied
            frame = pd.read_excel(path, sheet_name=which, keep_default_na=False)
            if not typed:
                frame = _excel_as_contract_reads_csv(frame)
            header = pd.read_excel(path, sheet_name=which, header=None, nrows=1)
            if len(header):
                _check_unique_names(list(header.iloc[0]), path)
        else:
            raise InputError(
                f"unknown file type '{suffix}'",
                file=str(path),
                fix=f"save the data as one of {', '.join(READABLE)}",
            )
    except InputError:
        raise
    except Exception as exc:  # library errors become one clear message
        raise InputError(
            f"could not be read as {suffix or 'a table'}: {exc}",
            file=str(path),
            fix="open it in a spreadsheet program and save it again as UTF-8 CSV",
        ) from exc
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
    kinds: tuple[tuple[str, str], ...] | None = None
    if typed:
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
    info = InputFile(str(path), sha256_of(path), len(frame), encoding, delimiter, kinds)
    return frame, info


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
    """A user's own panel for ``fit``: :func:`read_table` with ``typed=True``, indexed so that
    row label + 2 is the row in the file (row 1 is the header).

    Why the index: ``fit`` names rows in its messages as label + 2 when the frame carries
    ``attrs["file"]``; with a multi-line cell or a blank line in a CSV, the n-th record is
    not on line n + 1, and the index keeps those messages true.
    """
    frame, info = read_table(path, sheet=sheet, typed=True)
    lines = frame.attrs.pop("file_lines", None)
    frame.index = pd.Index([n - 2 for n in lines]) if lines else pd.RangeIndex(len(frame))
    frame.attrs["file"] = info.path
    return frame, info


# The folder the current run may write into (set by ``confine_writes``); None: no limit.
_WRITE_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "cpcstats_write_root", default=None
)


@contextlib.contextmanager
def confine_writes(root: str | Path) -> Iterator[Path]:
    """Within this block, :func:`write_atomic` refuses any path outside ``root``.

    Why: names from configuration files become file names; the name checks where the
    configuration is read are the first defence, this is the last: whatever a writer
    builds, nothing lands outside the output folder.
    """
    resolved = Path(root).resolve()
    token = _WRITE_ROOT.set(resolved)
    try:
        yield resolved
    finally:
        _WRITE_ROOT.reset(token)


def check_inside(path: str | Path) -> Path:
    """``path`` if it resolves inside the confining folder (if any), else an OutputError."""
    path = Path(path)
    root = _WRITE_ROOT.get()
    if root is not None and not path.resolve().is_relative_to(root):
        raise OutputError(
            f"refusing to write outside the output folder {root}",
            file=str(path),
            fix="output names may contain only letters, digits, '_' and '-' "
            "(no '..', no '/', no absolute paths)",
        )
    return path


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write a whole file or nothing: a temp file in the same folder, then rename.

    The temp file is removed on any failure, Ctrl-C included; an OSError (disk full,
    read-only folder, a file where a folder should be) becomes an OutputError naming the
    path and the operating system's reason.
    """
    path = check_inside(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError.from_os(exc, exc.filename or path.parent, "cannot create") from exc
    try:
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError.from_os(exc, path) from exc
        raise
    return path


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a panel as CSV or Parquet (by suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_atomic(path, frame.to_csv(index=False, lineterminator="\n"))
    if suffix in (".parquet", ".pq"):
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return write_atomic(path, buffer.getvalue())
    raise InputError(
        f"cannot write '{suffix}' files", file=str(path), fix="use a .csv or .parquet file name"
    )
