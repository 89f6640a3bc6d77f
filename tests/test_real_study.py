"""The real-data study (replication/studies/elite_engagements.toml) on ../shared/data.

Checks the study's panel against independent counts from the raw files (plain pandas),
that ``cpcstats check`` accounts for every row and ``replicate`` produces the
country-year designs while skipping the party-level ones with a reason.  Skipped when
the shared data folder is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.check import check_study
from cpcstats.cli import main
from cpcstats.panels import country_year
from cpcstats.study import load_study

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "replication" / "studies" / "elite_engagements.toml"
ENGAGEMENTS = "china_vitae_elite_engagements_2003_2018.csv"


@pytest.fixture(scope="module")
def study_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped study file, pointed at wherever the shared data are."""
    text = STUDY.read_text(encoding="utf-8").replace("../../../shared/data", shared_data.as_posix())
    path = tmp_path_factory.mktemp("elite") / "elite_engagements.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / ENGAGEMENTS)


@pytest.fixture(scope="module")
def study(study_file: Path):
    return load_study(study_file)


def test_every_country_name_is_matched_or_excluded_with_a_reason(study, raw) -> None:
    rep = study.harmonisation["contacts"]
    assert rep.unmatched == {}
    assert set(rep.excluded) == {"Taiwan", "Cook Islands"}
    assert all(len(reason) > 20 for reason in rep.excluded.values())
    assert rep.overridden == {"England": "GBR", "Wales": "GBR"}
    excluded_rows = int(raw["country"].isin(["Taiwan", "Cook Islands"]).sum())
    assert rep.rows_excluded == excluded_rows == 37
    assert len(study.contacts) == len(raw) - excluded_rows


def test_panel_yearly_sums_equal_independent_counts(study, raw) -> None:
    """Raw events per year, minus the stated exclusions (Taiwan, Cook Islands) and the
    panel's stated drop (Montenegro before its 2006 independence), equal the panel's
    yearly contact sums."""
    panel = country_year(study)
    kept = raw[~raw["country"].isin(["Taiwan", "Cook Islands"])]
    montenegro_early = (kept["country"] == "Montenegro") & (kept["year"] < 2006)
    expected = kept[~montenegro_early].groupby("year").size()
    got = panel.data.groupby("year")["contacts"].sum()
    pd.testing.assert_series_equal(got.astype(int), expected.astype(int), check_names=False)
    (counts,) = [a for a in panel.accounts if a.stage.endswith("contact counts")]
    assert counts.notes["unmatched_countries"] == {"MNE": int(montenegro_early.sum())}


def test_country_totals_for_known_spellings(study, raw) -> None:
    panel = country_year(study).data
    by_country = panel.groupby("iso3")["contacts"].sum()
    uk = int(raw["country"].isin(["United Kingdom", "England", "Wales"]).sum())
    assert by_country["GBR"] == uk
    assert by_country["USA"] == int((raw["country"] == "United States").sum())


def test_direction_rule_matches_an_independent_regex(study, raw) -> None:
    text = raw.loc[~raw["country"].isin(["Taiwan", "Cook Islands"]), "text"].fillna("")
    outbound = text.str.contains(r"travel+ed to", flags=re.IGNORECASE)
    inbound = ~outbound & text.str.contains(r"\bwas in\b", flags=re.IGNORECASE)
    got = study.contacts["direction"].value_counts()
    assert got["outbound"] == int(outbound.sum())
    assert got["inbound"] == int(inbound.sum())
    assert got["unknown"] == int((~outbound & ~inbound).sum())


