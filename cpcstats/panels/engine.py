"""Where contact events are counted into panel cells: pandas, or DuckDB in SQL.

Why two engines: the pandas engine counts the study's contacts frame in memory; an event
log larger than memory can be counted by DuckDB straight from a Parquet dataset (a file,
a folder or a glob), which streams the files and keeps only one row per country-year.
Both return the same counts and the same accounting (rows in, rows matched, the
countries that are not a state in the panel that year, in the order pandas'
``value_counts`` gives them), so a study may switch engines without any output changing;
tests compare the two.

DuckDB is an optional dependency (the ``duckdb`` extra); asking for it without it
installed is a `SpecError` naming the fix.  ``engine=None`` picks DuckDB for a
Parquet dataset given as a path and pandas for a frame.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.io.fastcsv import factorize

ENGINES = ("pandas", "duckdb")
KEYS = ["iso3", "year"]
SPLITS = (
    "contacts",
    "contacts_party",
    "contacts_nonparty",
    "contacts_inbound",
    "contacts_outbound",
)
NOT_A_STATE = "country is not a state in the panel that year"

Source = pd.DataFrame | str | Path


@dataclass(frozen=True)
class Counts:
    """Counts aligned with the panel's rows, and what the counting stage accounts for."""

    counts: pd.DataFrame  # one column per split, one row per panel row, zero-filled
    events: int  # events offered
    matched: int  # events counted in a panel row
    unmatched_countries: pd.Series  # events per country not counted, value_counts order


def _is_parquet(source: Source) -> bool:
    if isinstance(source, pd.DataFrame):
        return False
    text = str(source)
    path = Path(text)
    if path.is_dir():
        return True
    return text.lower().endswith((".parquet", ".pq"))


def resolve_engine(engine: str | None, source: Source, *, config_file: str | None = None) -> str:
    """The engine to use: the one asked for (checked), else DuckDB for a Parquet path."""
    if engine is None:
        engine = "duckdb" if _is_parquet(source) else "pandas"
    if engine not in ENGINES:
        raise SpecError(
            f"[contacts] engine = {engine!r} is not one of {', '.join(ENGINES)}",
            file=config_file,
            column="engine",
            fix='engine = "pandas" (default) or engine = "duckdb" (pip install cpcstats[duckdb])',
        )
    if engine == "pandas" and not isinstance(source, pd.DataFrame):
        raise SpecError(
            f"the pandas engine counts a loaded study's contacts, not the dataset {source}",
            file=config_file,
            column="engine",
            fix='use engine = "duckdb" to count a Parquet dataset without loading it',
        )
    return engine


def count_contacts(
    events: Source,
    panel: pd.DataFrame,
    *,
    keys: list[str] | None = None,
    engine: str | None = None,
    config_file: str | None = None,
) -> Counts:
    """Count ``events`` (a frame, or a Parquet dataset with the ``keys`` columns,
    counterpart_type and direction) into the ``panel``'s rows of the same ``keys``
    (default iso3 and year; the party-year panel counts by party_id and year)."""
    keys = list(keys or KEYS)
    chosen = resolve_engine(engine, events, config_file=config_file)
    if chosen == "duckdb":
        return _count_duckdb(events, panel, keys, config_file=config_file)
    assert isinstance(events, pd.DataFrame)
    return _count_pandas(events, panel, keys)


