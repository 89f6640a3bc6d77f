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
    result = bench.main(["--quick", "--out", str(tmp_path)])
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
    assert [p["events"] for p in saved["panels"]] == [1_000, 10_000]
    assert set(saved["targets"]) == set(bench.TARGETS)
    assert "| target | measured | met |" in (tmp_path / "benchmark.md").read_text()
