"""A user's own panel (``cpcstats fit --data``) is read with its types; encodings and headers
never lie.

* The same panel as CSV, Parquet, Stata and Excel gives identical coefficients, equal to
  R's on the same CSV (``tests/reference/make_typed_panel.R``), with R-style ``NA``, empty
  cells and Stata's ``.`` as missing values and Namibia's ISO2 ``NA`` kept as text.
* The rows a model drops for missing values are printed by ``fit`` with their file rows.
* A numeric column with odd cells is refused (file, column, row, fix), not fitted as dummies.
* Mixed encodings are refused naming the lines; a legacy single-byte file is read as cp1252.
* A header name used twice is refused for CSV and Excel, naming both positions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cpcstats.errors import InputError
from cpcstats.io import read_table
from tests.helpers import cli_fails as _fails
from tests.helpers import run_cli as _run

REF = Path(__file__).resolve().parent / "reference"
PANEL = REF / "data" / "typed_panel.csv"
R_CASES = json.loads((REF / "fixtures" / "typed_panel.json").read_text())["cases"]
FORMATS = (".csv", ".parquet", ".dta", ".xlsx")
MODELS = """\
[[model]]
name = "poisson_m"
level = "country-year"
formula = "y ~ x + z + C(g)"
family = "poisson"

[[model]]
name = "negbin_m"
level = "country-year"
formula = "y ~ x + z + C(g)"
family = "negbin"
"""


def _independent_frame() -> pd.DataFrame:
    """The panel read by plain pandas (not by cpcstats), missing tokens per numeric column."""
    missing = ["NA", "", "."]
    return pd.read_csv(
        PANEL,
        keep_default_na=False,
        na_values={"x": missing, "z": missing, "y": missing},
        dtype={"iso2": str, "g": str},
    )


def _write_formats(folder: Path) -> dict[str, Path]:
    """The panel as CSV (the shipped bytes), Parquet, Stata and Excel."""
    frame = _independent_frame()
    paths = {suffix: folder / f"typed_panel{suffix}" for suffix in FORMATS}
    paths[".csv"].write_bytes(PANEL.read_bytes())
    frame.to_parquet(paths[".parquet"], index=False)
    frame.to_stata(paths[".dta"], write_index=False, version=118)
    excel = frame.astype({"x": object})
    excel.loc[excel["x"].isna().to_numpy().nonzero()[0][0], "x"] = "NA"  # R-style, typed in
    excel.to_excel(paths[".xlsx"], index=False, engine="openpyxl")
    return paths


def _r_name(name: str) -> str:
    if name == "(Intercept)":
        return "Intercept"
    if name.startswith("factor(g)"):
        return f"C(g)[T.{name.removeprefix('factor(g)')}]"
    return name


# --------------------------------------------------------------------------- the panel
def test_same_panel_in_four_formats_gives_identical_coefficients_equal_to_r(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """CSV/Parquet/Stata/Excel -> identical terms; == R's glm and glm.nb (rel 1e-6); the
    eight dropped rows are R's and are printed with their variable and file rows."""
    spec = tmp_path / "models.toml"
    spec.write_text(MODELS, encoding="utf-8")
    terms: dict[str, dict[str, dict]] = {}
    for suffix, path in _write_formats(tmp_path).items():
        out = tmp_path / f"out{suffix.replace('.', '_')}"
        code, text = _run(capsys, "fit", str(spec), "--data", str(path), "--out", str(out))
        assert code == 0, text
        assert "g: a text column, fitted as categories (3 levels)" in text
        assert "x: a text column" not in text and "number: " in text
        if suffix in (".csv", ".xlsx"):
            name = path.name
            assert f"dropped 2 rows with missing y (rows 13, 78 of {name}" in text, text
            assert f"dropped 3 rows with missing x (rows 6, 18, 31 of {name}" in text, text
            assert f"dropped 3 rows with missing z (rows 10, 45, 61 of {name}" in text, text
        else:
            assert "dropped 3 rows with missing x (records 5, 17, 30 of" in text, text
        for model in ("poisson_m", "negbin_m"):
            record = json.loads((out / f"{model}.json").read_text())
            assert record["model"]["nobs"] == 112
            rows = record["dropped_rows"]
            assert (
                sorted(n for v in rows.values() for n in v)
                == R_CASES["poisson"]["dropped_file_rows"]
            )
            terms.setdefault(model, {})[suffix] = record["model"]["terms"]
    for model, case in (("poisson_m", "poisson"), ("negbin_m", "negbin")):
        by_format = terms[model]
        for suffix in FORMATS[1:]:
            assert by_format[suffix] == by_format[".csv"], (model, suffix)
        ours = by_format[".csv"]
        assert set(ours) == {_r_name(k) for k in R_CASES[case]["coef"]}
        for r_name, value in R_CASES[case]["coef"].items():
            assert ours[_r_name(r_name)]["estimate"] == pytest.approx(value, rel=1e-6)
        for r_name, value in R_CASES[case]["se"].items():
            assert ours[_r_name(r_name)]["std_error"] == pytest.approx(value, rel=1e-6)


