"""The multiverse: identical results files on every executor, resume, isolated failures,
clear errors for bad files, and the figures and table of a run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.execution import DaskExecutor, ProcessExecutor
from cpcstats.multiverse.config import load_multiverse
from cpcstats.multiverse.expand import expand
from cpcstats.multiverse.outputs import write_outputs
from cpcstats.multiverse.run import run_multiverse
from cpcstats.multiverse.summary import loo_shifts, summary_frame

REPO = Path(__file__).resolve().parents[1]

SMALL = """
[multiverse]
name = "small"
formula = "contacts ~ ruling + {regime} + {time}"
term = "ruling"
scale = "irr"
cluster = "iso3"

[dimensions.estimator]
poisson = { family = "poisson" }
fe = { family = "fe-poisson", fe = "iso3" }

[dimensions.regime]
fh = { text = "C(fh_status)" }
polyarchy = { text = "polyarchy" }

[dimensions.time]
xi2019 = { text = "post_break", break_year = 2019 }
year-fe = { text = "", fe = "year" }

[dimensions.sample]
all = { sample = "year >= 2016" }
loro = { sample = "year >= 2016", leave_one_out = "region" }

[groups.region]
west = ["USA", "CAN", "GBR", "FRA", "DEU"]
east = ["JPN", "KOR", "VNM", "LAO"]

[[exclude]]
estimator = "fe"
sample = "*"

