"""Hostile study files and inputs whose rows would vanish (issue 12).

Two promises are tested here, each through ``cpcstats check`` as a user runs it:

* ``check`` never says OK while rows vanish: unmatched countries in the study's own
  covariate file, party-status rows of parties the parties table lacks, a party contact
  whose country is not its party's, a date whose year contradicts the year column, and an
  infinite covariate are each counted with their reason (exit 1) or an error with the fix
  (exit 2), and the stage accounts balance (rows in = out + dropped);
* the study file is checked as strictly as a model specification: an unknown key in any
  table names the closest valid key, a wrong TOML type names the key and the expected
  type, and a folder or a FIFO given as ``--study`` is an error at once, never a hang.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from cpcstats.accounting import StageAccount
from cpcstats.cli import main
from cpcstats.panels import country_year, party_year
from cpcstats.study import Study, load_study
from tests.helpers import run_cli as _run

REPO = Path(__file__).resolve().parents[1]

CONTACTS = [
    # date, country, counterpart_type, party_id, direction
    ("2005-03-01", "NOR", "party", "NOR-1", "inbound"),
    ("2006-05-02", "MLI", "party", "MLI-1", "outbound"),
    ("2007-07-03", "CHL", "state", "", "inbound"),
]
PARTIES = [("NOR-1", "NOR", "Norway party"), ("MLI-1", "MLI", "Mali party")]
STATUS = [
    ("NOR-1", 2005, "senior"),
    ("NOR-1", 2006, "opposition"),
    ("MLI-1", 2006, "senior"),
    ("MLI-1", 1990, "senior"),  # outside the window: counted, a stated reason
]
COVARIATES = [("NOR", 2005, 0.9), ("MLI", 2006, 0.5), ("CHL", 2007, 0.8)]

HEAD = "[study]\nname = 'hostile'\nfirst_year = 2004\nlast_year = 2008\n"
TABLES = """
[contacts]
path = "contacts.csv"
[parties]
path = "parties.csv"
[party_status]
path = "party_status.csv"
[covariates]
path = "covariates.csv"
"""


def _folder(
    folder: Path,
    *,
    contacts: list[tuple] = CONTACTS,
    status: list[tuple] = STATUS,
    covariates: list[tuple] = COVARIATES,
    year_column: list[int] | None = None,
) -> Path:
    frame = pd.DataFrame(
        contacts, columns=["date", "country", "counterpart_type", "party_id", "direction"]
    )
    if year_column is not None:
        frame["year"] = year_column
    frame.to_csv(folder / "contacts.csv", index=False)
    pd.DataFrame(PARTIES, columns=["party_id", "country", "party_name"]).to_csv(
        folder / "parties.csv", index=False
    )
    pd.DataFrame(status, columns=["party_id", "year", "status"]).to_csv(
        folder / "party_status.csv", index=False
    )
    pd.DataFrame(covariates, columns=["country", "year", "polyarchy"]).to_csv(
        folder / "covariates.csv", index=False
    )
    return folder


def _study(folder: Path, body: str = TABLES, head: str = HEAD) -> Path:
    path = folder / "study.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def _error(capsys: pytest.CaptureFixture[str], study: Path, words: list[str]) -> str:
    """``check`` exits 2 with one message holding ``words`` and a fix line."""
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 2, text
    err = text.split("error: ", 1)[-1]
    for word in words:
        assert word in err, (word, err)
    assert "fix:" in err, err
    return err


def _not_ready(capsys: pytest.CaptureFixture[str], study: Path, words: list[str]) -> str:
    """``check`` exits 1, says NOT READY (never OK) and names the case."""
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 1, text
    assert "OK: every input row" not in text
    problems = text.split("NOT READY:", 1)[1]
    for word in words:
        assert word in problems, (word, problems)
    return problems


def _balanced(accounts: list[StageAccount] | tuple[StageAccount, ...]) -> None:
    for account in accounts:
        assert account.rows_in == account.rows_out + sum(account.dropped.values()), account


def _stage(accounts: list[StageAccount] | tuple[StageAccount, ...], name: str) -> StageAccount:
    (account,) = [a for a in accounts if a.stage == name]
    return account


# --------------------------------------------------------------------------- rows that vanish
def test_the_clean_folder_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The baseline of every case below: the same files without the fault pass check."""
    code, text = _run(capsys, "check", "--study", str(_study(_folder(tmp_path))))
    assert code == 0, text
    assert "OK: every input row is used or dropped with a stated reason." in text


