"""The demo's real party universe (cpcstats/demo/universe.py): real parties, real status.

The shipped tables are checked against facts a reader can verify (who governed Japan,
Cambodia and Vietnam), against their own stated rules, and -- when the distributors'
files are beside the repository -- against a rebuild from them, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cpcstats.demo import universe

DATA = universe.HERE / "data"
RULES = {"dpi", "dpi-carried", "vparty", "vparty-junior", "dpi-government", "neither"}


@pytest.fixture(scope="module")
def shipped() -> universe.Universe:
    return universe.load()


@pytest.fixture(scope="module")
def by_name(shipped: universe.Universe) -> pd.DataFrame:
    """Status rows with each party's country and short name."""
    names = shipped.parties[["party_id", "country", "party_name", "name_short"]]
    return shipped.party_status.merge(names, on="party_id", validate="m:1")


def _status(by_name: pd.DataFrame, iso3: str, year: int) -> dict[str, str]:
    rows = by_name[(by_name["country"] == iso3) & (by_name["year"] == year)]
    return dict(zip(rows["name_short"], rows["status"], strict=True))


def test_governments_a_reader_can_check(by_name: pd.DataFrame) -> None:
    """Japan 2010 (DPI, 1 January: the DPJ won in August 2009) and 2015, Cambodia 2015."""
    japan_2010 = _status(by_name, "JPN", 2010)
    assert japan_2010["DPJ"] == "senior"
    assert japan_2010["LDP"] == "opposition" and japan_2010["K"] == "opposition"
    japan_2015 = _status(by_name, "JPN", 2015)
    assert (japan_2015["LDP"], japan_2015["K"], japan_2015["DPJ"]) == (
        "senior",
        "junior",
        "opposition",
    )
    cambodia = _status(by_name, "KHM", 2015)
    assert cambodia["KPK"] == "senior" and cambodia["CNRP"] == "opposition"  # KPK = the CPP


def test_one_party_states_are_ruled_by_their_party_every_year(by_name: pd.DataFrame) -> None:
    """The Communist Party of Vietnam (only the DPI names it; V-Party records the Fatherland
    Front) is senior in every year of the window, as are Cuba's and Laos's parties."""
    for iso3, name in (("VNM", "Communist Party of Vietnam"), ("CUB", None), ("LAO", None)):
        rows = by_name[(by_name["country"] == iso3) & (by_name["status"] == "senior")]
        if name is not None:
            rows = rows[rows["party_name"].str.startswith(name)]
        assert sorted(rows["year"]) == list(range(2002, 2024)), iso3
        assert rows["party_id"].nunique() == 1, iso3


def test_at_most_one_senior_party_per_country_year(by_name: pd.DataFrame) -> None:
    seniors = by_name[by_name["status"] == "senior"].groupby(["country", "year"]).size()
    assert seniors.max() == 1


def test_status_rows_follow_the_stated_rules(shipped: universe.Universe) -> None:
    status, parties = shipped.party_status, shipped.parties
    assert set(status["source"]) == RULES
    assert set(status["status"]) <= {"senior", "junior", "support", "opposition"}
    assert not status.duplicated(["party_id", "year"]).any()
    # the gap rules only ever give opposition; the DPI dominates where it speaks
    derived = status["source"].isin(["dpi-government", "neither"])
    assert (status.loc[derived, "status"] == "opposition").all()
    assert (status.loc[status["source"] == "vparty-junior", "status"] == "junior").all()
    assert (status.loc[status["source"] == "dpi-carried", "year"] > 2015).all()
    # every party's span is exactly its status years, without holes
    span = status.groupby("party_id")["year"].agg(["min", "max", "size"])
    table = parties.set_index("party_id")
    assert (span["min"] == table.loc[span.index, "active_from"]).all()
    assert (span["max"] == table.loc[span.index, "active_to"]).all()
    assert (span["size"] == span["max"] - span["min"] + 1).all()


def test_parties_and_covariates_are_consistent(shipped: universe.Universe) -> None:
    parties, cov = shipped.parties, shipped.country_covariates
    assert parties["party_id"].is_unique
    assert parties["party_id"].str.match(r"^(pf|vparty)-\d+$").all()
    assert set(parties["country"]) <= set(cov["country"])
    assert "CHN" not in set(parties["country"])  # the CPC does not meet itself
    assert set(cov["fh_status"]) == {"F", "PF", "NF"}
    assert cov["fh_total"].between(2, 14).all()  # democracyData's PR + CL
    assert not cov.duplicated(["country", "year"]).any()
    assert parties["left_roots"].isin([0, 1]).all()
    flagged = parties[parties["left_roots"] == 1]
    assert (flagged["left_roots_rule"] != "").all()
    assert "Communist Party of Vietnam (DCVN)" in set(flagged["party_name"])
    assert "African National Congress" in " ".join(flagged["party_name"])
    # no Party Facts placeholder ("independent") is a party one could meet
    assert not parties["party_name"].str.fullmatch("(?i)independents?").any()
    assert set(parties["lr_source"]) <= {"vparty", "country mean", "0"}


def test_accounts_add_up(shipped: universe.Universe) -> None:
    accounts = shipped.accounts
    counts = accounts["counts"]
    assert counts["parties"] == len(shipped.parties)
    assert counts["party_years"] == len(shipped.party_status)
    assert sum(counts["status_source"].values()) == len(shipped.party_status)
    status = accounts["status"]
    dropped = status["dropped_status_missing"] + status["dropped_country_not_a_state_that_year"]
    assert status["party_years_in_spans"] == len(shipped.party_status) + dropped
    cy = accounts["country_years"]
    assert cy["state_years"] - cy["dropped_no_freedom_house_rating"] == len(
        shipped.country_covariates
    )


def test_licences_are_named_beside_the_data() -> None:
    text = (universe.HERE / "README.md").read_text(encoding="utf-8")
    for name in ("V-Party", "V-Dem", "Database of Political Institutions", "Party Facts"):
        assert name in text
    assert "CC BY-SA 4.0" in text and "MIT" in text


def test_shipped_universe_is_what_the_builder_writes(shared_data: Path, tmp_path: Path) -> None:
    """Rebuilt from the distributors' files, the three tables and the accounts are the
    shipped bytes (skips when ../shared/data is absent)."""
    written = universe.write(universe.build_universe(shared_data), tmp_path)
    assert len(written) == 4
    for path in written:
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name
    accounts = json.loads((tmp_path / "universe_accounts.json").read_text())
    assert accounts["window"] == [2002, 2023]


def test_liberation_movements_carry_a_source_per_row(shipped: universe.Universe) -> None:
    movements = pd.read_csv(universe.LIBERATION_MOVEMENTS)
    assert movements["party_id"].is_unique
    assert movements["source"].str.startswith("https://en.wikipedia.org/wiki/").all()
    assert set(movements["party_id"]) <= set(shipped.parties["party_id"])
    flagged = shipped.parties.set_index("party_id").loc[movements["party_id"]]
    assert (flagged["left_roots"] == 1).all()
    assert flagged["left_roots_rule"].str.startswith("liberation movement: ").all()
