"""What a run records of each file it read (`InputFile`) and the hash that proves it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

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
