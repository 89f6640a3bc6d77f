"""Local processes (``concurrent.futures`` with the spawn start method).

Why spawn: fork copies the parent's threads and locks (BLAS pools, Dask's event loop) and
is unsafe on macOS; spawn starts clean interpreters on every platform.  The shared data is
pickled once per worker through the pool's initializer, not once per task, and workers
ignore SIGINT so that Ctrl-C reaches only the parent, which cancels what is still queued.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from cpcstats.c_allocator import fixed_mmap_threshold
from cpcstats.execution.base import (
    BaseExecutor,
    ProgressTracker,
    Task,
    TaskResult,
    call_task,
    next_in_order,
)
from cpcstats.execution.memory import release_free_memory, system_arrow_pool_here
from cpcstats.execution.threads import one_blas_thread_here

__all__ = ["BackgroundTasks", "ProcessExecutor", "TaskTimeout", "running", "start_method"]

_SHARED: Any = None


class _SharedFile:
    """The shared data pickled to a file, for spawned `BackgroundTasks` workers.

    Why: a spawned worker receives its initializer's arguments through a pipe while it
    starts; a worker that dies while starting (an import error, the main module failing
    when it is imported again) leaves ten MB of study and panels half-written into that
    pipe and the parent blocked on it for ever.  A path is a few bytes.
    """

    def __init__(self, shared: Any) -> None:
        handle, name = tempfile.mkstemp(prefix="cpcstats-shared-", suffix=".pickle")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(shared, file, protocol=pickle.HIGHEST_PROTOCOL)
        self.path = name

    def load(self) -> Any:
        with open(self.path, "rb") as file:
            return pickle.load(file)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _init_worker(shared: Any) -> None:
    """Ctrl-C is the parent's to handle; SIGTERM ends the worker quietly (a forked worker
    would otherwise inherit the command line's handler, which raises)."""
    global _SHARED
    one_blas_thread_here()  # the workers share the cores: one BLAS thread each
    fixed_mmap_threshold()
    system_arrow_pool_here()  # what a task frees is returned after it (release_free_memory)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _SHARED = shared.load() if isinstance(shared, _SharedFile) else shared


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


def start_method() -> str:
    """``fork`` where it is safe and available, else ``spawn``.

    Why fork for `BackgroundTasks`: the replication's designs need the study and its
    panels, which the parent already holds; forked children share those pages (and the
    imported modules) instead of importing cpcstats again and unpickling a copy, which
    costs about a second and a hundred MB per worker.  Fork is unsafe with threads
    running (their locks are copied held) and on macOS, so there spawn is used; the
    results are the same either way.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


class TaskTimeout(TimeoutError):
    """A background task did not finish within the batch's time limit."""


class BackgroundTasks:
    """Tasks started now on local processes and collected later, in submission order.

    Why not `ProcessExecutor.map`: ``map`` is a generator, so nothing runs until the
    caller iterates, and the caller waits there.  The replication wants the opposite:
    start its designs, fit its models and write its tables meanwhile, then take the
    designs' results.  With ``workers <= 1`` nothing is started and each task runs here
    when it is collected (the serial run, the reference the parallel one must match).

    ``task(item, shared)`` is a module-level function; an exception it raises is raised
    again by `result` in the caller (the same type, the worker's traceback chained), as
    if the task had run here.  A worker that dies (killed, out of memory) makes `result`
    raise ``concurrent.futures.process.BrokenProcessPool``; ``timeout`` (seconds from the
    start, None: no limit) makes it raise `TaskTimeout`.  Leaving the ``with`` block
    shuts the pool down; on an error (or a timeout) the workers are terminated, so
    nothing outlives the run.  ``order`` (a permutation of the items' positions) is the
    order in which workers start them, e.g. the longest first so that none starts last.

    ``here_too``: this process is one of the ``workers``.  The pool has one process
    fewer, a task is handed to a worker only when one is free (`_HandOut`), and `result`
    runs here the task it asks for if no worker has it yet; while the task it asks for
    runs on a worker, it runs the last task nobody has taken (its value or exception kept
    for when it is asked for).  Why: the caller waits in `result` only when it has
    nothing else to do, so it works instead of waiting, and ``workers`` processes share
    ``workers`` cores instead of ``workers + 1`` -- one process fewer holding its own
    memory, none competing for a core.  As in the serial run, a task nobody asks for may
    never run.  Not with a ``timeout``: a task run here cannot be stopped.
    """

    def __init__(
        self,
        task: Task,
        items: list[Any],
        shared: Any,
        workers: int,
        *,
        timeout: float | None = None,
        method: str | None = None,
        here_too: bool = False,
        order: list[int] | None = None,
    ) -> None:
        self.task, self.items, self.shared = task, list(items), shared
        self.workers = max(1, min(int(workers), len(self.items))) if self.items else 1
        self.here_too = here_too and timeout is None and self.workers > 1
        pool_size = self.workers - 1 if self.here_too else self.workers
        self.deadline = None if timeout is None else time.monotonic() + float(timeout)
        self.timeout = timeout
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future] = []
        self.hand_out: _HandOut | None = None
        self.timed_out = False
        self.shared_file: _SharedFile | None = None
        sequence = list(range(len(self.items))) if order is None else list(order)
        if sorted(sequence) != list(range(len(self.items))):
            raise ValueError(f"order must list each of the {len(self.items)} items once")
        if self.workers > 1:
            chosen = method or start_method()
            context = multiprocessing.get_context(chosen)
            if chosen != "fork":
                self.shared_file = _SharedFile(shared)
            initargs = (self.shared_file or shared,)
            # frozen objects are not scanned by the garbage collector, whose scans write to
            # (and so copy) every page the parent and the forked children share: frozen in
            # both until the pool is shut down (unfrozen right after the fork, the parent's
            # next full collection copied them; measured 15-25 MiB more at the demo's peak)
            gc.freeze()
            try:
                self.pool = ProcessPoolExecutor(
                    pool_size, mp_context=context, initializer=_init_worker, initargs=initargs
                )
                if self.here_too:
                    self.hand_out = _HandOut(self.pool, task, self.items, sequence, pool_size)
                else:
                    started = {
                        i: self.pool.submit(_call_in_worker, task, self.items[i]) for i in sequence
                    }
                    self.futures = [started[i] for i in range(len(self.items))]
            except BaseException:
                gc.unfreeze()
                raise

    @property
    def parallel(self) -> bool:
        """Whether the tasks run on other processes (else each runs when collected)."""
        return self.pool is not None

    def result(self, index: int) -> Any:
        """Task ``index``'s value, waiting for it (or running it here when serial)."""
        if self.timed_out:
            raise TaskTimeout(f"not finished when the batch's {self.timeout} s ran out")
        if self.pool is None:
            return self._run_here(index)
        if self.hand_out is not None:
            return self.hand_out.result(index, self._run_here)
        left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        try:
            return self.futures[index].result(timeout=left)
        except FutureTimeout:
            self.timed_out = True
            self.terminate()
            raise TaskTimeout(
                f"task {index + 1} of {len(self.items)} did not finish within {self.timeout} s"
            ) from None

    def _run_here(self, index: int) -> Any:
        try:
            return self.task(self.items[index], self.shared)
        finally:
            release_free_memory()

    def _remove_shared_file(self) -> None:
        if self.shared_file is not None:
            self.shared_file.remove()
            self.shared_file = None

    def terminate(self) -> None:
        """Cancel what has not started and stop the workers now."""
        self._remove_shared_file()
        if self.pool is not None:
            gc.unfreeze()
        if self.hand_out is not None:
            self.hand_out.close()
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(5)
            if process.is_alive() and running(process.pid):  # SIGTERM came too early
                process.kill()
                process.join(5)

    def __enter__(self) -> BackgroundTasks:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is not None:
            self.terminate()
        elif self.pool is not None:
            if self.hand_out is not None:
                self.hand_out.close()
            self.pool.shutdown(wait=True)
            gc.unfreeze()
            self.pool = None
        self._remove_shared_file()


