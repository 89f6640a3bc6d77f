"""The replication's designs on worker processes: merged as the serial run merges them.

Stand-in designs (this module's ``run``, registered under made-up kinds) succeed, fail
with a model error, are skipped, raise an unexpected error, kill their worker or hang;
for each, two workers must leave the same ``failed``/``skipped`` entries, records, files
and progress lines as one, or raise the same error, and never hang.  The whole demo
replication's files are compared between one and two workers in tests/test_replicate.py.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from cpcstats.designs import DESIGNS
from cpcstats.designs.base import ResearchDesignResult
from cpcstats.errors import EstimationError, SpecError
from cpcstats.execution import processes
from cpcstats.replicate.config import PACKAGED_CONFIG, load_replication_config
from cpcstats.replicate.parallel import DesignRuns, replication_workers
from cpcstats.replicate.stages import ReplicationResult

KINDS = ("fake_ok", "fake_fail", "fake_skip", "fake_crash", "fake_bug", "fake_hang")


def run(study: Any, panels: Any, out: Path, *, specs: list, behaviour: str) -> ResearchDesignResult:
    """A stand-in design: writes one file and returns a record, or misbehaves as told."""
    in_worker = multiprocessing.parent_process() is not None
    if behaviour == "fail":
        raise EstimationError("the model did not converge")
    if behaviour == "bug":
        raise ZeroDivisionError("a bug, not a model failure")
    if behaviour == "hang" and in_worker:
        time.sleep(60)
    if behaviour == "crash" and in_worker:
        os._exit(9)
    if behaviour == "skip":
        return ResearchDesignResult("s", "S", skipped="the study has no parties")
    path = out / f"{behaviour}.txt"
    path.write_text(f"{behaviour}\n")
    return ResearchDesignResult(behaviour, f"Title {behaviour}", [path], [], {"value": 1.5})


@pytest.fixture(autouse=True)
def fake_designs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the stand-ins, and fork the workers even when an earlier test left threads
    running (spawned workers would not see the registrations)."""
    for kind in KINDS:
        monkeypatch.setitem(DESIGNS, kind, __name__)
    monkeypatch.setattr(processes, "start_method", lambda: "fork")


def _merge(tmp_path: Path, behaviours: list[str], workers: int, timeout: float | None = None):
    cfg = dataclasses.replace(
        load_replication_config(PACKAGED_CONFIG),
        designs=tuple({"kind": f"fake_{b}", "name": f"d_{b}", "behaviour": b} for b in behaviours),
        timeout=timeout,
    )
    out = tmp_path / f"w{workers}"
    out.mkdir()
    # no texts (no topics), no published figures (no comparison tables)
    study = SimpleNamespace(contacts=pd.DataFrame({"year": [2000]}), published=None)
    result, lines = ReplicationResult(out), []
    with DesignRuns(cfg, {}, study, {}, out, workers) as runs:  # type: ignore[arg-type]
        assert runs.parallel == (workers > 1)
        assert runs.published() == []
        records = runs.collect(result, lines.append)
        topics = runs.topics(result, None, lines.append)  # type: ignore[arg-type]
    assert topics is None
    files = sorted(p.relative_to(out).as_posix() for p in result.files)
    return records, result.failed, result.skipped, files, lines


def test_two_workers_merge_as_one(tmp_path: Path) -> None:
    behaviours = ["ok", "fail", "skip"]
    serial = _merge(tmp_path, behaviours, 1)
    assert _merge(tmp_path, behaviours, 2) == serial
    records, failed, skipped, files, lines = serial
    assert records == {"d_ok": {"title": "Title ok", "value": 1.5, "models": []}}
    assert failed == {"d_fail": "the model did not converge"}
    assert skipped == {"d_skip": "the study has no parties"}
    assert files == ["ok.txt"]
    assert lines == [
        "      design d_ok: 0 models, 1 files",
        "      design d_fail: FAILED, the model did not converge",
        "      design d_skip: skipped, the study has no parties",
        "      topics: skipped, the contacts have no texts",
    ]


def test_an_unexpected_error_is_raised_as_in_the_serial_run(tmp_path: Path) -> None:
    for workers in (1, 2):
        with pytest.raises(ZeroDivisionError, match="a bug"):
            _merge(tmp_path, ["ok", "bug"], workers)


def test_a_design_whose_worker_dies_runs_again_here(tmp_path: Path) -> None:
    records, failed, _, files, lines = _merge(tmp_path, ["crash", "ok"], 2)
    assert not failed and files == ["crash.txt", "ok.txt"]
    assert "d_crash" in records and "d_ok" in records
    assert "its worker process stopped" in lines[0] and lines[1].startswith("      design d_crash")


def test_a_hanging_design_fails_at_the_timeout(tmp_path: Path) -> None:
    start = time.monotonic()
    _, failed, _, _, _ = _merge(tmp_path, ["hang", "ok"], 2, timeout=2.0)
    assert time.monotonic() - start < 30
    assert failed["d_hang"] == "not finished within [execution] timeout = 2 s"
    # no worker is left: asked of the system, not of multiprocessing's own records, which
    # count a worker reaped by the pool's manager thread as running for ever
    # (`processes.running`)
    left = [p.pid for p in multiprocessing.active_children() if processes.running(p.pid)]
    assert not left, left


def test_workers_from_the_argument_the_configuration_or_the_cores() -> None:
    cfg = dataclasses.replace(load_replication_config(PACKAGED_CONFIG), workers=3)
    assert replication_workers(1, cfg) == 1
    assert replication_workers(None, cfg) == 3
    assert replication_workers(None, None) == len(os.sched_getaffinity(0))


def test_execution_keys_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "replication.toml"
    for text, column in [
        ("[execution]\nworkers = 0\n", "workers"),
        ("[execution]\ntimeout = -5\n", "timeout"),
        ("[execution]\nworker = 2\n", None),
    ]:
        config.write_text(text)
        with pytest.raises(SpecError) as err:
            load_replication_config(config)
        assert column is None or err.value.column == column
    config.write_text("[execution]\nworkers = 2\ntimeout = 90\n")
    cfg = load_replication_config(config)
    assert (cfg.workers, cfg.timeout) == (2, 90.0)
