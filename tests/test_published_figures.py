"""Published figures: the match rule is the paper's wording, stated per figure as data.

Synthetic studies with known figures check each relation ("more than 50 %" is not
matched by 49.8 %), the per-figure period and the Belt and Road count from the texts;
the shipped ``published.toml`` is checked against the study's own wording
(``/work/shared/STUDY.md`` when present).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.replicate.published_figures import (
    RELATIONS,
    compare_published,
    load_published,
    published_rule,
)

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "replication" / "published.toml"
STUDY_MD = Path("/work/shared/STUDY.md")
BRI = "Both sides agreed to deepen cooperation under the Belt and Road Initiative."


def _study(contacts: pd.DataFrame) -> SimpleNamespace:
    """What compare_published reads of a study: contacts, no status tables, no topic file."""
    return SimpleNamespace(
        contacts=contacts, party_status=None, covariates=None, config={}, config_path=None
    )


def _contacts(texts: bool = False) -> pd.DataFrame:
    """500 parties in 2010: 249 with one contact, 251 with three -> 49.8 % have <= 2.

    With ``texts``: 7 party contacts mention the BRI in 2014-2017, plus BRI mentions
    outside that period (2013, 2018) and in a non-party contact, which must not count.
    """
    rows = [("party", f"P{i:03d}", 2010, "greetings") for i in range(249)]
    rows += [("party", f"Q{i:03d}", 2010, "greetings") for i in range(251) for _ in range(3)]
    rows += [("party", "P000", year, BRI) for year in (2014, 2015, 2015, 2016, 2017, 2017, 2017)]
    rows += [("party", "P001", 2013, BRI), ("party", "P002", 2018, BRI), ("state", None, 2015, BRI)]
    frame = pd.DataFrame(rows, columns=["counterpart_type", "party_id", "year", "text"])
    frame["iso3"] = "VNM"
    return frame if texts else frame.drop(columns="text")


def _figure(relation: str, value: float = 0.50, tolerance: float = 0.0) -> dict[str, object]:
    return {
        "key": "share_parties_le2",
        "value": value,
        "kind": "share",
        "relation": relation,
        "tolerance": tolerance,
    }


def test_computed_share_is_below_one_half() -> None:
    frame = compare_published(_study(_contacts()), [_figure("exactly", 0.498)], last_year=2012)
    assert frame.loc[0, "computed_value"] == pytest.approx(249 / 500)


@pytest.mark.parametrize(
    "figure, verdict",
    [
        (_figure("more than"), "not more than 50.0%"),  # the old rule said "match"
        (_figure("less than"), "match"),
        (_figure("about", tolerance=0.025), "match"),
        (_figure("about", tolerance=0.001), "differs by -0.2 points"),
        (_figure("exactly", tolerance=0.005), "match"),  # "50 %" printed to a whole percent
        (_figure("exactly", 0.4985, tolerance=0.0005), "match"),
        (_figure("exactly"), "differs by -0.2 points"),
        (_figure("more than", 0.49), "match"),
    ],
)
def test_each_relation_is_honoured(figure: dict[str, object], verdict: str) -> None:
    frame = compare_published(_study(_contacts()), [figure], first_year=2002, last_year=2012)
    assert frame.loc[0, "comparison"] == verdict
    assert frame.loc[0, "relation"] == figure["relation"]


def test_counts_and_the_published_wording() -> None:
    figures = [
        {"key": "parties_contacted", "value": 500, "kind": "count", "relation": "exactly"},
        {"key": "parties_contacted", "value": 500, "kind": "count", "relation": "more than"},
        {"key": "parties_contacted", "value": 480, "kind": "count", "relation": "about"}
        | {"tolerance": 25},
    ]
    frame = compare_published(_study(_contacts()), figures, last_year=2012)
    assert frame["comparison"].tolist() == ["match", "not more than 500", "match"]
    assert frame["published"].tolist() == ["500", "more than 500", "about 480 (within 25)"]
    assert published_rule(_figure("about", 0.25, 0.025)) == "about 25.0% (within 2.5 points)"


def test_bri_meetings_from_texts_over_the_figure_period() -> None:
    bri = {
        "key": "party_contacts_mentioning",
        "topic": "belt_and_road",
        "value": 5,
        "kind": "count",
        "relation": "more than",
        "first_year": 2014,
        "last_year": 2017,
    }
    # the file's period (2002-2017) is overridden by the figure's own 2014-2017
    with_texts = compare_published(_study(_contacts(texts=True)), [bri], first_year=2002)
    assert with_texts.loc[0, "computed_value"] == 7
    assert with_texts.loc[0, "comparison"] == "match"
    without = compare_published(_study(_contacts()), [bri], first_year=2002)
    assert without.loc[0, "comparison"] == "not computable"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "published.toml"
    path.write_text('[[figure]]\nkey = "contacts_total"\nvalue = 1\nkind = "count"\n' + body)
    return path


@pytest.mark.parametrize(
    "body, message",
    [
        ("approx = true\n", "'approx' is no longer read"),
        ('relation = "roughly"\n', "unknown relation"),
        ('relation = "about"\n', "'about' needs a tolerance"),
        ("tolerance = -1\n", "tolerance must be a number"),
    ],
)
def test_load_published_refuses_unclear_rules(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_published(_write(tmp_path, body))


def test_topic_figure_needs_its_topic(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[figure]]\nkey = "party_contacts_mentioning"\nvalue = 1\n')
    with pytest.raises(SpecError, match="needs the topic"):
        load_published(path)


def test_load_published_defaults_to_exactly(tmp_path: Path) -> None:
    (item,) = load_published(_write(tmp_path, ""))
    assert item["relation"] == "exactly" and item["tolerance"] == 0.0


# --------------------------------------------------------------------- the shipped file
def _wording_relation(quoted: str) -> str:
    if quoted.startswith("more than"):
        return "more than"
    return "about" if quoted.startswith("about") else "exactly"


def test_shipped_relations_follow_the_quoted_wording() -> None:
    figures = load_published(PUBLISHED)
    assert all(f["relation"] in RELATIONS for f in figures)
    for f in figures:
        quoted = str(f["quoted"])
        if f["key"] in ("share_ruling", "share_opposition_not_free_rus"):
            continue  # a share derived from printed counts / a share worded as "half"
        expected = _wording_relation(quoted.split("(")[-1] if f["kind"] == "share" else quoted)
        assert f["relation"] == expected, f["key"]
        if f["kind"] == "share" and f["relation"] == "exactly":
            assert f["tolerance"] == 0.005, f["key"]  # printed as a whole percent


def test_shipped_shares_agree_with_the_printed_counts() -> None:
    by_key = {f["key"]: f for f in load_published(PUBLISHED)}
    party = by_key["contacts_party"]["value"]
    for share, count in (
        ("share_ruling", "contacts_ruling"),
        ("share_opposition", "contacts_opposition"),
    ):
        implied = by_key[count]["value"] / party
        assert abs(implied - by_key[share]["value"]) <= by_key[share]["tolerance"], share
    assert by_key["share_ruling"]["value"] > 0.70  # "more than 70 %"
    assert by_key["contacts_total"]["value"] == party + by_key["contacts_nonparty"]["value"]
    bri = by_key["party_contacts_mentioning"]
    assert (bri["first_year"], bri["last_year"], bri["relation"]) == (2014, 2017, "more than")


def test_packaged_copy_is_identical() -> None:
    packaged = REPO / "cpcstats" / "project" / "replication" / "published.toml"
    assert packaged.read_bytes() == PUBLISHED.read_bytes()
    tomllib.loads(PUBLISHED.read_text(encoding="utf-8"))


@pytest.mark.skipif(not STUDY_MD.exists(), reason="the study description is not on this machine")
def test_every_quoted_wording_is_the_studys() -> None:
    text = STUDY_MD.read_text(encoding="utf-8")
    for f in load_published(PUBLISHED):
        assert f"| {f['quoted']} |" in text or f"| {f['quoted']} " in text, f["key"]


def test_demo_counts_bri_meetings_from_its_texts() -> None:
    study = cpcstats.load_study("demo")
    figures = [f for f in load_published(PUBLISHED) if f["key"] == "party_contacts_mentioning"]
    frame = compare_published(study, figures, first_year=2002, last_year=2017)
    contacts = study.contacts
    expected = (
        (contacts["counterpart_type"] == "party")
        & contacts["year"].between(2014, 2017)
        & contacts["text"].str.contains("Belt and Road", case=False, na=False)
    ).sum()
    assert frame.loc[0, "computed_value"] == expected
