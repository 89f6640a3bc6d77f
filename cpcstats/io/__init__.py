"""Readers for the data contract's input files and users' panels: CSV, Parquet, Stata, Excel.

For the contract's files readers only read (CSV columns stay text); checking columns
and values is the contract's job.  A user's own panel (``read_panel``, used by
``cpcstats fit --data``) is read with its types, because nothing downstream converts
it: a numeric column left as text would be fitted as one dummy per value.  Readers
never guess silently: text is decoded strictly (mixed encodings are refused, naming
the lines), a header name used twice and a record longer than the header are refused,
every library failure becomes an `InputError` naming the file and the fix, and
the file's SHA-256 is recorded so the manifest can prove which bytes a run used.

The package: `cpcstats.io.files` (`InputFile`, hashes),
`cpcstats.io.text` (decoding, delimiter, layout of CSV text),
`cpcstats.io.typed` (column types of a user's panel), `cpcstats.io.read`
(`read_table`, `read_panel`), `cpcstats.io.write` (atomic writes
confined to the output folder, `write_panel_file`) and `cpcstats.io.mark` (the SIMULATED
mark a panel file carries: a column, metadata, a CSV sidecar).
"""

from __future__ import annotations

from cpcstats.io.files import READABLE, InputFile, sha256_of
from cpcstats.io.mark import PanelMark, read_mark
from cpcstats.io.read import read_panel, read_table
from cpcstats.io.typed import MISSING_TOKENS
from cpcstats.io.write import (
    check_inside,
    confine_writes,
    write_atomic,
    write_frame,
    write_panel_file,
)

__all__ = [
    "MISSING_TOKENS",
    "READABLE",
    "InputFile",
    "PanelMark",
    "check_inside",
    "confine_writes",
    "read_mark",
    "read_panel",
    "read_table",
    "sha256_of",
    "write_atomic",
    "write_frame",
    "write_panel_file",
]