def _count_pandas(events: pd.DataFrame, panel: pd.DataFrame, keys: list[str]) -> Counts:
    """One pass: each event's panel row is looked up once, all splits in one bincount.

    Why: a `MultiIndex` of the events' keys hashed 1e7 strings again (0.7 CPU-s), and a
    bincount per split re-indexed the events five times.  Here each key is factorised
    (arrow's dictionary encoding for text), only the distinct key combinations are looked
    up in the panel, and one bincount over ``row * 8 + split bits`` gives every split.
    Equal keys map to the same row as the `MultiIndex` lookup did (tests compare).
    """
    position = _panel_rows(events, panel, keys)
    matched = position >= 0

    def where(column: str, value: str) -> np.ndarray:
        return (events[column] == value).to_numpy(dtype=bool, na_value=False)

    bits = where("counterpart_type", "party").astype(np.uint8)
    bits |= where("direction", "inbound").view(np.uint8) << 1
    bits |= where("direction", "outbound").view(np.uint8) << 2
    row = position  # in place, every event: no copy of the matched ones
    row *= 8
    row += bits
    row[~matched] = 8 * len(panel)  # one cell past the panel's: not counted
    cells = np.bincount(row, minlength=8 * len(panel) + 1)[:-1].reshape(len(panel), 8)
    flag = np.arange(8)
    total = cells.sum(axis=1)
    party = cells[:, (flag & 1) > 0].sum(axis=1)
    splits = {
        "contacts": total,
        "contacts_party": party,
        "contacts_nonparty": total - party,
        "contacts_inbound": cells[:, (flag & 2) > 0].sum(axis=1),
        "contacts_outbound": cells[:, (flag & 4) > 0].sum(axis=1),
    }
    counts = pd.DataFrame({n: v.astype(np.int64) for n, v in splits.items()})
    outside = events[keys[0]].iloc[np.flatnonzero(~matched)].value_counts()
    return Counts(counts, len(events), int(matched.sum()), outside)


_GRID = 1 << 24
"""Key combinations counted on a dense grid up to this many cells, else hashed."""


def _integer_range(values: pd.Series) -> tuple[np.ndarray, int, pd.Series] | None:
    """(cells, smallest value, every value from the smallest to the largest) of a NumPy
    integer key over a short range (the year), else None.

    Why: such a key is coded by its offset from the smallest value, without hashing.
    """
    if values.dtype.kind not in "iu" or not isinstance(values.dtype, np.dtype) or not len(values):
        return None
    array = values.to_numpy()
    low, high = int(array.min()), int(array.max())
    if high - low >= _GRID:
        return None
    return array, low, pd.Series(np.arange(low, high + 1, dtype=array.dtype), dtype=values.dtype)


