"""The vectorised ingest paths give what the row-by-row (reference) paths gave, on hostile input.

Each fast path works once per distinct value (codes and uniques) or reads the CSV without
``dtype=str``; the references below are the code those paths replaced, kept here verbatim
in substance, so a change that makes the two disagree (a missing value, a case or blank
variant, a mixed date format, an unknown country or party, a column pandas reads as numbers)
fails here instead of changing a panel, a ledger or an error message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.contract import (
    COUNTERPART_TYPES,
    _check_values,
    _clean_repeated,
    file_row,
    normalise_contacts,
)
from cpcstats.countries import harmonise_codes, harmonise_countries
from cpcstats.errors import InputError
from cpcstats.io.dates import TIME_ZONE, parse_dates
from cpcstats.io.fastcsv import read_contract_csv
from cpcstats.io.read import _read_csv
from cpcstats.study.contacts import _check_party_ids, _exact_duplicates, _party_home, _window

SPELLINGS = ["FRA", " fra", "France", "FRANCE ", "Wales", "Atlantis", None, "", "  ", "DEU", "XKX"]
TYPES = ["party", " Party", "STATE", "other ", None, "state"]
DATES = ["2005-01-02", " 2005-01-02", "2005/01/02", "02.01.2005", "2005-01-02T10:00:00+02:00",
         "2005-01-02 10:00 UTC", "Jan 2, 2005", None, "2006-12-31"]  # fmt: skip


def _hostile(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "date": pd.array(rng.choice(np.array(DATES, dtype=object), n), dtype="str"),
            "country": pd.array(rng.choice(np.array(SPELLINGS, dtype=object), n), dtype="str"),
            "counterpart_type": pd.array(rng.choice(["party", " Party", "STATE", "other "], n)),
            "party_id": pd.array(rng.choice(np.array(["P1", " P1", "p1", "P2"], dtype=object), n)),
            "direction": pd.array(rng.choice(["inbound", "Outbound ", " unknown"], n)),
            "source_id": pd.array([f" S{i % 97} " for i in range(n)], dtype="str"),
        }
    )


def _clean_str(series: pd.Series) -> pd.Series:
    """The row-by-row cleaning `cpcstats.io.fastcsv.clean_text` replaced."""
    out = series.astype("string").str.strip()
    return out.mask(out == "", pd.NA)


def _old_check_values(series: pd.Series, allowed: tuple, *, column: str) -> pd.Series:
    """The row-by-row rule `_check_values` replaced (returns the values or raises)."""
    values = (
        _clean_str(series).str.lower() if column != "fh_status" else _clean_str(series).str.upper()
    )
    bad = values.notna() & ~values.isin(allowed)
    if bad.any():
        first = bad.idxmax()
        examples = ", ".join(sorted(map(repr, values[bad].unique()[:5])))
        raise InputError(
            f"{int(bad.sum())} value(s) not in {', '.join(allowed)}: {examples}",
            file="f.csv",
            row=file_row(first),
            column=column,
            fix=f"recode them, or map them in the study's [contacts.values.{column}] table",
        )
    return values


def _old_parse(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    text = text.str.replace(TIME_ZONE, r"\1", regex=True, case=False)
    return pd.to_datetime(text, errors="coerce", format="mixed")


@pytest.mark.parametrize("seed", range(3))
def test_values_checked_once_per_distinct_value_equal_the_row_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    good = pd.Series(pd.array(rng.choice(np.array(TYPES, dtype=object), 500), dtype="str"))
    good.index = good.index + 7  # labels are not positions
    pd.testing.assert_series_equal(
        _check_values(good, COUNTERPART_TYPES, file="f.csv", column="x", table="contacts"),
        _old_check_values(good, COUNTERPART_TYPES, column="x"),
    )
    bad = good.copy()
    bad.iloc[rng.integers(50, 500, 30)] = rng.choice(["Partei", " Staat", "ghost", "PARTEI"], 30)
    with pytest.raises(InputError) as fast:
        _check_values(bad, COUNTERPART_TYPES, file="f.csv", column="x", table="contacts")
    with pytest.raises(InputError) as old:
        _old_check_values(bad, COUNTERPART_TYPES, column="x")
    assert str(fast.value) == str(old.value)


def test_cleaning_once_per_distinct_value_equals_cleaning_every_row() -> None:
    raw = pd.Series(pd.array([" a", "a", None, "  ", "b ", "", "a"] * 50, dtype="str"))
    pd.testing.assert_series_equal(_clean_repeated(raw), _clean_str(raw))
    clean = pd.Series(pd.array(["a", None, "b"] * 50, dtype="str"), index=np.arange(150) + 3)
    pd.testing.assert_series_equal(_clean_repeated(clean), _clean_str(clean))  # nothing changes


@pytest.mark.parametrize("dtype", ["str", object])
def test_dates_parsed_once_per_distinct_cell_equal_every_row(dtype: object) -> None:
    rng = np.random.default_rng(4)
    raw = pd.Series(rng.choice(np.array([*DATES, "garbage", "  "], dtype=object), 3000))
    raw = raw.astype(dtype).rename("date")
    raw.index = np.arange(3000)[::-1]
    pd.testing.assert_series_equal(parse_dates(raw), _old_parse(raw))


@pytest.mark.parametrize(
    "cells",
    [
        ["2005-01-02", "2006-12-31", None],  # ISO only: the NumPy take, NaT for missing
        [None, None],  # nothing to parse
        ["2005-01-02 10:00:00.123", "2005-01-02", None, "x"],  # finer resolution
    ],
)
def test_dates_taken_back_by_code_keep_values_missing_cells_and_resolution(cells: list) -> None:
    raw = pd.Series(pd.array(cells * 40, dtype="str"), index=np.arange(len(cells) * 40) + 9)
    got = parse_dates(raw.rename("date"))
    pd.testing.assert_series_equal(got, _old_parse(raw.rename("date")))
    assert got.dtype == _old_parse(raw).dtype and got.isna().sum() == _old_parse(raw).isna().sum()


def test_harmonised_codes_equal_the_per_row_harmonisation() -> None:
    rng = np.random.default_rng(5)
    values = pd.Series(pd.array(rng.choice(np.array(SPELLINGS, dtype=object), 2000), dtype="str"))
    rules = {"overrides": {"atlantis ": "GRC"}, "exclude": {"XKX": "not a UN member"}}
    iso, report = harmonise_countries(values, **rules, source="f.csv")
    codes, uniques = pd.factorize(values)
    lookup, row_codes, fast = harmonise_codes(codes, uniques, **rules, source="f.csv")
    assert fast == report
    assert list(lookup[row_codes]) == list(iso)


def test_contacts_normalised_by_distinct_values_equal_the_row_rules() -> None:
    """Every output column against the row-by-row rule it stands for."""
    frame = _hostile(3000, 6)
    frame = frame[frame["date"].notna() & frame["country"].notna()].reset_index(drop=True)
    out, accounts, report = normalise_contacts(frame, file="f.csv")
    iso, expected_report = harmonise_countries(frame["country"], source="f.csv")
    keep = iso.notna().to_numpy()
    assert report == expected_report and accounts[0] == report.account(accounts[0].stage)
    assert len(out) == keep.sum() < len(frame)  # unknown and missing countries dropped
    expected = {
        "date": _old_parse(frame["date"]),
        "counterpart_type": _old_check_values(
            frame["counterpart_type"], COUNTERPART_TYPES, column="counterpart_type"
        ),
        "party_id": _clean_str(frame["party_id"]),
        "source_id": _clean_str(frame["source_id"]),
        "country_raw": _clean_str(frame["country"]),
        "iso3": iso.astype("string"),
    }
    for column, values in expected.items():
        want = values[keep].reset_index(drop=True).rename(column)
        pd.testing.assert_series_equal(out[column], want, check_names=False)
    assert out["row"].tolist() == [int(i) + 2 for i in np.flatnonzero(keep)]


def test_a_bad_date_is_named_as_before() -> None:
    frame = _hostile(200, 7)
    frame.loc[150, "date"] = "31.31.2005"
    frame.loc[170, "date"] = "nope"
    with pytest.raises(InputError) as caught:
        normalise_contacts(frame, file="f.csv")
    message = str(caught.value)
    assert "2 date(s) cannot be read (first: '31.31.2005')" in message and "152" in message


def test_repeats_that_differ_only_in_case_or_blanks_are_repeats_after_cleaning() -> None:
    frame = _hostile(4000, 8)
    frame = frame[frame["date"].notna()].reset_index(drop=True)
    out = normalise_contacts(frame, file="f.csv")[0]
    columns = [c for c in out.columns if c != "row"]
    expected = out.loc[out.duplicated(columns), "row"].tolist()
    got = _exact_duplicates(out)
    assert len(got) == len(expected) > 20
    assert got[:20] == expected[:20]
    raw_repeats = frame.duplicated().sum()
    assert raw_repeats < len(expected)  # " Party" and "party" only meet after cleaning


def test_repeat_hash_of_dates_and_ints_keeps_missing_dates_apart() -> None:
    frame = pd.DataFrame(
        {
            "row": np.arange(6) + 2,
            "date": pd.to_datetime(["2001-01-01", None, None, "2001-01-01", "1970-01-01", None]),
            "year": [2001, 2001, 2001, 2001, 1970, 0],
        }
    )
    assert list(_exact_duplicates(frame)) == [4, 5]


def test_window_without_outside_rows_returns_the_same_frame() -> None:
    contacts = pd.DataFrame({"row": [2, 3], "year": [2001, 2002]})
    kept, account = _window(contacts, 2000, 2003)
    pd.testing.assert_frame_equal(kept, contacts)
    assert account.rows_in == account.rows_out == 2
    dropped, account = _window(contacts, 2002, 2003, policy="drop")
    assert dropped["row"].tolist() == [3] and account.rows_out == 1


def _party_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    parties = pd.DataFrame(
        {"party_id": pd.array(["P1", "P2"], dtype="string"), "iso3": pd.array(["FRA", "DEU"])}
    )
    ids = ["P1", "P2", "P9", None, "P1", "P8", "P9"]
    contacts = pd.DataFrame(
        {
            "row": np.arange(len(ids)) + 2,
            "counterpart_type": pd.array(["party"] * 3 + ["state"] + ["party"] * 3, "string"),
            "party_id": pd.array(ids, dtype="string"),
        }
    )
    return contacts, parties


def test_party_home_equals_the_per_row_map() -> None:
    contacts, parties = _party_tables()
    expected = contacts["party_id"].map(parties.set_index("party_id")["iso3"])
    got = _party_home(contacts["party_id"], parties)
    assert got.isna().tolist() == expected.isna().tolist()
    assert got.dropna().tolist() == expected.dropna().tolist()


def test_unknown_party_ids_are_named_as_by_the_row_rule() -> None:
    contacts, parties = _party_tables()
    with pytest.raises(InputError) as caught:
        _check_party_ids(contacts, parties, "c.csv", "p.csv")
    party_rows = contacts[contacts["counterpart_type"] == "party"]
    unknown = party_rows[~party_rows["party_id"].isin(parties["party_id"])]
    listed = ", ".join(
        f"{k!r} ({v} contacts)" for k, v in unknown["party_id"].value_counts().items()
    )
    assert f"3 party contact(s) name party ids absent from the parties table p.csv: {listed}" in (
        str(caught.value)
    )
    assert "'P9' (2 contacts), 'P8' (1 contacts)" in str(caught.value)
    assert caught.value.row == 4


CSV_TEXT = {
    "numbers.csv": "id,x,flag,empty,t\n007,1.50,True,,NA\n010,2,False,,nan\n",
    "mixed.csv": "id,x\n001,a\n1e5,b\ninf,c\n",
    "spaces.csv": "a,b\n 1 , x\n2,y \n",
}


@pytest.mark.parametrize("name", sorted(CSV_TEXT))
def test_csv_read_without_dtype_keeps_every_cell_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(CSV_TEXT[name], encoding="utf-8")
    fast = read_contract_csv(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast[0], _read_csv(path, typed=False)[0])
    as_text = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(fast[0], as_text)


def test_a_column_numeric_for_a_long_stretch_then_text_is_read_as_text(tmp_path: Path) -> None:
    """pandas reads such a column in chunks of different types (object): read again."""
    n = 400_000
    ids = [f"{i:06d}" for i in range(n)]
    ids[-3] = "x"
    path = tmp_path / "long.csv"
    path.write_text("id,t\n" + "".join(f"{i},a\n" for i in ids), encoding="utf-8")
    frame = read_contract_csv(path)[0]  # type: ignore[index]
    assert frame["id"].dtype == pd.api.types.pandas_dtype(str)
    assert frame["id"].iloc[0] == "000000" and frame["id"].iloc[-3] == "x"


def test_text_hash_is_equal_for_equal_cells_across_blocks_chunks_and_slices() -> None:
    import pyarrow as pa

    from cpcstats.study.contacts import _text_hash

    cells = ["a", "", None, "same-prefix-XXXX-same-end", "same-prefix-YYYY-same-end", "é中", "a"]
    chunked = pa.chunked_array([pa.array(cells[:3]), pa.array(cells[3:])]).slice(1)
    hashes = _text_hash(chunked, rows=2)
    by_cell: dict[object, set[int]] = {}
    for cell, h in zip(cells[1:], hashes.tolist(), strict=True):
        by_cell.setdefault(cell, set()).add(h)
    assert all(len(v) == 1 for v in by_cell.values())
    short = {c: next(iter(v)) for c, v in by_cell.items() if c is None or len(c) <= 16}
    assert len(set(short.values())) == len(short)  # short cells are told apart


def test_repeat_check_tells_apart_cells_whose_text_hashes_collide() -> None:
    import pyarrow as pa

    from cpcstats.study.contacts import _repeated, _text_hash

    middle = [f"prefix--{i % 7}--suffix" for i in range(400)]  # differ in the middle only
    frame = pd.DataFrame(
        {"t": pd.array(middle, dtype="string"), "k": pd.array(["x"] * 400, dtype="string")}
    )
    assert len(set(_text_hash(pa.array(middle)).tolist())) == 1  # all collide
    expected = frame.duplicated(keep="first").to_numpy()
    assert expected.sum() == 393
    assert np.array_equal(_repeated(frame), expected)


@pytest.mark.parametrize("dtype", ["str", "string"])
def test_arrow_factorize_equals_pandas_over_chunks_nulls_and_slices(dtype: str) -> None:
    import pyarrow as pa

    from cpcstats.io.fastcsv import factorize

    chunks = [["b", "a", None], [], ["c", "a", None, "d"], ["d", "b"]]
    text = pa.chunked_array([pa.array(c, type=pa.string()) for c in chunks])
    values = pd.Series(pd.array(text, dtype=dtype)).iloc[1:]
    codes, distinct = factorize(values)
    expected_codes, expected = pd.factorize(values)
    assert codes.tolist() == expected_codes.tolist()
    pd.testing.assert_series_equal(distinct, pd.Series(expected, dtype=values.dtype))
    empty = factorize(values.iloc[:0])
    assert len(empty[0]) == 0 and len(empty[1]) == 0


@pytest.mark.parametrize(
    "chunks",
    [
        [["a", "b"], ["c", None]],  # clean: returned as it is
        [["a", "b"], ["c ", None]],  # one dirty chunk
        [["a", ""], ["c", None]],  # an empty cell
        [["\u00a0a", "b\u3000"], ["\tc\n", "d"]],  # unicode and control blanks
        [[None, None], [None]],
        [[], ["x"]],
    ],
)
def test_clean_text_equals_strip_and_mask(chunks: list) -> None:
    import pyarrow as pa

    from cpcstats.io.fastcsv import clean_text

    text = pa.chunked_array([pa.array(c, type=pa.string()) for c in chunks])
    for dtype in ("str", "string"):
        values = pd.Series(pd.array(text, dtype=dtype), index=np.arange(len(text)) + 5)
        pd.testing.assert_series_equal(clean_text(values), _clean_str(values))
    mixed = pd.Series([" 7", 7, None, "x "], dtype=object)  # an Excel column
    pd.testing.assert_series_equal(clean_text(mixed), _clean_str(mixed))


def test_clean_iso3_contacts_reuse_the_file_column_with_the_same_values() -> None:
    """Every spelling its own ISO3 code, nothing to strip: the shortcut columns."""
    rng = np.random.default_rng(10)
    n = 500
    frame = pd.DataFrame(
        {
            "date": pd.array(rng.choice(["2005-01-02", "2006-03-04"], n), dtype="str"),
            "country": pd.array(rng.choice(["FRA", "DEU", "CHN"], n), dtype="str"),
            "counterpart_type": pd.array(rng.choice(["party", "state"], n), dtype="str"),
            "party_id": pd.array(rng.choice(["P1", "P2"], n), dtype="str"),
            "direction": pd.array(rng.choice(["inbound", "outbound"], n), dtype="str"),
        }
    )
    out = normalise_contacts(frame, file="f.csv")[0]
    iso = harmonise_countries(frame["country"], source="f.csv")[0]
    pd.testing.assert_series_equal(out["iso3"], iso.astype("string"), check_names=False)
    pd.testing.assert_series_equal(
        out["country_raw"], _clean_str(frame["country"]), check_names=False
    )
    for column in ("counterpart_type", "direction", "party_id"):
        pd.testing.assert_series_equal(out[column], _clean_str(frame[column]), check_names=False)


UTF8_CASES = {
    "ascii": b"a,b\n1,2\n" * 5,
    "multibyte across blocks": "a,b\né,中\n€,ü\n".encode() * 3,
    "bom": b"\xef\xbb\xbfa,b\n\xc3\xa9,1\n",
    "bad byte late": b"a,b\n1,2\n" * 3 + b"\xff,1\n",
    "truncated at the end": b"a,b\n1,\xc3",
    "utf-16": "a,b\n1,2\n".encode("utf-16"),
}


@pytest.mark.parametrize("name", sorted(UTF8_CASES))
@pytest.mark.parametrize("block", [1, 2, 3, 5, 1 << 24])
def test_digest_and_utf8_check_over_any_block_size(
    tmp_path, monkeypatch: pytest.MonkeyPatch, name: str, block: int
) -> None:
    """The reused-buffer reader: the SHA-256 of the file's bytes, and strict UTF-8 (BOM
    allowed) decided as one decode of the whole file decides it, wherever blocks end."""
    import hashlib

    from cpcstats.io import fastcsv

    data = UTF8_CASES[name]
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    monkeypatch.setattr(fastcsv, "_CHUNK", block)
    got = fastcsv._utf8_and_digest(path)
    try:
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise UnicodeDecodeError("utf-8", data, 0, 1, "utf-16")
        data.decode(encoding)
        expected = (encoding, hashlib.sha256(data).hexdigest())
    except UnicodeDecodeError:
        expected = None
    if block >= 3 or not data.startswith(b"\xef\xbb\xbf"):  # a BOM is looked for in block 1
        assert got == expected


def test_factorize_of_a_column_sharing_buffers_reuses_codes_and_stays_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A clean file column kept as it is (astype "string") is factorised once; a slice, a
    changed copy or codes the caller overwrote never give another column's codes."""
    from cpcstats.io import fastcsv
    from cpcstats.io.fastcsv import factorize, forget_factorizations

    forget_factorizations()
    monkeypatch.setattr(fastcsv, "_MEMO_ROWS", 0)  # remember these short columns too
    raw = pd.Series(pd.array(["b", None, "a", "b", "c", None, "a"] * 50, dtype="str"))
    codes = factorize(raw)[0]
    codes[:] = 7  # the caller's array: the remembered codes are not it
    kept = raw.astype("string")  # the same arrow buffers, another dtype
    for column in (raw, kept, kept.iloc[3:], kept.str.upper(), raw.iloc[:-1]):
        got_codes, got = factorize(column)
        expected_codes, expected = pd.factorize(column)
        assert got_codes.dtype == np.intp
        assert got_codes.tolist() == expected_codes.tolist()
        pd.testing.assert_series_equal(got, pd.Series(expected, dtype=column.dtype))
        small, _ = factorize(column, compact=True)
        assert small.dtype == np.int8 and small.tolist() == expected_codes.tolist()
        with pytest.raises(ValueError, match="read-only"):
            small[0] = 1  # shared with the memo: never the caller's to change
    many = pd.Series(pd.array([f"id{i}" for i in range(300)] + [None], dtype="str"))
    wide, _ = factorize(many, compact=True)
    assert wide.dtype == np.int16 and wide.tolist() == pd.factorize(many)[0].tolist()
    monkeypatch.setattr(fastcsv, "_MEMO_ROWS", 1000)
    forget_factorizations()
    factorize(raw)  # 350 cells: not remembered
    assert not fastcsv._MEMO
    forget_factorizations()