def test_covariates_equal_the_raw_sources(study, shared_data: Path) -> None:
    fh = pd.read_csv(shared_data / "freedom_house_1990_2024.csv")
    vdem = pd.read_csv(shared_data / "vdem_indices_1990_2024.csv")
    cov = study.covariates.set_index(["iso3", "year"])
    for name, iso, year in (("Norway", "NOR", 2010), ("China", "CHN", 2015), ("Mali", "MLI", 2013)):
        row = fh[(fh["fh_country"] == name) & (fh["year"] == year)].iloc[0]
        assert cov.loc[(iso, year), "fh_status"] == row["status"]
        assert cov.loc[(iso, year), "fh_total"] == row["fh_total"]
    sample = vdem[
        (vdem["country_text_id"].isin(["DEU", "BRA", "ZAF"])) & vdem["year"].between(2003, 2018)
    ]
    for r in sample.itertuples():
        assert np.isclose(cov.loc[(r.country_text_id, r.year), "polyarchy"], r.v2x_polyarchy)
    assert cov.loc[("NOR", 2010), "fh_status"] == "F"
    assert "regime_type" in cov.columns


def test_check_reports_everything_and_passes(study_file: Path, capsys) -> None:
    report = check_study(study_file)
    assert report.ok, report.problems
    text = report.text()
    for needle in (
        "Taiwan",
        "Cook Islands",
        "England",
        "direction derived",
        "MNE",
        "fh_total is PR",
    ):
        assert needle in text, needle
    assert main(["check", "--study", str(study_file)]) == 0
    assert "OK: every input row" in capsys.readouterr().out


def test_check_fails_when_a_name_is_dropped_without_a_reason(
    study_file: Path, raw: pd.DataFrame, tmp_path: Path
) -> None:
    """A spelling that matches nothing and has no stated rule makes the check fail (exit
    1) and names it with its rows."""
    changed = raw.copy()
    changed.loc[changed.index[:3], "country"] = "Atlantis"
    changed.to_csv(tmp_path / ENGAGEMENTS, index=False)
    text = study_file.read_text(encoding="utf-8")
    text = re.sub(r'path = "[^"]*' + ENGAGEMENTS + '"', f'path = "{ENGAGEMENTS}"', text)
    path = tmp_path / "unmatched.toml"
    path.write_text(text, encoding="utf-8")
    report = check_study(path)
    assert not report.ok
    assert "'Atlantis' (3 rows)" in report.problems[0]
    assert main(["check", "--study", str(path)]) == 1


def test_replicate_runs_country_designs_and_skips_party_ones(
    study_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "elite"
    assert main(["replicate", "--study", str(study_file), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(results["designs"]) == {"design_xi", "design_taiwan", "design_bri"}
    for name in results["designs"]:
        assert (out / "tables" / f"{name}.tex").exists()
        assert (out / "figures" / f"{name}.pdf").exists()
    skipped = {s["name"]: s["reason"] for s in results["skipped"]}
    for name in ("design_ruling_regime", "design_ideology"):
        assert "no party-year panel" in skipped[name]
    assert "no party-year data" in skipped["party_nb_ruling_fh"]
    assert not results["simulated"]
    # every excluded row is in the manifest with its reason
    (harm,) = [s for s in manifest["stages"] if s["stage"] == "contacts: country harmonisation"]
    assert harm["dropped"]["excluded by study rule"] == 37
    assert set(harm["notes"]["excluded"]) == {"Taiwan", "Cook Islands"}
    assert any("direction derived" in n for n in manifest["study"]["rules_applied"])
    assert not (out / "tables" / "published_figures.tex").exists()  # [published] not enabled
    # the texts are tagged: yearly topic table and figure, topic columns on the panel
    assert (out / "tables" / "topics_yearly.tex").exists()
    assert (out / "figures" / "topics_yearly.png").exists()
    assert results["topics"]["unit"] == "item" and len(results["topics"]["yearly"]) == 16
    panel = pd.read_csv(out / "panels" / "country_year.csv")
    assert panel["contacts_belt_and_road"].sum() == sum(
        r["belt_and_road"] for r in results["topics"]["yearly"]
    )
    for stage in manifest["stages"]:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped"].values())
