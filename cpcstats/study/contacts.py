"""Study-level rules on the normalised contacts and party tables: the study window, the
dedupe rule, a party contact's country and party ids the parties table does not know.

Each rule returns a `cpcstats.accounting.StageAccount`, so that every row a rule
drops is counted in the study's ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd
import pyarrow as pa

from cpcstats.accounting import StageAccount
from cpcstats.errors import InputError, SpecError
from cpcstats.io.fastcsv import factorize

SHOWN_REPEATS = 20
"""How many file rows of exact repeats a study keeps for its messages and ledger."""


@dataclass(frozen=True)
class RepeatedRows(Sequence[int]):
    """Exact repeats, bounded: their number and the file rows of the first few.

    Why not a list of every row: a large event log with many repeats made a Python list
    of millions of ints that nothing reads beyond its length and first rows.  It behaves
    as the list did for what the loader does with it: ``len()`` is the count, slices
    (and indexes) within the first `SHOWN_REPEATS` give the rows.
    """

    total: int
    shown: tuple[int, ...]

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> list[int]: ...

    def __getitem__(self, key: int | slice) -> int | list[int]:
        if isinstance(key, slice):
            stop = self.total if key.stop is None else key.stop
            if min(stop, self.total) > len(self.shown) or key.step not in (None, 1):
                raise IndexError(f"only the first {len(self.shown)} repeated rows are kept")
            return list(self.shown[key])
        position = key + self.total if key < 0 else key
        if not 0 <= position < len(self.shown):
            raise IndexError(f"only the first {len(self.shown)} repeated rows are kept")
        return self.shown[position]


def _repeated(frame: pd.DataFrame) -> np.ndarray:
    """``frame.duplicated(keep="first")``, checked exactly only where row hashes collide.

    Why: ``duplicated`` over every column factorises each one into int64 codes at once
    (the load's memory peak: +2.2 GB for 1e7 contacts).  A 64-bit hash per row, built one
    column at a time, rules out every row whose hash is unique; equal rows hash equally,
    so the exact check on the colliding rows (kept in file order) is the same answer.
    Integer and date columns enter the hash by their bits (equal values, equal bits; NaT
    is one value), the others by a hash or code of each cell.  Columns are hashed from the
    most varied (in the first rows) on, and once no two rows share a hash the others are
    not needed: with a unique id (``source_id``) one column decides.
    """
    sample = frame.iloc[:_SAMPLE]
    order = sorted(frame.columns, key=lambda c: -sample[c].nunique(dropna=False))
    hashes = np.zeros(len(frame), dtype=np.uint64)
    shared = np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, column in enumerate(order):  # one column's codes in memory at a time
            np.bitwise_xor(hashes, _column_codes(frame[column]), out=hashes)  # in place:
            np.multiply(hashes, _MIX, out=hashes)  # no 1e7 temporaries
            if i < 3 or i == len(order) - 1:
                shared = _shared(hashes)
                if not len(shared):
                    break
    candidates = np.flatnonzero(pd.Series(hashes).isin(shared).to_numpy()) if len(shared) else []
    repeated = np.zeros(len(frame), dtype=bool)
    if len(candidates):
        repeated[candidates] = frame.iloc[candidates].duplicated(keep="first").to_numpy(bool)
    return repeated


_SAMPLE = 4096


def _shared(hashes: np.ndarray) -> np.ndarray:
    """The hash values more than one row has (a sort: 3 x cheaper than a hash table)."""
    ordered = np.sort(hashes)
    return ordered[1:][ordered[1:] == ordered[:-1]]


def _column_codes(values: pd.Series) -> np.ndarray:
    """Equal cells, equal uint64: the bits of int64/datetime64 cells, a hash of each text
    cell (`_text_hash`), else `pandas.factorize` codes."""
    if values.dtype == np.int64 or (
        values.dtype.kind == "M" and isinstance(values.dtype, np.dtype)
    ):
        return values.to_numpy().view(np.uint64)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return _text_hash(pa.array(values.array))
    return pd.factorize(values)[0].astype(np.uint64)  # missing: 2**64 - 1


_MIX = np.uint64(0x9E3779B97F4A7C15)
_ONES = np.uint64(2**64 - 1)


def _text_hash(text: pa.Array | pa.ChunkedArray, rows: int = 1 << 16) -> np.ndarray:
    """A uint64 per text cell from its length and its first and last 8 bytes.

    Why not factorize: factorising a column of 1e7 distinct ids (``source_id``) builds a
    hash table of 1e7 strings, several CPU-s; this reads the arrow buffers in blocks of
    ``rows`` cells, in one pass.  Equal cells give equal hashes, which is all the repeat
    check needs (cells that differ only in their middle bytes collide and are then told
    apart by its exact check).  Missing cells share one value.
    """
    out = np.empty(len(text), dtype=np.uint64)
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    at = 0
    for chunk in chunks:
        for first_row in range(0, len(chunk), rows):
            part = chunk.slice(first_row, rows).cast(pa.large_string())
            n = len(part)
            _, offset_buffer, data = part.buffers()
            offsets = np.frombuffer(offset_buffer, dtype=np.int64)[
                part.offset : part.offset + n + 1
            ]
            lo, hi = int(offsets[0]), int(offsets[-1])
            raw = np.zeros(hi - lo + 16, dtype=np.uint8)
            if data is not None:
                raw[: hi - lo] = np.frombuffer(data, dtype=np.uint8)[lo:hi]
            # the 8 bytes from each byte position on, as one (unaligned) uint64 each
            words = np.ndarray(shape=(hi - lo + 8,), dtype=np.uint64, buffer=raw, strides=(1,))
            start = offsets[:-1] - lo
            length = offsets[1:] - offsets[:-1]
            short = np.minimum(length, 8)
            keep = np.where(short == 8, _ONES, (1 << (short.astype(np.uint64) * 8)) - 1)
            with np.errstate(over="ignore"):
                h = (length.astype(np.uint64) + _MIX) * _MIX
                h = (h ^ (words[start] & keep)) * _MIX
                h = (h ^ (words[start + length - short] & keep)) * _MIX
                h ^= h >> np.uint64(29)
            if part.null_count:
                h[part.is_null().to_numpy(zero_copy_only=False)] = _MIX
            out[at : at + n] = h
            at += n
    return out


def _exact_duplicates(contacts: pd.DataFrame) -> RepeatedRows:
    """File rows of contacts that repeat an earlier row in every column but the row number
    (their count, and the first `SHOWN_REPEATS` rows)."""
    columns = [c for c in contacts.columns if c != "row"]
    repeated = _repeated(contacts[columns])
    where = np.flatnonzero(repeated)[:SHOWN_REPEATS]
    if "row" not in contacts.columns:
        rows = tuple(int(i) + 2 for i in contacts.index[where])
    else:
        rows = tuple(int(r) for r in contacts["row"].to_numpy()[where])
    return RepeatedRows(int(repeated.sum()), rows)


def _dedupe(
    contacts: pd.DataFrame, keys: list[str], config_file: str
) -> tuple[pd.DataFrame, StageAccount]:
    """One contact per ``keys`` (the study's counting rule), repeated rows counted."""
    names = ["iso3" if k == "country" else k for k in keys]
    missing = [k for k in names if k not in contacts.columns]
    if missing:
        raise SpecError(
            f"[contacts] dedupe names column(s) {', '.join(missing)} that the contacts lack",
            file=config_file,
            column=missing[0],
            fix=f"use contract columns, e.g. dedupe = ['date', 'country', 'party_id']; "
            f"available: {', '.join(contacts.columns)}",
        )
    repeated = contacts.duplicated(names, keep="first")
    account = StageAccount(
        "contacts: dedupe rule",
        len(contacts),
        int((~repeated).sum()),
        {f"repeated {' + '.join(keys)} (study's dedupe rule)": int(repeated.sum())},
    )
    return contacts[~repeated].reset_index(drop=True), account


def _window(
    contacts: pd.DataFrame,
    first: int,
    last: int,
    *,
    policy: str = "error",
    file: str | None = None,
    config_file: str | None = None,
) -> tuple[pd.DataFrame, StageAccount]:
    """Keep the contacts of the study window; outside it is an error unless the study says
    ``outside_window = "drop"`` (then they are counted), because a year outside the window
    is as often a typo (2107, 1920) as a deliberate longer file."""
    if policy not in ("error", "drop"):
        raise SpecError(
            f"[contacts] outside_window = {policy!r} is not 'error' or 'drop'",
            file=config_file,
            column="outside_window",
            fix='outside_window = "drop" to drop (and count) contacts outside the window',
        )
    inside = contacts["year"].between(first, last)
    if policy == "error" and not inside.all():
        outside = contacts[~inside]
        years = sorted(int(y) for y in outside["year"].unique())
        shown = ", ".join(map(str, years[:8])) + (" …" if len(years) > 8 else "")
        raise InputError(
            f"{len(outside):,} contact(s) fall outside the study window {first}-{last} "
            f"(years {shown})",
            file=file,
            row=int(outside["row"].iloc[0]) if "row" in outside.columns else None,
            column="date",
            fix="correct the dates, widen first_year/last_year in [study], or add "
            'outside_window = "drop" to [contacts] to drop them (they are then counted)',
        )
    account = StageAccount(
        "contacts: study window",
        len(contacts),
        int(inside.sum()),
        {f"outside study window {first}-{last}": int((~inside).sum())},
    )
    if inside.all():  # the usual case: no copy of millions of rows
        return contacts, account
    return contacts[inside].reset_index(drop=True), account


PARTY_COUNTRY_RULES = ("error", "party", "contact")


def _party_country(
    contacts: pd.DataFrame,
    parties: pd.DataFrame,
    *,
    policy: str,
    file: str,
    parties_file: str,
    config_file: str,
    coded: PartyCodes | None = None,
) -> tuple[pd.DataFrame, StageAccount]:
    """A party contact whose country differs from its party's country.

    Why explicit: the country-year panel counts a contact in the contact's own country, the
    party-year panel under its party (hence the party's country), so a disagreement makes
    the two panels count the same contact in different countries.  By default it is an
    error naming the row; ``[contacts] party_country = "party"`` counts such contacts in the
    party's country (both panels agree), ``"contact"`` keeps the contact's country (a stated
    choice, reported in the rules).  ``coded``: the contacts' `party_codes`, if
    `_check_party_ids` made them already (the same frame).
    """
    if policy not in PARTY_COUNTRY_RULES:
        raise SpecError(
            f"[contacts] party_country = {policy!r} is not one of {', '.join(PARTY_COUNTRY_RULES)}",
            file=config_file,
            column="party_country",
            fix='party_country = "party" counts such contacts in their party\'s country',
        )
    coded = party_codes(contacts) if coded is None else coded
    home_of = coded.distinct.map(parties.set_index("party_id")["iso3"])  # per distinct id
    differ = _differ_from_home(contacts["iso3"], home_of, coded)
    n = int(differ.sum())
    if n and policy == "error":
        first = int(np.flatnonzero(differ)[0])
        row = contacts.iloc[first]
        home = home_of.iloc[coded.codes[first]]
        raise InputError(
            f"{n:,} party contact(s) give a country that is not their party's country in "
            f"{parties_file} (first: party {row['party_id']!r} of {home}, contact "
            f"country {row['country_raw']!r} = {row['iso3']}); the country-year and party-year "
            "panels would count them in different countries",
            file=file,
            row=int(row["row"]),
            column="country",
            fix="correct the country (or the party_id) in the contacts or the parties table, "
            'or add party_country = "party" to [contacts] to count them in the party\'s '
            'country (party_country = "contact" keeps the contact\'s own country)',
        )
    out = contacts
    recoded = 0
    if n and policy == "party":
        out = contacts.copy()
        taken = home_of.array.take(coded.codes[differ], allow_fill=True)
        out.loc[differ, "iso3"] = pd.Series(taken).to_numpy()
        recoded = n
    account = StageAccount(
        "contacts: party's country",
        len(contacts),
        len(out),
        notes={
            "rule": f"party_country = {policy!r}",
            "differ": n,
            "recoded": recoded,
            "rows": [int(r) for r in contacts.loc[differ, "row"].head(20)],
        },
    )
    return out, account


def _party_home(
    party_id: pd.Series, parties: pd.DataFrame, *, coded: PartyCodes | None = None
) -> pd.Series:
    """Each contact's party's country (missing when the id is not a party of the table):
    ``party_id.map(parties.set_index("party_id")["iso3"])``, one lookup per distinct id
    (``coded``: `party_codes` of the frame ``party_id`` is the column of)."""
    codes, distinct = factorize(party_id) if coded is None else (coded.codes, coded.distinct)
    home = distinct.map(parties.set_index("party_id")["iso3"])
    return pd.Series(home.array.take(codes, allow_fill=True), index=party_id.index)


def _differ_from_home(iso3: pd.Series, home_of: pd.Series, coded: PartyCodes) -> np.ndarray:
    """Party contacts whose country is not their party's: ``is_party & home.notna() &
    (iso3 != home).fillna(False)`` for ``home`` each contact's party's country.

    Why codes: the contacts' countries are factorised (the file's own column, whose codes
    `factorize` keeps) and each party's country is looked up among them once, so no
    column of 1e7 home countries is built and compared (0.4 CPU-s, +110 MB).  A missing
    country differs from nothing, as ``fillna(False)`` has it.
    """
    iso_codes, iso_distinct = factorize(iso3, compact=True)
    known = np.append(home_of.notna().to_numpy(dtype=bool), False)  # code -1: no party id
    found = pd.Index(iso_distinct.astype(object)).get_indexer(home_of.astype(object))
    home_code = np.append(found, -1)
    differ = np.zeros(len(iso_codes), dtype=bool)
    for start in range(0, len(iso_codes), 1 << 20):  # by blocks: no 1e7 temporaries
        block = slice(start, start + (1 << 20))
        party = coded.codes[block]
        own = iso_codes[block]
        differ[block] = (
            coded.is_party[block] & known[party] & (own >= 0) & (own != home_code[party])
        )
    return differ


@dataclass(frozen=True)
class PartyCodes:
    """The contacts' party ids factorised, and which contacts are party contacts.

    Why: the id check and the country rule both need them; factorising 1e7 ids once
    instead of twice saves 0.3 CPU-s of a load.
    """

    codes: np.ndarray  # code of each contact's party_id (-1: missing), compact, read-only
    distinct: pd.Series  # the distinct ids, in order of first appearance
    is_party: np.ndarray  # counterpart_type == "party" (missing: False)


def party_codes(contacts: pd.DataFrame) -> PartyCodes:
    """`PartyCodes` of a normalised contacts frame."""
    codes, distinct = factorize(contacts["party_id"], compact=True)
    is_party = (contacts["counterpart_type"] == "party").fillna(False).to_numpy(dtype=bool)
    return PartyCodes(codes, distinct, is_party)


UNKNOWN_PARTY = "party id not in the parties table"
VPARTY_OTHER = "V-Party party not in the study's parties table"


def _status_of_known_parties(
    status: pd.DataFrame, parties: pd.DataFrame, *, own_file: bool
) -> tuple[pd.DataFrame, StageAccount]:
    """Party-status rows of parties the parties table knows; the others are counted.

    Why: such rows can never reach the party-year panel, so they used to vanish.  In the
    study's own status file an unknown id is a typo or a missing party: counted under a
    reason no rule states, so ``check`` fails.  V-Party covers every party of its countries,
    so there the study's own parties table is the stated rule for using only some.
    """
    known = status["party_id"].isin(parties["party_id"]).to_numpy()
    reason = UNKNOWN_PARTY if own_file else VPARTY_OTHER
    unknown = status.loc[~known, "party_id"].value_counts()
    account = StageAccount(
        "party status: parties in the parties table",
        len(status),
        int(known.sum()),
        {reason: int((~known).sum())},
        notes={"unknown_party_ids": {str(k): int(v) for k, v in unknown.head(20).items()}},
        unstated=(reason,) if own_file else (),
    )
    return status[known].reset_index(drop=True), account


def _check_party_ids(
    contacts: pd.DataFrame, parties: pd.DataFrame, contacts_file: str, parties_file: str
) -> PartyCodes:
    """Every party contact's id is in the parties table, else an error naming the first.

    The check runs on the distinct ids (no copy of the party contacts' rows); it returns
    the `party_codes` it made, for `_party_country` on the same frame."""
    coded = party_codes(contacts)
    codes, distinct, is_party = coded.codes, coded.distinct, coded.is_party
    distinct = pd.concat([distinct, pd.Series([pd.NA], dtype=distinct.dtype)])  # code -1
    known = distinct.isin(parties["party_id"]).to_numpy(dtype=bool)
    absent = is_party & ~known[codes]
    if absent.any():
        unknown = contacts.loc[absent, ["party_id", "row"]]
        ids = unknown["party_id"].value_counts()
        listed = ", ".join(f"{k!r} ({v} contacts)" for k, v in ids.head(5).items())
        raise InputError(
            f"{len(unknown)} party contact(s) name party ids absent from the parties table "
            f"{parties_file}: {listed}",
            file=contacts_file,
            row=int(unknown["row"].iloc[0]),
            column="party_id",
            fix="add the parties to the parties table or correct the ids in the contacts file",
        )
    return coded
