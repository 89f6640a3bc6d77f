"""Pairs cluster bootstrap: resample whole clusters with replacement and refit.

Why: with few clusters or heavy-tailed counts, sandwich standard errors can be
too small; the bootstrap is the usual robustness check.  A cluster drawn
twice enters as two distinct clusters (its fixed-effect groups are relabelled
per copy, as Stata's ``idcluster`` does).  Replications whose fit fails are
counted and reported, not silently ignored.  Seeded: same seed, same answer, with
any number of worker processes (one child seed per replication).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError
from cpcstats.estimation.families import CoreFit
from cpcstats.estimation.vcov import Vcov
from cpcstats.execution import InProcessExecutor, TaskResult, make_executor, spawn_seeds
from cpcstats.spec_registry import get_family

if TYPE_CHECKING:
    from cpcstats.estimation.design import Design
    from cpcstats.execution import Executor
    from cpcstats.spec import ModelSpec


#: replications per task: enough to amortise shipping a task, few enough to balance
CHUNK = 25


def bootstrap_workers(workers: int | None = None) -> int:
    """The number of processes: the argument, else ``CPCSTATS_WORKERS``, else 1.

    Why an environment variable: the bootstrap runs inside ``fit`` (via the variance
    registry), so a run's parallelism is set once for the process rather than per model;
    the numbers do not depend on it.
    """
    if workers is None:
        text = os.environ.get("CPCSTATS_WORKERS", "").strip()
        if text and not text.isdigit():
            raise EstimationError(
                f"CPCSTATS_WORKERS must be a whole number, not {text!r}",
                fix="e.g. CPCSTATS_WORKERS=2, or unset it for one process",
            )
        workers = int(text) if text else 1
    return max(1, int(workers))


@dataclass(frozen=True)
class _Shared:
    """What every replication needs, shipped once per worker."""

    data: Any
    members: list[np.ndarray]
    nested: list[bool]
    start: np.ndarray | None
    family: str
    width: int


def _replicate(item: tuple[int, list[np.random.SeedSequence]], shared: _Shared) -> np.ndarray:
    """Replications ``first, first + 1, ...``, each from its own child seed (NaN row: failed).

    A replication that drops a parameter (a regressor constant within the resampled
    clusters after the fixed effects) cannot be stacked with the others: it counts as
    failed, as a fit that raises does (found on the real-universe demo's FE-Poisson)."""
    _, seeds = item
    family = get_family(shared.family).fit_function()
    members = shared.members
    n_clusters = len(members)
    sizes = np.array([len(m) for m in members])
    out = []
    for child in seeds:
        chosen = np.random.default_rng(child).integers(0, n_clusters, n_clusters)
        rows = np.concatenate([members[g] for g in chosen])
        copy = np.repeat(np.arange(n_clusters), sizes[chosen])
        sub = _subset(shared.data, rows, copy, shared.nested)
        if shared.start is not None:
            sub = replace(sub, start=shared.start[rows])
        try:
            params = np.asarray(family(sub).params, dtype=float)
        except (EstimationError, np.linalg.LinAlgError, ValueError):  # counted, reported
            params = None
        out.append(params if params is not None and len(params) == shared.width else None)
    width = shared.width
    return np.array([np.full(width, np.nan) if p is None else p for p in out]).reshape(len(out), -1)


#: processes start only when the replications left would take longer than this here
MIN_PARALLEL_SECONDS = 5.0


def _run(
    items: list[tuple[int, list[np.random.SeedSequence]]],
    shared: _Shared,
    executor: Executor | None,
    workers: int,
) -> Iterator[TaskResult]:
    """The tasks' results in order: on ``executor`` if given; else the first chunk here,
    timed, and the rest on ``workers`` processes only if they are worth starting.

    Why timed: a spawned worker imports the package (about 2 CPU-s); 999 replications of
    a small Poisson model take less than that in one process.  Where a task runs never
    changes its draws, so the choice cannot change the numbers.
    """
    if executor is not None:
        yield from executor.map(_replicate, items, shared=shared)
        return
    here = InProcessExecutor()
    started = time.perf_counter()
    yield from here.map(_replicate, items[:1], shared=shared)
    left = (time.perf_counter() - started) * (len(items) - 1)
    rest = make_executor(workers) if workers > 1 and left > MIN_PARALLEL_SECONDS else here
    for result in rest.map(_replicate, items[1:], shared=shared):
        yield replace(result, index=result.index + 1)


def cluster_bootstrap(
    spec: ModelSpec,
    design: Design,
    core: CoreFit,
    *,
    reps: int,
    seed: int,
    workers: int | None = None,
    executor: Executor | None = None,
) -> Vcov:
    """Bootstrap variance of all parameters of ``core`` by resampling ``spec.cluster[0]``.

    Replication r draws its clusters from the r-th child of ``SeedSequence(seed)``
    (`cpcstats.execution.spawn_seeds`), so the draws, and the variance to the last bit,
    are the same for any number of ``workers`` (default `bootstrap_workers`) or any
    ``executor``; replications run in chunks of `CHUNK`, on local processes when
    ``workers > 1`` and the first chunk shows they are worth starting (`_run`).
    """
    data = design.data
    frame = design.frame if core.keep is None else design.frame[core.keep]
    if core.keep is not None:
        kept = np.flatnonzero(core.keep)
        data = _subset(data, kept, np.zeros(len(kept), dtype=int), [False] * len(data.fe_codes))
    cluster = pd.factorize(frame[spec.cluster[0]])[0]
    nested = [_nested(codes, cluster) for codes in data.fe_codes]
    members = [np.flatnonzero(cluster == g) for g in range(cluster.max() + 1)]
    n_clusters = len(members)
    traits = get_family(spec.family)
    start = np.log(core.fitted) if core.fitted is not None and traits.warm_start else None
    shared = _Shared(data, members, nested, start, spec.family, len(core.params))
    seeds = spawn_seeds(seed, reps)
    items = [(i, seeds[i : i + CHUNK]) for i in range(0, reps, CHUNK)]
    draws = np.full((reps, len(core.params)), np.nan)
    for result in _run(items, shared, executor, bootstrap_workers(workers)):
        if not result.ok:
            raise EstimationError(
                f"model {spec.name!r}: a bootstrap task failed: {result.error}",
                fix="rerun with CPCSTATS_WORKERS=1 to see the error in this process",
            )
        first = result.item[0]
        if result.value.size:
            draws[first : first + len(result.value)] = result.value
    failed = int(np.isnan(draws).any(axis=1).sum())
    ok = draws[~np.isnan(draws).any(axis=1)]
    if len(ok) < 2:
        raise EstimationError(
            f"model {spec.name!r}: the cluster bootstrap failed in {failed} of {reps} replications",
            fix="use sandwich SEs",
        )
    matrix = np.cov(ok, rowvar=False).reshape(len(core.params), len(core.params))
    description = (
        f"pairs cluster bootstrap by {spec.cluster[0]} ({n_clusters} clusters, "
        f"{reps} replications, seed {seed}"
        + (f"; {failed} failed and were excluded" if failed else "")
        + ")"
    )
    return Vcov(matrix, "bootstrap", description, n_clusters)


def _nested(codes: np.ndarray, cluster: np.ndarray) -> bool:
    """Whether every level of a fixed effect lies within one cluster (e.g. party in country)."""
    pairs = pd.DataFrame({"fe": codes, "cluster": cluster}).drop_duplicates()
    return not pairs["fe"].duplicated().any()


def _subset(data, rows: np.ndarray, copy: np.ndarray, nested: list[bool]):  # type: ignore[no-untyped-def]
    """The model data of the given rows.

    Fixed effects nested in the clusters (party within country) get distinct levels per
    drawn copy of a cluster; crossed ones (year) keep their levels.
    """
    width = int(copy.max()) + 1
    fe_codes = [
        c[rows] * width + copy if is_nested else c[rows]
        for c, is_nested in zip(data.fe_codes, nested, strict=True)
    ]
    return replace(
        data,
        y=data.y[rows],
        X=data.X[rows],
        offset=None if data.offset is None else data.offset[rows],
        Z=None if data.Z is None else data.Z[rows],
        fe_codes=fe_codes,
        groups=None if data.groups is None else data.groups[rows] * (int(copy.max()) + 1) + copy,
        time=None if data.time is None else data.time[rows],
        frame=None if data.frame is None else data.frame.iloc[rows],
        start=None,
    )
