"""The paper's Table 1 (top partners 2002-2017) against the partners computed from a study.

The fixture in ``tests/fixtures/table1`` is built so that its party contacts in
2002-2017 reproduce Table 1 exactly, with extra 2018 events and non-party rows
that the comparison must ignore.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from cpcstats.contract import normalise_contacts, normalise_parties
from cpcstats.descriptives import (
    compare_top_partners,
    load_published_partners,
    published_period,
    top_partners,
)
from cpcstats.errors import SpecError
from cpcstats.replicate.published_figures import load_published

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "replication" / "published.toml"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "table1"

#: Table 1 of /work/shared/STUDY.md: (rank, party, contacts)
TABLE1 = [
    (1, "Communist Party of Vietnam", 121),
    (2, "Lao People's Revolutionary Party", 97),
    (3, "Cambodian People's Party", 53),
    (4, "Workers' Party of Korea", 51),
    (4, "Liberal Democratic Party", 51),
    (6, "Communist Party of Cuba", 47),
    (7, "National Congress Party", 41),
    (7, "Social Democratic Party of Germany", 41),
    (9, "United Russia", 34),
    (10, "African National Congress", 32),
    (11, "Komeito", 31),
    (11, "Ethiopian People's Revolutionary Democratic Front", 31),
    (13, "FUNCINPEC", 29),
    (14, "Chama Cha Mapinduzi", 27),
    (14, "ZANU-PF", 27),
    (16, "SWAPO", 26),
    (17, "Communist Party of the Russian Federation", 25),
    (18, "Democratic Party of Japan", 23),
    (18, "Australian Labor Party", 23),
    (20, "South African Communist Party", 22),
]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_table1", FIXTURE / "make_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixture's contacts and parties, through the data contract as a study loads them."""
    raw_contacts = pd.read_csv(FIXTURE / "contacts.csv", dtype=str, keep_default_na=False)
    raw_parties = pd.read_csv(FIXTURE / "parties.csv", dtype=str, keep_default_na=False)
    contacts, _, _ = normalise_contacts(raw_contacts, file="contacts.csv")
    parties, _ = normalise_parties(raw_parties, file="parties.csv")
    return contacts, parties


@pytest.fixture(scope="module")
def published() -> list[dict[str, object]]:
    return load_published_partners(PUBLISHED)


def _compare(contacts, parties, published, period=(2002, 2017)) -> pd.DataFrame:
    first, last = period
    return compare_top_partners(contacts, parties, published, first_year=first, last_year=last)


def _direct_ranking(contacts: pd.DataFrame, first: int | None, last: int | None) -> pd.Series:
    """Competition ranks per party_id, computed independently of cpcstats."""
    party = contacts[contacts["counterpart_type"] == "party"]
    if first is not None:
        party = party[party["year"].between(first, last)]
    counts = party.groupby("party_id").size()
    return counts.rank(method="min", ascending=False).astype(int)


# --------------------------------------------------------------------------- the fixture


def test_fixture_files_are_what_the_generator_writes(tmp_path):
    _load_generator().main(tmp_path)
    for name in ("parties.csv", "contacts.csv"):
        assert (tmp_path / name).read_text() == (FIXTURE / name).read_text(), name


def test_fixture_has_out_of_period_and_nonparty_rows(tables):
    contacts, parties = tables
    assert (contacts["year"] == 2018).sum() > 0
    assert set(contacts["counterpart_type"]) == {"party", "state", "other"}
    assert contacts["year"].min() == 2002
    assert len(parties) > 20


# --------------------------------------------------------------------------- (g) the published file


def test_published_partners_are_table1_of_the_study(published):
    assert len(published) == 20
    assert [(p["rank"], p["party"], p["contacts"]) for p in published] == TABLE1
    assert [p["contacts"] for p in published][:5] == [121, 97, 53, 51, 51]
    assert all(len(str(p["country"])) == 3 and str(p["country"]).isupper() for p in published)
    assert published[0]["country"] == "VNM"
    # the existing entries of the file are untouched
    assert published_period(PUBLISHED) == (2002, 2017)
    assert len(load_published(PUBLISHED)) == 19