def test_unmatched_country_in_own_covariate_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the 'Atlantis' rows were dropped by harmonisation but check said OK."""
    rows = [*COVARIATES, ("Atlantis", 2005, 0.3), ("Atlantis", 2006, 0.3)]
    study = _study(_folder(tmp_path, covariates=rows))
    problems = _not_ready(capsys, study, ["covariates", "'Atlantis' (2 rows)", "overrides"])
    assert "dropped without a stated reason" in problems
    st = load_study(study)
    account = _stage(st.ledger.stages, "covariates: country harmonisation")
    assert (account.rows_in, account.rows_out) == (5, 3)
    assert account.dropped["unmatched country name"] == 2
    _balanced(st.ledger.stages)
    _balanced(country_year(st).accounts)


def test_unmatched_rows_fail_check_even_without_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net: a stage that drops unmatched rows fails check even when its
    harmonisation report was never registered (how the covariate rows slipped through)."""
    import cpcstats.check as check

    rows = [*COVARIATES, ("Atlantis", 2005, 0.3)]
    study = _study(_folder(tmp_path, covariates=rows))

    def without_reports(path: str | Path) -> Study:
        st = load_study(path)
        st.harmonisation.clear()
        return st

    monkeypatch.setattr(check, "load_study", without_reports)
    result = check.check_study(study)
    assert not result.ok
    assert result.problems == [
        "covariates: country harmonisation: 1 row(s) dropped without a stated reason "
        "(unmatched country name); add the spellings to [countries.overrides] or "
        "[countries.exclude] (with a reason)"
    ]


def test_status_rows_of_parties_missing_from_the_parties_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: status rows of 'SWE-7' (a typo or a missing party) vanished in the merge."""
    rows = [*STATUS, ("SWE-7", 2005, "senior"), ("SWE-7", 2006, "senior")]
    study = _study(_folder(tmp_path, status=rows))
    _not_ready(capsys, study, ["party id not in the parties table", "2 row(s)", "'SWE-7'"])
    st = load_study(study)
    account = _stage(st.ledger.stages, "party status: parties in the parties table")
    assert (account.rows_in, account.rows_out) == (6, 4)
    assert account.unstated_drops() == {"party id not in the parties table": 2}
    assert set(st.party_status["party_id"]) == {"NOR-1", "MLI-1"}
    panel = party_year(st)
    used = _stage(panel.accounts, "party-year: status rows used")
    assert (used.rows_in, used.rows_out) == (4, 3)
    assert used.dropped["year outside the study window 2004-2008"] == 1  # MLI-1 in 1990
    _balanced(st.ledger.stages)
    _balanced(panel.accounts)


def test_vparty_status_of_parties_outside_the_own_table_is_a_stated_drop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """V-Party covers every party; the study's own parties table is the stated rule."""
    vp = pd.DataFrame(
        [(11, "NOR", "Norway", 2004, 0, 1.0), (12, "NOR", "Norway", 2004, 3, -1.0)],
        columns=["v2paid", "country_text_id", "country_name", "year", "v2pagovsup", "v2pariglef"],
    )
    vp["v2paenname"] = ["Right", "Left"]
    vp["pf_party_id"] = vp["v2paid"] + 1000
    vp.to_csv(tmp_path / "vparty.csv", index=False)
    contacts = [("2005-03-01", "NOR", "party", "vparty-11", "inbound")]
    _folder(tmp_path, contacts=contacts)
    pd.DataFrame(
        [("vparty-11", "NOR", "Right")], columns=["party_id", "country", "party_name"]
    ).to_csv(tmp_path / "parties.csv", index=False)
    body = '[contacts]\npath = "contacts.csv"\n[parties]\npath = "parties.csv"\n'
    body += '[party_status]\nsource = "vparty"\n[covariates]\nvparty = "vparty.csv"\n'
    study = _study(tmp_path, body)
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 0, text
    st = load_study(study)
    account = _stage(st.ledger.stages, "party status: parties in the parties table")
    assert account.dropped == {"V-Party party not in the study's parties table": 5}
    assert account.unstated_drops() == {}
    assert set(st.party_status["party_id"]) == {"vparty-11"}


