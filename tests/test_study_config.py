"""Study files: derived columns, dedupe rule, covariate sources, V-Party party status,
user reference tables and [published] — each with its accounting and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpcstats.errors import InputError, SpecError
from cpcstats.panels import country_year, party_year
from cpcstats.study import PUBLISHED_DEFAULT, load_study


def _write(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def _contacts(folder: Path, rows: list[tuple]) -> Path:
    frame = pd.DataFrame(rows, columns=["date", "country", "text"])
    return _write(folder, "contacts.csv", frame)


def _study(folder: Path, body: str, name: str = "study.toml") -> Path:
    path = folder / name
    head = "[study]\nname = 'test'\nfirst_year = 2004\nlast_year = 2007\n"
    path.write_text(head + body, encoding="utf-8")
    return path


ROWS = [
    ("2004-03-01", "Norway", "Hu Jintao travelled to Norway"),
    ("2004-03-01", "Norway", "Hu Jintao travelled to Norway"),  # the same visit, twice
    ("2005-05-02", "Mali", "Wen Jiabao was in Beijing and met with"),
    ("2006-07-03", "Mali", "Xi sends condolences"),
    ("2007-01-04", "Chile", "Li Keqiang TRAVELED TO Chile"),
]
BASE = """
[contacts]
path = "contacts.csv"
[contacts.defaults]
counterpart_type = "state"
[contacts.derive.direction]
from = "text"
patterns = { "travel+ed to" = "outbound", "\\\\bwas in\\\\b" = "inbound" }
default = "unknown"
"""


def test_derived_column_by_ordered_patterns(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    study = load_study(_study(tmp_path, BASE))
    assert study.contacts["direction"].tolist() == [
        "outbound",
        "outbound",
        "inbound",
        "unknown",
        "outbound",
    ]
    (note,) = [n for n in study.notes if "derived" in n]
    assert "3 outbound" in note and "1 inbound" in note and "1 unknown" in note


def test_derived_column_without_default_fails_on_the_unmatched_row(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    body = BASE.replace('default = "unknown"\n', "")
    with pytest.raises(InputError, match="direction") as info:
        load_study(_study(tmp_path, body))
    assert info.value.row == 5  # the condolences (data row 4 -> spreadsheet row 5)


def test_derive_errors_name_the_rule(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    with pytest.raises(SpecError, match="not a valid regular expression") as info:
        load_study(_study(tmp_path, BASE.replace("travel+ed to", "travel(ed to")))
    assert info.value.column == "direction" and info.value.file.endswith("study.toml")
    with pytest.raises(SpecError, match="reads column 'txt'"):
        load_study(_study(tmp_path, BASE.replace('from = "text"', 'from = "txt"')))


def test_dedupe_rule_counts_what_it_removes(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    body = BASE.replace(
        'path = "contacts.csv"', 'path = "contacts.csv"\ndedupe = ["date", "country"]'
    )
    study = load_study(_study(tmp_path, body))
    assert len(study.contacts) == 4
    (account,) = [a for a in study.ledger.stages if a.stage == "contacts: dedupe rule"]
    assert (account.rows_in, account.rows_out) == (5, 4)
    assert list(account.dropped.values()) == [1]
    bad = BASE.replace('path = "contacts.csv"', 'path = "contacts.csv"\ndedupe = ["visit"]')
    with pytest.raises(SpecError, match="dedupe names column"):
        load_study(_study(tmp_path, bad))


def _fh(folder: Path) -> Path:
    rows = [
        (name, year, pr, cl, status)
        for name, pr, cl, status in (
            ("Norway", 1, 1, "F"),
            ("Mali", 2, 3, "F"),
            ("Chile", 1, 1, "F"),
        )
        for year in range(2003, 2009)
    ]
    frame = pd.DataFrame(rows, columns=["fh_country", "year", "pr", "cl", "status"])
    frame["fh_total"] = frame["pr"] + frame["cl"]
    return _write(folder, "fh.csv", frame)


def _vdem(folder: Path) -> Path:
    rows = [
        (iso, name, year, 0.5 + 0.01 * (year - 2000), 0.4)
        for iso, name in (("NOR", "Norway"), ("MLI", "Mali"), ("CHL", "Chile"))
        for year in range(2003, 2009)
    ]
    frame = pd.DataFrame(
        rows, columns=["country_text_id", "country_name", "year", "v2x_polyarchy", "v2x_libdem"]
    )
    return _write(folder, "vdem.csv", frame)


def test_covariate_sources_are_merged_and_accounted(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    _fh(tmp_path)
    _vdem(tmp_path)
    body = BASE + '\n[covariates]\nfreedom_house = "fh.csv"\n'
    body += 'vdem = { path = "vdem.csv", indices = ["polyarchy"] }\n'
    study = load_study(_study(tmp_path, body))
    cov = study.covariates
    assert {"fh_status", "fh_pr", "fh_cl", "fh_total", "polyarchy"} <= set(cov.columns)
    assert "libdem" not in cov.columns
    assert cov["year"].between(2004, 2007).all() and len(cov) == 12
    stages = {a.stage: a for a in study.ledger.stages}
    assert stages["adapter:freedom_house"].rows_in == 18
    assert stages["adapter:freedom_house"].dropped["year before first_year"] == 3
    assert set(study.harmonisation) == {"contacts", "freedom_house", "vdem"}
    panel = country_year(study).data.set_index(["iso3", "year"])
    assert panel.loc[("MLI", 2005), "fh_total"] == 5
    assert panel.loc[("NOR", 2006), "polyarchy"] == pytest.approx(0.56)


def test_covariate_errors(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    _fh(tmp_path)
    with pytest.raises(SpecError, match="unknown key") as info:
        load_study(_study(tmp_path, BASE + '\n[covariates]\nfreedomhouse = "fh.csv"\n'))
    assert "freedom_house" in (info.value.fix or "")
    with pytest.raises(InputError, match="does not exist") as missing:
        load_study(_study(tmp_path, BASE + '\n[covariates]\nvdem = "nowhere.csv"\n'))
    assert missing.value.file.endswith("nowhere.csv")
    with pytest.raises(InputError, match="V-Dem"):  # a FH file given as V-Dem: wrong layout
        load_study(_study(tmp_path, BASE + '\n[covariates]\nvdem = "fh.csv"\n'))


def test_party_status_from_vparty(tmp_path: Path) -> None:
    vp = pd.DataFrame(
        [
            (11, "NOR", "Norway", 2001, 0, 1.0),
            (12, "NOR", "Norway", 2001, 3, -1.0),
            (11, "NOR", "Norway", 2005, 3, 1.2),
            (12, "NOR", "Norway", 2005, 0, -0.8),
            (13, "NOR", "Norway", 2005, 4, 0.0),  # code 4: not applicable
        ],
        columns=["v2paid", "country_text_id", "country_name", "year", "v2pagovsup", "v2pariglef"],
    )
    vp["v2paenname"] = ["Right", "Left", "Right", "Left", "Other"]
    vp["pf_party_id"] = vp["v2paid"] + 1000
    _write(tmp_path, "vparty.csv", vp)
    contacts = pd.DataFrame(
        {
            "date": ["2004-05-01", "2006-05-01", "2006-06-01"],
            "country": "NOR",
            "counterpart_type": "party",
            "party_id": ["vparty-11", "vparty-12", "vparty-11"],
            "direction": "inbound",
        }
    )
    _write(tmp_path, "contacts.csv", contacts)
    body = '[party_status]\nsource = "vparty"\n[contacts]\npath = "contacts.csv"\n'
    body += '[covariates]\nvparty = "vparty.csv"\n'
    study = load_study(_study(tmp_path, body))
    status = study.party_status.set_index(["party_id", "year"])["status"]
    assert status[("vparty-11", 2004)] == "senior" and status[("vparty-11", 2006)] == "opposition"
    assert status[("vparty-12", 2006)] == "senior"
    assert ("vparty-13", 2006) not in status.index
    (account,) = [a for a in study.ledger.stages if a.stage == "party status: from V-Party"]
    assert account.dropped["V-Party government status missing (code 4 or blank)"] == 3
    assert set(study.parties["party_id"]) == {"vparty-11", "vparty-12", "vparty-13"}
    panel = party_year(study).data.set_index(["party_id", "year"])
    assert panel.loc[("vparty-11", 2004), "ruling"] == 1
    assert panel.loc[("vparty-11", 2006), "contacts"] == 1


def test_vparty_status_needs_the_file(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    body = '[party_status]\nsource = "vparty"\n' + BASE
    with pytest.raises(SpecError, match="needs the V-Party file"):
        load_study(_study(tmp_path, body))


def test_user_reference_table_replaces_the_shipped_one(tmp_path: Path) -> None:
    from cpcstats.reference import load_reference

    _contacts(tmp_path, ROWS)
    bri = load_reference("bri")
    mine = bri[bri["iso3"] != "CHL"]
    mine.to_csv(tmp_path / "bri.csv", index=False)
    study = load_study(_study(tmp_path, BASE + '\n[covariates]\nbri = "bri.csv"\n'))
    assert "CHL" not in set(study.bri["iso3"]) and "CHL" in set(bri["iso3"])
    assert any("bri" in n and "replaces the shipped" in n for n in study.notes)


def test_published_section(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    assert load_study(_study(tmp_path, BASE)).published is None
    on = load_study(_study(tmp_path, BASE + "\n[published]\nenabled = true\n"))
    assert on.published == PUBLISHED_DEFAULT
    (tmp_path / "pub.toml").write_text("[[figure]]\nkey='contacts_total'\nvalue=5\n")
    own = load_study(_study(tmp_path, BASE + '\n[published]\npath = "pub.toml"\n'))
    assert own.published == (tmp_path / "pub.toml").resolve()
    with pytest.raises(InputError, match="does not exist"):
        load_study(_study(tmp_path, BASE + '\n[published]\npath = "none.toml"\n'))


COV = pd.DataFrame(
    {
        "iso": ["NOR", "NOR", "MLI", "MLI", "CHL", "CHL"],
        "year": [2004, 2004, 2005, 2006, 2006, 2007],
        "aid": ["1.5", "1.5", "NA", "2", "0", "3"],
        "visits": [0, 0, 4, 0, 0, 0],
        "noise": [1, 2, 3, 4, 5, 6],
    }
)
COV_RULES = """
[covariates]
path = "cov.csv"
use = ["aid", "visits"]
missing = ["NA"]
drop_identical_rows = true
[covariates.columns]
iso = "country"
[covariates.coverage]
visits = ["MLI"]
"""


def test_own_covariate_rules_use_missing_repeats_and_coverage(tmp_path: Path) -> None:
    """The two NOR 2004 rows differ only in an unused column: counted once; "NA" is
    missing; visits outside Mali (zeros there are fill values) are missing, counted."""
    _contacts(tmp_path, ROWS)
    _write(tmp_path, "cov.csv", COV)
    study = load_study(_study(tmp_path, BASE + COV_RULES))
    cov = study.covariates.set_index(["iso3", "year"])
    assert len(cov) == 5 and "noise" not in cov.columns
    assert pd.isna(cov.loc[("MLI", 2005), "aid"]) and cov.loc[("MLI", 2006), "aid"] == 2
    assert cov.loc[("MLI", 2005), "visits"] == 4
    assert cov.loc[["NOR", "CHL"], "visits"].isna().all()
    (account,) = [a for a in study.ledger.stages if a.stage == "covariates: identical rows"]
    assert (account.rows_in, account.rows_out) == (6, 5)
    assert any("3 value(s) elsewhere set missing (0 of them not zero)" in n for n in study.notes)
    assert any("not used: noise" in n for n in study.notes)


def test_own_covariate_rules_without_repeats_rule_still_refuse_duplicates(tmp_path: Path) -> None:
    _contacts(tmp_path, ROWS)
    _write(tmp_path, "cov.csv", COV)
    with pytest.raises(InputError, match="two rows for 2004"):
        load_study(_study(tmp_path, BASE + COV_RULES.replace("drop_identical_rows = true", "")))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('use = ["aid", "visits"]', 'use = ["aid", "gdp"]', "use names column"),
        ('visits = ["MLI"]', 'visits = "MLI"', "must name a covariate column and list"),
        ("drop_identical_rows = true", "drop_identical_rows = 'yes'", "drop_identical_rows"),
    ],
)
def test_own_covariate_rule_mistakes(tmp_path: Path, old: str, new: str, message: str) -> None:
    _contacts(tmp_path, ROWS)
    _write(tmp_path, "cov.csv", COV)
    with pytest.raises(SpecError, match=message):
        load_study(_study(tmp_path, BASE + COV_RULES.replace(old, new)))


def test_contacts_engine_key_is_checked_when_the_study_is_read(tmp_path: Path) -> None:
    """``[contacts] engine``: a typo fails at load time naming the key and the fix; a valid
    value reaches the panels (which count the same either way, tests/test_ingest_engine.py)."""
    _contacts(tmp_path, ROWS)
    body = BASE.replace('path = "contacts.csv"', 'path = "contacts.csv"\nengine = "polars"')
    with pytest.raises(SpecError, match="engine = 'polars' is not one of pandas, duckdb") as info:
        load_study(_study(tmp_path, body))
    assert "duckdb" in (info.value.fix or "") and info.value.column == "engine"
    ok = load_study(
        _study(
            tmp_path,
            BASE.replace('path = "contacts.csv"', 'path = "contacts.csv"\nengine = "pandas"'),
        )
    )
    assert ok.config["contacts"]["engine"] == "pandas"
    assert int(country_year(ok).data["contacts"].sum()) == len(ROWS)
