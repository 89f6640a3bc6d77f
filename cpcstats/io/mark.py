"""The SIMULATED mark of an exported panel: written with the file, read back by ``fit --data``.

A panel exported from the demo (``cpcstats panel``, the replication's ``panels/``) and
refitted with ``cpcstats fit --data`` must still say SIMULATED in the console, in
``FitResult.simulated`` and in every table made from it.  The mark is carried in layers,
so that none of the ordinary things a user does with a file loses it by accident:

1. **In the rows** (simulated panels only): a first column ``simulated_data`` whose every
   cell is ``SIMULATED``.  It is the one mark that survives copying the file alone,
   re-saving it through pandas, R or a spreadsheet program, converting CSV to Excel, and
   taking a subset of rows; it can be lost only by deleting that column on purpose.
2. **In the file's metadata**: Parquet schema metadata (key ``cpcstats``, and pandas'
   ``attrs``, which pandas itself writes back when it re-saves the frame); Excel document
   properties (subject, keywords and a custom property ``cpcstats``).
3. **Beside a CSV** (which has no metadata): ``<file>.cpcstats.json`` with the study, the
   level, ``simulated`` and the SHA-256 of the data file.  It is believed only while the
   hash matches: an edited file is no longer the exported one, so its study name is not
   claimed -- but a sidecar that says SIMULATED still marks an edited file ("derived from
   SIMULATED data"), since editing simulated rows does not make them real.

Reading: any layer that says simulated marks the panel (`PanelMark.simulated`); the
reasons are kept (`PanelMark.how`) and printed.  A CSV copied without its sidecar and with
its ``simulated_data`` column deleted is, by then, a file the user rewrote: it reads as
unmarked, and the documentation says so.  Real (non-simulated) panels get no column; their
metadata and sidecar record the study and level for provenance.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.io.files import sha256_of

#: the in-band mark: a first column whose every cell is `MARK_VALUE`
MARK_COLUMN = "simulated_data"
MARK_VALUE = "SIMULATED"
#: the metadata key (Parquet schema metadata, Excel custom document property)
META_KEY = "cpcstats"
#: what a CSV's sidecar is called: ``panel.csv`` -> ``panel.csv.cpcstats.json``
SIDECAR_SUFFIX = ".cpcstats.json"
#: a fixed time for an Excel file's properties and zip entries (byte-identical reruns)
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def sidecar_path(path: str | Path) -> Path:
    """Where the sidecar of a CSV panel lives (``<file>.cpcstats.json``)."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def mark_record(*, simulated: bool, study: str, level: str) -> dict[str, Any]:
    """What every metadata layer records (sorted keys when written)."""
    record: dict[str, Any] = {
        "format": "cpcstats panel",
        "level": level,
        "simulated": bool(simulated),
        "study": study,
    }
    if simulated:
        record["note"] = "SIMULATED data (the cpcstats demo study): not real observations"
    return record


def with_mark_column(frame: pd.DataFrame, simulated: bool) -> pd.DataFrame:
    """``frame`` with the ``simulated_data`` column first when ``simulated`` (a copy)."""
    if not simulated or MARK_COLUMN in frame.columns:
        return frame
    out = frame.copy()
    out.insert(0, MARK_COLUMN, MARK_VALUE)
    return out


def parquet_bytes(frame: pd.DataFrame, record: dict[str, Any]) -> bytes:
    """The frame as Parquet with the mark in the schema metadata and in pandas' attrs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = frame.copy()
    data.attrs = {k: record[k] for k in ("level", "simulated", "study")}
    table = pa.Table.from_pandas(data, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[META_KEY.encode()] = json.dumps(record, sort_keys=True).encode()
    metadata[b"PANDAS_ATTRS"] = json.dumps(data.attrs, sort_keys=True).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def excel_bytes(frame: pd.DataFrame, record: dict[str, Any]) -> bytes:
    """The frame as one-sheet .xlsx with the mark in the document properties.

    Why the zip is rewritten: openpyxl stamps each entry and the "modified" property with
    the current time; fixed times keep a rerun's file byte-identical.
    """
    import datetime

    from openpyxl.packaging.custom import StringProperty

    raw = io.BytesIO()
    with pd.ExcelWriter(raw, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="panel")
        props = writer.book.properties
        props.created = props.modified = datetime.datetime(*_FIXED_TIME)
        props.title = f"{record['study']} {record['level']} panel"
        props.subject = record.get("note") or f"{record['level']} panel"
        props.keywords = "cpcstats; SIMULATED" if record["simulated"] else "cpcstats"
        props.creator = "cpcstats"
        text = json.dumps(record, sort_keys=True)
        writer.book.custom_doc_props.append(StringProperty(name=META_KEY, value=text))
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content
                )
            dst.writestr(entry, content)
    return out.getvalue()


@dataclass(frozen=True)
class PanelMark:
    """What a panel file says about itself: simulated or not, and why we think so."""

    simulated: bool = False
    study: str | None = None
    level: str | None = None
    how: tuple[str, ...] = ()  # the layers that marked it SIMULATED
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. a sidecar that no longer matches

    def to_dict(self) -> dict[str, Any]:
        return {
            "simulated": self.simulated,
            "study": self.study,
            "level": self.level,
            "how": list(self.how),
            "notes": list(self.notes),
        }


def read_mark(path: str | Path, frame: pd.DataFrame) -> PanelMark:
    """The mark of a panel file just read into ``frame`` (see the module docstring)."""
    path = Path(path)
    how: list[str] = []
    notes: list[str] = []
    record: dict[str, Any] = {}
    if MARK_COLUMN in frame.columns:
        cells = frame[MARK_COLUMN].astype("string").str.strip().str.upper()
        if bool((cells == MARK_VALUE).any()):
            how.append(f"its {MARK_COLUMN!r} column")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        record = _parquet_record(path)
        if record:
            how += ["its Parquet metadata"] if record.get("simulated") else []
    elif suffix in (".xlsx", ".xlsm"):
        record = _excel_record(path)
        if record:
            how += ["its Excel document properties"] if record.get("simulated") else []
    elif sidecar_path(path).is_file():
        record = _sidecar_record(path, notes)
        if record.get("simulated"):
            how.append(f"its sidecar {sidecar_path(path).name}")
        if notes:
            record = {"simulated": record.get("simulated", False)}  # not ours: claim no study
    return PanelMark(
        simulated=bool(how),
        study=record.get("study"),
        level=record.get("level"),
        how=tuple(how),
        notes=tuple(notes),
    )


def _parquet_record(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    for key in (META_KEY.encode(), b"PANDAS_ATTRS"):  # ours, or pandas' attrs after a re-save
        found = _json_dict(metadata.get(key))
        if found.get("simulated") is not None:
            return found
    return {}


def _excel_record(path: Path) -> dict[str, Any]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        for prop in wb.custom_doc_props.props:
            if prop.name == META_KEY:
                return _json_dict(prop.value)
        if "SIMULATED" in (wb.properties.keywords or ""):
            return {"simulated": True}
        return {}
    finally:
        wb.close()


def _sidecar_record(path: Path, notes: list[str]) -> dict[str, Any]:
    side = sidecar_path(path)
    record = _json_dict(side.read_bytes())
    if not record:
        notes.append(f"{side.name} is not a cpcstats sidecar; ignored")
        return {}
    if record.get("sha256") != sha256_of(path):
        notes.append(
            f"{path.name} changed after it was exported (its SHA-256 differs from "
            f"{side.name}), so it is no longer the exported {record.get('study')!r} panel"
        )
    return record


def _json_dict(raw: bytes | str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