[[exclude]]
time = "year-fe"
sample = "*"
"""


@pytest.fixture(scope="module")
def panel() -> cpcstats.Panel:
    return cpcstats.party_year(cpcstats.load_study("demo"))


def _file(tmp_path: Path, text: str = SMALL, name: str = "mv.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, panel: cpcstats.Panel) -> bytes:
    folder = tmp_path_factory.mktemp("ref")
    mv = load_multiverse(_file(folder))
    outcome = run_multiverse(mv, panel, folder / "results.parquet")
    assert outcome.fitted == 12 and not outcome.failures
    return (folder / "results.parquet").read_bytes()


def test_expansion_product_minus_exclusions_with_stable_ids(tmp_path: Path, panel) -> None:
    mv = load_multiverse(_file(tmp_path))
    tasks = expand(mv, panel.data)
    # poisson x 2 regimes x (xi2019 x (all, west, east) + year-fe x all) + fe x 2 x 2 x all
    assert len(tasks) == 2 * (3 + 1) + 2 * 2
    assert [t.spec_id for t in tasks] == sorted(t.spec_id for t in tasks)
    assert [t.spec_id for t in expand(mv, panel.data)] == [t.spec_id for t in tasks]
    fe = [t for t in tasks if t.family == "fe-poisson" and dict(t.choices)["time"] == "year-fe"]
    assert fe[0].formula.endswith("| iso3 + year")
    west = [t for t in tasks if dict(t.choices)["sample"] == "loro:west"]
    assert west[0].drop_values == ("CAN", "DEU", "FRA", "GBR", "USA")


def test_seeds_are_spawned_per_specification(tmp_path: Path, panel) -> None:
    text = SMALL.replace(
        "[dimensions.estimator]",
        '[dimensions.se]\ncluster = {}\nboot = { se = "bootstrap" }\n\n[dimensions.estimator]',
    )
    mv = load_multiverse(_file(tmp_path, text))
    one, same, other = (
        expand(mv, panel.data, 1),
        expand(mv, panel.data, 1),
        expand(mv, panel.data, 2),
    )
    assert [(t.spec_id, t.seed) for t in one] == [(t.spec_id, t.seed) for t in same]
    assert len({t.seed for t in one}) == len(one)
    boot = {t.spec_id for t in one if t.se == "bootstrap"}
    assert boot and not boot & {t.spec_id for t in other}  # another seed refits these
    plain = {t.spec_id for t in one if t.se != "bootstrap"}
    assert plain <= {t.spec_id for t in other}  # deterministic fits keep their ids


def test_processes_and_dask_write_identical_files(tmp_path: Path, panel, reference) -> None:
    mv = load_multiverse(_file(tmp_path))
    run_multiverse(mv, panel, tmp_path / "p.parquet", ProcessExecutor(2))
    assert (tmp_path / "p.parquet").read_bytes() == reference
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run_multiverse(mv, panel, tmp_path / "d.parquet", DaskExecutor(cluster.scheduler_address))
    assert (tmp_path / "d.parquet").read_bytes() == reference


def test_resume_fits_only_the_missing_specifications(tmp_path: Path, panel, reference) -> None:
    mv = load_multiverse(_file(tmp_path))
    path = tmp_path / "results.parquet"
    first = run_multiverse(mv, panel, path, limit=4)  # an interrupted run
    assert first.fitted == 4 and len(pd.read_parquet(path)) == 4
    second = run_multiverse(mv, panel, path)
    assert (second.fitted, second.reused) == (8, 4)
    assert path.read_bytes() == reference
    third = run_multiverse(mv, panel, path)
    assert third.fitted == 0 and path.read_bytes() == reference


def test_a_failing_specification_is_isolated_and_reported(tmp_path: Path, panel) -> None:
    bad = SMALL.replace(
        'polyarchy = { text = "polyarchy" }',
        'polyarchy = { text = "polyarchy", sample = "year > 2030" }',
    )
    mv = load_multiverse(_file(tmp_path, bad))
    outcome = run_multiverse(mv, panel, tmp_path / "r.parquet")
    failed = outcome.results[outcome.results["error"] != ""]
    assert set(failed["dim_regime"]) == {"polyarchy"} and len(failed) == len(outcome.failures) == 6
    assert failed["error"].str.contains("selects no rows").all()
    assert failed["estimate"].isna().all() and (outcome.results["error"] == "").sum() == 6


def test_outputs_table_and_influence(tmp_path: Path, panel, reference) -> None:
    (tmp_path / "results.parquet").write_bytes(reference)
    mv = load_multiverse(_file(tmp_path))
    results = pd.read_parquet(tmp_path / "results.parquet")
    shifts = loo_shifts(results, {d.name: d.options[0].name for d in mv.dimensions})
    assert sorted(shifts["left_out"]) == ["east", "east", "west", "west"]
    summary = summary_frame(results, 1.0)
    assert summary.loc["all specifications", "specifications"] == 12
    assert summary.loc["estimator: fe", "specifications"] == 4
    paths = write_outputs(mv, results, tmp_path, simulated=True)
    names = {p.name for p in paths}
    assert {"specification_curve.png", "leave_one_out.pdf", "multiverse_summary.md"} <= names
    assert "SIMULATED" in (tmp_path / "tables" / "multiverse_summary.md").read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[multiverse]", "[multiverse]\nbogus = 1"), "unknown key `bogus`"),
        (('family = "poisson"', 'family = "poison"'), "unknown family 'poison'"),
        (('{ text = "polyarchy" }', '{ txt = "polyarchy" }'), "did you mean `text`"),
        (('estimator = "fe"\nsample', 'estimator = "fee"\nsample'), "has no option 'fee'"),
        (("+ {regime}", "+ {regim}"), "slot {regim}"),
        (('sample = "year >= 2016" }\nloro', 'sample = "__import__(1)" }\nloro'), "sample filter"),
        (('text = "C(fh_status)"', 'text = "C(fh_statsu)"'), "fh_statsu"),
        (('fe = "year"', 'fe = "year", family = "negbin"'), "set by options of both"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, panel, change, message) -> None:
    text = SMALL.replace(*change)
    assert text != SMALL
    with pytest.raises(SpecError, match=message.replace("{", r"\{").replace("(", r"\(")) as info:
        expand(load_multiverse(_file(tmp_path, text)), panel.data)
    assert "mv.toml" in str(info.value)


def test_shipped_example_has_at_least_500_specifications(panel) -> None:
    mv = load_multiverse(REPO / "models" / "multiverse" / "ruling_premium.toml")
    tasks = expand(mv, panel.data)
    assert len(tasks) >= 500
    families = {t.family for t in tasks}
    assert {"poisson", "negbin", "fe-poisson", "zinb", "hurdle-negbin"} <= families
