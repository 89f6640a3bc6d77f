"""Panel builders: zero-filling, conservation of counts, covariate timing, lags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpcstats.panels import (
    add_lags,
    country_facts,
    country_year,
    create_country_years,
    party_year,
    yearly_totals,
)
from cpcstats.reference import load_reference, state_years
from tests.helpers import make_contacts, make_study

# states, a state that only exists from 2011, a territory that is not a state, and Taiwan
ISO3 = ["VNM", "DEU", "ZAF", "PAN", "SSD", "MNE", "COK", "TWN"]


def test_country_year_is_zero_filled_over_existing_states() -> None:
    study = make_study(make_contacts([{"iso3": "VNM", "year": 2005}]))
    panel = country_year(study).data
    states = load_reference("states")
    expected = state_years(states, 2002, 2017)
    assert len(panel) == len(expected)
    assert panel.duplicated(["iso3", "year"]).sum() == 0
    # South Sudan from 2011, Montenegro from 2006, no China
    assert panel.loc[panel["iso3"] == "SSD", "year"].min() == 2011
    assert panel.loc[panel["iso3"] == "MNE", "year"].min() == 2006
    assert "CHN" not in set(panel["iso3"])
    assert panel["contacts"].sum() == 1
    assert panel.loc[(panel.iso3 == "VNM") & (panel.year == 2005), "contacts"].item() == 1
    assert (panel.loc[panel.iso3 == "DEU", "contacts"] == 0).all()


def test_counts_split_by_type_and_direction() -> None:
    rows = [
        {"iso3": "VNM", "year": 2010, "counterpart_type": "party", "party_id": "p1"},
        {"iso3": "VNM", "year": 2010, "counterpart_type": "state", "direction": "outbound"},
        {"iso3": "VNM", "year": 2010, "counterpart_type": "other", "direction": "outbound"},
    ]
    panel = country_year(make_study(make_contacts(rows))).data
    row = panel[(panel.iso3 == "VNM") & (panel.year == 2010)].iloc[0]
    assert (row.contacts, row.contacts_party, row.contacts_nonparty) == (3, 1, 2)
    assert (row.contacts_inbound, row.contacts_outbound) == (1, 2)


events_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "iso3": st.sampled_from(ISO3),
            "year": st.integers(2002, 2017),
            "counterpart_type": st.sampled_from(["party", "state", "other"]),
            "direction": st.sampled_from(["inbound", "outbound"]),
        }
    ),
    min_size=0,
    max_size=300,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events_strategy)
def test_country_year_conserves_every_event(rows: list[dict]) -> None:
    contacts = make_contacts(rows) if rows else make_contacts([{"iso3": "VNM", "year": 2002}])[:0]
    panel = country_year(make_study(contacts))
    account = next(a for a in panel.accounts if a.stage.endswith("contact counts"))
    assert account.rows_in == len(contacts)
    assert panel.data["contacts"].sum() == account.rows_out
    assert account.rows_out + sum(account.dropped.values()) == len(contacts)
    # an independent count: events whose (iso3, year) is a state-year
    states = state_years(load_reference("states"), 2002, 2017)
    key = set(zip(states.iso3, states.year, strict=True))
    inside = sum((r["iso3"], r["year"]) in key for r in rows)
    assert panel.data["contacts"].sum() == inside
    assert (
        panel.data["contacts_party"] + panel.data["contacts_nonparty"] == panel.data["contacts"]
    ).all()
    assert (
        panel.data["contacts_inbound"] + panel.data["contacts_outbound"] == panel.data["contacts"]
    ).all()
    dropped = account.notes["unmatched_countries"]
    assert set(dropped) <= {"COK", "TWN", "SSD", "MNE"}


def _party_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    parties = pd.DataFrame(
        {
            "party_id": ["A", "B", "C"],
            "iso3": ["VNM", "DEU", "SSD"],
            "party_name": ["a", "b", "c"],
            "left_roots": pd.array([1, 0, 0], dtype="Int64"),
            "active_from": pd.array([2002, 2005, 2002], dtype="Int64"),
            "active_to": pd.array([2017, 2010, 2017], dtype="Int64"),
        }
    )
    status = pd.DataFrame(
        {
            "party_id": ["A"] * 16 + ["B"] * 6,
            "year": list(range(2002, 2018)) + list(range(2005, 2011)),
            "status": ["senior"] * 16 + ["opposition", "junior"] * 3,
        }
    )
    return parties, status


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(2002, 2017)), max_size=200))
def test_party_year_conserves_party_events(pairs: list[tuple[str, int]]) -> None:
    parties, status = _party_tables()
    iso = dict(zip(parties.party_id, parties.iso3, strict=True))
    rows = [
        {"iso3": iso[p], "year": y, "counterpart_type": "party", "party_id": p} for p, y in pairs
    ]
    contacts = make_contacts(rows) if rows else make_contacts([{"iso3": "VNM", "year": 2002}])[:0]
    panel = party_year(make_study(contacts, parties=parties, party_status=status))
    account = next(a for a in panel.accounts if a.stage.endswith("party contact counts"))
    active = {("A", y) for y in range(2002, 2018)} | {("B", y) for y in range(2005, 2011)}
    active |= {("C", y) for y in range(2011, 2018)}  # South Sudan exists from 2011
    expected = sum((p, y) in active for p, y in pairs)
    assert panel.data["contacts"].sum() == expected == account.rows_out
    assert account.rows_in == len(pairs)
    assert account.rows_out + sum(account.dropped.values()) == len(pairs)


def test_party_year_rows_status_and_attributes() -> None:
    parties, status = _party_tables()
    contacts = make_contacts(
        [{"iso3": "VNM", "year": 2003, "counterpart_type": "party", "party_id": "A"}]
    )
    data = party_year(make_study(contacts, parties=parties, party_status=status)).data
    assert len(data) == 16 + 6 + 7
    b = data[data.party_id == "B"].set_index("year")
    assert list(b.index) == list(range(2005, 2011))
    assert b.loc[2005, "ruling"] == 0 and b.loc[2006, "ruling"] == 1
    c = data[data.party_id == "C"]
    assert c["ruling"].isna().all()  # no status rows: kept, marked missing (not guessed)
    assert data.loc[(data.party_id == "A") & (data.year == 2003), "contacts"].item() == 1
    assert data.loc[data.party_id == "A", "left_roots"].eq(1).all()


def _fact(facts: pd.DataFrame, iso3: str, year: int, column: str) -> object:
    return facts.loc[(facts.iso3 == iso3) & (facts.year == year), column].item()


@pytest.mark.parametrize(
    ("iso3", "switch_year"),
    [("PAN", 2017), ("SEN", 2005), ("CRI", 2007), ("MWI", 2008), ("TCD", 2006)],
)
def test_taiwan_switch_timing(iso3: str, switch_year: int) -> None:
    facts = country_facts(make_study(make_contacts([{"iso3": "VNM", "year": 2005}])))
    assert _fact(facts, iso3, switch_year - 1, "recognizes_prc") == 0
    assert _fact(facts, iso3, switch_year, "recognizes_prc") == 1
    assert _fact(facts, iso3, switch_year, "taiwan_event_time") == 0
    assert _fact(facts, iso3, switch_year - 2, "taiwan_event_time") == -2


def test_taiwan_switch_away_and_contested() -> None:
    facts = country_facts(make_study(make_contacts([{"iso3": "VNM", "year": 2005}])))
    # Kiribati recognised Taipei from November 2003; St Lucia from 2007
    assert _fact(facts, "KIR", 2002, "recognizes_prc") == 1
    assert _fact(facts, "KIR", 2004, "recognizes_prc") == 0
    assert _fact(facts, "KIR", 2010, "switched_to_roc") == 1
    assert _fact(facts, "LCA", 2008, "recognizes_prc") == 0
    # Vanuatu's brief 2004 switch was reversed within the year: Beijing at year end
    assert _fact(facts, "VUT", 2004, "recognizes_prc") == 1
    # Paraguay never recognised Beijing
    assert _fact(facts, "PRY", 2010, "recognizes_prc") == 0
    assert pd.isna(_fact(facts, "PRY", 2010, "taiwan_event_time"))


def test_bri_timing_and_exit() -> None:
    facts = country_facts(
        make_study(make_contacts([{"iso3": "VNM", "year": 2005}]), last_year=2024)
    )
    bri = load_reference("bri").set_index("iso3")
    year = int(bri.loc["HUN", "signing_year"])
    assert _fact(facts, "HUN", year - 1, "bri_member") == 0
    assert _fact(facts, "HUN", year, "bri_member") == 1
    assert _fact(facts, "HUN", year, "bri_years_since") == 0
    assert _fact(facts, "ITA", 2019, "bri_member") == 1
    assert _fact(facts, "ITA", 2023, "bri_member") == 0  # left in December 2023
    assert _fact(facts, "USA", 2020, "bri_member") == 0
    assert pd.isna(_fact(facts, "USA", 2020, "bri_years_since"))


def test_xi_era_break_year_is_configurable() -> None:
    study = make_study(make_contacts([{"iso3": "VNM", "year": 2005}]))
    study.break_year = 2010
    facts = country_facts(study)
    assert _fact(facts, "VNM", 2009, "xi_era") == 0
    assert _fact(facts, "VNM", 2010, "xi_era") == 1


def test_lags_follow_the_unit_and_leave_gaps_missing() -> None:
    rows = [{"iso3": "VNM", "year": y} for y in (2004, 2004, 2005)]
    panel = create_country_years(make_study(make_contacts(rows)))
    from cpcstats.panels import add_contact_counts

    panel = add_contact_counts(panel, make_study(make_contacts(rows)))
    lagged = add_lags(panel, ["contacts"], (1, 2)).data.set_index(["iso3", "year"])
    assert lagged.loc[("VNM", 2005), "contacts_lag1"] == 2
    assert lagged.loc[("VNM", 2006), "contacts_lag2"] == 2
    assert lagged.loc[("VNM", 2006), "contacts_lag1"] == 1
    assert pd.isna(lagged.loc[("VNM", 2002), "contacts_lag1"])
    assert lagged.loc[("SSD", 2012), "contacts_lag1"] == 0
    assert pd.isna(lagged.loc[("SSD", 2011), "contacts_lag1"])  # did not exist in 2010


def test_yearly_totals_match_events() -> None:
    parties, status = _party_tables()
    rows = [
        {"iso3": "VNM", "year": 2003, "counterpart_type": "party", "party_id": "A"},
        {"iso3": "DEU", "year": 2005, "counterpart_type": "party", "party_id": "B"},
        {"iso3": "DEU", "year": 2005, "counterpart_type": "state"},
    ]
    study = make_study(make_contacts(rows), parties=parties, party_status=status)
    yearly = yearly_totals(study).set_index("year")
    assert yearly["total"].sum() == 3
    assert yearly.loc[2005, "opposition"] == 1 and yearly.loc[2003, "ruling"] == 1
    assert yearly.loc[2005, "non_party"] == 1
    assert np.array_equal(yearly.index, np.arange(2002, 2018))
