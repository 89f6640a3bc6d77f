"""The SIMULATED mark survives every route: export a demo panel, refit it with ``fit --data``.

Routes: CSV (column + sidecar with SHA-256), Parquet (column + schema metadata + pandas
attrs), Excel (column + document properties); and what users do to files afterwards:
copy the CSV alone, re-save it through pandas, edit it, drop the column on purpose.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import cpcstats
from cpcstats.cli import main
from cpcstats.io import read_panel, write_panel_file
from cpcstats.io.mark import MARK_COLUMN, MARK_VALUE, sidecar_path

MODEL = """name = "cy_fe"
level = "country-year"
family = "fe-poisson"
formula = "contacts ~ C(fh_status) + bri_member | iso3"
cluster = "iso3"
"""
SUFFIXES = (".csv", ".parquet", ".xlsx")


@pytest.fixture(scope="module")
def panel() -> cpcstats.Panel:
    return cpcstats.country_year(cpcstats.load_study("demo"))


@pytest.fixture(scope="module")
def small(panel: cpcstats.Panel) -> pd.DataFrame:
    """Forty countries of the demo panel: enough to fit, quick to write as Excel."""
    keep = sorted(panel.data["iso3"].unique())[:40]
    return panel.data[panel.data["iso3"].isin(keep)].reset_index(drop=True)


def _write(frame: pd.DataFrame, path: Path, simulated: bool = True) -> list[Path]:
    return write_panel_file(
        frame, path, simulated=simulated, study="Embedded demo study", level="country-year"
    )


def _fit_cli(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    spec = tmp_path / "m.toml"
    spec.write_text(MODEL)
    out = tmp_path / f"fit_{data.name}"
    assert main(["fit", str(spec), "--data", str(data), "--out", str(out)]) == 0
    return capsys.readouterr().out, out


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_cli_export_then_fit_says_simulated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """``cpcstats panel`` -> ``cpcstats fit --data``: console, JSON record and table."""
    data = tmp_path / f"cy{suffix}"
    assert main(["panel", "--level", "country-year", "--out", str(data)]) == 0
    exported = capsys.readouterr().out
    assert "marked in the file" in exported
    if suffix == ".csv":
        assert sidecar_path(data).is_file() and str(sidecar_path(data)) in exported
    printed, out = _fit_cli(tmp_path, data, capsys)
    assert "SIMULATED: this panel is SIMULATED data" in printed
    assert "NOTE: estimated on SIMULATED data" in printed
    layer = {".csv": "sidecar", ".parquet": "Parquet metadata", ".xlsx": "Excel document"}
    assert layer[suffix] in printed and MARK_COLUMN in printed
    record = json.loads((out / "cy_fe.json").read_text())
    assert record["simulated"] is True and record["model"]["simulated"] is True
    assert record["study"] == "Embedded demo study"
    assert "SIMULATED DATA" in (out / "cy_fe.md").read_text()
    assert "SIMULATED" in (out / "cy_fe.tex").read_text()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_fit_result_is_simulated_through_the_api(
    tmp_path: Path, small: pd.DataFrame, suffix: str
) -> None:
    path = tmp_path / f"p{suffix}"
    _write(small, path)
    frame, _ = read_panel(path)
    assert frame.attrs["simulated"] is True
    assert (frame[MARK_COLUMN] == MARK_VALUE).all() and frame.columns[0] == MARK_COLUMN
    spec = cpcstats.load_specs(_toml(tmp_path))[0]
    result = cpcstats.fit(spec, frame)
    assert result.simulated and result.study == "Embedded demo study"
    assert "SIMULATED" in cpcstats.table([result]).to_markdown()


def _toml(tmp_path: Path) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(MODEL)
    return path


def test_copied_csv_without_its_sidecar_is_still_simulated(
    tmp_path: Path, small: pd.DataFrame
) -> None:
    """The column travels with the rows; the sidecar is not needed."""
    _write(small, tmp_path / "p.csv")
    (tmp_path / "copy").mkdir()
    copy = Path(shutil.copy(tmp_path / "p.csv", tmp_path / "copy" / "p.csv"))
    frame, _ = read_panel(copy)
    assert frame.attrs["simulated"] is True
    assert frame.attrs["mark"]["how"] == [f"its {MARK_COLUMN!r} column"]


def test_csv_resaved_through_pandas_keeps_the_mark(tmp_path: Path, small: pd.DataFrame) -> None:
    _write(small, tmp_path / "p.csv")
    resaved = tmp_path / "resaved.csv"
    pd.read_csv(tmp_path / "p.csv").query("year >= 2005").to_csv(resaved, index=False)
    assert read_panel(resaved)[0].attrs["simulated"] is True


def test_edited_csv_is_derived_from_simulated_data(
    tmp_path: Path, small: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """Column dropped, sidecar kept: the hash no longer matches, the file is still marked
    (editing simulated rows does not make them real), but no study name is claimed."""
    path = tmp_path / "p.csv"
    _write(small, path)
    pd.read_csv(path).drop(columns=MARK_COLUMN).to_csv(path, index=False)
    frame, _ = read_panel(path)
    mark = frame.attrs["mark"]
    assert mark["simulated"] is True and mark["study"] is None and frame.attrs["study"] == ""
    assert "changed after it was exported" in mark["notes"][0]
    printed, _ = _fit_cli(tmp_path, path, capsys)
    assert "derived from SIMULATED data" in printed and "SHA-256 differs" in printed
    assert "NOTE: estimated on SIMULATED data" in printed


def test_parquet_resaved_through_pandas_without_the_column_keeps_the_mark(
    tmp_path: Path, small: pd.DataFrame
) -> None:
    """pandas writes a frame's attrs back into the Parquet metadata it re-saves."""
    _write(small, tmp_path / "p.parquet")
    again = pd.read_parquet(tmp_path / "p.parquet").drop(columns=MARK_COLUMN)
    again.to_parquet(tmp_path / "re.parquet")
    mark = read_panel(tmp_path / "re.parquet")[0].attrs["mark"]
    assert mark["simulated"] is True and mark["how"] == ["its Parquet metadata"]


