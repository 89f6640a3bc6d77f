"""The fast path for the data contract's CSV files: pandas reads the path itself.

Why: the careful path (`cpcstats.io.text`) decodes the whole file into one string,
parses it once with the csv module to find long records and parses it again with
pandas from a ``StringIO``: three copies of a 10-million-row event log in memory and
two full parses.  Here one streaming pass validates UTF-8 and computes the SHA-256,
the delimiter is detected on the first 51 lines (the same lines the careful path
looks at), and pandas' C parser reads the file, refusing long records itself.

Whenever anything is unusual (not UTF-8, a record longer than the header, an empty
file, a header pandas reads differently from the csv module) this returns None and
the careful path runs, so every message that names a file, line and fix is the one it
always was.  The result is the same frame the careful path builds (tests compare).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cpcstats.io.text import _check_unique_names, _is_blank, _sniff_delimiter

_CHUNK = 1 << 24
_TEXT = pd.api.types.pandas_dtype(str)
"""The dtype ``read_csv(dtype=str)`` gives a column (arrow-backed text, NaN missing)."""


def _utf8_and_digest(path: Path) -> tuple[str, str] | None:
    """(encoding, sha256) when the file is strict UTF-8 (BOM allowed), else None.

    The file is read into one reused buffer (a new 16 MB bytes object per block cost a
    tenth of a CPU-s in page faults for a 450 MB event log); the digest is of every byte.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    encoding = "utf-8"
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with path.open("rb") as handle:
        first = True
        while n := handle.readinto(buffer):
            digest.update(view[:n])
            chunk = buffer if n == _CHUNK else bytes(view[:n])
            if first:
                first = False
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    return None  # UTF-16: the careful path decodes it
                if chunk.startswith(b"\xef\xbb\xbf"):
                    encoding, chunk = "utf-8-sig", chunk[3:]
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return encoding, digest.hexdigest()


def _header(head: str, delimiter: str) -> tuple[list[str], int] | None:
    """The first non-blank record of the head and the line it starts on (as `_scan`)."""
    reader = csv.reader(io.StringIO(head), delimiter=delimiter)
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not _is_blank(record):
                return record, start
    except csv.Error:
        return None
    return None


def _read_text(path: Path, delimiter: str, encoding: str) -> pd.DataFrame:
    """Every column as text, as ``read_csv(dtype=str)`` reads it.

    Why not ``dtype=str`` at once: in pandas 3 it converts every cell through a Python
    object (4-6 x the CPU of a plain read: 17 of 40 s for 1e7 contacts).  A plain read
    keeps a column it cannot read as numbers as the text it holds, in that same dtype;
    only columns read otherwise (numbers, booleans, all-empty, chunks of mixed types,
    which come back as object) are read again with ``dtype=str``, as the careful path
    reads them.  Text columns keep their cells as written, so the frame is the same.
    """
    options: dict = {
        "sep": delimiter,
        "encoding": encoding,
        "keep_default_na": False,
        "na_values": [""],
        "index_col": False,
    }
    with warnings.catch_warnings():
        # a first data record longer than the header: pandas warns and truncates
        warnings.simplefilter("error", pd.errors.ParserWarning)
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # mixed: read again below
        frame = pd.read_csv(path, **options)
        other = [c for c in frame.columns if frame[c].dtype != _TEXT]
        if other:
            del frame  # one frame in memory at a time
            frame = pd.read_csv(path, dtype=dict.fromkeys(other, str), **options)
    return frame


def read_contract_csv(path: Path) -> tuple[pd.DataFrame, str, str, str] | None:
    """(frame of text columns, empty cells missing; encoding; delimiter; sha256) or None.

    None means: use the careful path (`cpcstats.io.read._read_csv`), which either
    reads the file the same way or raises the `InputError` naming line and fix.
    A header name used twice is refused here with the careful path's message.
    """
    checked = _utf8_and_digest(path)
    if checked is None:
        return None
    encoding, digest = checked
    with path.open(encoding=encoding, newline="\n") as handle:
        head = "".join(itertools.islice(handle, 51))
    if not head.strip():
        return None
    delimiter = _sniff_delimiter(head, path)
    header = _header(head, delimiter)
    if header is None:
        return None
    _check_unique_names(header[0], path, header[1])
    try:
        frame = _read_text(path, delimiter, encoding)
    except (ValueError, pd.errors.ParserWarning, UnicodeDecodeError):
        # ParserError and EmptyDataError are ValueErrors: long records, no data
        return None
    if [str(c) for c in frame.columns] != header[0]:
        return None  # pandas and the csv module disagree on the header: be careful
    return frame, encoding, delimiter, digest


