"""The party-name matcher: a hand-labelled fixture on the real register, and the rules on a toy one.

``tests/fixtures/party_names/labelled.csv`` holds party spellings (the study's
Table 1 names, the other fixture parties, and variants in the style of the
ID-CPC website or a coder's sheet) with the Party Facts id we determined for
each by looking it up in the Party Facts core file; only the spelling, ISO3,
year, id and our note are stored, not the dataset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpcstats.adapters import read_partyfacts
from cpcstats.errors import SpecError
from cpcstats.party_names import (
    FUZZY_FLOOR,
    FUZZY_THRESHOLD,
    HOW_AMBIGUOUS,
    HOW_UNMATCHED,
    PartyIndex,
    core_form,
    initials,
    match_party_names,
    normalise,
    similarity,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "party_names" / "labelled.csv"
TABLE1 = Path(__file__).resolve().parent / "fixtures" / "table1" / "parties.csv"
PF_CORE = "partyfacts_core_parties.csv"


@pytest.fixture(scope="module")
def register(shared_data: Path) -> pd.DataFrame:
    path = shared_data / PF_CORE
    if not path.is_file():
        pytest.skip(f"{PF_CORE} not in {shared_data}")
    return read_partyfacts(path).table


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def _score(frame: pd.DataFrame, register: pd.DataFrame | PartyIndex) -> tuple[float, float, int]:
    rep = match_party_names(
        list(zip(frame["name"], frame["iso3"], strict=True)), register, years=list(frame["year"])
    )
    got = pd.Series(rep.ids(), index=frame.index, dtype="Int64")
    accepted = got.notna()
    correct = accepted & (got == frame["partyfacts_id"])
    precision = correct.sum() / accepted.sum()
    recall = correct.sum() / len(frame)
    return float(precision), float(recall), int(accepted.sum())


def test_fixture_covers_table1_and_is_large_enough(labelled: pd.DataFrame) -> None:
    assert len(labelled) >= 60
    assert labelled["partyfacts_id"].notna().all()
    table1 = pd.read_csv(TABLE1)
    pairs = set(zip(labelled["name"], labelled["iso3"], strict=True))
    assert set(zip(table1["party_name"], table1["country"], strict=True)) <= pairs
    assert {"Communist Party of Vietnam (CPV)", "Vietnamese Communist Party"} <= set(
        labelled["name"]
    )


def test_fixture_ids_are_parties_of_that_country(
    labelled: pd.DataFrame, register: pd.DataFrame
) -> None:
    """Our labels point at real, non-technical register entries in the stated country."""
    reg = register.set_index("partyfacts_id")
    for row in labelled.itertuples():
        assert reg.loc[row.partyfacts_id, "iso3"] == row.iso3, row.name
        assert pd.isna(reg.loc[row.partyfacts_id, "technical"]), row.name


def test_precision_is_one_and_recall_high(labelled: pd.DataFrame, register: pd.DataFrame) -> None:
    """Measured on 137 spellings: 133 accepted, all correct (precision 1.0, recall 0.971).

    The four not taken are listed as unmatched with the right party as best candidate:
    "Revolutionary Party of Tanzania" (0.87), "Syrian Arab Socialist Baath Party" (0.85),
    "Popular Movement for the Liberation of Angola" (0.79), "Saenuri Party" (0.74).
    """
    precision, recall, accepted = _score(labelled, register)
    assert precision == 1.0
    assert recall >= 0.95
    assert accepted >= 130


def test_table1_names_all_match(labelled: pd.DataFrame, register: pd.DataFrame) -> None:
    table1 = labelled[labelled["note"].str.startswith(("Table 1", "fixture party"))]
    precision, recall, _ = _score(table1, register)
    assert (precision, recall) == (1.0, 1.0)


def test_true_party_absent_is_rarely_replaced(
    labelled: pd.DataFrame, register: pd.DataFrame
) -> None:
    """Stress test: each spelling against its country's register *without* its true party.

    Any accepted match is then wrong.  Measured (difflib and rapidfuzz alike): 1 of 137
    ("Communist Party of Belarus" -> Party of Communists of Belarus, by the plural rule);
    the rules that prevent the others are the active-years rule, the parenthesis-qualifier
    rule and the fuzzy threshold (the best wrong fuzzy candidate scores 0.919: Indian
    National Congress -> Nationalist Congress Party).
    """
    wrong = []
    for row in labelled.itertuples():
        sub = register[
            (register["iso3"] == row.iso3) & (register["partyfacts_id"] != row.partyfacts_id)
        ]
        m = match_party_names([(row.name, row.iso3)], sub, years=[row.year]).matches[0]
        if m.partyfacts_id is not None:
            wrong.append((row.name, m.partyfacts_id, m.how, m.score))
    assert len(wrong) <= 1, wrong


# --------------------------------------------------------------------------- rules, toy register


def _toy() -> pd.DataFrame:
    rows = [
        (
            4898,
            "VNM",
            "DCVN",
            "Dang Cong san Viet Nam",
            "Communist Party of Vietnam",
            "Vietnamese: Đảng Cộng sản Việt Nam",
            1930,
            None,
            None,
        ),
        (
            1515,
            "JPN",
            "K",
            "Kōmeitō",
            "Clean Government Party / New Komeito",
            None,
            1964,
            None,
            None,
        ),
        (1746, "JPN", "LDP", "Jiyū Minshutō", "Liberal Democratic Party", None, 1955, None, None),
        (1804, "JPN", "DPJ", "Minshutō", "Democratic Party of Japan", None, 1996, 2016, None),
        (778, "JPN", "JDP", "Nihon Minshutō", "Japan Democratic Party", None, 1954, 1955, None),
        (1845, "JPN", "etc", "other", "other", None, 1800, None, 7),
        (
            2245,
            "RUS",
            "LDPR",
            "Liberal'no-Demokraticheskaya Partiya Rossii",
            "Liberal Democratic Party of Russia",
            None,
            1991,
            None,
            None,
        ),
        (
            2384,
            "PAK",
            "PML(N)",
            "Pakistan Muslim League",
            "Pakistan Muslim League (Nawaz )",
            None,
            1993,
            None,
            None,
        ),
        (
            2385,
            "PAK",
            "PML(Q)",
            "Pakistan Muslim League",
            "Pakistan Muslim League (Quaid e Azam Group)",
            None,
            2002,
            None,
            None,
        ),
        (
            408,
            "IND",
            "CPI",
            "Bhāratīya Kamyunisṭ Pārṭī",
            "Communist Party of India",
            None,
            1925,
            None,
            None,
        ),
        (
            3765,
            "KHM",
            "KPK",
            "Kanakpak Pracheachon Kâmpuchéa",
            "Cambodian Peoples' Party / Kampuchean People's Revolutionary Party",
            None,
            1951,
            None,
            None,
        ),
        (3762, "KHM", "SRP", "Kanakpak Sam Rangsee", "Sam Rainsy Party", None, 1995, 2012, None),
    ]
    cols = [
        "partyfacts_id",
        "iso3",
        "name_short",
        "name",
        "name_english",
        "name_other",
        "year_first",
        "year_last",
        "technical",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("year_first", "year_last", "technical"):
        frame[c] = frame[c].astype("Int64")
    return frame


def test_normal_forms() -> None:
    assert normalise("Japan's New Komeito", "JPN") == "new komeito"
    assert normalise("The Cambodian People's Party", "KHM") == "cambodian peoples party"
    assert core_form("Communist Party of Vietnam", "VNM") == "communist"
    assert core_form("Vietnamese Communist Party", "VNM") == "communist"
    assert core_form("Đảng Cộng sản", "VNM") == "cong dang san"  # accents folded
    assert initials("Communist Party of Vietnam") == "cpv"


@pytest.mark.parametrize(
    ("name", "iso3", "want", "how"),
    [
        ("Communist Party of Vietnam", "VNM", 4898, "exact"),
        ("Dang Cong san Viet Nam", "VNM", 4898, "exact"),
        ("Đảng Cộng sản Việt Nam", "VNM", 4898, "exact"),  # name_other, language prefix dropped
        ("Communist Party of Vietnam (CPV)", "VNM", 4898, "normalised"),
        ("Vietnamese Communist Party", "VNM", 4898, "normalised"),
        ("CPV", "VNM", 4898, "normalised"),  # initials of the English name
        ("Japan's New Komeito", "JPN", 1515, "normalised"),
        ("New Komeito", "JPN", 1515, "exact"),  # " / " alternative
        ("the Cambodian People's Party", "KHM", 3765, "normalised"),
        ("CPP", "KHM", 3765, "normalised"),
        ("Liberal Democratic Party", "JPN", 1746, "exact"),
        ("Liberal Democratic Party", "RUS", 2245, "normalised"),  # same words, other country
        ("Pakistan Muslim League (N)", "PAK", 2384, "normalised"),  # qualifier fits Nawaz only
    ],
)
def test_rules_on_toy_register(name: str, iso3: str, want: int, how: str) -> None:
    m = match_party_names([(name, iso3)], _toy(), years=[2010]).matches[0]
    assert (m.partyfacts_id, m.how) == (want, how), m


def test_ties_are_ambiguous_with_candidates() -> None:
    """Without a year, "Pakistan Muslim League" names two parties: listed, not taken."""
    m = match_party_names([("Pakistan Muslim League", "PAK")], _toy()).matches[0]
    assert m.how == HOW_AMBIGUOUS and m.partyfacts_id is None
    assert {c[0] for c in m.candidates} == {2384, 2385}


def test_year_sets_aside_parties_not_active() -> None:
    # "Democratic Party" core form: DPJ (1996-2016) and JDP (1954-1955) tie without a year.
    none = match_party_names([("Democratic Party", "JPN")], _toy()).matches[0]
    assert none.how == HOW_AMBIGUOUS
    in2010 = match_party_names([("Democratic Party", "JPN")], _toy(), years=[2010]).matches[0]
    assert in2010.partyfacts_id == 1804
    # a party dissolved in 2012 is not taken for 2016 (one year of slack), but listed
    late = match_party_names([("Sam Rainsy Party", "KHM")], _toy(), years=[2016]).matches[0]
    assert late.how == HOW_UNMATCHED and late.candidates[0][0] == 3762


def test_qualifier_in_parenthesis_blocks_fallback() -> None:
    m = match_party_names([("Communist Party of India (Marxist)", "IND")], _toy()).matches[0]
    assert m.partyfacts_id is None


def test_low_fuzzy_score_is_unmatched_with_candidates() -> None:
    m = match_party_names([("Liberal Democratic Union", "JPN")], _toy()).matches[0]
    assert m.how == HOW_UNMATCHED and m.partyfacts_id is None
    assert m.score is not None and FUZZY_FLOOR <= m.score < FUZZY_THRESHOLD
    assert m.candidates[0][0] == 1746  # the closest party is shown to the user
    # nothing at FUZZY_FLOOR or above: no candidates, and the report says why
    far = match_party_names([("Liberal Progressive Party", "JPN")], _toy()).matches[0]
    assert (far.how, far.candidates, far.rule) == (HOW_UNMATCHED, (), "no similar name")


def _lcs(a: str, b: str) -> int:
    """Longest common subsequence by dynamic programming (the reference for `similarity`)."""
    row = [0] * (len(b) + 1)
    for x in a:
        prev, row = row, [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
    return row[-1]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("national union", "union national"),  # difflib's greedy blocks give 0.571 here
        ("communist federation russian", "communist russian"),
        ("funcinpec", "funcinpec"),
        ("komeito new", "government clean"),
    ],
)
def test_similarity_is_the_share_of_the_longest_common_subsequence(a: str, b: str) -> None:
    assert similarity(a, b) == pytest.approx(2 * _lcs(a, b) / (len(a) + len(b)), abs=1e-12)
    assert similarity(a, "") == similarity("", b) == 0.0


def test_fuzzy_candidates_are_the_best_core_form_of_each_party(register: pd.DataFrame) -> None:
    """The one-call search (rapidfuzz's extract over the country's core forms, cutoff
    FUZZY_FLOOR) lists what scoring every party's every core form one by one would list."""
    index = PartyIndex(register)
    names = [
        ("Revolutionary Party of Tanzania", "TZA"),
        ("Saenuri Party", "KOR"),
        ("Popular Movement for the Liberation of Angola", "AGO"),
        ("FUNCINPEC Party", "KHM"),
        ("Communist Party of the Russian Federation", "RUS"),
        ("Liberal Democrat Union", "JPN"),
    ]
    for name, iso3 in names:
        m = match_party_names([(name, iso3)], index).matches[0]
        assert m.how in {"fuzzy", HOW_UNMATCHED, HOW_AMBIGUOUS} and m.candidates, m
        core = core_form(name, iso3)
        best: dict[int, float] = {}
        for e in index.parties(iso3):
            s = max(similarity(core, c) for c in e.cores)
            if s >= FUZZY_FLOOR:
                best[e.partyfacts_id] = max(s, best.get(e.partyfacts_id, 0.0))
        want = sorted(best.items(), key=lambda kv: -kv[1])[: len(m.candidates)]
        assert [(pid, round(s, 3)) for pid, s in want] == [(c[0], c[2]) for c in m.candidates]


