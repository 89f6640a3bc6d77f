"""The multiverse: identical results files on every executor, resume, isolated failures,
clear errors for bad files, and the figures and table of a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.execution import DaskExecutor, ProcessExecutor
from cpcstats.multiverse.config import load_multiverse
from cpcstats.multiverse.expand import expand
from cpcstats.multiverse.inference import check_inference, permute_within, run_inference
from cpcstats.multiverse.inference_outputs import write_inference
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


# --- joint inference (SSN 2020): the treatment permuted within strata -------------------

INFERENCE = """
[multiverse]
name = "inf"
formula = "contacts ~ ruling + {regime}"
term = "ruling"
scale = "irr"
cluster = "iso3"

[dimensions.regime]
polyarchy = { text = "polyarchy" }
none = { text = "" }

[dimensions.se]
cluster = {}
hc1 = { se = "hc1", cluster = [] }

[inference]
method = "permutation"
draws = 19
strata = ["iso3", "year"]
subset = { se = ["cluster"] }
seed = 7
"""


def _simulated(panel: cpcstats.Panel, effect: float, seed: int) -> cpcstats.Panel:
    """The demo panel since 2015 with contacts drawn again: log IRR ``effect`` of ruling."""
    frame = panel.data[panel.data["year"] >= 2015].copy()
    rng = np.random.default_rng(seed)
    ruling = frame["ruling"].fillna(0).to_numpy(float)
    mean = np.exp(-0.5 + 0.4 * frame["polyarchy"].fillna(0.5).to_numpy(float) + effect * ruling)
    return panel.with_data(frame.assign(contacts=rng.poisson(mean)))


def _inference(tmp_path: Path, panel: cpcstats.Panel, executor=None, text: str = INFERENCE):
    tmp_path.mkdir(parents=True, exist_ok=True)
    mv = load_multiverse(_file(tmp_path, text, "inf.toml"))
    results = run_multiverse(mv, panel, tmp_path / "inf.parquet").results
    return mv, run_inference(mv, panel, results, executor)


def test_permutation_keeps_every_stratum_total(panel) -> None:
    frame = panel.data
    out = permute_within(frame, "ruling", ("iso3", "year"), np.random.default_rng(1))
    keys = ["iso3", "year"]
    pd.testing.assert_series_equal(
        out.groupby(keys)["ruling"].sum(), frame.groupby(keys)["ruling"].sum()
    )
    assert (out["ruling"] != frame["ruling"]).sum() > 1000 and out["ruling"].dtype == "Int64"
    assert out.drop(columns="ruling").equals(frame.drop(columns="ruling"))


def test_no_effect_gives_a_null_centred_curve_and_no_small_p(tmp_path: Path, panel) -> None:
    """Without an effect the null curve is centred on IRR 1 and the p-value is uniform on
    1/20 ... 1 (19 permutations): one seed in three at the smallest value, 0.05, happens
    (5 % each; on the real-universe demo seed 1 does), two or more would be 0.7 %."""
    smallest = 0
    for seed in (1, 2, 3):
        _, inf = _inference(tmp_path / str(seed), _simulated(panel, 0.0, seed))
        assert inf.specifications == 2 and inf.draws == 19 and len(inf.null) == 19
        assert abs(inf.null["median"].mean() - 1.0) < 0.05  # the null median is near IRR 1
        smallest += inf.p_values["median"] <= 0.05
    assert smallest <= 1


def test_planted_effect_is_detected_and_outputs_written(tmp_path: Path, panel) -> None:
    _, inf = _inference(tmp_path, _simulated(panel, 0.5, 3))
    assert inf.observed["median"] > 1.4 and inf.observed["share_sig_above"] == 1.0
    assert inf.p_values["median"] < 0.05 and inf.p_values["mean_z"] < 0.05
    # every draw has a share significant below 1 of at least 0; the share above saturates at
    # 1.0 with two specifications, and the null keeps the between-stratum part of the effect
    assert inf.p_values["share_sig_below"] == 1.0
    paths = write_inference(inf, tmp_path, label="IRR of ruling", simulated=True)
    assert {"multiverse_inference.md", "null_distribution.png", "inference.json"} <= {
        p.name for p in paths
    }
    table = (tmp_path / "tables" / "multiverse_inference.md").read_text()
    assert "SIMULATED" in table and "median estimate" in table
    record = json.loads((tmp_path / "inference.json").read_text())
    assert record["draws"] == 19 and len(record["null"]["median"]) == 19


def test_inference_is_identical_in_process_and_on_two_processes(tmp_path: Path, panel) -> None:
    small = _simulated(panel, 0.2, 4)
    text = INFERENCE.replace("draws = 19", "draws = 4")
    _, here = _inference(tmp_path / "a", small, None, text)
    _, there = _inference(tmp_path / "b", small, ProcessExecutor(2), text)
    pd.testing.assert_frame_equal(here.null, there.null, check_exact=True)
    assert here.p_values == there.p_values


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("seed = 7", "seed = 7\ndraw = 3"), "unknown key `draw`"),
        (('method = "permutation"', 'method = "bootstrap"'), "method 'bootstrap' is unknown"),
        (("draws = 19", "draws = 0"), "draws must be 1 or more"),
        (('se = ["cluster"]', 'se = ["clustr"]'), "'se' has no option 'clustr'"),
        (("subset = { se", "subset = { sample"), "unknown key `sample`"),
        (('strata = ["iso3", "year"]', 'strata = ["ruling"]'), "both permuted and a stratum"),
    ],
)
def test_bad_inference_tables_give_clear_errors(tmp_path: Path, change, message) -> None:
    text = INFERENCE.replace(*change)
    assert text != INFERENCE
    with pytest.raises(SpecError, match=message) as info:
        load_multiverse(_file(tmp_path, text, "inf.toml"))
    assert "inf.toml" in str(info.value) and "fix" in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('strata = ["iso3", "year"]', 'strata = ["iso3", "yr"]'), r"strata \['yr'\]"),
        (("seed = 7", 'seed = 7\nvariable = "status"'), "not a 0/1 or numeric column"),
        (("seed = 7", 'seed = 7\nvariable = "rulling"'), "'rulling' is not a column"),
    ],
)
def test_inference_checks_the_panel(tmp_path: Path, panel, change, message) -> None:
    mv = load_multiverse(_file(tmp_path, INFERENCE.replace(*change), "inf.toml"))
    with pytest.raises(SpecError, match=message) as info:
        check_inference(mv, panel.data)
    assert "inference." in str(info.value)
