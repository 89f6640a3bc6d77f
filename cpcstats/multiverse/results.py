"""The results file: one Parquet row per specification, deterministic bytes, resumable.

Why rewrite the whole (small) file atomically as results arrive: an interrupted run then
leaves a valid file with every finished fit, and a rerun skips those ids.  Rows are sorted
by specification id and carry no time stamps, so the file's bytes depend only on the
results, never on the executor, the number of workers or the order tasks finished in.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cpcstats.io import write_atomic
from cpcstats.multiverse.expand import SpecTask

__all__ = ["ResultWriter", "read_results", "record_row", "results_bytes"]

TEXT_COLUMNS = ("spec_id", "family", "formula", "term", "sample", "dropped", "flags", "error")


def record_row(task: SpecTask, record: dict[str, Any]) -> dict[str, Any]:
    """A flat row: id, one column per dimension (the option), the specification, the record."""
    row: dict[str, Any] = {"spec_id": task.spec_id}
    row.update({f"dim_{dim}": option for dim, option in task.choices})
    row.update(
        family=task.family,
        formula=task.formula,
        term=task.term,
        sample=task.sample or "",
        dropped=",".join(task.drop_values),
        break_year=-1 if task.break_year is None else int(task.break_year),
    )
    row.update(record)
    return row


def results_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    """Parquet bytes of the rows sorted by id (no pandas index, no time stamps)."""
    frame = pd.DataFrame(list(rows))
    frame = frame.sort_values("spec_id", kind="mergesort").reset_index(drop=True)
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def read_results(path: Path) -> pd.DataFrame | None:
    """The rows of an earlier (possibly interrupted) run, or None if there is no file."""
    if not path.is_file():
        return None
    return pq.read_table(path).to_pandas()


class ResultWriter:
    """Collects rows and rewrites the file atomically at most every ``every`` seconds."""

    def __init__(self, path: Path, rows: dict[str, dict[str, Any]], every: float = 2.0) -> None:
        self.path, self.rows, self.every = path, rows, every
        self.last = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        self.rows[row["spec_id"]] = row
        if time.monotonic() - self.last >= self.every:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            write_atomic(self.path, results_bytes(self.rows.values()))
        self.last = time.monotonic()