def test_status_rows_outside_the_window_are_a_stated_drop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows outside the window are counted but are not a problem: the window is a rule."""
    study = _study(_folder(tmp_path))
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 0, text
    assert "party-year: status rows used: 4 in, 3 out (1 year outside the study window" in text


def test_contact_country_differs_from_its_party_country(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the contact counted in CHL in the country-year panel and under NOR-1 (NOR)
    in the party-year panel; now it is an error unless the study states which wins."""
    rows = [*CONTACTS, ("2008-01-04", "Chile", "party", "NOR-1", "inbound")]
    folder = _folder(tmp_path, contacts=rows)
    err = _error(capsys, _study(folder), ["contacts.csv", "row 5", "NOR-1", "CHL", "party_country"])
    assert "1 party contact(s)" in err

    # a stated rule: the party's country wins, and both panels agree on it
    rule = TABLES.replace('"contacts.csv"', '"contacts.csv"\nparty_country = "party"')
    st = load_study(_study(folder, rule))
    cy = country_year(st).data
    counts = cy.set_index(["iso3", "year"])["contacts"]
    assert counts[("NOR", 2008)] == 1 and counts[("CHL", 2008)] == 0
    per_party = party_year(st).data.groupby("iso3")["contacts"].sum()
    per_country = cy.groupby("iso3")["contacts_party"].sum()
    assert per_party.sum() == per_country.sum() == 3
    assert (per_country[per_party.index] == per_party).all()
    _balanced(st.ledger.stages)
    _balanced(country_year(st).accounts)
    _balanced(party_year(st).accounts)
    account = _stage(st.ledger.stages, "contacts: party's country")
    assert account.notes["recoded"] == 1 and account.notes["rows"] == [5]
    assert any('party_country = "party"' in n for n in st.notes)

    # the other stated rule keeps the contact's own country, and says so
    keep = _study(
        folder, TABLES.replace('"contacts.csv"', '"contacts.csv"\nparty_country = "contact"')
    )
    code, text = _run(capsys, "check", "--study", str(keep))
    assert code == 0, text
    assert 'party_country = "contact": 1 party contact(s) keep their own country' in text
    kept = country_year(load_study(keep)).data.set_index(["iso3", "year"])
    assert kept.loc[("CHL", 2008), "contacts"] == 1


def test_date_whose_year_contradicts_the_year_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the date silently won and the contact moved from 2007 to 2005."""
    folder = _folder(tmp_path, year_column=[2005, 2006, 2005])
    err = _error(capsys, _study(folder), ["contacts.csv", "row 4", "contradicts", "'2007-07-03'"])
    assert "1 contact(s)" in err
    agree = _folder(tmp_path, year_column=[2005, 2006, 2007])
    code, text = _run(capsys, "check", "--study", str(_study(agree)))
    assert code == 0, text


def test_two_file_columns_mapped_to_one_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: two `date` columns after the mapping crashed as an internal error."""
    _folder(tmp_path)
    frame = pd.read_csv(tmp_path / "contacts.csv")
    frame["When"] = frame["date"]
    frame.to_csv(tmp_path / "contacts.csv", index=False)
    body = TABLES + "[contacts.columns]\nWhen = 'date'\n"
    _error(capsys, _study(tmp_path, body), ["study.toml", "'date'", "'When'"])