def test_an_inactive_party_is_not_taken_while_an_active_one_competes() -> None:
    """An active party set aside by the cutoff still counts as active: the close spelling of
    a party dissolved decades before is listed, not taken (and taken in its own years)."""
    reg = _register(
        [
            (1, "MDG", "PCIM", "Congress Party for the Independence of Madagascar"),
            (2, "MDG", "HVM", "New Forces for Madagascar"),
        ]
    )
    reg["year_first"] = pd.array([1958, 2013], dtype="Int64")
    reg["year_last"] = pd.array([1989, pd.NA], dtype="Int64")
    name = "Congress Party for Madagascar independent"
    late = match_party_names([(name, "MDG")], reg, years=[2015]).matches[0]
    assert late.partyfacts_id is None and late.how == HOW_UNMATCHED
    then = match_party_names([(name, "MDG")], reg, years=[1970]).matches[0]
    assert (then.partyfacts_id, then.how) == (1, "fuzzy")
    assert then.score is not None and then.score >= FUZZY_THRESHOLD


def test_equal_fuzzy_scores_are_a_tie_listed_in_register_order() -> None:
    reg = _register([(1, "PER", "UPa", "Union Progresa"), (2, "PER", "UPo", "Union Progreso")])
    m = match_party_names([("Union Progress", "PER")], reg).matches[0]
    assert (m.partyfacts_id, m.how, m.rule) == (None, HOW_AMBIGUOUS, "fuzzy tie")
    assert m.score is not None and m.score >= FUZZY_THRESHOLD
    assert [c[0] for c in m.candidates] == [1, 2]
    assert m.candidates[0][2] == m.candidates[1][2]
    one = match_party_names([("Union Progress", "PER")], reg.iloc[[1]]).matches[0]
    assert (one.partyfacts_id, one.how) == (2, "fuzzy")  # alone, the same score is taken