def test_deliberately_removed_mark_is_gone(tmp_path: Path, small: pd.DataFrame) -> None:
    """A CSV without its sidecar whose mark column was deleted on purpose: no mark left
    (documented: the only way to lose it is to remove both by hand)."""
    _write(small, tmp_path / "p.csv")
    clean = tmp_path / "clean.csv"
    pd.read_csv(tmp_path / "p.csv").drop(columns=MARK_COLUMN).to_csv(clean, index=False)
    assert read_panel(clean)[0].attrs["simulated"] is False


def test_real_panels_get_provenance_but_no_mark(tmp_path: Path, small: pd.DataFrame) -> None:
    path = tmp_path / "real.csv"
    files = _write(small, path, simulated=False)
    assert files == [path, sidecar_path(path)]
    assert MARK_COLUMN not in pd.read_csv(path).columns
    side = json.loads(sidecar_path(path).read_text())
    assert side["simulated"] is False and side["level"] == "country-year"
    frame, info = read_panel(path)
    assert side["sha256"] == info.sha256
    assert frame.attrs["simulated"] is False and frame.attrs["study"] == "Embedded demo study"


def test_a_broken_sidecar_is_ignored_with_a_note(tmp_path: Path, small: pd.DataFrame) -> None:
    path = tmp_path / "real.csv"
    _write(small, path, simulated=False)
    sidecar_path(path).write_text("not json")
    mark = read_panel(path)[0].attrs["mark"]
    assert mark["simulated"] is False and "not a cpcstats sidecar" in mark["notes"][0]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_exports_are_byte_identical_run_to_run(
    tmp_path: Path, small: pd.DataFrame, suffix: str
) -> None:
    first = _write(small, tmp_path / "a" / f"p{suffix}")
    second = _write(small, tmp_path / "b" / f"p{suffix}")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_unknown_suffix_is_an_input_error(tmp_path: Path, small: pd.DataFrame) -> None:
    with pytest.raises(cpcstats.errors.InputError) as info:
        _write(small, tmp_path / "p.dta")
    assert ".xlsx" in (info.value.fix or "")