def test_timestamps_with_mixed_time_zones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: an internal error ("Mixed timezones detected"), and a plain date after a
    zoned one was "cannot be read".  The day as written counts (23:30 at -05:00 on
    31 December stays in 2008, not 2009 as in UTC)."""
    rows = [
        ("2005-03-01T10:00:00+02:00", "NOR", "party", "NOR-1", "inbound"),
        ("2006-05-02", "MLI", "party", "MLI-1", "outbound"),
        ("2008-12-31T23:30:00-05:00", "CHL", "state", "", "inbound"),
        ("2007-07-03 09:15Z", "CHL", "state", "", "inbound"),
    ]
    study = _study(_folder(tmp_path, contacts=rows))
    code, text = _run(capsys, "check", "--study", str(study))
    assert code == 0, text
    assert load_study(study).contacts["year"].tolist() == [2005, 2006, 2008, 2007]


def test_party_that_ends_before_it_begins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the party silently had no party-years and its contacts were dropped."""
    _folder(tmp_path)
    parties = pd.DataFrame(PARTIES, columns=["party_id", "country", "party_name"])
    parties["active_from"] = [2004, 2009]
    parties["active_to"] = [2008, 2005]
    parties.to_csv(tmp_path / "parties.csv", index=False)
    _error(capsys, _study(tmp_path), ["parties.csv", "row 3", "'MLI-1'", "end before"])


def test_party_year_panel_without_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: an internal error (``int(NaN)``) when no party is active in the window."""
    _folder(tmp_path)
    parties = pd.DataFrame(PARTIES, columns=["party_id", "country", "party_name"])
    parties["active_from"] = 2010
    parties.to_csv(tmp_path / "parties.csv", index=False)
    problems = _not_ready(capsys, _study(tmp_path), ["party-year panel has no rows"])
    assert "internal error" not in problems


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_infinite_covariate(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    """Before: ``inf`` passed into the panel as a number (and into every fit as NaN)."""
    rows = [*COVARIATES[:2], ("CHL", 2007, value)]
    study = _study(_folder(tmp_path, covariates=rows))
    _error(capsys, study, ["covariates.csv", "row 4", "polyarchy", "infinite"])


def test_infinite_value_in_a_source_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the V-Dem adapter read ``inf`` as a number (no bounds on the indices)."""
    _folder(tmp_path)
    rows = [
        (iso, year, "inf" if (iso, year) == ("MLI", 2006) else "0.5", "0.4")
        for iso in ("NOR", "MLI", "CHL")
        for year in range(2004, 2009)
    ]
    frame = pd.DataFrame(rows, columns=["country_text_id", "year", "v2x_polyarchy", "v2x_libdem"])
    frame.insert(1, "country_name", frame["country_text_id"])
    frame.to_csv(tmp_path / "vdem.csv", index=False)
    body = '[contacts]\npath = "contacts.csv"\n[covariates]\nvdem = "vdem.csv"\n'
    _error(capsys, _study(tmp_path, body), ["vdem.csv", "row 9", "v2x_polyarchy", "infinite"])


