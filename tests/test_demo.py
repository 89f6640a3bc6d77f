"""The embedded demo study: reproducible from its seed, calibrated to the published figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cpcstats
from cpcstats.demo import generate
from cpcstats.descriptives import study_figures

DATA = Path(generate.__file__).parent / "data"


def test_shipped_files_are_what_the_seeded_generator_writes(tmp_path: Path) -> None:
    written = generate.write(generate.generate(), tmp_path)
    assert len(written) == 5
    for path in written:
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name


def test_truth_is_stored_beside_the_data() -> None:
    truth = json.loads((DATA / "truth.json").read_text())
    params = generate.load_parameters()
    assert truth["simulated"] is True
    assert truth["party_year_effects"]["ruling"] == params["party_contacts"]["ruling"]
    assert truth["country_year_effects"]["bri_member"] == params["party_contacts"]["bri_member"]
    for name in ("ruling", "left_roots", "xi_era", "bri_member", "recognizes_prc"):
        assert name in truth["party_year_effects"]
    assert truth["parameters"]["party_contacts"]["alpha"] > 0


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return study_figures(cpcstats.load_study("demo"))


def test_calibrated_to_the_published_totals(figures: dict[str, float]) -> None:
    assert abs(figures["contacts_total"] - 3658) <= 0.10 * 3658
    assert abs(figures["contacts_party"] - 2610) <= 0.10 * 2610
    assert abs(figures["parties_contacted"] - 462) <= 0.10 * 462
    assert abs(figures["party_countries"] - 161) <= 0.10 * 161


def test_calibrated_to_the_published_structure(figures: dict[str, float]) -> None:
    assert 0.62 <= figures["share_ruling"] <= 0.78  # "more than 70 %"
    assert figures["top_partner_contacts"] > 100
    assert figures["share_parties_le2"] > 0.5
    assert 0.15 <= figures["share_parties_ge5"] <= 0.35
    assert figures["share_opposition_free"] > 0.5
    assert figures["share_opposition_not_free"] < 0.2


def test_contacts_rise_after_2012() -> None:
    study = cpcstats.load_study("demo")
    per_year = study.contacts.groupby("year").size()
    before = per_year.loc[2002:2012].mean()
    after = per_year.loc[2013:2017].mean()
    assert after > 1.4 * before


def test_every_demo_country_and_party_is_known() -> None:
    study = cpcstats.load_study("demo")
    assert study.simulated
    assert study.parties is not None
    assert set(study.contacts["iso3"]) <= set(study.states["iso3"])
    party_ids = set(study.contacts.loc[study.contacts.counterpart_type == "party", "party_id"])
    assert party_ids <= set(study.parties["party_id"])
    assert study.parties["party_name"].str.contains("simulated").all()
