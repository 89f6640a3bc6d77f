"""The executor interface, the in-process executor, seeds and progress.

Why an interface of our own over ``concurrent.futures`` and Dask: the callers (multiverse,
bootstrap, Monte Carlo) need three guarantees the engines do not give by themselves —
results in submission order (so output files do not depend on which worker finished
first), failures as values (one failed fit must not cancel a thousand others), and the
shared data shipped once rather than with every task.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from cpcstats.errors import SpecError

__all__ = [
    "Executor",
    "InProcessExecutor",
    "Progress",
    "ProgressTracker",
    "TaskResult",
    "call_task",
    "make_executor",
    "next_in_order",
    "spawn_seeds",
    "stderr_progress",
]

#: ``task(item, shared)``: a module-level (picklable) function of one item and the shared data
Task = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome: its value, or the error text (with the item that caused it)."""

    index: int
    item: Any
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Progress:
    """How far a run is: done of total, tasks per second, and the estimated time left."""

    done: int
    total: int
    elapsed: float
    failed: int = 0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


ProgressCallback = Callable[[Progress], None]


def call_task(task: Task, item: Any, shared: Any) -> tuple[Any, str | None]:
    """Run one task, turning an exception into its text (why: failures are values)."""
    try:
        return task(item, shared), None
    except Exception as exc:  # every failure is reported with its item
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {last[0].name}:{last[0].lineno})" if last else ""
        return None, f"{type(exc).__name__}: {exc}{where}"[:2000]


def spawn_seeds(seed: int | None, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of the user's seed, in task order.

    Why: a task's random stream then depends only on the seed and the task's position in
    the full list, never on which worker runs it or how many workers there are.
    """
    return np.random.SeedSequence(seed).spawn(n)


def next_in_order(
    pending: deque[tuple[int, Any]], items: list[Any], tracker: ProgressTracker
) -> TaskResult:
    """The oldest pending future's result (submission order); a lost worker fails one task."""
    index, future = pending.popleft()
    try:
        value, error = future.result()
    except Exception as exc:  # a crashed or lost worker fails its task only
        value, error = None, f"worker failed: {type(exc).__name__}: {exc}"[:2000]
    result = TaskResult(index, items[index], value, error)
    tracker.update(result)
    return result


class ProgressTracker:
    """Counts finished tasks and calls the progress callback at most every ``every`` s."""

    def __init__(self, total: int, callback: ProgressCallback | None, every: float = 1.0):
        self.total, self.callback, self.every = total, callback, every
        self.start = time.monotonic()
        self.last = -float("inf")
        self.done = self.failed = 0

    def update(self, result: TaskResult) -> None:
        self.done += 1
        self.failed += 0 if result.ok else 1
        now = time.monotonic()
        if self.callback and (now - self.last >= self.every or self.done == self.total):
            self.last = now
            self.callback(Progress(self.done, self.total, now - self.start, self.failed))


def stderr_progress(progress: Progress) -> None:
    """Plain progress lines on stderr: count, rate and time left (no terminal control)."""
    eta = f"{progress.eta:.0f} s left" if progress.eta is not None else "?"
    failed = f", {progress.failed} failed" if progress.failed else ""
    print(
        f"  {progress.done}/{progress.total} tasks, {progress.rate:.1f}/s, {eta}{failed}",
        file=sys.stderr,
        flush=True,
    )


class Executor(Protocol):
    """Anything that maps a task over items with the guarantees of this module."""

    workers: int

    def map(
        self,
        task: Task,
        items: Iterable[Any],
        *,
        shared: Any = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[TaskResult]: ...


class BaseExecutor:
    """The shared half of every executor: materialise the items, track progress, delegate.

    Why a base class: each executor differs only in where the tasks run (`_results`);
    ``map``'s contract (submission order, failures as values, progress) is stated once here.
    """

    workers: int = 1

    def map(
        self,
        task: Task,
        items: Iterable[Any],
        *,
        shared: Any = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[TaskResult]:
        """One `TaskResult` per item, in submission order; a failed task is a value."""
        listed = list(items)
        yield from self._results(task, listed, shared, ProgressTracker(len(listed), progress))

    def _results(
        self, task: Task, items: list[Any], shared: Any, tracker: ProgressTracker
    ) -> Iterator[TaskResult]:
        raise NotImplementedError


class InProcessExecutor(BaseExecutor):
    """Runs every task here, one after the other: the reference the others must match."""

    workers = 1

    def _results(
        self, task: Task, items: list[Any], shared: Any, tracker: ProgressTracker
    ) -> Iterator[TaskResult]:
        for index, item in enumerate(items):
            value, error = call_task(task, item, shared)
            result = TaskResult(index, item, value, error)
            tracker.update(result)
            yield result


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor a command line asks for: a Dask scheduler, N processes, or in-process."""
    if scheduler:
        from cpcstats.execution.dask_executor import DaskExecutor

        return DaskExecutor(scheduler)
    if workers is not None and workers < 1:
        raise SpecError(
            f"workers must be at least 1, not {workers}",
            column="workers",
            fix="give --workers 1 (in-process) or more (local processes)",
        )
    if workers and workers > 1:
        from cpcstats.execution.processes import ProcessExecutor

        return ProcessExecutor(workers)
    return InProcessExecutor()