# --------------------------------------------------------------------------- keys and types
WRONG_TYPES = [
    ("study = 'x'\n" + TABLES, "", "study"),
    ("", HEAD.replace("first_year = 2004", "first_year = 'abc'"), "first_year"),
    ("", HEAD.replace("last_year = 2008", "last_year = [2008]"), "last_year"),
    ("", HEAD + "break_year = 2013.5\n", "break_year"),
    ("", HEAD + "simulated = 'yes'\n", "simulated"),
    ("", HEAD.replace("last_year = 2008", "last_year = 2003"), "last_year"),
    ("", HEAD.replace("last_year = 2008", "last_year = 20080"), "last_year"),
    ("contacts = 5\n" + HEAD, "", "contacts"),
    ("[[contacts]]\npath = 'contacts.csv'\n", HEAD, "contacts"),
    ("[contacts]\npath = 5\n", HEAD, "path"),
    ("[contacts]\npath = 'contacts.csv'\ncolumns = ['date']\n", HEAD, "columns"),
    ("[contacts]\npath = 'contacts.csv'\ndedupe = 3\n", HEAD, "dedupe"),
    ("[contacts]\npath = 'contacts.csv'\n[contacts.columns]\ndate = 1\n", HEAD, "date"),
    ("[contacts]\npath = 'contacts.csv'\n[contacts.values]\ndirection = 'in'\n", HEAD, "direction"),
    ("[contacts]\npath = 'contacts.csv'\n[contacts.defaults]\ndirection = []\n", HEAD, "direction"),
    ("[contacts]\npath = 'contacts.csv'\n[contacts.derive.direction]\nfrom = 1\n", HEAD, "from"),
    ("[contacts]\npath = 'contacts.csv'\n[contacts.derive]\ndirection = 'x'\n", HEAD, "direction"),
    ("[contacts]\npath = 'contacts.csv'\n[countries]\noverrides = ['Wales']\n", HEAD, "overrides"),
    ("[contacts]\npath = 'contacts.csv'\n[countries.overrides]\nWales = 1\n", HEAD, "Wales"),
    ("[contacts]\npath = 'contacts.csv'\n[countries]\nexclude = 'Taiwan'\n", HEAD, "exclude"),
    ("[contacts]\npath = 'contacts.csv'\n[countries.overrides]\nWales = 'WLS'\n", HEAD, "WLS"),
    ("[contacts]\npath = 'contacts.csv'\n[countries.exclude]\nTaiwan = ' '\n", HEAD, "reason"),
    ("[contacts]\npath = 'contacts.csv'\n[covariates]\nvdem = 5\n", HEAD, "vdem"),
    (
        "[contacts]\npath = 'contacts.csv'\n[covariates.vdem]\npath = 'v.csv'\nindices = 1\n",
        HEAD,
        "indices",
    ),
    ("[contacts]\npath = 'contacts.csv'\n[published]\nenabled = 'yes'\n", HEAD, "enabled"),
    ("published = true\n" + HEAD + "[contacts]\npath = 'contacts.csv'\n", "", "published"),
    ("[contacts]\npath = 'contacts.csv'\n[party_status]\nsource = 'vdem'\n", HEAD, "source"),
    ("[contacts]\npath = 'contacts.csv'\n[truth]\npath = 2\n", HEAD, "path"),
    ("[contacts]\npath = 'contacts.csv'\n[reference]\nstates = true\n", HEAD, "states"),
    ("[contacts]\npath = 'contacts.csv'\n[topics]\nunit = 'items'\n", HEAD, "unit"),
]


@pytest.mark.parametrize(("body", "head", "key"), WRONG_TYPES)
def test_wrong_toml_type_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, head: str, key: str
) -> None:
    """Before: most of these crashed as internal errors (exit 3) or were silently used."""
    _folder(tmp_path)
    err = _error(capsys, _study(tmp_path, body, head), ["study.toml", key])
    assert "unknown key" not in err


