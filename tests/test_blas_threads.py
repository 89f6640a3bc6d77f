"""One BLAS thread per process while cpcstats runs processes side by side, from Python
too (where numpy is loaded before the run and the environment variables no longer work),
unless the user chose a thread count."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cpcstats.console import BLAS_THREAD_VARIABLES as CONSOLE_VARIABLES
from cpcstats.execution import BackgroundTasks
from cpcstats.execution.threads import BLAS_THREAD_VARIABLES, one_blas_thread


def blas_threads(item: int = 0, shared: object = None) -> list[int]:
    """The thread counts of the BLAS libraries loaded in the process that runs this."""
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def no_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BLAS variable set, and two threads to start from (as on a 2-core machine)."""
    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_command_line_and_the_library_name_the_same_variables() -> None:
    assert CONSOLE_VARIABLES == BLAS_THREAD_VARIABLES


def test_one_thread_inside_the_block_and_the_old_count_after(no_choice: None) -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() and set(blas_threads()) == {2}
        with one_blas_thread():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {2}


def test_a_users_choice_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with threadpool_limits(limits=2, user_api="blas"), one_blas_thread():
        assert set(blas_threads()) == {2}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_run_with_one_thread(no_choice: None, method: str) -> None:
    with (
        threadpool_limits(limits=2, user_api="blas"),
        BackgroundTasks(blas_threads, [0, 1], None, 2, method=method) as tasks,
    ):
        assert all(set(tasks.result(i)) == {1} for i in (0, 1))
