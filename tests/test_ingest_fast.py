"""The fast ingest paths give exactly what the careful ones gave.

* `cpcstats.io.fastcsv` (pandas reads the path) against `cpcstats.io.read._read_csv`
  (whole-file decode, csv-module scan, pandas from a StringIO) on awkward files;
* `cpcstats.io.dates.parse_dates` (ISO first) against the old rule (zone suffix
  dropped, then pandas' mixed-format parser on every row), resolution included;
* the bounded record of exact repeats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.errors import InputError
from cpcstats.io.dates import TIME_ZONE, parse_dates
from cpcstats.io.fastcsv import read_contract_csv
from cpcstats.io.read import _read_csv, read_table
from cpcstats.study.contacts import SHOWN_REPEATS, _exact_duplicates

FILES = {
    "plain.csv": "date,country,n\n2005-01-02,FRA,1\n2005-01-03,DEU,\n",
    "bom_crlf.csv": "\ufeffdate,country\r\n2005-01-02,FRA\r\n2005-01-03,Côte d'Ivoire\r\n",
    "semicolon.csv": "a;b;c\n0,5;1,2;x\n1,5;2,2;y\n",
    "tab.tsv": "a\tb\n1,2\t3\n4\t5,6\n",
    "blank_lines.csv": "a,b\n\n1,2\n\n3,4\n",
    "multiline.csv": 'a,text\n1,"two\nlines"\n2,"one, with comma"\n',
    "short_rows.csv": "a,b,c\n1,2\n3,4,5\n",
    "na_text.csv": "iso2,x\nNA,1\n,2\nNaN,3\n",
    "pipe.csv": "a|b\n1|2\n",
}
FALLBACK = {
    "long.csv": "a,b\n1,2\n3,4,5\n",
    "long_first.csv": "a,b\n1,2,9\n3,4\n",
    "latin1.csv": "name,x\nC\xf4te,1\n",  # written as cp1252 below
}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    encoding = "cp1252" if name.startswith("latin1") else "utf-8"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("name", sorted(FILES))
def test_fast_csv_reads_what_the_careful_path_reads(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, FILES[name])
    fast = read_contract_csv(path)
    assert fast is not None, "this file should take the fast path"
    frame, encoding, delimiter, _ = _read_csv(path, typed=False)
    pd.testing.assert_frame_equal(fast[0], frame)
    assert fast[1:3] == (encoding, delimiter)
    assert fast[3] == read_table(path)[1].sha256


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_unusual_files_fall_back_to_the_careful_path(tmp_path: Path, name: str) -> None:
    """Long records are refused and legacy encodings decoded exactly as before."""
    path = _write(tmp_path, name, FALLBACK[name])
    assert read_contract_csv(path) is None
    if name.startswith("long"):
        with pytest.raises(InputError) as careful:
            _read_csv(path, typed=False)
        with pytest.raises(InputError) as public:
            read_table(path)
        assert str(public.value) == str(careful.value)
        assert "cells but the header has 2 names" in str(public.value)
    else:
        frame, info = read_table(path)
        assert info.encoding == "cp1252" and frame.loc[0, "name"] == "C\xf4te"


def test_a_header_without_rows_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "header_only.csv", "a,b\n")
    with pytest.raises(InputError, match="header but no data rows"):
        read_table(path)


def test_duplicate_header_names_are_refused_on_the_fast_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(InputError, match="both have the header name 'a'"):
        read_contract_csv(path)


def _old_parse(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    text = text.str.replace(TIME_ZONE, r"\1", regex=True, case=False)
    return pd.to_datetime(text, errors="coerce", format="mixed")


DATE_CASES = [
    ["2002-01-02", "2003-12-31"],
    ["2002-01-02", "2003-12-31", None, ""],
    ["2002-01-02", "2005-1-2", "2005-02-30", "02.01.2005", "2005/01/02", "Jan 2, 2005"],
    ["2005-01-02 10:00", "2005-01-02T10:00:00+02:00", "2005-01-02T23:30:00Z", " 2005-01-03 "],
    ["2005-01-02T10:00:00+02:00", "2005-01-02 10:00 UTC"],
    ["13/02/2005", "01/02/2005"],
    ["2005-01-02", "01/02/2005", "garbage"],
    ["20050102", "2005-01-02", "2005"],
    ["2005-01-02 10:00:00.123456789", "2005-01-02"],
    ["2005-01-02 10:00:00.123", "2005-01-02"],
    ["", None],
    ["x"],
]


@pytest.mark.parametrize("values", DATE_CASES)
@pytest.mark.parametrize("dtype", [object, "str", "string"])
def test_iso_first_dates_equal_the_mixed_parser(values: list, dtype: object) -> None:
    raw = pd.Series(values, dtype=dtype)
    pd.testing.assert_series_equal(parse_dates(raw), _old_parse(raw))


def test_iso_dates_skip_the_slow_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """All-ISO columns never reach the per-row mixed parser (the point of the change)."""
    import cpcstats.io.dates as dates

    def refuse(*args: object, **kwargs: object) -> pd.Series:
        raise AssertionError("mixed-format parser called on ISO dates")

    monkeypatch.setattr(dates, "_other_dates", refuse)
    raw = pd.Series(["2002-01-02", "2010-12-31", None], dtype="str")
    assert parse_dates(raw).dt.year.tolist()[:2] == [2002, 2010]


def test_exact_repeats_are_counted_and_only_the_first_rows_kept() -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    frame = pd.DataFrame({"a": rng.integers(0, 30, n), "b": rng.choice(["x", "y"], n)})
    frame.insert(0, "row", np.arange(n) + 2)
    expected = [int(r) for r in frame.loc[frame.duplicated(["a", "b"]), "row"]]
    got = _exact_duplicates(frame)
    assert len(got) == len(expected) > SHOWN_REPEATS
    assert got[:SHOWN_REPEATS] == expected[:SHOWN_REPEATS]
    assert got[:5] == expected[:5] and got[0] == expected[0]
    with pytest.raises(IndexError):
        _ = got[: SHOWN_REPEATS + 1]
    with pytest.raises(IndexError):
        _ = got[-1]
    few = _exact_duplicates(frame.iloc[:40])
    assert list(few) == [
        int(r) for r in frame.iloc[:40].loc[frame.iloc[:40].duplicated(["a", "b"]), "row"]
    ]


@pytest.mark.parametrize("seed", range(5))
def test_hashed_repeat_check_equals_pandas_duplicated(seed: int) -> None:
    """Missing values, dates and many collisions: the same rows as ``duplicated``."""
    from cpcstats.study.contacts import _repeated

    rng = np.random.default_rng(seed)
    n = 3_000
    frame = pd.DataFrame(
        {
            "a": pd.array(rng.choice(["x", "y", None], n), "str"),
            "b": rng.integers(0, 4, n),
            "d": pd.to_datetime(rng.choice(["2001-01-01", "2002-02-02", None], n)),
            "c": pd.array(rng.choice(["p", None], n), "string"),
        }
    )
    expected = frame.duplicated(keep="first").to_numpy()
    assert expected.sum() > 0
    assert np.array_equal(_repeated(frame), expected)
    unique = frame.assign(b=np.arange(n))
    assert not _repeated(unique).any()
