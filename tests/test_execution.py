"""The executor layer: order, failures as values, seeds, progress, interruption.

The same tasks run in-process, on two local processes and on a two-worker Dask
LocalCluster started here; every executor must return the same values in submission
order, including the draws of random tasks seeded with ``spawn_seeds``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from cpcstats.errors import SpecError
from cpcstats.execution import (
    DaskExecutor,
    InProcessExecutor,
    ProcessExecutor,
    Progress,
    make_executor,
    spawn_seeds,
)


def scaled_draws(item: tuple[int, np.random.SeedSequence], shared: float) -> list[float]:
    """A random task: its draws depend only on its seed (and the shared scale)."""
    index, seed = item
    if index == 3:
        raise ValueError("item 3 is bad")
    if index % 2:
        time.sleep(0.05)  # odd items finish late: results must still come back in order
    return (np.random.default_rng(seed).random(3) * shared).tolist()


def _items(n: int = 8) -> list[tuple[int, np.random.SeedSequence]]:
    return list(enumerate(spawn_seeds(20200603, n)))


def _run(executor: object) -> list[tuple[int, object, str | None]]:
    results = list(executor.map(scaled_draws, _items(), shared=10.0))  # type: ignore[attr-defined]
    return [(r.index, r.value, r.error) for r in results]


@pytest.fixture(scope="module")
def reference() -> list[tuple[int, object, str | None]]:
    return _run(InProcessExecutor())


def test_in_process_order_and_isolated_failure(reference: list) -> None:
    assert [i for i, _, _ in reference] == list(range(8))
    failed = [(i, e) for i, _, e in reference if e is not None]
    assert len(failed) == 1 and failed[0][0] == 3 and "ValueError: item 3 is bad" in failed[0][1]
    values = [v for _, v, e in reference if e is None]
    assert len({tuple(v) for v in values}) == 7  # independent streams per task
    assert all(0 <= x <= 10 for v in values for x in v)


def test_seeds_do_not_depend_on_position_in_a_subset() -> None:
    first = spawn_seeds(7, 5)[3]
    again = spawn_seeds(7, 10)[3]
    assert np.random.default_rng(first).random() == np.random.default_rng(again).random()


def test_two_processes_give_identical_results(reference: list) -> None:
    assert _run(ProcessExecutor(2)) == reference


def test_dask_local_cluster_gives_identical_results(reference: list) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        assert _run(executor) == reference
        assert executor.workers == 2


def test_progress_reports_count_rate_and_eta() -> None:
    seen: list[Progress] = []
    list(InProcessExecutor().map(scaled_draws, _items(), shared=1.0, progress=seen.append))
    last = seen[-1]
    assert (last.done, last.total, last.failed) == (8, 8, 1)
    assert last.rate > 0 and last.eta == 0


def test_interrupt_cancels_outstanding_tasks() -> None:
    """Closing the stream (what Ctrl-C in the consumer does) shuts the pool down at once."""
    stream = ProcessExecutor(2).map(scaled_draws, _items(40), shared=1.0)
    next(stream)
    start = time.monotonic()
    stream.close()
    assert time.monotonic() - start < 5


def test_keyboard_interrupt_in_a_task_is_not_swallowed() -> None:
    def interrupted(item: int, shared: object) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(InProcessExecutor().map(interrupted, [1, 2]))


def test_bad_executor_settings_are_user_errors() -> None:
    with pytest.raises(SpecError, match="workers must be at least 1"):
        make_executor(0)
    with pytest.raises(SpecError, match="not a URL"):
        DaskExecutor("localhost")
    assert isinstance(make_executor(None), InProcessExecutor)
    assert isinstance(make_executor(3), ProcessExecutor)