def _panel_rows(events: pd.DataFrame, panel: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each event's row in the panel (-1: none), as
    ``MultiIndex.from_frame(panel[keys]).get_indexer(MultiIndex.from_frame(events[keys]))``.

    Why: the keys repeat (a few thousand country-years over millions of events), so the
    events' keys are factorised and only each distinct combination is looked up.  An event
    with a missing key matches no panel row, as in the `MultiIndex` lookup of a panel
    without missing keys (a panel's keys are never missing).
    """
    index = pd.MultiIndex.from_frame(panel[keys])
    combined = np.zeros(0, dtype=np.int64)
    missing = np.zeros(len(events), dtype=bool)
    distinct: list[pd.Series] = []
    size = 1
    for i, key in enumerate(keys):  # in place: one array of 1e7 codes at a time
        offset = _integer_range(events[key])
        if offset is not None:
            cells, low, values = offset
            if i == 0:
                combined = np.subtract(cells, low, dtype=np.int64)
            else:
                combined *= len(values)
                combined += cells
                combined -= low
        else:
            codes, values = factorize(events[key], compact=True)
            missing |= codes < 0
            if i == 0:
                combined = codes.astype(np.int64, copy=False)
            else:
                combined *= max(len(values), 1)
                combined += codes
            del codes
        size *= max(len(values), 1)
        distinct.append(values)
    if size <= _GRID:
        combined[missing] = size  # one cell past the grid: no panel row
        present = np.flatnonzero(np.bincount(combined, minlength=size + 1)[:size])
        lookup = np.full(size + 1, -1, dtype=np.int64)
        place = present
    else:
        combined[missing] = -1
        combined, present = pd.factorize(combined)
        combined = combined.astype(np.int64, copy=False)
        lookup = np.full(len(present), -1, dtype=np.int64)
        place = np.arange(len(present))
    parts = []
    rest = present
    for values in reversed(distinct):
        width = max(len(values), 1)
        parts.append(values.array.take(rest % width) if len(values) else values.array[:0])
        rest = rest // width
    if len(present):
        found = index.get_indexer(pd.MultiIndex.from_arrays(parts[::-1], names=keys))
        lookup[place] = np.where(present >= 0, found, -1)
    for start in range(0, len(combined), 1 << 20):  # in place, by blocks: no 1e7 copy
        block = combined[start : start + (1 << 20)]
        block[:] = lookup[block]
    return combined


_SQL = """
SELECT {unit} AS unit, CAST(year AS BIGINT) AS year, min(position) AS first_seen,
       count(*) AS contacts,
       count(*) FILTER (WHERE counterpart_type = 'party') AS contacts_party,
       count(*) FILTER (WHERE counterpart_type IS DISTINCT FROM 'party') AS contacts_nonparty,
       count(*) FILTER (WHERE direction = 'inbound') AS contacts_inbound,
       count(*) FILTER (WHERE direction = 'outbound') AS contacts_outbound
FROM ({relation})
GROUP BY unit, year
"""


def _relation(con: Any, events: Source, unit: str, config_file: str | None) -> str:
    """The SQL relation of the events, with ``position``: the event's place in file order."""
    if isinstance(events, pd.DataFrame):
        import pyarrow as pa

        def text(column: str) -> pa.Array:  # arrow-backed strings are passed without a copy
            return pa.array(events[column].astype("string[pyarrow]").array)

        frame = pa.table(
            {
                unit: text(unit),
                "year": pa.array(events["year"].to_numpy(dtype=np.int64)),
                "counterpart_type": text("counterpart_type"),
                "direction": text("direction"),
                "position": pa.array(np.arange(len(events), dtype=np.int64)),
            }
        )
        con.register("events_frame", frame)
        return "SELECT * FROM events_frame"
    files = sorted(
        glob.glob(str(Path(events) / "*.parquet") if Path(events).is_dir() else str(events))
    )
    if not files:
        raise SpecError(
            f"no Parquet file matches {events}",
            file=config_file,
            column="path",
            fix="check the path or glob of the contacts dataset",
        )
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    # file order (sorted names) then row order within a file: pandas' reading order
    return (
        f"SELECT {unit}, year, counterpart_type, direction, "
        "dense_rank() OVER (ORDER BY filename) * 4294967296 + file_row_number AS position "
        f"FROM read_parquet([{listed}], filename = true, file_row_number = true)"
    )


def _count_duckdb(
    events: Source, panel: pd.DataFrame, keys: list[str], *, config_file: str | None
) -> Counts:
    """Aggregate in DuckDB to one row per (iso3, year), then align with the panel."""
    try:
        import duckdb
    except ImportError as exc:
        raise SpecError(
            "[contacts] engine = 'duckdb' needs the duckdb package, which is not installed",
            file=config_file,
            column="engine",
            fix="pip install 'cpcstats[duckdb]', or use engine = \"pandas\"",
        ) from exc
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads TO 1")  # the project's rule: one core per process
        relation = _relation(con, events, keys[0], config_file)
        cells = con.execute(_SQL.format(unit=keys[0], relation=relation)).df()
    finally:
        con.close()
    cells = cells.sort_values("first_seen", kind="stable").reset_index(drop=True)
    index = pd.MultiIndex.from_frame(panel[keys])
    where = index.get_indexer(
        pd.MultiIndex.from_arrays([cells["unit"].astype(object), cells["year"].astype(np.int64)])
    )
    inside = where >= 0
    counts = pd.DataFrame({n: np.zeros(len(index), dtype=np.int64) for n in SPLITS})
    for name in SPLITS:
        counts.loc[where[inside], name] = cells.loc[inside, name].to_numpy(dtype=np.int64)
    outside = _unmatched_in_value_counts_order(cells[~inside])
    total = int(cells["contacts"].sum())
    return Counts(counts, total, int(cells.loc[inside, "contacts"].sum()), outside)


def _unmatched_in_value_counts_order(cells: pd.DataFrame) -> pd.Series:
    """Events per unmatched country, ordered as ``value_counts`` orders them (first
    appearance, then a sort by count), so the ledger's notes are the pandas engine's."""
    cells = cells[cells["unit"].notna()]  # value_counts leaves missing countries out
    if cells.empty:
        return pd.Series([], dtype=np.int64, name="count", index=pd.Index([], name="iso3"))
    per = cells.groupby("unit", sort=False).agg(first=("first_seen", "min"), n=("contacts", "sum"))
    per = per.sort_values("first", kind="stable")
    ordered = pd.Series(per["n"].to_numpy(dtype=np.int64), index=per.index, name="count")
    return ordered.sort_values(ascending=False)