def test_load_published_partners_without_entries_and_with_a_broken_entry(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text('[[figure]]\nkey = "contacts_total"\nvalue = 1\n', encoding="utf-8")
    assert load_published_partners(empty) == []
    broken = tmp_path / "broken.toml"
    broken.write_text('[[partner]]\nrank = 1\nparty = "X"\ncountry = "VNM"\n', encoding="utf-8")
    with pytest.raises(SpecError, match="lacks contacts"):
        load_published_partners(broken)


# --------------------------------------------------------------------------- (a) reproduction


def test_fixture_reproduces_table1(tables, published):
    contacts, parties = tables
    frame = _compare(contacts, parties, published)
    assert len(frame) == 20
    assert (frame["comparison"] == "match").all(), frame[frame["comparison"] != "match"]
    assert frame["computed_contacts"].tolist() == [c for _, _, c in TABLE1]
    assert frame["computed_rank"].tolist() == [r for r, _, _ in TABLE1]
    assert frame["party"].tolist() == [p for _, p, _ in TABLE1]
    ties = frame["computed_rank"].value_counts()
    assert sorted(ties[ties > 1].index) == [4, 7, 11, 14, 18]
    assert frame["hint"].isna().all()


# --------------------------------------------------------------------------- (b) the period


def test_2018_events_are_excluded_by_the_period(tables, published):
    contacts, parties = tables
    in_2018 = (
        contacts[(contacts["year"] == 2018) & (contacts["counterpart_type"] == "party")]
        .groupby("party_id")
        .size()
    )
    assert len(in_2018) > 0
    without = _compare(contacts, parties, published, period=(None, None))
    ranks = _direct_ranking(contacts, None, None)
    changed = 0
    for row in without.itertuples():
        k = int(in_2018.get(row.party_id, 0))
        rank = int(ranks[row.party_id])
        assert row.computed_rank == rank
        if k:
            changed += 1
            assert row.comparison == f"differs by +{k} contacts (rank {rank})"
        elif rank != row.published_rank:
            assert row.comparison == f"same contacts, rank {rank} instead of {row.published_rank}"
        else:
            assert row.comparison == "match"
    assert changed == len(in_2018.drop("PAN-PRD"))  # PAN-PRD is not in Table 1
    by_party = without.set_index("published_party")["comparison"]
    assert by_party["Communist Party of Vietnam"] == "differs by +6 contacts (rank 1)"
    # LDP (51 + 2) joins the CPP at rank 3, so the WPK's unchanged 51 drops to rank 5
    assert by_party["Liberal Democratic Party"] == "differs by +2 contacts (rank 3)"
    assert by_party["Cambodian People's Party"] == "match"
    assert by_party["Workers' Party of Korea"] == "same contacts, rank 5 instead of 4"
    # with the period, Panama's 2018-only party is not ranked at all
    assert "PAN-PRD" not in set(
        top_partners(contacts, parties, first_year=2002, last_year=2017, n=None)["party_id"]
    )


# --------------------------------------------------------------------------- (c) one contact less


def _drop_one(contacts: pd.DataFrame, party_id: str) -> pd.DataFrame:
    rows = contacts.index[(contacts["party_id"] == party_id) & (contacts["year"] <= 2017)]
    return contacts.drop(rows[0])


def test_one_contact_less_is_reported_for_that_party_only(tables, published):
    contacts, parties = tables
    frame = _compare(_drop_one(contacts, "JPN-NKP"), parties, published)
    differs = frame[frame["comparison"] != "match"]
    assert differs["published_party"].tolist() == ["Komeito"]
    assert differs["comparison"].iloc[0] == "differs by -1 contacts (rank 12)"
    # the EPRDF keeps rank 11 alone; FUNCINPEC stays 13
    by_party = frame.set_index("published_party")["computed_rank"]
    assert by_party["Ethiopian People's Revolutionary Democratic Front"] == 11
    assert by_party["FUNCINPEC"] == 13


def test_one_contact_less_moves_the_ranks_of_others(tables, published):
    contacts, parties = tables
    fewer = _drop_one(contacts, "JPN-DPJ")  # 23 -> 22, level with the SACP
    frame = _compare(fewer, parties, published)
    by_party = frame.set_index("published_party")["comparison"]
    assert by_party["Democratic Party of Japan"] == "differs by -1 contacts (rank 19)"
    assert by_party["South African Communist Party"] == "same contacts, rank 19 instead of 20"
    assert by_party["Australian Labor Party"] == "match"  # now alone at 18
    assert (frame["comparison"].str.startswith("differs by")).sum() == 1
    assert (frame["comparison"] == "match").sum() == 18
    direct = _direct_ranking(fewer, 2002, 2017)
    assert frame["computed_rank"].tolist() == [int(direct[p]) for p in frame["party_id"]]


# --------------------------------------------------------------------------- (d), (e) names


def _rename(parties: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    out = parties.copy()
    assert (out["party_name"] == old).sum() == 1
    out.loc[out["party_name"] == old, "party_name"] = new
    return out


def test_a_renamed_party_is_reported_not_found_rather_than_dropped(tables, published):
    contacts, parties = tables
    renamed = _rename(parties, "Communist Party of Vietnam", "Vietnam Fatherland Front")
    frame = _compare(contacts, renamed, published)
    assert len(frame) == 20
    row = frame.iloc[0]
    assert row["published_party"] == "Communist Party of Vietnam"
    assert row["comparison"] == (
        "party not found in the data (no party named 'Communist Party of Vietnam' in VNM)"
    )
    assert pd.isna(row["computed_contacts"]) and pd.isna(row["party_id"])
    assert "'Vietnam Fatherland Front' (121)" in row["hint"]
    assert (frame["comparison"].iloc[1:] == "match").all()


def test_a_party_in_another_country_is_not_found_and_the_hint_says_where(tables, published):
    contacts, parties = tables
    moved = parties.copy()
    moved.loc[moved["party_id"] == "NAM-SWAPO", "iso3"] = "ZAF"
    frame = _compare(contacts, moved, published).set_index("published_party")
    assert frame.loc["SWAPO", "comparison"].startswith("party not found in the data")
    assert frame.loc["SWAPO", "hint"] == "same name in ZAF (NAM-SWAPO)"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Communist Party of Vietnam", "COMMUNIST PARTY OF VIỆTNAM"),
        ("Lao People's Revolutionary Party", "Lao Peoples Revolutionary Party"),
        ("Workers' Party of Korea", "Workers’ Party of Korea"),
        ("Komeito", "Kōmeitō"),
        ("ZANU-PF", "Zanu PF"),
        ("SWAPO", "S.W.A.P.O."),
        ("Chama Cha Mapinduzi", "  chama  cha mapinduzi "),
        (
            "Ethiopian People's Revolutionary Democratic Front",
            "ethiopian peoples' revolutionary democratic front",
        ),
    ],
)
def test_names_differing_in_case_accents_or_punctuation_match(tables, published, old, new):
    contacts, parties = tables
    frame = _compare(contacts, _rename(parties, old, new), published)
    assert (frame["comparison"] == "match").all()
    assert new in frame["party"].tolist()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ZANU-PF", "Zimbabwe African National Union – Patriotic Front (ZANU-PF)"),
        ("Communist Party of Vietnam", "Communist Party of Vietnam (CPV)"),
        ("SWAPO", "South West Africa People's Organisation (SWAPO)"),
    ],
)
def test_a_parenthesised_abbreviation_or_base_name_matches(tables, published, old, new):
    contacts, parties = tables
    frame = _compare(contacts, _rename(parties, old, new), published)
    assert (frame["comparison"] == "match").all()