def test_fuzzy_takes_a_close_spelling() -> None:
    m = match_party_names([("Liberal Democrat Party", "JPN")], _toy(), years=[2010]).matches[0]
    assert m.how == "fuzzy" and m.partyfacts_id == 1746
    assert m.score is not None and m.score >= FUZZY_THRESHOLD


def test_technical_entries_and_other_countries_never_match() -> None:
    rep = match_party_names([("other", "JPN"), ("Communist Party of Vietnam", "LAO")], _toy())
    assert rep.ids() == [None, None]
    assert [m.how for m in rep.matches] == [HOW_UNMATCHED, HOW_UNMATCHED]


def test_overrides_settle_and_are_checked() -> None:
    toy = _toy()
    rep = match_party_names(
        [("Pakistan Muslim League", "PAK"), ("Vietnamese CP", "VNM"), ("Vietnamese CP", "LAO")],
        toy,
        overrides={"PAK:Pakistan Muslim League": 2384, "vietnamese  cp": 4898},
    )
    assert rep.ids() == [2384, 4898, 4898]
    assert {m.how for m in rep.matches} == {"override"}
    with pytest.raises(SpecError, match="no party has this partyfacts_id"):
        match_party_names([("X", "JPN")], toy, overrides={"X": 999999})
    with pytest.raises(SpecError, match="not a Party Facts id"):
        match_party_names([("X", "JPN")], toy, overrides={"X": "LDP"})  # type: ignore[dict-item]