UNKNOWN_KEYS = [
    (HEAD + "brek_year = 2006\n" + TABLES, "brek_year", "break_year"),
    (HEAD + TABLES + "[contact]\npath = 'x.csv'\n", "contact", "contacts"),
    (
        HEAD + TABLES.replace('path = "contacts.csv"', 'path = "contacts.csv"\noutside_windw = 1'),
        "outside_windw",
        "outside_window",
    ),
    (
        HEAD + TABLES + "[contacts.derive.direction]\nfrom = 'text'\npattern = {}\n",
        "pattern",
        "patterns",
    ),
    (HEAD + TABLES.replace('path = "parties.csv"', 'pth = "parties.csv"'), "pth", "path"),
    (
        HEAD + TABLES.replace('path = "party_status.csv"', 'path = "party_status.csv"\nsorce = 1'),
        "sorce",
        "source",
    ),
    (
        HEAD + TABLES.replace('path = "covariates.csv"', 'freedomhouse = "fh.csv"'),
        "freedomhouse",
        "freedom_house",
    ),
    (
        HEAD + TABLES + "[covariates.vdem]\npath = 'v.csv'\nindice = ['polyarchy']\n",
        "indice",
        "indices",
    ),
    (HEAD + TABLES + "[countries]\noverride = { Wales = 'GBR' }\n", "override", "overrides"),
    (HEAD + TABLES + "[reference]\nstate = 'states.csv'\n", "state", "states"),
    (HEAD + TABLES + "[truth]\npth = 'truth.json'\n", "pth", "path"),
    (HEAD + TABLES + "[published]\nenable = true\n", "enable", "enabled"),
    (HEAD + TABLES + "[topics]\ndictonary = 'x.toml'\n", "dictonary", "dictionary"),
]


@pytest.mark.parametrize(("text", "key", "closest"), UNKNOWN_KEYS)
def test_unknown_key_names_the_closest_valid_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str, closest: str
) -> None:
    """Before: every one of these keys was ignored and the study ran with the default."""
    _folder(tmp_path)
    err = _error(capsys, _study(tmp_path, text, ""), ["study.toml", f"unknown key `{key}`"])
    assert f"did you mean `{closest}`?" in err


def _returns_quickly(argv: list[str], seconds: float = 20.0) -> int:
    """Run the CLI in a thread; a hang (reading a FIFO) fails the test instead of the suite."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"cpcstats {' '.join(argv)} hangs"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_as_study_file_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: ``read_text`` on the FIFO blocked forever."""
    fifo = tmp_path / "study.toml"
    os.mkfifo(fifo)
    assert _returns_quickly(["check", "--study", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and "fix:" in err and "Traceback" not in err


def test_folder_and_link_loop_as_study_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _returns_quickly(["check", "--study", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "fix:" in err and "Traceback" not in err
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    assert _returns_quickly(["check", "--study", str(loop)]) == 2
    err = capsys.readouterr().err
    assert "loop.toml" in err and "fix:" in err and "internal error" not in err


@pytest.mark.parametrize("source", ["dpi", "partyfacts", "leaders_global"])
def test_party_sources_with_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    """dpi, partyfacts and leaders_global are study sources now; a missing file is an
    input error naming it (before they became sources, they would have reached the 1:1
    country-year merge)."""
    _folder(tmp_path)
    study = _study(tmp_path, TABLES + f"[covariates.{source}]\npath = 'x.csv'\n")
    _error(capsys, study, ["x.csv", source, "does not exist"])


def test_published_path_that_is_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: check said OK and the folder reached the published-figure comparison."""
    _folder(tmp_path)
    study = _study(tmp_path, TABLES + "[published]\npath = '.'\n")
    _error(capsys, study, ["[published]", "not a file"])


def test_shipped_study_files_pass_the_strict_checks() -> None:
    """The demo and the real study file (no data needed to check their keys) stay valid."""
    from cpcstats.study import _read_config, demo_config_path

    for path in (demo_config_path(), REPO / "replication" / "studies" / "elite_engagements.toml"):
        assert "study" in _read_config(path)


def test_unstated_reason_must_be_a_drop_reason() -> None:
    account = StageAccount("s", 3, 1, {"typo": 2}, unstated=("typo",))
    assert account.unstated_drops() == {"typo": 2}
    assert account.to_dict()["dropped_without_a_stated_rule"] == {"typo": 2}
    assert StageAccount("s", 3, 3, {"typo": 0}, unstated=("typo",)).unstated_drops() == {}
    with pytest.raises(AssertionError, match="not drop reasons"):
        StageAccount("s", 3, 1, {"typo": 2}, unstated=("other",))