def test_and_matches_ampersand_and_ambiguity_is_reported():
    contacts = pd.DataFrame(
        {
            "iso3": ["GBR", "GBR", "GBR", "NPL", "NPL"],
            "year": [2010] * 5,
            "counterpart_type": ["party"] * 5,
            "party_id": ["A", "A", "B", "C", "D"],
        }
    )
    parties = pd.DataFrame(
        {
            "party_id": ["A", "B", "C", "D"],
            "iso3": ["GBR", "GBR", "NPL", "NPL"],
            "party_name": [
                "Party of Labour & Progress",
                "Labour",
                "Communist Party (Maoist)",
                "Communist Party (Marxist)",
            ],
        }
    )
    published = [
        {"rank": 1, "party": "Party of Labour and Progress", "country": "GBR", "contacts": 2},
        {"rank": 2, "party": "Communist Party", "country": "NPL", "contacts": 1},
        {"rank": 2, "party": "Maoist", "country": "NPL", "contacts": 1},
    ]
    frame = compare_top_partners(contacts, parties, published)
    assert frame["comparison"].tolist() == [
        "match",
        "ambiguous: 2 parties in NPL match 'Communist Party' (C, D)",
        "match",
    ]


def test_a_listed_party_without_contacts_in_the_period(tables, published):
    contacts, parties = tables
    only_2018 = contacts[~((contacts["party_id"] == "RUS-ER") & (contacts["year"] <= 2017))]
    frame = _compare(only_2018, parties, published).set_index("published_party")
    assert frame.loc["United Russia", "comparison"] == (
        "differs by -34 contacts (no contacts in the period)"
    )
    assert frame.loc["United Russia", "computed_contacts"] == 0
    assert pd.isna(frame.loc["United Russia", "computed_rank"])


