"""Readers and writers (cpcstats.io) and study files that map their own columns."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cpcstats
from cpcstats.contract import normalise_contacts
from cpcstats.errors import CpcError, InputError, SpecError
from cpcstats.io import InputFile, read_table, sha256_of, write_atomic, write_frame


def contacts_frame() -> pd.DataFrame:
    """A small contacts-like table with text, codes, a missing value and numbers."""
    return pd.DataFrame(
        {
            "date": ["2005-01-02", "2006-03-04", "2007-05-06", "2016-12-31"],
            "country": ["FRA", "DEU", "Côte d'Ivoire", "VNM"],
            "counterpart_type": ["party", "state", "party", "other"],
            "party_id": ["FRA-01", None, "CIV-02", None],
            "direction": ["inbound", "outbound", "inbound", "outbound"],
            "source_id": ["N1", "N2", "N3", "N4"],
        }
    )


def as_text(frame: pd.DataFrame) -> list[list[str | None]]:
    """Cell values as text, with every flavour of missing ('' / None / NaN / NA) as None."""
    out = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            missing = v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) or v == ""
            cells.append(None if missing else str(v))
        out.append(cells)
    return out


def write_format(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".dta":
        frame.to_stata(path, write_index=False, version=118)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")
    else:  # pragma: no cover - test helper misuse
        raise AssertionError(suffix)


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".dta", ".xlsx"])
def test_round_trip_gives_the_same_values(tmp_path: Path, suffix: str) -> None:
    frame = contacts_frame()
    path = tmp_path / f"contacts{suffix}"
    write_format(frame, path)
    read, info = read_table(path)
    assert list(read.columns) == list(frame.columns)
    assert as_text(read) == as_text(frame)
    assert info.rows == len(frame)
    assert info.path == str(path)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    if suffix == ".csv":
        assert (info.encoding, info.delimiter) == ("utf-8", ",")
    else:
        assert info.encoding is None and info.delimiter is None


def test_all_formats_give_identical_clean_contacts(tmp_path: Path) -> None:
    """After the data contract, the format the data came in makes no difference."""
    frame = contacts_frame()
    clean = {}
    for suffix in (".csv", ".parquet", ".dta", ".xlsx"):
        path = tmp_path / f"contacts{suffix}"
        write_format(frame, path)
        raw, info = read_table(path)
        out, _, _ = normalise_contacts(raw, file=info.path)
        clean[suffix] = out
    reference = clean[".csv"]
    assert reference["iso3"].tolist() == ["FRA", "DEU", "CIV", "VNM"]
    assert reference["year"].tolist() == [2005, 2006, 2007, 2016]
    assert reference["party_id"].isna().tolist() == [False, True, False, True]
    for suffix, out in clean.items():
        pd.testing.assert_frame_equal(out, reference, check_dtype=False, obj=suffix)


# --------------------------------------------------------------------------- encodings
def test_utf8_bom_header_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("date,country\n2005-01-02,FRA\n".encode("utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame, info = read_table(path)
    assert frame.columns[0] == "date"
    assert list(frame.columns) == ["date", "country"]
    assert info.encoding == "utf-8-sig"
    assert frame.loc[0, "date"] == "2005-01-02"


def test_latin1_csv_decodes_and_records_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    text = (
        "date,country,direction\n2005-01-02,Côte d'Ivoire,inbound\n2006-01-02,São Tomé,outbound\n"
    )
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    frame, info = read_table(path)
    assert frame["country"].tolist() == ["Côte d'Ivoire", "São Tomé"]
    assert info.encoding in ("cp1252", "latin-1")


def test_cp1252_only_characters_decode(tmp_path: Path) -> None:
    """Bytes that Latin-1 maps to control characters but cp1252 to text (spreadsheet exports)."""
    path = tmp_path / "cp1252.csv"
    path.write_bytes("party_name,country\n“Parti” – socialiste,FRA\n".encode("cp1252"))
    frame, info = read_table(path)
    assert frame.loc[0, "party_name"] == "“Parti” – socialiste"
    assert info.encoding == "cp1252"


def test_plain_utf8_is_not_mistaken_for_latin1(tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text("country,year\nCôte d'Ivoire,2005\n", encoding="utf-8")
    frame, info = read_table(path)
    assert frame.loc[0, "country"] == "Côte d'Ivoire"
    assert info.encoding == "utf-8"


# --------------------------------------------------------------------------- delimiters
@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(";", "semi.csv"), ("\t", "tab.csv"), ("\t", "tab.tsv"), ("|", "pipe.txt"), (",", "c.csv")],
)
def test_delimiters_are_detected(tmp_path: Path, delimiter: str, name: str) -> None:
    rows = [
        ["date", "country", "direction", "text"],
        ["2005-01-02", "FRA", "inbound", "talks, dinner"],
        ["2006-03-04", "DEU", "outbound", "meeting"],
    ]
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    frame, info = read_table(path)
    assert info.delimiter == delimiter
    assert list(frame.columns) == rows[0]
    assert frame.values.tolist() == rows[1:]


def test_semicolon_file_with_quoted_semicolon_in_text(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text(
        'date;country;direction;text\n2005-01-02;FRA;inbound;"Talks; dinner"\n'
        "2006-03-04;DEU;outbound;Meeting\n",
        encoding="utf-8",
    )
    frame, info = read_table(path)
    assert info.delimiter == ";"
    assert frame["text"].tolist() == ["Talks; dinner", "Meeting"]


_CELL = st.text(alphabet="abcXYZ019 -.,éô()", min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.tuples(_CELL, _CELL, _CELL), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_delimited_text_round_trips(tmp_path: Path, rows: list, delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["date", "country", "direction"])
    writer.writerows(rows)
    path = tmp_path / "prop.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    frame, info = read_table(path)
    assert info.delimiter == delimiter
    assert frame.values.tolist() == [list(r) for r in rows]


def test_blank_cells_become_missing(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text("date,party_id\n2005-01-02,\n2006-01-02,FRA-01\n", encoding="utf-8")
    frame, _ = read_table(path)
    assert frame["party_id"].isna().tolist() == [True, False]


# --------------------------------------------------------------------------- read errors
@pytest.mark.parametrize("content", [b"", b"\n\n   \n"])
def test_empty_file_raises_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.file == str(path)
    assert "empty" in str(info.value)
    assert str(path) in str(info.value)


def test_header_only_file_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "header_only.csv"
    path.write_text("date,country,direction\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.file == str(path)
    assert "no data rows" in str(info.value)


def test_missing_file_raises_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "contacts.csv"
    with pytest.raises(InputError) as info:
        read_table(path)
    err = info.value
    assert err.file == str(path)
    assert "does not exist" in err.problem
    assert err.fix and "path" in err.fix
    assert "fix:" in str(err)


def test_excel_with_merged_title_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["CPC contacts 2002-2017"])
    ws.merge_cells("A1:D1")
    ws.append(["date", "country", "counterpart_type", "direction"])
    ws.append(["2005-01-02", "FRA", "party", "inbound"])
    ws.append(["2006-03-04", "DEU", "state", "outbound"])
    wb.save(path)
    with pytest.raises(InputError) as info:
        read_table(path)
    text = str(info.value).lower()
    assert "merged" in text and "header" in text
    assert info.value.file == str(path)
    assert info.value.row == 1


def test_excel_other_sheet_can_be_read(tmp_path: Path) -> None:
    path = tmp_path / "two_sheets.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"notes": ["read me"]}).to_excel(writer, sheet_name="README", index=False)
        contacts_frame().to_excel(writer, sheet_name="contacts", index=False)
    first, _ = read_table(path)
    assert list(first.columns) == ["notes"]
    frame, info = read_table(path, sheet="contacts")
    assert frame["country"].tolist() == contacts_frame()["country"].tolist()
    assert info.rows == 4


@pytest.mark.parametrize("name", ["contacts.json", "contacts.sav", "contacts"])
def test_unknown_suffix_raises(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text('{"a": 1}\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert "unknown file type" in str(info.value)
    assert ".csv" in info.value.fix


def test_corrupt_parquet_becomes_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.file == str(path)
    assert ".parquet" in info.value.problem
    assert isinstance(info.value.__cause__, Exception)


def test_input_errors_are_cpc_errors() -> None:
    err = InputError("bad", file="x.csv", row=3, column="date", fix="do it")
    assert isinstance(err, CpcError)
    assert str(err) == "file x.csv, row 3, column 'date': bad\n  fix: do it"


# --------------------------------------------------------------------------- writing
def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "hash.csv"
    payload = "date,country\n" + "".join(f"2005-01-{i % 28 + 1:02d},FRA\n" for i in range(5000))
    path.write_text(payload, encoding="utf-8")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    _, info = read_table(path)
    assert info.sha256 == expected
    assert sha256_of(path) == expected
    assert info.to_dict()["sha256"] == expected
    assert info.rows == 5000


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_write_atomic_leaves_no_temp_files_and_normal_permissions(
    tmp_path: Path, umask: int
) -> None:
    old = os.umask(umask)
    try:
        path = write_atomic(tmp_path / "sub" / "out.txt", "héllo\n")
        write_atomic(tmp_path / "sub" / "out.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert path == tmp_path / "sub" / "out.txt"
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "sub" / "out.bin").read_bytes() == b"\x00\x01"
    assert _listing(tmp_path / "sub") == ["out.bin", "out.txt"]
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o666 & ~umask
    assert mode & stat.S_IRGRP  # not the 0600 of a bare mkstemp file


def test_write_atomic_failure_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    path = tmp_path / "keep.txt"
    write_atomic(path, "old\n")
    with pytest.raises(AttributeError):
        write_atomic(path, 12345)  # type: ignore[arg-type]  # not str/bytes
    assert path.read_text(encoding="utf-8") == "old\n"
    assert _listing(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_frame_round_trip(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"iso3": ["FRA", "DEU"], "year": [2005, 2006], "contacts": [3, 0]})
    path = write_frame(frame, tmp_path / f"panel{suffix}")
    assert _listing(tmp_path) == [f"panel{suffix}"]
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_write_frame_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "panel.xlsx")
    assert "cannot write" in str(info.value)
    assert not (tmp_path / "panel.xlsx").exists()


def test_input_file_to_dict() -> None:
    info = InputFile("a.csv", "0" * 64, 3, "utf-8", ";")
    assert info.to_dict() == {
        "path": "a.csv",
        "sha256": "0" * 64,
        "rows": 3,
        "encoding": "utf-8",
        "delimiter": ";",
    }


# --------------------------------------------------------------------------- study files
STUDY = """
[study]
name = "Mapped study"
first_year = 2002
last_year = 2017

