"""Run a multiverse: expand, skip what the results file has, fit the rest on an executor.

Why the runner owns the results file (not the executor): resume is a property of the
analysis (which specification ids exist), while the executor only knows items.  Tasks
are spawned seeds' worth of work in a fixed order (sorted ids), so a rerun and a run with
any executor see the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.execution import Executor, InProcessExecutor
from cpcstats.execution.base import ProgressCallback
from cpcstats.multiverse.config import Multiverse
from cpcstats.multiverse.expand import SpecTask, expand
from cpcstats.multiverse.results import ResultWriter, read_results, record_row
from cpcstats.multiverse.tasks import failed_record, fit_task, model_spec
from cpcstats.panels import Panel

__all__ = ["RunOutcome", "run_multiverse"]


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: all rows (sorted by id), how many were fitted now, which failed."""

    results: pd.DataFrame
    fitted: int
    reused: int
    failures: tuple[tuple[str, str], ...]
    path: Path


def _previous(path: Path, tasks: list[SpecTask]) -> dict[str, dict[str, Any]]:
    """Successful rows of an earlier run whose ids still belong to this multiverse.

    Failed rows are fitted again: a failure may have been the machine's (memory, a lost
    worker) or fixed since, and a fit that fails again costs one attempt.
    """
    frame = read_results(path)
    if frame is None:
        return {}
    wanted = {t.spec_id for t in tasks}
    rows = frame.to_dict("records")
    return {r["spec_id"]: r for r in rows if r["spec_id"] in wanted and r["error"] == ""}


def run_multiverse(
    mv: Multiverse,
    panel: Panel,
    results_path: Path,
    executor: Executor | None = None,
    *,
    progress: ProgressCallback | None = None,
    limit: int | None = None,
    seed: int | None = None,
) -> RunOutcome:
    """Fit every specification not yet in ``results_path``; ``limit`` stops after that many.

    ``limit`` exists for tests and for sampling a huge multiverse: it fits the first
    ``limit`` missing ids (in id order) and leaves the rest for a rerun, exactly like an
    interrupted run.
    """
    executor = executor or InProcessExecutor()
    tasks = expand(mv, panel.data, seed)
    for task in {
        (t.family, t.formula, t.inflation, t.se, t.cluster, t.sample): t for t in tasks
    }.values():
        model_spec(task, panel.level, mv.source)  # a bad se or filter fails here, not 800 times
    rows = _previous(results_path, tasks)
    reused = len(rows)
    todo = [t for t in tasks if t.spec_id not in rows]
    if limit is not None:
        todo = todo[:limit]
    writer = ResultWriter(results_path, rows)
    failures = []
    try:
        for result in executor.map(fit_task, todo, shared=panel, progress=progress):
            record = result.value if result.ok else failed_record(str(result.error))
            if not result.ok:
                failures.append((result.item.spec_id, str(result.error)))
            writer.add(record_row(result.item, record))
    finally:
        writer.flush()
    frame = pd.DataFrame(list(rows.values())).sort_values("spec_id", kind="mergesort")
    return RunOutcome(
        frame.reset_index(drop=True), len(todo), reused, tuple(failures), results_path
    )