def test_typed_read_of_the_panel_keeps_namibia_and_reads_numbers(tmp_path: Path) -> None:
    typed, info = read_table(PANEL, typed=True)
    assert typed["iso2"].iloc[0] == "NA" and typed["iso2"].notna().all()  # Namibia, text
    assert typed["x"].dtype == np.float64 and typed["z"].dtype == np.float64
    assert typed["year"].dtype == np.int64
    assert typed["x"].isna().sum() == 3 and typed["z"].isna().sum() == 3
    assert typed["y"].isna().sum() == 2
    assert dict(info.column_types or ())["iso2"] == "text"
    assert info.to_dict()["column_types"]["x"] == "number"
    # the data contract's reader is unchanged: text columns, only empty cells missing
    raw, raw_info = read_table(PANEL)
    assert raw["x"].iloc[4] == "NA" and raw["z"].iloc[8] == "."
    assert raw_info.column_types is None and "column_types" not in raw_info.to_dict()


def test_stata_missing_and_excel_empty_cells_are_nan(tmp_path: Path) -> None:
    paths = _write_formats(tmp_path)
    expected = _independent_frame()["x"].isna().tolist()
    for suffix in (".dta", ".xlsx", ".parquet"):
        frame, _ = read_table(paths[suffix], typed=True)
        assert frame["x"].isna().tolist() == expected, suffix
        assert pd.api.types.is_float_dtype(frame["x"].dtype), suffix
        assert frame["iso2"].iloc[0] == "NA", suffix


def test_multiline_cell_and_blank_line_keep_file_row_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        'y,x,note\n1,0.5,"two\nlines"\n\n2,NA,ok\n0,1.5,ok\n3,2.5,ok\n1,0.1,ok\n',
        encoding="utf-8",
    )
    frame, _ = read_table(path, typed=True)
    assert frame.attrs["file_lines"] == (2, 5, 6, 7, 8)
    spec = tmp_path / "m.toml"
    spec.write_text("name = 'm'\nlevel = 'country-year'\nformula = 'y ~ x'\nfamily = 'poisson'\n")
    code, text = _run(capsys, "fit", str(spec), "--data", str(path), "--out", str(tmp_path / "o"))
    assert code == 0, text
    assert "dropped 1 row with missing x (row 5 of notes.csv" in text


# --------------------------------------------------------------------------- odd cells
@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ('"1,5"', ["decimal point"]),
        ("n/a", ["'n/a'", "leave a missing value empty or write NA"]),
        ("12a", ["'12a'"]),
    ],
)
def test_numeric_column_with_odd_cells_is_refused_not_fitted_as_dummies(
    tmp_path: Path, capsys: pytest.CaptureFixture, cell: str, words: list[str]
) -> None:
    path = tmp_path / "panel.csv"
    path.write_text(
        f"y,x,iso2\n1,0.5,NA\n2,1.5,FR\n0,{cell},DE\n3,2.5,CN\n1,0.1,VN\n", encoding="utf-8"
    )
    spec = tmp_path / "m.toml"
    spec.write_text("name = 'm'\nlevel = 'country-year'\nformula = 'y ~ x'\nfamily = 'poisson'\n")
    err = _fails(
        capsys,
        ["panel.csv", "row 4", "column 'x'", "dummy", *words],
        "fit",
        str(spec),
        "--data",
        str(path),
        "--out",
        str(tmp_path / "out"),
    )
    assert "iso2" not in err
    assert not (tmp_path / "out" / "m.json").exists()


