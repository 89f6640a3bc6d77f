"""Sandwich variance estimators for log-link count models.

For Poisson and NB2 (dispersion held at its estimate, as R's ``glm.nb`` and
``sandwich`` do) the score of observation *i* is ``x_i (y_i - mu_i) w_i`` and
the expected information is ``X' diag(v) X``; ``w`` and ``v`` are supplied by
the family.  Variants:

* ``classical`` — inverse expected information;
* ``hc0`` / ``hc1`` — White; HC1 scales by n/(n-k);
* ``cluster`` — one-way or two-way (Cameron, Gelbach & Miller 2011) CR1 with
  the adjustment G/(G-1) for each clustering and (n-1)/(n-k) overall, the
  defaults of R's ``sandwich::vcovCL(type = "HC1")`` and Stata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SE_TYPES = ("classical", "hc0", "hc1", "cluster")


@dataclass(frozen=True)
class Vcov:
    matrix: np.ndarray
    se_type: str
    description: str
    n_clusters: int | None


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, int]:
    n_groups = int(codes.max()) + 1
    summed = np.zeros((n_groups, scores.shape[1]))
    np.add.at(summed, codes, scores)
    g = len(np.unique(codes))
    return (g / (g - 1)) * summed.T @ summed, g


def _codes(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby(list(frame.columns), sort=True, observed=True).ngroup().to_numpy()


def sandwich(
    X: np.ndarray,
    resid_score: np.ndarray,
    info_weights: np.ndarray,
    *,
    se_type: str,
    clusters: pd.DataFrame | None = None,
    cluster_names: Sequence[str] = (),
    k_params: int | None = None,
) -> Vcov:
    """Variance of the mean-equation coefficients.

    ``resid_score`` is the per-observation scalar ``(y_i - mu_i) w_i``;
    ``k_params`` is the number of coefficients used in the (n-1)/(n-k) factor.
    """
    n, k = X.shape
    k = k_params if k_params is not None else k
    bread = np.linalg.pinv((X * info_weights[:, None]).T @ X)
    if se_type == "classical":
        return Vcov(bread, "classical", "classical (inverse information)", None)
    scores = X * resid_score[:, None]
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