def _old_party_country(contacts: pd.DataFrame, parties: pd.DataFrame, policy: str) -> tuple:
    """The per-row rule `_party_country` replaced: (differ, message or None, iso3 after)."""
    home = contacts["party_id"].map(parties.set_index("party_id")["iso3"])
    is_party = (contacts["counterpart_type"] == "party").to_numpy()
    other = (contacts["iso3"] != home).fillna(False).to_numpy(dtype=bool)
    differ = is_party & home.notna().to_numpy() & other
    if differ.any() and policy == "error":
        first = int(np.flatnonzero(differ)[0])
        row = contacts.iloc[first]
        return differ, f"(first: party {row['party_id']!r} of {home.iloc[first]}, contact", None
    iso3 = contacts["iso3"].copy()
    if policy == "party":
        iso3.loc[differ] = home[differ].to_numpy()
    return differ, None, iso3


@pytest.mark.parametrize("policy", ["error", "party", "contact"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_party_country_by_codes_equals_the_per_row_rule(policy: str, seed: int) -> None:
    from cpcstats.study.contacts import _party_country

    rng = np.random.default_rng(seed)
    n = 400
    parties = pd.DataFrame(  # P3's country is no contact's; P4 has no country
        {"party_id": pd.array(["P1", "P2", "P3", "P4"], dtype="string"),
         "iso3": pd.array(["FRA", "DEU", "ITA", None], dtype="string")}
    )  # fmt: skip
    ids = np.array(["P1", "P2", "P3", "P4", "P9", None], dtype=object)
    contacts = pd.DataFrame(
        {
            "row": np.arange(n) + 2,
            "counterpart_type": pd.array(rng.choice(["party", "state"], n), dtype="string"),
            "party_id": pd.array(rng.choice(ids, n), dtype="string"),
            "iso3": pd.array(rng.choice(["FRA", "DEU", "CHN"], n), dtype="string"),
            "country_raw": pd.array(rng.choice(["fr", "de"], n), dtype="string"),
        }
    )
    differ, message, iso3 = _old_party_country(contacts, parties, policy)
    assert 0 < differ.sum() < n
    options = {"file": "c.csv", "parties_file": "p.csv", "config_file": "s.toml"}
    if message is not None:
        with pytest.raises(InputError) as caught:
            _party_country(contacts, parties, policy=policy, **options)
        assert message in str(caught.value)
        assert caught.value.row == int(contacts["row"].iloc[int(np.flatnonzero(differ)[0])])
        return
    out, account = _party_country(contacts, parties, policy=policy, **options)
    assert account.notes["differ"] == int(differ.sum())
    assert account.notes["rows"] == [int(r) for r in contacts.loc[differ, "row"].head(20)]
    pd.testing.assert_series_equal(out["iso3"], iso3)


@pytest.mark.parametrize("n", [0, 1, 5, (1 << 16) - 1, 1 << 16, (1 << 16) * 2 + 3])
def test_missing_text_equals_a_series_of_missing_strings(n: int) -> None:
    from cpcstats.io.fastcsv import missing_text

    index = pd.RangeIndex(n) if n % 2 else pd.Index(np.arange(n) * 2 + 1)
    got = missing_text(index)
    expected = pd.Series(pd.NA, index=index, dtype="string")
    pd.testing.assert_series_equal(got, expected)
    assert got.isna().all() and len(got) == n
    assert got.astype("string").equals(expected) and got.str.strip().isna().all()
