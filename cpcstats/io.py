"""Readers for the data contract's input files: CSV, Parquet, Stata and Excel.

Readers only read; checking columns and values is the contract's job.  They
turn every library failure into an :class:`InputError` naming the file and
the fix, and they record the file's SHA-256 so the manifest can prove which
bytes a run used.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "rows": self.rows,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), else Latin-1 (stated)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # cp1252 is a superset of Latin-1 for printable text and what spreadsheets write.
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(
    path: str | Path, *, sheet: str | int | None = None
) -> tuple[pd.DataFrame, InputFile]:
    """Read a data file into a DataFrame of its raw columns.

    CSV text is decoded as UTF-8 (a BOM is removed) or, failing that, as
    Windows-1252/Latin-1; the delimiter (``,`` ``;`` tab ``|``) is detected.
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
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            text, encoding = _decode(path.read_bytes(), path)
            if not text.strip():
                raise InputError("the file is empty", file=str(path), fix="export the data again")
            delimiter = _sniff_delimiter(text, path)
            from io import StringIO

            frame = pd.read_csv(StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
            frame = frame.replace({"": pd.NA})
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix == ".dta":
            frame = pd.read_stata(path, convert_categoricals=True)
        elif suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet)
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
    info = InputFile(str(path), sha256_of(path), len(frame), encoding, delimiter)
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