def test_report_lists_every_input_and_the_fix() -> None:
    rep = match_party_names(
        pd.DataFrame(
            {
                "party_name": ["LDP", "Pakistan Muslim League", "Nonexistent Front"],
                "iso3": ["JPN", "PAK", "VNM"],
            }
        ),
        _toy(),
    )
    text = rep.summary()
    assert "JPN 'LDP' -> 1746 [exact" in text
    assert "ambiguous" in text and "2385" in text
    assert "fix:" in text and "[parties.overrides]" in text
    frame = rep.to_frame()
    assert list(frame["how"]) == ["exact", "ambiguous", "unmatched"]
    assert rep.counts() == {"exact": 1, "ambiguous": 1, "unmatched": 1}


def test_register_without_needed_columns_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="party register lacks"):
        match_party_names([("LDP", "JPN")], pd.DataFrame({"partyfacts_id": [1]}))


def _register(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["partyfacts_id", "iso3", "name_short", "name_english"])


def test_letters_and_digits_split_and_plurals_fold() -> None:
    """ "Alliance90/Greens" is "Alliance 90 / Greens"; "Greens" and "Green Party" meet by the
    plural rule (DPI and coders write both) -- but a country with a "Green" and a "Greens"
    party gets ambiguous, never a silent pick."""
    from cpcstats.party_names.text import fold_plurals, split_words

    assert split_words("Alliance90/Greens") == ["alliance", "90", "greens"]
    assert fold_plurals("greens progress workers") == "green progress worker"
    reg = _register(
        [(1, "DEU", "B90/Gr", "Alliance 90 / Greens"), (2, "CHE", "GPS", "Green Party")]
    )
    rep = match_party_names([("Alliance90/Greens", "DEU"), ("Greens", "CHE")], reg)
    assert [(m.partyfacts_id, m.rule) for m in rep.matches] == [
        (1, "normalised name"),
        (2, "core form, plurals folded"),
    ]
    both = _register([(3, "SWE", "MP", "Greens"), (4, "SWE", "G", "Green Party")])
    m = match_party_names([("Green", "SWE")], both).matches[0]
    assert m.partyfacts_id == 4  # the core form "green" equals the Green Party's exactly
    tie = _register([(5, "SWE", "MP", "The Greens"), (6, "SWE", "G", "Green Alliance")])
    m = match_party_names([("Green", "SWE")], tie).matches[0]
    assert (m.partyfacts_id, m.how) == (5, "normalised")
    twin = _register([(7, "NOR", "A", "Greens"), (8, "NOR", "B", "Green")])
    m = match_party_names([("Green Party", "NOR")], twin).matches[0]
    assert m.partyfacts_id == 8  # exact core before the plural rule
    pair = _register([(9, "FIN", "V", "Greens"), (10, "FIN", "VL", "Greens League")])
    pair.loc[1, "name_english"] = "Greens' Party"
    m = match_party_names([("Green", "FIN")], pair).matches[0]
    assert (m.partyfacts_id, m.how) == (None, "ambiguous")  # both fold to "green"
