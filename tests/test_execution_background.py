"""`BackgroundTasks`: tasks started now, collected later in order; errors, lost workers,
timeouts and shutdown behave as the replication needs (no hang, nothing left running)."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from cpcstats.errors import EstimationError
from cpcstats.execution import BackgroundTasks, TaskTimeout, spawn_seeds, start_method
from cpcstats.execution.processes import running


def draws(item: int, shared: dict) -> list[float]:
    """A seeded task whose late items finish first (so order is not completion order)."""
    time.sleep(0.02 * (len(shared["seeds"]) - item))
    return (np.random.default_rng(shared["seeds"][item]).random(2) * shared["scale"]).tolist()


def fails(item: int, shared: object) -> int:
    """Item 1 raises an error the caller knows how to handle; the others return."""
    if item == 1:
        raise EstimationError("item 1 did not converge")
    return item * 10


def dies(item: int, shared: object) -> int:
    """Item 0 kills its worker process (as the OOM killer would); the parent survives."""
    if item == 0 and multiprocessing.parent_process() is not None:
        os._exit(3)
    return item


def sleeps(item: int, shared: object) -> int:
    time.sleep(30)
    return item


SHARED = {"seeds": spawn_seeds(11, 5), "scale": 3.0}


def _values(tasks: BackgroundTasks, n: int) -> list[object]:
    with tasks:
        return [tasks.result(i) for i in range(n)]


def test_serial_runs_each_task_when_collected() -> None:
    tasks = BackgroundTasks(draws, list(range(5)), SHARED, workers=1)
    assert not tasks.parallel
    assert tasks.futures == []  # nothing started before collection


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_results_in_order_and_equal_to_the_serial_run(method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    serial = _values(BackgroundTasks(draws, list(range(5)), SHARED, workers=1), 5)
    tasks = BackgroundTasks(draws, list(range(5)), SHARED, workers=2, method=method)
    assert tasks.parallel
    assert _values(tasks, 5) == serial
    assert len({tuple(v) for v in serial}) == 5  # one stream per task


def test_an_error_is_raised_again_with_its_type() -> None:
    for workers in (1, 2):
        with BackgroundTasks(fails, [0, 1, 2], None, workers=workers) as tasks:
            assert tasks.result(0) == 0 and tasks.result(2) == 20
            with pytest.raises(EstimationError, match="item 1 did not converge"):
                tasks.result(1)


def test_a_dead_worker_is_reported_not_waited_for() -> None:
    start = time.monotonic()
    tasks = BackgroundTasks(dies, [0, 1], None, workers=2, method="fork")
    with tasks, pytest.raises(BrokenProcessPool):
        tasks.result(0)
    assert time.monotonic() - start < 20


def test_timeout_stops_the_workers() -> None:
    start = time.monotonic()
    tasks = BackgroundTasks(sleeps, [0, 1, 2], None, workers=2, timeout=1.0, method="fork")
    workers = list(tasks.pool._processes.values())  # type: ignore[union-attr]
    with tasks:
        with pytest.raises(TaskTimeout, match=r"did not finish within 1\.0 s"):
            tasks.result(0)
        with pytest.raises(TaskTimeout):  # the rest are not run here after a timeout
            tasks.result(2)
    assert time.monotonic() - start < 15
    assert workers and not any(running(p.pid) for p in workers)


def test_an_error_in_the_caller_terminates_the_workers() -> None:
    tasks = BackgroundTasks(sleeps, [0, 1], None, workers=2, method="fork")
    workers = list(tasks.pool._processes.values())  # type: ignore[union-attr]
    start = time.monotonic()
    with pytest.raises(KeyError), tasks:
        raise KeyError("the caller failed")
    assert time.monotonic() - start < 15
    assert not any(running(p.pid) for p in workers)


def test_start_method_is_fork_only_without_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert start_method() == "spawn"


class _ExitWhenLoaded:
    """Shared data whose unpickling ends the process: a spawned worker dying at startup."""

    def __init__(self) -> None:
        self.payload = np.zeros(2_000_000)  # 16 MB: far more than a pipe's buffer

    def __reduce__(self) -> tuple:
        return (os._exit, (3,))


def test_spawned_workers_dying_at_startup_do_not_hang_the_parent() -> None:
    """A spawned worker gets the shared data through a file, not the start-up pipe: a
    worker dying while it starts is a BrokenProcessPool, never a parent blocked on a
    half-written pipe (the alarm turns a hang into a failure)."""
    import signal

    def hung(signum: int, frame: object) -> None:
        raise AssertionError("the parent hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        tasks = BackgroundTasks(fails, [0, 2], _ExitWhenLoaded(), workers=2, method="spawn")
        with tasks, pytest.raises(BrokenProcessPool):
            tasks.result(0)
        assert tasks.shared_file is None  # removed on exit
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def where(item: int, shared: dict) -> tuple[int, int]:
    """The item and the process that ran it (item 0 slow, so others queue behind it)."""
    time.sleep(shared.get("first", 0.0) if item == 0 else shared.get("rest", 0.0))
    if item in shared.get("raise", ()):
        raise EstimationError(f"item {item} did not converge")
    return item, os.getpid()


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("workers", [2, 3])
def test_here_too_gives_the_serial_results_with_one_process_fewer(method, workers) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    serial = _values(BackgroundTasks(draws, list(range(5)), SHARED, workers=1), 5)
    tasks = BackgroundTasks(draws, list(range(5)), SHARED, workers, method=method, here_too=True)
    assert len(tasks.pool._processes) == workers - 1  # type: ignore[union-attr]
    assert _values(tasks, 5) == serial


def test_here_too_runs_what_no_worker_has_started() -> None:
    """Asked for a task still queued, the caller runs it; waiting for one a worker runs,
    it runs the last queued tasks meanwhile."""
    me = os.getpid()
    shared = {"first": 1.5, "rest": 0.05}
    with BackgroundTasks(where, list(range(4)), shared, 2, method="fork", here_too=True) as tasks:
        first = tasks.result(0)  # on the worker; items 3, 2, 1 run here while it sleeps
        rest = [tasks.result(i) for i in (1, 2, 3)]
    assert first[0] == 0 and first[1] != me
    assert [r for r, _ in rest] == [1, 2, 3] and all(pid == me for _, pid in rest)


def test_here_too_raises_an_early_error_when_its_task_is_asked_for() -> None:
    shared = {"first": 1.0, "raise": (1,)}
    with BackgroundTasks(where, [0, 1, 2], shared, 2, method="fork", here_too=True) as tasks:
        assert tasks.result(0)[0] == 0  # item 1 failed here meanwhile; not raised yet
        assert tasks.result(2)[0] == 2
        with pytest.raises(EstimationError, match="item 1 did not converge"):
            tasks.result(1)


def test_order_is_the_order_workers_start_tasks() -> None:
    me = os.getpid()
    shared = {"first": 0.3, "rest": 0.3}
    tasks = BackgroundTasks(
        where, [0, 1, 2], shared, 2, method="fork", here_too=True, order=[2, 1, 0]
    )
    with tasks:
        started_first = tasks.result(2)  # handed to the worker first; item 0 runs here
        assert started_first[1] != me and tasks.result(0)[1] == me
        assert tasks.result(1)[0] == 1
    with pytest.raises(ValueError, match="each of the 3 items once"):
        BackgroundTasks(where, [0, 1, 2], shared, 2, method="fork", order=[0, 0, 1])


def test_no_work_here_with_a_timeout() -> None:
    """A task run here could not be stopped: with a timeout every task stays on the pool."""
    with BackgroundTasks(where, [0, 1], {}, 2, timeout=30, method="fork", here_too=True) as tasks:
        assert len(tasks.pool._processes) == 2  # type: ignore[union-attr]
        assert all(tasks.result(i)[1] != os.getpid() for i in (0, 1))


def test_the_parents_objects_stay_frozen_while_forked_workers_share_them() -> None:
    """Unfrozen right after the fork, the parent's next full collection would write to
    (and so copy) every page it shares with the workers."""
    import gc

    before = gc.get_freeze_count()
    with BackgroundTasks(where, [0, 1], {}, 2, method="fork", here_too=True) as tasks:
        assert gc.get_freeze_count() > before
        gc.collect()
        assert gc.get_freeze_count() > before  # a collection does not thaw them
        assert [tasks.result(i)[0] for i in (0, 1)] == [0, 1]
    assert gc.get_freeze_count() == before
    tasks = BackgroundTasks(sleeps, [0, 1], None, workers=2, method="fork")
    with pytest.raises(KeyError), tasks:
        raise KeyError("the caller failed")
    assert gc.get_freeze_count() == before  # and after an error
