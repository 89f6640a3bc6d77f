"""Sandwich variance estimators, one implementation for every family.

A family supplies per-observation scores ``S`` (n x q) and its model-based
variance ``B`` (q x q, the inverse information, with any dispersion
parameter either held fixed, as R's ``glm.nb`` + ``sandwich`` do, or
included jointly).  Variants:

* ``classical`` — ``B``;
* ``hc0`` / ``hc1`` — ``B S'S B``, HC1 scaled by n/(n-k);
* ``cluster`` — one-way or two-way (Cameron, Gelbach & Miller 2011) with
  G/(G-1) for each clustering and (n-1)/(n-k) overall: R's
  ``sandwich::vcovCL(type = "HC1")`` and Stata's defaults.

``k`` counts every estimated coefficient, fixed-effect dummies included, as
R does for a GLM with factor dummies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SE_TYPES = ("classical", "hc0", "hc1", "cluster", "bootstrap", "quasi")
#: families whose variance can be scaled by the Pearson dispersion (se = "quasi")
QUASI_FAMILIES = ("poisson", "fe-poisson")


@dataclass(frozen=True)
class Vcov:
    matrix: np.ndarray
    se_type: str
    description: str
    n_clusters: int | None


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, int]:
    _, dense = np.unique(codes, return_inverse=True)
    g = int(dense.max()) + 1 if len(dense) else 0
    if g < 2:  # G/(G-1) divides by zero; fit() names the variable before it gets here
        raise ValueError(f"a clustered variance needs at least 2 clusters, the sample has {g}")
    summed = np.zeros((g, scores.shape[1]))
    np.add.at(summed, dense, scores)
    return (g / (g - 1)) * summed.T @ summed, g


def _codes(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby(list(frame.columns), sort=True, observed=True).ngroup().to_numpy()


def sandwich(
    scores: np.ndarray | None,
    bread: np.ndarray,
    *,
    se_type: str,
    k_dof: int,
    clusters: pd.DataFrame | None = None,
    cluster_names: Sequence[str] = (),
) -> Vcov:
    """Variance of all parameters the scores/bread cover."""
    if se_type == "classical":
        return Vcov(bread, "classical", "classical (inverse information)", None)
    if scores is None:
        raise ValueError("this family provides no scores for a sandwich variance")
    n = scores.shape[0]
    k = k_dof
    if n <= k:  # n/(n-k) and (n-1)/(n-k) are not defined
        raise ValueError(
            f"a sandwich variance needs more observations than parameters (n = {n}, k = {k})"
        )
    if se_type in ("hc0", "hc1"):
        meat = scores.T @ scores
        factor = n / (n - k) if se_type == "hc1" else 1.0
        label = "HC1, n/(n-k)" if se_type == "hc1" else "HC0"
        return Vcov(
            factor * bread @ meat @ bread, se_type, f"heteroskedasticity-robust ({label})", None
        )
    if se_type != "cluster":
        raise ValueError(f"unknown se_type {se_type!r}")
    assert clusters is not None and len(cluster_names) in (1, 2)
    small = (n - 1) / (n - k)
    if len(cluster_names) == 1:
        meat, g = _cluster_meat(scores, _codes(clusters[[cluster_names[0]]]))
        description = f"clustered by {cluster_names[0]} ({g} clusters; CR1: G/(G-1)·(n-1)/(n-k))"
        return Vcov(small * bread @ meat @ bread, "cluster", description, g)
    a, b = cluster_names
    meat_a, ga = _cluster_meat(scores, _codes(clusters[[a]]))
    meat_b, gb = _cluster_meat(scores, _codes(clusters[[b]]))
    meat_ab, _ = _cluster_meat(scores, _codes(clusters[[a, b]]))
    matrix = small * bread @ (meat_a + meat_b - meat_ab) @ bread
    description = (
        f"two-way clustered by {a} ({ga}) and {b} ({gb}) (Cameron-Gelbach-Miller; "
        "each G/(G-1), (n-1)/(n-k))"
    )
    return Vcov(matrix, "cluster2", description, min(ga, gb))
