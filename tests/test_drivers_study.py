"""The China drivers study (replication/studies/china_drivers) on ../shared/data.

The China Vitae engagements with the real country-year drivers
(china_country_year_drivers_2002_2017.csv): the study file's covariate rules (columns
used, "NA" codes, identical repeated rows, AidData visit coverage) are checked against
plain pandas on the raw file, ``check`` passes, and ``replicate`` writes the drivers table
labelled as real data.  Skipped when the shared data folder is absent.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.check import check_study
from cpcstats.cli import main
from cpcstats.panels import country_year
from cpcstats.study import load_study
from cpcstats.study.covariate_rules import DROP_REPEAT

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "replication" / "studies" / "china_drivers"
DRIVERS = "china_country_year_drivers_2002_2017.csv"
USED = ["aid", "debt", "imports", "exports", "agree", "dist", "govt_visits", "mil_visits"]


@pytest.fixture(scope="module")
def study_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped study folder, its data paths pointed at wherever the shared data are."""
    if not (shared_data / DRIVERS).is_file():
        pytest.skip(f"{DRIVERS} not in {shared_data}")
    out = tmp_path_factory.mktemp("drivers")
    text = (FOLDER / "study.toml").read_text(encoding="utf-8")
    (out / "study.toml").write_text(
        text.replace("../../../../shared/data", shared_data.as_posix()), encoding="utf-8"
    )
    (out / "replication.toml").write_text(
        (FOLDER / "replication.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (out / "models").mkdir()
    for spec in (FOLDER / "models").glob("*.toml"):
        (out / "models" / spec.name).write_text(spec.read_text(encoding="utf-8"), "utf-8")
    return out / "study.toml"


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / DRIVERS)


@pytest.fixture(scope="module")
def study(study_file: Path):
    return load_study(study_file)


def test_repeated_rows_are_identical_in_the_columns_used(study, raw) -> None:
    """208 rows repeat a country-year; in the columns used they are identical (they differ
    only in Xinhua's counts), so counting them once loses nothing."""
    (account,) = [a for a in study.ledger.stages if a.stage == "covariates: identical rows"]
    used = raw[["recipient_iso3", "year", *USED]]
    assert account.dropped[DROP_REPEAT] == int(used.duplicated().sum()) == 208
    assert int(raw.duplicated(["recipient_iso3", "year"]).sum()) == 208
    assert raw["recipient_iso3"].nunique() == 142
    assert set(raw["recipient_iso3"]) == set(study.covariates.dropna(subset=["aid"])["iso3"])


def test_covariates_equal_the_raw_file(study, raw) -> None:
    cov = study.covariates.set_index(["iso3", "year"])
    first = raw.drop_duplicates(["recipient_iso3", "year"]).set_index(["recipient_iso3", "year"])
    for column in ("aid", "imports", "exports", "agree", "dist"):
        ours = cov[column].reindex(first.index).astype(float)
        theirs = first[column].astype(float)
        assert np.allclose(ours, theirs, equal_nan=True), column
        assert ours.isna().sum() == theirs.isna().sum()


def test_visits_are_missing_outside_the_covered_countries(study, raw, study_file: Path) -> None:
    config = tomllib.loads(study_file.read_text(encoding="utf-8"))
    covered = set(config["covariates"]["coverage"]["govt_visits"])
    asia = raw["region"].isin(["East Asia & Pacific", "South Asia"])
    central = raw["recipient_iso3"].isin(["KAZ", "KGZ", "TJK", "TKM", "UZB"])
    assert covered == set(raw.loc[asia | central, "recipient_iso3"])
    visited = set(raw.loc[raw["total_visits"] > 0, "recipient_iso3"])
    assert visited <= covered  # no real visit is blanked
    cov = study.covariates.dropna(subset=["aid"])
    inside = cov["iso3"].isin(covered)
    assert cov.loc[~inside, ["govt_visits", "mil_visits"]].isna().all().all()
    assert cov.loc[inside, "govt_visits"].notna().all()
    note = [n for n in study.notes if n.startswith("[covariates] coverage: govt_visits")]
    n_out = int(
        (~raw.drop_duplicates(["recipient_iso3", "year"])["recipient_iso3"].isin(covered)).sum()
    )
    assert note and f"{n_out:,} value(s) elsewhere set missing (0 of them not zero)" in note[0]


def test_panel_has_the_drivers_of_the_states(study) -> None:
    panel = country_year(study).data
    assert panel["year"].between(2003, 2017).all()
    with_aid = panel.dropna(subset=["aid"])
    # the 142 countries of the file, less the units that are not states in the panel
    assert 125 <= with_aid["iso3"].nunique() <= 142
    assert int(panel["contacts"].sum()) == 5421


def test_check_passes(study_file: Path) -> None:
    report = check_study(study_file)
    assert report.ok, report.problems
    text = report.text()
    assert "covariates: identical rows: 2480 in, 2272 out" in text
    assert "142 distinct spellings; 142 matched" in text


def test_replicate_writes_the_drivers_table_as_real_data(study_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "drivers"
    assert main(["--quiet", "replicate", "--study", str(study_file), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert not results["simulated"]
    table = (out / "tables" / "table_drivers.md").read_text(encoding="utf-8")
    assert "real data" in table and "SIMULATED" not in table
    assert "log(1 + Govt visits)" in table  # the term log1p(govt_visits), labelled
    manifest = json.loads((out / "manifest.json").read_text())
    for stage in manifest["stages"]:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped"].values())
