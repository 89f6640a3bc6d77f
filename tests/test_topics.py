"""Topic dictionaries and tagging: matching rules, counting units, panel columns, real texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.cli import main
from cpcstats.errors import SpecError
from cpcstats.topics import (
    add_topic_counts,
    load_dictionary,
    tag_contacts,
    tag_texts,
    yearly_topics,
)

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "topics" / "engagement_sample.csv"

TEST_DICTIONARY = r"""
language = "en"
[[topic]]
name = "taiwan"
terms = ["Taiwan", "one China", "one China policy"]
[[topic]]
name = "mongolia"
terms = ["Mongolia", "Mongolian"]
exclude_terms = ["Inner Mongolia"]
[[topic]]
name = "bri"
terms = ["Belt and Road", "Silk Road Fund"]
[[topic]]
name = "learning"
regex = ['learn from (China|the CPC)']
exclude_regex = ['not learn from (China|the CPC)']  # RE2 has no look-behind: exclude instead
"""


@pytest.fixture(scope="module")
def dictionary(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("dict") / "topics.toml"
    path.write_text(TEST_DICTIONARY, encoding="utf-8")
    return load_dictionary(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Talks on TAIWAN and trade", {"taiwan"}),  # case
        ("Taiwanese investors", set()),  # word boundary: not the word Taiwan
        ("a Taiwan-based foundation", {"taiwan"}),  # hyphen ends the word
        ("met the Taiwan Affairs Office", {"taiwan"}),  # still a reference to Taiwan
        ("adherence to the one-China policy", {"taiwan"}),  # hyphen = space in a term
        ("one   China", {"taiwan"}),
        ("visited Inner Mongolia", set()),  # exclusion
        ("visited Inner Mongolia and Mongolia", {"mongolia"}),  # exclusion leaves the rest
        ("Mongolian President on the Belt and Road", {"mongolia", "bri"}),  # several topics
        ("China's Silk Road Fund and the Belt and Road", {"bri"}),  # overlapping: counted once
        ("beltandroad", set()),
        ("parties learn from the CPC", {"learning"}),  # regex (RE2, no fallback engine)
        ("parties should not learn from China", set()),
        ("", set()),
    ],
)
def test_matching_rules(dictionary, text: str, expected: set[str]) -> None:
    tags = tag_texts(pd.Series([text]), dictionary).iloc[0]
    got = {c.removeprefix("topic_") for c, v in tags.items() if v == 1}
    assert got == expected


def test_missing_text_is_untagged(dictionary) -> None:
    tags = tag_texts(pd.Series([None, pd.NA, "Taiwan"], dtype="object"), dictionary)
    assert tags["topic_taiwan"].tolist() == [0, 0, 1]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[[topic]]\nname = "x"\nregex = ["(unclosed"]\n', ["not a valid regular expression"]),
        ('[[topic]]\nname = "Bad Name"\nterms = ["a"]\n', ["lower case"]),
        ('[[topic]]\nname = "x"\nterms = ["a"]\nwords = ["b"]\n', ["unknown key", "words"]),
        ('[[topic]]\nname = "x"\nterms = ["a"]\n[[topic]]\nname = "x"\nterms = ["b"]\n', ["twice"]),
        ('[[topic]]\nname = "x"\n', ["no `terms` or `regex`"]),
        ('language = "en"\n', ["no [[topic]]"]),
        ('[[topic]]\nname = "x"\nterms = "a"\nexclude_terms = [1]\n', ["list of non-empty"]),
    ],
)
def test_dictionary_errors_name_file_and_problem(
    tmp_path: Path, body: str, words: list[str]
) -> None:
    path = tmp_path / "d.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_dictionary(path)
    assert info.value.file == str(path)
    for word in words:
        assert word in str(info.value)


def _contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": ["ZAF", "ZAF", "ZAF", "NAM", "NAM", "CHL"],
            "year": [2015, 2015, 2015, 2016, 2016, 2016],
            "counterpart_type": ["party", "party", "party", "party", "state", "party"],
            "party_id": ["ZAF-ANC", "ZAF-SACP", "ZAF-ANC", "NAM-SWAPO", None, "CHL-PS"],
            # one news item reports the ANC and SACP meetings on the Belt and Road
            "source_id": ["N1", "N1", "N2", "N3", "N4", None],
            "text": [
                "Delegation met ANC and SACP on the Belt and Road",
                "Delegation met ANC and SACP on the Belt and Road",
                "ANC talks on Taiwan",
                "SWAPO leader on the Belt and Road",
                None,
                "Chilean Socialists discuss the Belt and Road",
            ],
        }
    )


def test_counting_units_item_versus_contact(dictionary) -> None:
    contacts = _contacts()
    items, account = tag_contacts(contacts, dictionary, unit="item")
    assert len(items) == 4  # N1 (two contacts), N2, N3, and the row without source_id
    assert account.dropped == {"no text to tag": 1}
    assert account.rows_in == 6 and account.rows_out == 5
    per_item = yearly_topics(items, dictionary)
    assert per_item.loc[2015, "bri"] == 1 and per_item.loc[2015, "units"] == 2
    assert per_item.loc[2016, "bri"] == 2 and per_item.loc[2016, "bri_share"] == 1.0
    rows, _ = tag_contacts(contacts, dictionary, unit="contact")
    per_contact = yearly_topics(rows, dictionary)
    assert per_contact.loc[2015, "bri"] == 2  # the shared item counts once per contact
    assert per_contact.loc[2015, "taiwan_share"] == pytest.approx(1 / 3)
    with pytest.raises(SpecError, match="counting unit"):
        tag_contacts(contacts, dictionary, unit="story")
    with pytest.raises(SpecError, match="no `text` column"):
        tag_contacts(contacts.drop(columns="text"), dictionary)


def test_topic_counts_on_panels_can_be_model_outcomes() -> None:
    from dataclasses import replace

    demo = cpcstats.load_study("demo")
    study = replace(demo, contacts=demo.contacts.drop(columns="text"))  # panels without topics
    assert "contacts_belt_and_road" not in cpcstats.country_year(study).data.columns
    assert "contacts_belt_and_road" in cpcstats.country_year(demo).data.columns
    rng = np.random.default_rng(3)
    texts = np.where(rng.random(len(study.contacts)) < 0.3, "talks on the Belt and Road", "visit")
    contacts = study.contacts.assign(text=texts)
    dictionary = load_dictionary()
    country = add_topic_counts(cpcstats.country_year(study), contacts, dictionary)
    assert country.data["contacts_belt_and_road"].sum() == int((texts != "visit").sum())
    assert (country.data["contacts_belt_and_road"] <= country.data["contacts"]).all()
    party = add_topic_counts(cpcstats.party_year(study), contacts, dictionary)
    party_bri = ((texts != "visit") & (contacts["counterpart_type"] == "party").to_numpy()).sum()
    assert party.data["contacts_belt_and_road"].sum() == party_bri
    assert party.accounts[-1].stage == "party-year: topic counts"
    fit = cpcstats.fit(
        "contacts_belt_and_road ~ ruling + xi_era", party, family="poisson", cluster="iso3"
    )
    assert fit.nobs == len(party.data)


def test_shipped_dictionary_has_the_study_topics() -> None:
    d = load_dictionary()
    assert d.names == [
        "one_china",
        "tibet",
        "xinjiang",
        "south_china_sea",
        "peaceful_development",
        "harmonious_world",
        "chinese_dream",
        "belt_and_road",
        "shared_future",
        "learning",
    ]
    tags = tag_texts(
        pd.Series(
            [
                "Wen Jiabao travelled to Xinjiang Uygur Autonomous Region, Urumqi City and met",
                "talks on Xinjiang",
                "German reunification",
                "peaceful reunification of the motherland",
                "building a community of shared future for mankind",
                "mutual learning among civilizations",
            ]
        ),
        d,
    )
    assert tags["topic_xinjiang"].tolist() == [0, 1, 0, 0, 0, 0]  # a venue is not a reference
    assert tags["topic_one_china"].tolist() == [0, 0, 0, 1, 0, 0]
    assert tags["topic_shared_future"].tolist() == [0, 0, 0, 0, 1, 0]
    assert tags["topic_learning"].tolist() == [0, 0, 0, 0, 0, 1]


# --------------------------------------------------------------------------- real texts
@pytest.fixture(scope="module")
def engagements(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "china_vitae_elite_engagements_2003_2018.csv")


def test_hand_checked_sample_is_reproduced_exactly(engagements: pd.DataFrame) -> None:
    sample = pd.read_csv(FIXTURE, keep_default_na=False)
    assert len(sample) >= 30 and (sample["expected_topics"] != "").sum() >= 25
    raw = engagements.loc[sample["row"]]
    # the same records (guards against another version of the file)
    assert raw["date"].tolist() == sample["date"].tolist()
    assert raw["country"].tolist() == sample["country"].tolist()
    assert raw["leader"].tolist() == sample["leader"].tolist()
    d = load_dictionary()
    tags = tag_texts(raw["text"].reset_index(drop=True), d)
    for (_, expected), (_, row) in zip(sample.iterrows(), tags.iterrows(), strict=True):
        got = {c.removeprefix("topic_") for c, v in row.items() if v == 1}
        want = set(filter(None, expected["expected_topics"].split(";")))
        assert got == want, (expected["row"], got, want)


def test_yearly_counts_on_real_texts(
    shared_data: Path, engagements: pd.DataFrame, tmp_path: Path
) -> None:
    study_file = tmp_path / "elite.toml"
    study_file.write_text(
        (REPO / "replication" / "studies" / "elite_engagements.toml")
        .read_text(encoding="utf-8")
        .replace("../../../shared/data", shared_data.as_posix()),
        encoding="utf-8",
    )
    assert main(["topics", "--study", str(study_file), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "tables" / "topics_yearly.csv").set_index("year")
    kept = engagements[~engagements["country"].isin(["Taiwan", "Cook Islands"])]
    text = kept["text"].fillna("")
    bri = text.str.contains(r"\bBelt and Road\b|\bSilk Road Fund\b", case=False)
    taiwan = text.str.contains(r"\bTaiwan\b|\bone-China\b|\bcross-Strait", case=False)
    assert table["belt_and_road"].sum() == int(bri.sum()) > 0
    assert table["one_china"].sum() == int(taiwan.sum()) > 0
    assert table["units"].sum() == len(kept)
    assert (tmp_path / "out" / "figures" / "topics_yearly.png").exists()


def test_demo_texts_recover_the_planted_topic_trends() -> None:
    """The demo's texts carry topic phrases with planted yearly probabilities per news item
    (cpcstats/demo/parameters.toml [texts]); the tagger's yearly shares recover them: no
    Belt and Road before 2014, and pooled shares inside their binomial 99.9 % bands."""
    from scipy import stats

    study = cpcstats.load_study("demo")
    planted = study.truth["parameters"]["texts"]
    d = load_dictionary()
    items, account = tag_contacts(study.contacts, d, unit="item")
    assert account.dropped == {"no text to tag": 0}
    table = yearly_topics(items, d)
    assert table.loc[2002:2013, "belt_and_road"].sum() == 0
    for topic, windows in planted.items():
        for first, last, p in windows:
            n = int(table.loc[first:last, "units"].sum())
            k = int(table.loc[first:last, topic].sum())
            low, high = stats.binom.ppf([0.0005, 0.9995], n, p)
            assert low <= k <= high, (topic, first, last, k, n, p)
    # One-China mentions fade after 2013 while the Belt and Road and learning rise
    before, after = table.loc[2002:2012], table.loc[2014:2023]
    share = lambda t, f: f[t].sum() / f["units"].sum()  # noqa: E731
    assert share("one_china", after) < share("one_china", before) / 2
    assert share("learning", after) > 2 * share("learning", before)


# --------------------------------------------------------------- topics without references
def test_topics_without_references_leave_the_figure_and_table_with_a_note(dictionary) -> None:
    from cpcstats.reporting.topics import plot_yearly_topics, referenced_topics, topic_table_frame

    items, _ = tag_contacts(_contacts(), dictionary, unit="item")
    table = yearly_topics(items, dictionary)
    # the sample mentions Taiwan and the Belt and Road, never Mongolia or learning
    assert referenced_topics(table, dictionary) == (["taiwan", "bri"], ["mongolia", "learning"])
    fig = plot_yearly_topics(table, dictionary, simulated=False, unit="item")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["taiwan", "bri"]
    note = fig.get_suptitle()
    assert "no references" in note and "mongolia" in note and "learning" in note
    shown = topic_table_frame(table, dictionary, ["taiwan", "bri"])
    assert list(shown.columns) == ["Units with text", "taiwan", "bri"]


def test_demo_topic_outputs_drop_unreferenced_topics(tmp_path: Path) -> None:
    from cpcstats.reporting.topics import write_topic_outputs

    study = cpcstats.load_study("demo")
    files, _, account = write_topic_outputs(study, tmp_path)
    counts = pd.read_csv(tmp_path / "tables" / "topics_yearly.csv")  # the data keep every topic
    d = load_dictionary()
    zero = [t for t in d.topics if counts[t.name].sum() == 0]
    used = [t for t in d.topics if counts[t.name].sum() > 0]
    assert zero and used
    assert account.notes["topics_not_shown"] == [t.name for t in zero]
    markdown = (tmp_path / "tables" / "topics_yearly.md").read_text(encoding="utf-8")
    header = next(line for line in markdown.splitlines() if line.startswith("| Year"))
    for topic in zero:
        assert topic.label not in header
    for topic in used:
        assert topic.label in header
    labels = ", ".join(t.label for t in zero)
    assert f"Not shown, no references in 2002-2023: {labels}." in markdown
    assert tmp_path / "figures" / "topics_yearly.png" in files