def test_decimal_commas_in_a_semicolon_file_are_read_and_stated(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("iso2;x;y\nNA;0,5;1\nFR;1,25;2\nDE;NA;0\n", encoding="utf-8")
    frame, info = read_table(path, typed=True)
    assert info.delimiter == ";"
    assert frame["x"].tolist()[:2] == [0.5, 1.25] and np.isnan(frame["x"].iloc[2])
    assert dict(info.column_types or ())["x"] == "number (decimal comma)"
    assert frame["iso2"].tolist() == ["NA", "FR", "DE"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("x;y\n0,5;1\n1.5;2\n2,5;3\n", encoding="utf-8")
    with pytest.raises(InputError) as info_err:
        read_table(mixed, typed=True)
    assert (info_err.value.column, info_err.value.row) == ("x", 3)
    assert "'1.5'" in info_err.value.problem


# --------------------------------------------------------------------------- encodings
def test_mixed_utf8_and_latin1_lines_are_refused_naming_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "country,year\nCôte d'Ivoire,2005\n".encode()
        + "São Tomé,2006\nChile,2007\n".encode("latin-1")
        + "Curaçao,2008\n".encode("cp1252")
    )
    for typed in (False, True):
        with pytest.raises(InputError) as info:
            read_table(path, typed=typed)
        err = info.value
        assert err.file == str(path) and err.row == 3
        assert "line(s) 3, 5 are not valid UTF-8" in err.problem
        assert "line(s) 2 are UTF-8" in err.problem
        assert err.fix and "UTF-8" in err.fix


def test_utf8_bom_followed_by_latin1_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcountry,year\n" + "São Tomé,2006\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.row == 2 and "BOM" in info.value.problem


def test_single_byte_file_is_read_as_cp1252_and_stated(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("country,party\nSão Tomé,“MLSTP”\nCuraçao,PAR\n".encode("cp1252"))
    frame, info = read_table(path, typed=True)
    assert frame["country"].tolist() == ["São Tomé", "Curaçao"]
    assert frame["party"].iloc[0] == "“MLSTP”"
    assert info.encoding == "cp1252" and info.to_dict()["encoding"] == "cp1252"


def test_true_utf8_with_cjk_and_cyrillic_names(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    names = ["中国共产党", "Коммунистическая партия", "Đảng Cộng sản Việt Nam"]
    path.write_text("party,y\n" + "".join(f"{n},{i}\n" for i, n in enumerate(names)), "utf-8")
    frame, info = read_table(path, typed=True)
    assert frame["party"].tolist() == names
    assert info.encoding == "utf-8"
    assert frame["y"].tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- headers
@pytest.mark.parametrize("typed", [False, True])
def test_duplicated_csv_header_is_refused_naming_both_positions(
    tmp_path: Path, typed: bool
) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("iso2,x,y,x \nFR,1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path, typed=typed)
    err = info.value
    assert (err.file, err.column, err.row) == (str(path), "x", 1)
    assert "columns 2 (B) and 4 (D)" in err.problem
    assert err.fix and "rename" in err.fix


def test_duplicated_excel_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["iso2", "x", "y", "z", "y"])
    sheet.append(["FR", 1, 2, 3, 4])
    book.save(path)
    for typed in (False, True):
        with pytest.raises(InputError) as info:
            read_table(path, typed=typed)
        assert "columns 3 (C) and 5 (E)" in info.value.problem
        assert info.value.column == "y"


def test_duplicated_header_through_fit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "panel.csv"
    path.write_text("y,x,x\n1,0.5,9\n2,1.5,8\n0,1.0,7\n", encoding="utf-8")
    spec = tmp_path / "m.toml"
    spec.write_text("name = 'm'\nlevel = 'country-year'\nformula = 'y ~ x'\nfamily = 'poisson'\n")
    _fails(
        capsys,
        ["panel.csv", "columns 2 (B) and 3 (C)", "'x'"],
        "fit",
        str(spec),
        "--data",
        str(path),
        "--out",
        str(tmp_path / "out"),
    )


def test_records_longer_than_the_header_are_refused(tmp_path: Path) -> None:
    """pandas would silently make the first column the index and shift every name."""
    path = tmp_path / "shift.csv"
    path.write_text("x,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path, typed=True)
    assert info.value.row == 2
    assert "3 cells but the header has 2 names" in info.value.problem


def test_tab_file_whose_cells_hold_commas_is_split_on_tabs(tmp_path: Path) -> None:
    path = tmp_path / "tab.txt"
    path.write_text("party\tnote, short\nPCF\tmet, Paris\nSPD\tmet, Berlin\n", encoding="utf-8")
    frame, info = read_table(path)
    assert info.delimiter == "\t"
    assert frame["note, short"].tolist() == ["met, Paris", "met, Berlin"]


def test_empty_and_stata_dot_only_column_is_an_all_missing_number(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("x,y,iso2\n,1,NA\n.,2,NA\n", encoding="utf-8")
    frame, info = read_table(path, typed=True)
    assert frame["x"].dtype == np.float64 and frame["x"].isna().all()
    assert frame["iso2"].tolist() == ["NA", "NA"]  # only "NA": Namibia, kept as text
    assert dict(info.column_types or ()) == {"x": "number", "y": "number", "iso2": "text"}


def test_excel_numbers_stored_as_text_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "text_numbers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["iso2", "x", "y"])
    for row in (["NA", "0.5", 1], ["FR", 1.5, 2], ["DE", "NA", 0], ["CN", None, 3]):
        sheet.append(row)
    book.save(path)
    frame, _ = read_table(path, typed=True)
    assert frame["x"].tolist()[:2] == [0.5, 1.5] and frame["x"].isna().tolist()[2:] == [True] * 2
    assert frame["iso2"].tolist() == ["NA", "FR", "DE", "CN"]
    assert frame["y"].tolist() == [1, 2, 0, 3]


def test_duplicated_parquet_column_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["x", "x"]), path)
    with pytest.raises(InputError) as info:
        read_table(path, typed=True)
    assert "columns 1 (A) and 2 (B)" in info.value.problem and info.value.column == "x"


def test_utf16_export_with_bom_is_decoded(tmp_path: Path) -> None:
    """Excel's 'Unicode text' export: UTF-16 with a byte-order mark, tab-delimited."""
    path = tmp_path / "unicode.txt"
    path.write_bytes("party\ty\n中国共产党\t1\nSão Tomé\t2\n".encode("utf-16"))
    frame, info = read_table(path, typed=True)
    assert (info.encoding, info.delimiter) == ("utf-16", "\t")
    assert frame["party"].tolist() == ["中国共产党", "São Tomé"]
    assert frame["y"].tolist() == [1, 2]


def test_read_panel_indexes_rows_by_file_row(tmp_path: Path) -> None:
    from cpcstats.io import read_panel

    path = tmp_path / "p.csv"
    path.write_text('y,note\n1,"a\nb"\n2,c\n', encoding="utf-8")
    frame, info = read_panel(path)
    assert list(frame.index + 2) == [2, 4]
    assert frame.attrs["file"] == info.path and "file_lines" not in frame.attrs


def test_mixed_encoding_contacts_file_stops_check_naming_the_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The contract path (study files read as text) gets the same strict decoding."""
    (tmp_path / "contacts.csv").write_bytes(
        "date,country,counterpart_type,direction\n2005-03-01,Côte d'Ivoire,state,inbound\n".encode()
        + "2006-05-02,São Tomé and Príncipe,state,outbound\n".encode("latin-1")
    )
    study = tmp_path / "study.toml"
    study.write_text(
        "[study]\nname = 'mixed'\nfirst_year = 2004\nlast_year = 2008\n"
        "[contacts]\npath = 'contacts.csv'\n",
        encoding="utf-8",
    )
    _fails(
        capsys,
        ["contacts.csv", "mixes text encodings", "line(s) 3 are not valid UTF-8", "UTF-8"],
        "check",
        "--study",
        str(study),
    )


@pytest.mark.parametrize(
    ("column", "refused"),
    [
        (['"0,5"', '"1,25"', '"2,5"'], True),  # decimal commas in a comma file: ambiguous
        (["5%", "7%", "12%"], True),
        (['"1,234.5"', '"12,000"', "7"], True),
        (["02.01.2005", "03.01.2005", "04.01.2005"], False),  # dates stay text
        (["TRUE", "FALSE", "TRUE"], False),
    ],
)
def test_numbers_written_another_way_are_refused_but_dates_are_text(
    tmp_path: Path, column: list[str], refused: bool
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,v\n" + "".join(f"{i},{c}\n" for i, c in enumerate(column)), "utf-8")
    if refused:
        with pytest.raises(InputError) as info:
            read_table(path, typed=True)
        assert (info.value.column, info.value.row) == ("v", 2)
        assert info.value.fix and "decimal point" in info.value.fix
    else:
        frame, info_file = read_table(path, typed=True)
        assert dict(info_file.column_types or ())["v"] == "text"
        assert frame["v"].tolist() == column
