"""The benchmark script runs (reduced mode) and its correctness checks hold.

Timings are not asserted (they depend on the machine); the benchmark itself prints them as
ratios to peers measured in the same run.  What is asserted: every section ran, the
coefficients agree with the peers, and the report files are written.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmark_runs_and_agrees_with_its_peers(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "benchmark", REPO / "replication" / "benchmark.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ingest_dir = tmp_path / "ingest"
    result = bench.main(["--quick", "--out", str(tmp_path), "--ingest-dir", str(ingest_dir)])
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["mode"] == "quick"
    assert {r["model"] for r in saved["families"]} >= {"poisson", "negbin (NB2)", "zip"}
    for row in saved["families"]:
        assert row["cpcstats_s"] > 0
        if "max_abs_diff" in row:
            assert row["max_abs_diff"] < 1e-4, row  # same estimates as statsmodels
    fe = result["fe_poisson"]
    assert fe["statsmodels_max_abs_diff"] < 1e-6
    if fe.get("pyfixest_s") is not None:
        assert fe["pyfixest_max_abs_diff"] < 1e-5
    assert saved["bootstrap"]["reps"] == 19
    assert saved["bootstrap"]["same_numbers_any_workers"] is True  # any number of processes
    assert [p["events"] for p in saved["panels"]] == [1_000, 10_000]
    ingest = saved["ingest"]
    assert ingest["events"] == 100_000 and ingest["pandas"]["pairs"] == 1
    if importlib.util.find_spec("duckdb") is not None:
        assert ingest["equal_panels"] is True  # the engines' panels and accounts agree
    assert set(saved["sections"]) == {"demo", "ingest", "scaling"}
    assert set(saved["targets"]) == set(bench.TARGETS)
    assert "| target | measured | met |" in (tmp_path / "benchmark.md").read_text()
    # the README's table is the run's: rewritten between its markers, the rest untouched
    readme = tmp_path / "README.md"
    summary = bench.bench_summary
    readme.write_text(f"intro\n{summary.START}\nold table\n{summary.END}\nrest\n")
    assert summary.rewrite_readme(readme, saved)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{summary.END}\nrest\n")
    assert "old table" not in text and "cold `cpcstats replicate --study demo`" in text
    assert summary.summary_table(saved) in text
    scaling = saved["scaling"]
    kinds = {(r["kind"], r["n"]) for r in scaling["rows"]}
    ran = ("nb2",) if scaling["peer_missing"] else ("fe2", "fe3", "nb2")
    assert scaling["peer_missing"] == (importlib.util.find_spec("pyfixest") is None)
    assert kinds == {(k, n) for k in ran for n in (10_000, 100_000)}
    for row in scaling["rows"]:
        assert row["max_abs_diff_tight"] < 1e-8, row  # same estimates as the peer
        assert row["cpcstats_cpu_s"] > 0 and row["peer_cpu_s"] > 0
        assert len(row) and row["repeat"] == 3
    assert {r["kind"] for r in scaling["rows"] if "cpcstats_added_mb" in r} == set(ran)
    # the report is rebuilt from the saved run alone, identically
    text = (tmp_path / "benchmark.md").read_text()
    rebuilt = tmp_path / "rebuilt"
    bench.main(["--from-json", str(tmp_path / "benchmark.json"), "--out", str(rebuilt)])
    assert (rebuilt / "benchmark.md").read_text() == text


def _scaling_module():
    spec = importlib.util.spec_from_file_location(
        "bench_scaling", REPO / "replication" / "bench_scaling.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scaling_table_judges_targets_on_the_cpu_ratio() -> None:
    """A ratio below its target is marked NO, above it yes; memory against the peer."""
    scaling = _scaling_module()
    row = {
        "kind": "fe3",
        "n": 1000,
        "cpcstats_wall_s": 1.0,
        "cpcstats_cpu_s": 1.0,
        "peer_wall_s": 3.0,
        "peer_cpu_s": 1.4,
        "ratio_wall": 3.0,
        "ratio_cpu": 1.4,
        "noise_max_over_min": 1.1,
        "max_abs_diff_tight": 1e-15,
        "cpcstats_added_mb": 50.0,
        "peer_added_mb": 40.0,
    }
    imports = {
        "cpcstats_wall_s": 1.0,
        "cpcstats_cpu_s": 0.3,
        "cpcstats_peak_mb": 120.0,
        "pandas_wall_s": 0.5,
        "pandas_cpu_s": 0.25,
        "pandas_peak_mb": 100.0,
        "cpu_ratio_cpcstats_over_pandas": 1.2,
        "mem_ratio_cpcstats_over_pandas": 1.2,
    }
    lines = scaling.table(
        {"rows": [row, {**row, "kind": "nb2", "ratio_cpu": 2.5}], "imports": imports}
    )
    body = lines.splitlines()
    assert "| ≥ 1.5 | NO |" in body[2]  # 1.4 (CPU) < 1.5, although the wall ratio is 3
    assert "| ≥ 2.0 | yes |" in body[3]
    assert "memory added by the fit, FE3" in lines and "| ≤ peer | NO |" in lines
    assert "1.20 × pandas (CPU)" in lines and lines.rstrip().endswith("| yes | | |")
