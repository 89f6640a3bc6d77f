"""Pairs cluster bootstrap: resample whole clusters with replacement and refit.

Why: with few clusters or heavy-tailed counts, sandwich standard errors can be
too small; the bootstrap is the usual robustness check.  A cluster drawn
twice enters as two distinct clusters (its fixed-effect groups are relabelled
per copy, as Stata's ``idcluster`` does).  Replications whose fit fails are
counted and reported, not silently ignored.  Seeded: same seed, same answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError
from cpcstats.estimation.families import CoreFit
from cpcstats.estimation.vcov import Vcov
from cpcstats.spec_registry import get_family

if TYPE_CHECKING:
    from cpcstats.estimation.design import Design
    from cpcstats.spec import ModelSpec


def cluster_bootstrap(
    spec: ModelSpec, design: Design, core: CoreFit, *, reps: int, seed: int
) -> Vcov:
    """Bootstrap variance of all parameters of ``core`` by resampling ``spec.cluster[0]``."""
    data = design.data
    frame = design.frame if core.keep is None else design.frame[core.keep]
    if core.keep is not None:
        kept = np.flatnonzero(core.keep)
        data = _subset(data, kept, np.zeros(len(kept), dtype=int), [False] * len(data.fe_codes))
    cluster = pd.factorize(frame[spec.cluster[0]])[0]
    nested = [_nested(codes, cluster) for codes in data.fe_codes]
    members = [np.flatnonzero(cluster == g) for g in range(cluster.max() + 1)]
    n_clusters = len(members)
    rng = np.random.default_rng(seed)
    draws = np.empty((reps, len(core.params)))
    failed = 0
    traits = get_family(spec.family)
    family = traits.fit_function()
    start = np.log(core.fitted) if core.fitted is not None and traits.warm_start else None
    for r in range(reps):
        chosen = rng.integers(0, n_clusters, n_clusters)
        rows = np.concatenate([members[g] for g in chosen])
        copy = np.repeat(np.arange(n_clusters), [len(members[g]) for g in chosen])
        sub = _subset(data, rows, copy, nested)
        if start is not None:
            sub = replace(sub, start=start[rows])
        try:
            draws[r] = family(sub).params
        except (EstimationError, np.linalg.LinAlgError, ValueError):  # counted, reported
            draws[r] = np.nan
            failed += 1
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
