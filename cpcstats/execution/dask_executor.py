"""A Dask distributed cluster given by its scheduler address.

Why Dask: a multiverse of 100,000 fits outgrows one machine, and Dask's scheduler already
does what a home-made one would have to (worker discovery, retries of lost workers,
data locality).  The shared data goes to every worker once with
``client.scatter(..., broadcast=True)``; each task then carries only its small item.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from cpcstats.errors import SpecError
from cpcstats.execution.base import (
    BaseExecutor,
    ProgressTracker,
    Task,
    TaskResult,
    call_task,
    next_in_order,
)

__all__ = ["DaskExecutor"]


def _run_on_worker(task: Task, item: Any, shared: Any) -> tuple[Any, str | None]:
    return call_task(task, item, shared)


class DaskExecutor(BaseExecutor):
    """Tasks on the cluster behind ``scheduler_address`` (e.g. ``tcp://host:8786``)."""

    def __init__(self, scheduler_address: str, window: int = 8, timeout: float = 30.0) -> None:
        if not isinstance(scheduler_address, str) or "://" not in scheduler_address:
            raise SpecError(
                f"scheduler address {scheduler_address!r} is not a URL",
                column="scheduler",
                fix="give the address the scheduler prints, e.g. tcp://10.0.0.5:8786",
            )
        self.address = scheduler_address
        self.window = max(1, int(window))
        self.timeout = timeout
        self.workers = 0

    def _client(self) -> Any:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - distributed is a dependency
            raise SpecError(
                "the Dask executor needs the 'distributed' package",
                fix="pip install distributed",
            ) from exc
        try:
            return Client(self.address, timeout=self.timeout, set_as_default=False)
        except OSError as exc:
            raise SpecError(
                f"cannot reach the Dask scheduler at {self.address}: {exc}",
                column="scheduler",
                fix="start it with `dask scheduler` and workers with `dask worker ADDRESS`",
            ) from exc

    def _results(
        self, task: Task, items: list[Any], shared: Any, tracker: ProgressTracker
    ) -> Iterator[TaskResult]:
        client = self._client()
        pending: deque[tuple[int, Any]] = deque()
        try:
            self.workers = len(client.scheduler_info().get("workers", {})) or 1
            shared_ref = client.scatter(shared, broadcast=True) if shared is not None else None
            limit = self.workers * self.window
            for index, item in enumerate(items):
                future = client.submit(_run_on_worker, task, item, shared_ref, pure=False)
                pending.append((index, future))
                if len(pending) >= limit:
                    yield next_in_order(pending, items, tracker)
            while pending:
                yield next_in_order(pending, items, tracker)
        except BaseException:
            client.cancel([f for _, f in pending])
            raise
        finally:
            client.close()
