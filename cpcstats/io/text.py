"""CSV text before pandas sees it: strict decoding, the delimiter, the record layout and
unique header names.

Why before pandas: pandas decodes with one encoding, guesses delimiters from the first
line and renames a repeated header silently; each of those turns a user's mistake into
wrong data instead of an error naming the line.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpcstats.errors import InputError


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode CSV bytes strictly, so that no name is silently garbled.

    Why strict: decoding a file that is UTF-8 except a few Latin-1 lines as cp1252 turns
    every UTF-8 name into mojibake ("CÃ´te d'Ivoire") without any sign of it, and the
    garbled names then fail to match or become new categories.  So:

    * a UTF-8 file (with or without BOM) or a UTF-16 file with BOM is decoded as such;
    * a file with no valid UTF-8 multi-byte character at all (a legacy single-byte
      export) is decoded as Windows-1252 (Latin-1 if a byte is undefined there), and
      the encoding is recorded in `InputFile`;
    * a file that mixes the two (some lines UTF-8, others not, or a UTF-8 BOM followed
      by invalid bytes) is an `InputError` naming the first lines that are not
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