class _HandOut:
    """`BackgroundTasks` with ``here_too``: tasks handed to the pool one per free worker,
    front first, the rest left for the caller to take.

    Why not submit everything: the pool moves submitted tasks into its call queue ahead
    of time and marks them running, after which they can no longer be taken back, so the
    caller would wait for tasks no worker has begun.  A finished task's callback (on the
    pool's thread) hands out the next one.
    """

    def __init__(
        self, pool: ProcessPoolExecutor, task: Task, items: list[Any], order: list[int], size: int
    ) -> None:
        self.pool, self.task, self.items = pool, task, items
        self.lock = threading.Lock()
        self.queue: deque[int] = deque(order)
        self.futures: dict[int, Future] = {}
        self.here: dict[int, tuple[bool, Any]] = {}  # index -> (ok, value or exception)
        self.closed = False
        for _ in range(size):
            self._hand_out()

    def _hand_out(self, _done: Future | None = None) -> None:
        """Give the front task to the pool (a worker is free)."""
        with self.lock:
            if self.closed or not self.queue:
                return
            index = self.queue.popleft()
            try:
                future = self.pool.submit(_call_in_worker, self.task, self.items[index])
            except RuntimeError:  # shut down or broken: the caller runs it when asked
                self.queue.appendleft(index)
                return
            self.futures[index] = future
        future.add_done_callback(self._hand_out)

    def _take(self, index: int | None = None) -> int | None:
        """Take ``index`` (None: the last task) if no worker has it."""
        with self.lock:
            if index is None:
                return self.queue.pop() if self.queue else None
            if index in self.queue:
                self.queue.remove(index)
                return index
            return None

    def result(self, index: int, run_here: Callable[[int], Any]) -> Any:
        """Task ``index``'s value: run here, kept from an earlier run here, or the
        worker's (running the last untaken task here while the worker is at it)."""
        if self._take(index) is not None or (index not in self.here and index not in self.futures):
            return run_here(index)
        while index not in self.here and not self.futures[index].done():
            other = self._take()
            if other is None:
                break
            try:
                self.here[other] = (True, run_here(other))
            except Exception as exc:  # raised again when ``other`` is asked for
                self.here[other] = (False, exc)
        if index in self.here:
            ok, value = self.here.pop(index)
            if not ok:
                raise value
            return value
        return self.futures[index].result()

    def close(self) -> None:
        """Hand out nothing more."""
        with self.lock:
            self.closed = True


def running(pid: int | None) -> bool:
    """Whether a process exists and is not a zombie.

    Why not ``Process.is_alive`` alone: the pool's manager thread may reap a worker
    first, and ``is_alive`` then reports a dead worker as running for ever.
    """
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process with that id
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _call_in_worker(task: Task, item: Any) -> Any:
    """Run one background task on the worker's shared data (exceptions travel back), and
    give back what it freed before the next (`release_free_memory`)."""
    try:
        return task(item, _SHARED)
    finally:
        release_free_memory()
