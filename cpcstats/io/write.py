"""Writing outputs: whole files or nothing, and never outside the run's output folder."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cpcstats.errors import InputError, OutputError
from cpcstats.io import mark
from cpcstats.io.files import sha256_of

# The folder the current run may write into (set by ``confine_writes``); None: no limit.
_WRITE_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "cpcstats_write_root", default=None
)


@contextlib.contextmanager
def confine_writes(root: str | Path) -> Iterator[Path]:
    """Within this block, `write_atomic` refuses any path outside ``root``.

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


def write_panel_file(
    frame: pd.DataFrame, path: str | Path, *, simulated: bool, study: str, level: str
) -> list[Path]:
    """Write a panel (CSV, Parquet or Excel by suffix) carrying its SIMULATED mark.

    Returns the files written: the panel, and for a CSV its ``<file>.cpcstats.json``
    sidecar.  A simulated panel gets the ``simulated_data`` column first; Parquet and
    Excel record the mark in their metadata, a CSV in the sidecar with the data file's
    SHA-256 (`cpcstats.io.mark` says why each layer, and how ``fit --data`` reads them).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    data = mark.with_mark_column(frame, simulated)
    record = mark.mark_record(simulated=simulated, study=study, level=level)
    if suffix in (".parquet", ".pq"):
        return [write_atomic(path, mark.parquet_bytes(data, record))]
    if suffix == ".xlsx":
        return [write_atomic(path, mark.excel_bytes(data, record))]
    if suffix != ".csv":
        raise InputError(
            f"cannot write '{suffix}' panel files",
            file=str(path),
            fix="use a .csv, .parquet or .xlsx file name",
        )
    written = write_frame(data, path)
    side = {**record, "rows": len(data), "sha256": sha256_of(written), "file": path.name}
    text = json.dumps(side, indent=2, sort_keys=True) + "\n"
    return [written, write_atomic(mark.sidecar_path(path), text)]
