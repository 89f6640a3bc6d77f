"""Bad input through the command line: exit code, one message with the key words, no traceback.

One test per kind of bad input the project promises to catch (issue 6), each run as a user
would: a study or specification file in a folder, ``cpcstats check`` / ``fit`` on it.
A property-based test feeds random event tables with junk rows to the importer.
"""

from __future__ import annotations

import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpcstats.contract import normalise_contacts
from cpcstats.errors import CpcError
from tests.helpers import cli_fails as _fails
from tests.helpers import run_cli as _run

GOOD = [
    ("2005-03-01", "Norway", "state", "inbound"),
    ("2006-05-02", "Mali", "state", "outbound"),
    ("2007-07-03", "Chile", "other", "inbound"),
]


def _contacts(folder: Path, rows: list[tuple] = GOOD, name: str = "contacts.csv") -> Path:
    frame = pd.DataFrame(rows, columns=["date", "country", "counterpart_type", "direction"])
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def _study(folder: Path, extra: str = "", contacts: str = "contacts.csv") -> Path:
    path = folder / "study.toml"
    path.write_text(
        "[study]\nname = 'bad input'\nfirst_year = 2004\nlast_year = 2008\n"
        f"[contacts]\npath = '{contacts}'\n{extra}",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- data files
def test_missing_required_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frame = pd.DataFrame(GOOD, columns=["date", "country", "counterpart_type", "direction"])
    frame.drop(columns="direction").to_csv(tmp_path / "contacts.csv", index=False)
    _fails(capsys, ["contacts.csv", "direction"], "check", "--study", str(_study(tmp_path)))


def test_unknown_column_in_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _contacts(tmp_path)
    study = _study(tmp_path, "[contacts.columns]\n'Dte' = 'date'\n")
    _fails(capsys, ["'Dte'", "does not have", "study.toml"], "check", "--study", str(study))


def test_unparseable_dates(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _contacts(tmp_path, [*GOOD, ("2005-13-45", "Peru", "state", "inbound")])
    err = _fails(
        capsys, ["contacts.csv", "date", "row 5"], "check", "--study", str(_study(tmp_path))
    )
    assert "2005-13-45" in err


def test_years_outside_the_window(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _contacts(tmp_path, [*GOOD, ("2107-01-01", "Peru", "state", "inbound")])
    _fails(
        capsys,
        ["outside the study window 2004-2008", "2107", "row 5", "outside_window"],
        "check",
        "--study",
        str(_study(tmp_path)),
    )
    study = _study(tmp_path, "outside_window = 'drop'\n")
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 0 and "1 outside study window 2004-2008" in text


def test_duplicate_rows_are_reported_and_removed_only_by_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _contacts(tmp_path, [*GOOD, GOOD[1]])
    code, text = _run(capsys, "check", "--study", str(_study(tmp_path)))
    assert code == 0
    assert "1 contact(s) repeat an earlier row exactly (file rows 5)" in text
    deduped = _study(tmp_path, "dedupe = ['date', 'country', 'direction']\n")
    code, text = _run(capsys, "check", "--study", str(deduped))
    assert code == 0 and "contacts: dedupe rule: 4 in, 3 out" in text


def test_party_ids_absent_from_the_party_table(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rows = [("2005-03-01", "Norway", "party", "inbound", "NOR-9")]
    pd.DataFrame(
        rows, columns=["date", "country", "counterpart_type", "direction", "party_id"]
    ).to_csv(tmp_path / "contacts.csv", index=False)
    pd.DataFrame({"party_id": ["NOR-1"], "country": ["NOR"], "party_name": ["Labour"]}).to_csv(
        tmp_path / "parties.csv", index=False
    )
    study = _study(tmp_path, "[parties]\npath = 'parties.csv'\n")
    _fails(
        capsys,
        ["'NOR-9'", "absent from the parties table", "row 2"],
        "check",
        "--study",
        str(study),
    )


def test_same_country_under_two_spellings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _contacts(tmp_path)
    pd.DataFrame(
        {"country": ["Germany", "DEU"], "year": [2005, 2005], "fh_status": ["F", "F"]}
    ).to_csv(tmp_path / "cov.csv", index=False)
    study = _study(tmp_path, "[covariates]\npath = 'cov.csv'\n")
    _fails(capsys, ["DEU", "two rows for 2005", "cov.csv"], "check", "--study", str(study))


@pytest.mark.parametrize(
    ("content", "words"), [(b"", ["empty"]), (b"date,country\n", ["no data rows"])]
)
def test_empty_files(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes, words: list[str]
) -> None:
    (tmp_path / "contacts.csv").write_bytes(content)
    _fails(capsys, ["contacts.csv", *words], "check", "--study", str(_study(tmp_path)))


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", ","), ("latin-1", ";"), ("utf-8", ";")]
)
def test_encodings_and_delimiters_are_read_not_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture, encoding: str, delimiter: str
) -> None:
    text = delimiter.join(["date", "country", "counterpart_type", "direction"]) + "\n"
    text += delimiter.join(["2005-03-01", "Côte d'Ivoire", "state", "inbound"]) + "\n"
    (tmp_path / "contacts.csv").write_bytes(text.encode(encoding))
    code, out = _run(capsys, "check", "--study", str(_study(tmp_path)))
    assert code == 0, out
    assert "1 matched" in out and "0 unmatched" in out


def test_excel_with_merged_header_rows(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ID-CPC contacts (coded by RA)", None, None, None])
    sheet.merge_cells("A1:D1")
    sheet.append(["date", "country", "counterpart_type", "direction"])
    sheet.append(["2005-03-01", "Norway", "state", "inbound"])
    book.save(tmp_path / "contacts.xlsx")
    study = _study(tmp_path, contacts="contacts.xlsx")
    _fails(capsys, ["contacts.xlsx", "merged header"], "check", "--study", str(study))


def test_study_file_whose_paths_do_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _fails(
        capsys,
        ["nowhere.csv", "does not exist"],
        "check",
        "--study",
        str(_study(tmp_path, contacts="nowhere.csv")),
    )
    _fails(
        capsys,
        ["missing.toml", "does not exist"],
        "check",
        "--study",
        str(tmp_path / "missing.toml"),
    )


# --------------------------------------------------------------------------- user panels
@pytest.mark.parametrize(("value", "shown"), [(-1, "-1"), (1.5, "1.5")])
def test_negative_or_non_integer_counts_in_a_user_panel(
    tmp_path: Path, capsys: pytest.CaptureFixture, value: float, shown: str
) -> None:
    panel = pd.DataFrame({"contacts": [0, 2, value, 1], "x": [0.1, 0.5, 0.3, 0.9]})
    panel.to_csv(tmp_path / "panel.csv", index=False)
    spec = tmp_path / "m.toml"
    spec.write_text(
        "name = 'm'\nlevel = 'country-year'\nformula = 'contacts ~ x'\nfamily = 'poisson'\n"
    )
    _fails(
        capsys,
        ["panel.csv", "row 4", "contacts", "non-negative whole count", shown],
        "fit",
        str(spec),
        "--data",
        str(tmp_path / "panel.csv"),
        "--out",
        str(tmp_path / "out"),
    )


# --------------------------------------------------------------------------- specifications
def _spec(folder: Path, body: str) -> Path:
    path = folder / "spec.toml"
    path.write_text("name = 'm'\nlevel = 'country-year'\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("formula = 'contacts ~ xi_era'\nfamily = 'poison'\n", ["family", "poison", "poisson"]),
        ("formula = 'contacts ~ xi_eraa'\nfamily = 'poisson'\n", ["xi_eraa"]),
        ("formula = 'contacts ~ xi_era +'\nfamily = 'poisson'\n", ["formula"]),
        (
            "formula = 'contacts ~ xi_era'\nfamily = 'poisson'\nsample = 'year > 2100'\n",
            ["selects no rows", "year > 2100"],
        ),
    ],
)
def test_bad_specifications(
    tmp_path: Path, capsys: pytest.CaptureFixture, body: str, words: list[str]
) -> None:
    spec = _spec(tmp_path, body)
    _fails(capsys, ["spec.toml", *words], "fit", str(spec), "--out", str(tmp_path / "out"))


@pytest.mark.parametrize(
    "body",
    [
        "formula = \"contacts ~ __import__('os').system('touch {marker}')\"\n",
        "formula = 'contacts ~ xi_era'\nsample = \"__import__('os').system('touch {marker}')\"\n",
        "formula = 'contacts ~ xi_era.__class__'\n",
        "formula = 'contacts ~ xi_era'\nsample = \"year.__class__.__bases__ == 1\"\n",
        "formula = \"contacts ~ eval('1')\"\n",
        "formula = 'contacts ~ xi_era'\nsample = \"open('{marker}', 'w') is None\"\n",
    ],
)
def test_hostile_specifications_are_rejected_before_evaluation(
    tmp_path: Path, capsys: pytest.CaptureFixture, body: str
) -> None:
    marker = tmp_path / "PWNED"
    spec = _spec(tmp_path, "family = 'poisson'\n" + body.format(marker=marker.as_posix()))
    code, text = _run(capsys, "fit", str(spec), "--out", str(tmp_path / "out"))
    assert code == 2, text
    assert "spec.toml" in text
    assert not marker.exists()
    assert not (tmp_path / "out").exists()  # nothing was fitted or written


# --------------------------------------------------------------------------- property test
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -/.,;'", max_size=12)
_GOOD_ROW = st.tuples(
    st.dates(
        min_value=pd.Timestamp("2002-01-01").date(), max_value=pd.Timestamp("2017-12-31").date()
    ).map(str),
    st.sampled_from(["Norway", "MLI", "Chile", "Viet Nam", "Côte d'Ivoire", "DEU"]),
    st.sampled_from(["state", "other"]),
    st.sampled_from(["inbound", "outbound"]),
)
_JUNK_ROW = st.tuples(
    st.one_of(_TEXT, st.none()),
    st.one_of(_TEXT, st.none()),
    st.one_of(st.sampled_from(["state", "party", "xx"]), _TEXT, st.none()),
    st.one_of(st.sampled_from(["inbound", "in"]), _TEXT, st.none()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(good=st.lists(_GOOD_ROW, min_size=1, max_size=30), junk=st.lists(_JUNK_ROW, max_size=3))
def test_importer_either_accounts_for_every_row_or_fails_cleanly(good: list, junk: list) -> None:
    frame = pd.DataFrame(
        good + junk, columns=["date", "country", "counterpart_type", "direction"]
    ).astype("string")
    try:
        out, accounts, _ = normalise_contacts(frame, file="events.csv")
    except CpcError as exc:
        assert exc.file == "events.csv" and exc.fix  # a clean, located error
        return
    (account,) = accounts
    assert account.rows_in == len(frame)
    assert account.rows_out == len(out)
    assert account.rows_in == account.rows_out + sum(account.dropped.values())
    assert out["direction"].isin(["inbound", "outbound", "unknown"]).all()