def factorize(values: pd.Series, *, compact: bool = False) -> tuple[np.ndarray, pd.Series]:
    """``pandas.factorize(values)`` as (codes, distinct values as a Series of the same dtype).

    Why: for the arrow-backed text columns this module reads, pandas 3 factorises a column
    of 1e7 cells in 0.35 CPU-s; arrow's own dictionary encoding, its chunks' codes written
    into one array, takes 0.25 CPU-s.  Codes and distinct values (in order of first
    appearance, missing cells -1) are pandas' (tested); other dtypes go to pandas.

    A column whose cells are the very arrow buffers of one of the last `_MEMO_SIZE`
    columns of at least `_MEMO_ROWS` cells factorised here (the contract keeps a clean
    file column as it is, so the contacts' ``party_id`` and ``iso3`` are the file's
    ``party_id`` and ``country``) gets that column's codes again without a second
    encoding.  Arrow buffers never change, and the remembered column holds its buffers,
    so equal buffers are equal cells.

    ``compact=True``: the codes of a text column in the smallest signed integer type
    that holds them, read-only (int16 for a few thousand distinct values: 20 MB for 1e7
    cells instead of 80 MB, for callers that only index or compare with them).
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or not len(values):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, pd.Series(uniques, dtype=dtype)
    text = pa.array(values.array)
    if not isinstance(text, pa.ChunkedArray):
        text = pa.chunked_array([text])
    key = _identity(text)
    with _MEMO_LOCK:
        known = _MEMO.pop(key, None)
        if known is not None:
            _MEMO[key] = known  # the most recently used is kept longest
    if known is None:
        known = (text, *_encode(text))
        if len(text) >= _MEMO_ROWS:  # a small table's column must not push a large one out
            with _MEMO_LOCK:
                _MEMO[key] = known
                while len(_MEMO) > _MEMO_SIZE:
                    _MEMO.pop(next(iter(_MEMO)))
    codes = known[1].view() if compact else known[1].astype(np.intp)  # a view: read-only
    return codes, pd.Series(pd.array(known[2], dtype=dtype))


def _encode(text: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(codes in the smallest signed type, missing -1, read-only; the distinct cells)."""
    # one memo table over the chunks: every chunk carries the same, final dictionary
    encoded = text.dictionary_encode().unify_dictionaries()
    dictionary = encoded.chunk(0).dictionary
    width = next(t for t in (np.int8, np.int16, np.int32) if len(dictionary) < np.iinfo(t).max)
    codes = np.empty(len(text), dtype=width)
    at = 0
    for chunk in encoded.chunks:  # into one array: no concatenated copy to narrow
        indices = chunk.indices
        if indices.null_count:
            indices = indices.fill_null(-1)
        codes[at : at + len(indices)] = indices.to_numpy(zero_copy_only=False)
        at += len(indices)
    codes.flags.writeable = False
    return codes, dictionary


_MEMO_SIZE = 2
_MEMO_ROWS = 1 << 16
"""Columns shorter than this are encoded again when asked twice (it is cheap)."""
_MEMO: dict[tuple, tuple[pa.ChunkedArray, np.ndarray, pa.Array]] = {}
"""Identity of a column's buffers -> (the column, its codes, compact; its distinct cells)."""
_MEMO_LOCK = threading.Lock()


def _identity(text: pa.ChunkedArray) -> tuple:
    """The type, and each chunk's offset, length and buffer addresses."""
    return (
        str(text.type),
        tuple(
            (c.offset, len(c), tuple(0 if b is None else b.address for b in c.buffers()))
            for c in text.chunks
        ),
    )


def forget_factorizations() -> None:
    """Drop the columns `factorize` remembers (and the buffers they hold)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def clean_text(values: pd.Series) -> pd.Series:
    """Text with surrounding blanks stripped and empty cells missing (``string`` dtype).

    Why: most columns of a contract file are clean already; checked block by block, such
    a column is returned as it is (its arrow buffers shared) instead of a stripped copy and
    a masked copy of 1e7 cells (+260 MB at the load's memory peak for ``source_id``).
    """
    text = values.astype("string")
    if text.dtype.storage == "pyarrow":
        arrow = pa.array(text.array)
        chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
        if all(_clean_already(chunk) for chunk in chunks):
            return text
    out = text.str.strip()
    return out.mask(out == "", pd.NA)


def _clean_already(chunk: pa.Array) -> bool:
    """No cell of the chunk has surrounding blanks or is empty."""
    if chunk.null_count == len(chunk):
        return True
    same = pc.all(pc.equal(pc.utf8_trim_whitespace(chunk), chunk)).as_py()
    empty = pc.any(pc.equal(pc.utf8_length(chunk), 0)).as_py()
    return same is not False and not empty


_NULL_BLOCK = 1 << 16


def missing_text(index: pd.Index) -> pd.Series:
    """``pd.Series(pd.NA, index=index, dtype="string")`` without a buffer per cell.

    Why: the contract gives contacts without a ``party_name`` or ``text`` column such a
    column; built cell by cell, each holds 1e7 offsets (80 MB) and takes 0.4 CPU-s.  Here
    every block of the column is one shared block of missing cells, so the column costs
    one block whatever its length.  Values and dtype are the same (tested).
    """
    n = len(index)
    block = pa.nulls(min(n, _NULL_BLOCK), pa.large_string())
    chunks = [block] * (n // _NULL_BLOCK)
    if n % _NULL_BLOCK or not n:
        chunks.append(block.slice(0, n % _NULL_BLOCK))
    array = pa.chunked_array(chunks, type=pa.large_string())
    return pd.Series(pd.array(array, dtype="string"), index=index)