[contacts]
path = "{contacts}"

[contacts.columns]
when = "date"
nation = "country"
dir_code = "direction"
{extra_columns}

[contacts.values.direction]
"1" = "inbound"
"2" = "outbound"

[contacts.defaults]
counterpart_type = "state"

[parties]
path = "demo"

[party_status]
path = "demo"

[covariates]
path = "demo"
"""


def write_study(
    folder: Path,
    contacts: str,
    *,
    name: str = "contacts.csv",
    extra_columns: str = "",
    encoding: str = "utf-8",
) -> Path:
    (folder / name).write_bytes(contacts.encode(encoding))
    study = folder / "study.toml"
    study.write_text(STUDY.format(contacts=name, extra_columns=extra_columns), encoding="utf-8")
    return study


def test_study_maps_columns_values_and_defaults(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        "when,nation,dir_code\n2005-01-02,FRA,1\n2006-03-04,DEU,2\n2016-07-08,VNM,1\n",
    )
    study = cpcstats.load_study(path)
    contacts = study.contacts
    assert contacts["direction"].tolist() == ["inbound", "outbound", "inbound"]
    assert contacts["counterpart_type"].tolist() == ["state"] * 3
    assert contacts["iso3"].tolist() == ["FRA", "DEU", "VNM"]
    assert contacts["year"].tolist() == [2005, 2006, 2016]
    assert contacts["row"].tolist() == [2, 3, 4]
    assert study.name == "Mapped study"
    assert study.simulated is False
    # "demo" tables resolve to the embedded files and are read
    assert study.parties is not None and len(study.parties) > 0
    assert study.party_status is not None and study.covariates is not None
    assert study.inputs[0].path == str((tmp_path / "contacts.csv").resolve())
    assert study.inputs[1].path.endswith(os.path.join("demo", "data", "parties.csv"))
    assert len(study.inputs) == 4


def test_study_latin1_contacts_with_country_names(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        "when;nation;dir_code\n2005-01-02;Côte d'Ivoire;1\n2006-03-04;France;2\n",
        encoding="latin-1",
    )
    study = cpcstats.load_study(path)
    assert study.contacts["iso3"].tolist() == ["CIV", "FRA"]
    assert study.contacts["country_raw"].tolist() == ["Côte d'Ivoire", "France"]
    assert study.inputs[0].encoding in ("cp1252", "latin-1")
    assert study.inputs[0].delimiter == ";"


def test_study_mapping_names_missing_column(tmp_path: Path) -> None:
    path = write_study(tmp_path, "when,land,dir_code\n2005-01-02,FRA,1\n")
    with pytest.raises(SpecError) as info:
        cpcstats.load_study(path)
    err = info.value
    assert err.column == "nation"
    assert "'nation'" in str(err)
    assert err.file == str(path.resolve())
    assert "land" in err.problem  # lists what the file does have


def test_study_contacts_without_country_column(tmp_path: Path) -> None:
    contacts = "when,dir_code\n2005-01-02,1\n"
    (tmp_path / "contacts.csv").write_text(contacts, encoding="utf-8")
    study = tmp_path / "study.toml"
    text = STUDY.format(contacts="contacts.csv", extra_columns="").replace(
        'nation = "country"\n', ""
    )
    study.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        cpcstats.load_study(study)
    err = info.value
    assert err.column == "country"
    assert "country" in err.problem
    assert err.file == str((tmp_path / "contacts.csv").resolve())
    assert "[contacts.columns]" in err.fix


def test_study_unparseable_date_reports_spreadsheet_row(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        "when,nation,dir_code\n2005-01-02,FRA,1\n2006-03-04,DEU,2\n2007-13-45,VNM,1\n",
    )
    with pytest.raises(InputError) as info:
        cpcstats.load_study(path)
    err = info.value
    assert err.row == 4  # header is row 1, the bad date is on the third data row
    assert err.column == "date"
    assert "2007-13-45" in err.problem
    assert "row 4" in str(err)


def test_study_unknown_party_id_is_named(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        "when,nation,dir_code,ctype,pid\n"
        "2005-01-02,FRA,1,party,pf-1251\n"
        "2006-03-04,FRA,2,party,ZZZ-99\n"
        "2007-03-04,DEU,2,,\n",
        extra_columns='ctype = "counterpart_type"\npid = "party_id"',
    )
    with pytest.raises(InputError) as info:
        cpcstats.load_study(path)
    err = info.value
    assert "ZZZ-99" in err.problem
    assert "pf-1251" not in err.problem
    assert err.column == "party_id"
    assert err.row == 3


def test_study_party_contact_with_known_id_loads(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        "when,nation,dir_code,ctype,pid\n2005-01-02,FRA,1,party,pf-1251\n2007-03-04,DEU,2,,\n",
        extra_columns='ctype = "counterpart_type"\npid = "party_id"',
    )
    contacts = cpcstats.load_study(path).contacts
    assert contacts["counterpart_type"].tolist() == ["party", "state"]
    assert contacts["party_id"].iloc[0] == "pf-1251"
    assert pd.isna(contacts["party_id"].iloc[1])


def test_study_value_codes_from_excel_with_blank_cell(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "when": ["2005-01-02", "2006-03-04", "2007-05-06"],
            "nation": ["FRA", "DEU", "VNM"],
            "dir_code": [1, 2, None],  # a blank cell makes the column float
        }
    )
    frame.to_excel(tmp_path / "contacts.xlsx", index=False, engine="openpyxl")
    study = tmp_path / "study.toml"
    text = STUDY.format(contacts="contacts.xlsx", extra_columns="").replace(
        'counterpart_type = "state"', 'counterpart_type = "state"\ndirection = "inbound"'
    )
    study.write_text(text, encoding="utf-8")
    contacts = cpcstats.load_study(study).contacts
    assert contacts["direction"].tolist() == ["inbound", "outbound", "inbound"]


def test_study_decimal_comma_covariates_are_not_silently_lost(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        "date,country,direction,counterpart_type\n2005-01-02,FRA,inbound,state\n",
        encoding="utf-8",
    )
    (tmp_path / "cov.csv").write_text(
        "country;year;fh_status;polyarchy\nFRA;2005;F;0,85\nDEU;2005;F;0,9\n", encoding="utf-8"
    )
    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nfirst_year = 2002\nlast_year = 2017\n[contacts]\npath = "contacts.csv"\n'
        '[covariates]\npath = "cov.csv"\n',
        encoding="utf-8",
    )
    try:
        loaded = cpcstats.load_study(study)
    except InputError as exc:  # refusing the values clearly is acceptable too
        assert exc.column == "polyarchy"
        return
    assert loaded.covariates is not None
    assert loaded.covariates["polyarchy"].tolist() == pytest.approx([0.85, 0.9])


def test_excel_contract_read_keeps_namibia_and_numeric_columns(tmp_path: Path) -> None:
    """A text cell "NA" (Namibia's ISO2) stays text in an Excel file as it does in a CSV;
    empty cells are missing and numeric columns keep their numeric dtype."""
    path = tmp_path / "c.xlsx"
    pd.DataFrame({"iso2": ["NA", "FR", None], "x": [1.0, None, 3.0], "n": [1, 2, 3]}).to_excel(
        path, index=False
    )
    frame, _ = read_table(path)
    assert frame["iso2"].iloc[0] == "NA" and pd.isna(frame["iso2"].iloc[2])
    assert frame["x"].dtype == float and pd.isna(frame["x"].iloc[1])
    assert frame["n"].tolist() == [1, 2, 3] and frame["n"].dtype.kind == "i"
    csv = tmp_path / "c.csv"
    csv.write_text("iso2,x,n\nNA,1,1\nFR,,2\n,3,3\n", encoding="utf-8")
    assert read_table(csv)[0]["iso2"].iloc[0] == frame["iso2"].iloc[0]
