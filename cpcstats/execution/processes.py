"""Local processes (``concurrent.futures`` with the spawn start method).

Why spawn: fork copies the parent's threads and locks (BLAS pools, Dask's event loop) and
is unsafe on macOS; spawn starts clean interpreters on every platform.  The shared data is
pickled once per worker through the pool's initializer, not once per task, and workers
ignore SIGINT so that Ctrl-C reaches only the parent, which cancels what is still queued.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cpcstats.execution.base import (
    BaseExecutor,
    ProgressTracker,
    Task,
    TaskResult,
    call_task,
    next_in_order,
)

__all__ = ["ProcessExecutor"]

_SHARED: Any = None


def _init_worker(shared: Any) -> None:
    global _SHARED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED = shared


def _run_in_worker(task: Task, item: Any) -> tuple[Any, str | None]:
    return call_task(task, item, _SHARED)


class ProcessExecutor(BaseExecutor):
    """``workers`` local processes; at most ``window`` tasks in flight per worker."""

    def __init__(self, workers: int, window: int = 4) -> None:
        self.workers = int(workers)
        self.window = max(1, int(window))

    def _results(
        self, task: Task, items: list[Any], shared: Any, tracker: ProgressTracker
    ) -> Iterator[TaskResult]:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_init_worker, initargs=(shared,)
        )
        pending: deque[tuple[int, Future]] = deque()
        try:
            feed = iter(enumerate(items))
            for index, item in feed:
                pending.append((index, pool.submit(_run_in_worker, task, item)))
                if len(pending) >= self.workers * self.window:
                    yield next_in_order(pending, items, tracker)
            while pending:
                yield next_in_order(pending, items, tracker)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
