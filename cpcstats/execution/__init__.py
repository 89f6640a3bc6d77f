"""Executors: run many small pure tasks in-process, on local processes or on Dask.

One interface for the multiverse, the bootstrap and the Monte Carlo: ``map(task, items,
shared=...)`` yields one `TaskResult` per item, in submission order, whatever the
executor and the number of workers; a task that raises is returned as a failed result
with its item, so one bad specification never stops the others.  Seeds for random tasks
come from `spawn_seeds` (``numpy.random.SeedSequence(seed).spawn(n)``), so every
task draws the same numbers wherever it runs.
"""

from __future__ import annotations

from cpcstats.execution.base import (
    Executor,
    InProcessExecutor,
    Progress,
    TaskResult,
    make_executor,
    spawn_seeds,
    stderr_progress,
)
from cpcstats.execution.dask_executor import DaskExecutor
from cpcstats.execution.processes import BackgroundTasks, ProcessExecutor, TaskTimeout, start_method

__all__ = [
    "BackgroundTasks",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "Progress",
    "TaskResult",
    "TaskTimeout",
    "make_executor",
    "spawn_seeds",
    "start_method",
    "stderr_progress",
]