# --------------------------------------------------------------------------- (f) top_partners


def test_top_partners_equals_a_direct_pandas_ranking(tables):
    contacts, parties = tables
    top = top_partners(contacts, parties, first_year=2002, last_year=2017)
    assert list(top.columns) == ["rank", "party_id", "party", "iso3", "contacts"]
    party = contacts[
        (contacts["counterpart_type"] == "party") & contacts["year"].between(2002, 2017)
    ]
    direct = party.groupby("party_id").size().rename("contacts").reset_index()
    direct["rank"] = direct["contacts"].rank(method="min", ascending=False).astype(int)
    direct = direct[direct["rank"] <= 20]
    assert len(top) == len(direct) == 20
    merged = top.merge(direct, on="party_id", suffixes=("", "_direct"), validate="1:1")
    assert (merged["rank"] == merged["rank_direct"]).all()
    assert (merged["contacts"] == merged["contacts_direct"]).all()
    assert top["rank"].is_monotonic_increasing
    assert top["rank"].tolist() == [r for r, _, _ in TABLE1]
    names = dict(zip(parties["party_id"], parties["party_name"], strict=True))
    assert top["party"].tolist() == [names[p] for p in top["party_id"]]
    assert set(top["iso3"]) <= set(parties["iso3"])


def test_top_partners_keeps_every_party_tied_at_the_nth_place(tables):
    contacts, parties = tables
    top4 = top_partners(contacts, parties, first_year=2002, last_year=2017, n=4)
    assert top4["rank"].tolist() == [1, 2, 3, 4, 4]
    top7 = top_partners(contacts, parties, first_year=2002, last_year=2017, n=7)
    assert top7["rank"].tolist() == [1, 2, 3, 4, 4, 6, 7, 7]
    every = top_partners(contacts, parties, first_year=2002, last_year=2017, n=None)
    assert len(every) == 28  # 20 of Table 1 + 8 others with contacts in 2002-2017
    assert (
        every["contacts"].sum()
        == ((contacts["counterpart_type"] == "party") & (contacts["year"] <= 2017)).sum()
    )


def test_top_partners_without_a_parties_table_uses_the_contacts(tables):
    contacts, parties = tables
    named = contacts.copy()
    names = dict(zip(parties["party_id"], parties["party_name"], strict=True))
    named["party_name"] = named["party_id"].map(names)
    top = top_partners(named, None, first_year=2002, last_year=2017, n=3)
    assert top["party"].tolist() == [p for _, p, _ in TABLE1[:3]]
    assert top["iso3"].tolist() == ["VNM", "LAO", "KHM"]
