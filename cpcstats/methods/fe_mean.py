"""E[y] of a fitted FE-Poisson and the delta method over the full parameter vector.

Why the full vector: the aggregated effects of ETWFE are functions of the slopes *and*
of the unit and period effects (E[y] = exp(alpha_i + lambda_t + x'beta)).  A delta method
on the slopes alone treats the fixed effects as known.  With a few hundred units and
periods the full information matrix is small, so the fit is re-expressed with explicit
dummies (the fixed effects recovered exactly from the fitted means), the clustered
sandwich of all parameters is formed, and gradients are analytic
(d E[y] / d theta = E[y] * x): no finite differences, no re-solving of the fixed effects.
The slope block of that sandwich reproduces the fit's clustered variance up to its
small-sample factor (``tests/test_methods_imputation.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpcstats.estimation.results import FitResult
from cpcstats.methods.fe_design import (
    InformationSolver,
    cluster_codes,
    cluster_sum,
    small_sample_factor,
)

__all__ = ["FEPoissonMean"]


def _dummies(codes: list[np.ndarray]) -> np.ndarray:
    """All levels of the first fixed effect, every level but the first of the others."""
    blocks = []
    for k, c in enumerate(codes):
        d = np.zeros((len(c), int(c.max()) + 1))
        d[np.arange(len(c)), c] = 1.0
        blocks.append(d if k == 0 else d[:, 1:])
    return np.hstack(blocks) if blocks else np.zeros((0, 0))


@dataclass
class FEPoissonMean:
    """E[y] of a fitted FE-Poisson on its own estimation rows (see the module docstring).

    ``full`` is the design with the fixed effects as dummies (slopes first, in the order of
    ``names``), ``theta_full`` its parameters, ``vcov_full`` their clustered sandwich
    (G/(G-1) times H^-1 S'S H^-1, clusters ``cluster_labels``).
    """

    result: FitResult
    X: np.ndarray  # estimation rows x estimated slopes, in the order of core.params
    rows: np.ndarray  # the estimation rows among the rows of the fit's design (a mask)
    names: list[str]
    theta: np.ndarray
    y: np.ndarray
    codes: list[np.ndarray]  # fixed-effect level of each estimation row, per FE
    full: np.ndarray
    theta_full: np.ndarray
    vcov_full: np.ndarray
    n_clusters: int

    @classmethod
    def of(cls, result: FitResult, cluster: str | None = None) -> FEPoissonMean:
        """The mean model of ``result``; ``cluster`` names the cluster column (default:
        the first fixed effect)."""
        # the model view does not expose X, y and the FE codes of the estimation rows
        core, design = result.core, result.design
        keep = np.ones(len(design.data.y), dtype=bool) if core.keep is None else core.keep
        cols = [design.data.x_names.index(n) for n in core.names]
        X = design.data.X[keep][:, cols]
        theta = np.asarray(core.params, dtype=float)
        y = np.asarray(design.data.y[keep], dtype=float)
        codes = [np.unique(c[keep], return_inverse=True)[1] for c in design.data.fe_codes]
        mu_hat = np.asarray(core.mean(theta, X), dtype=float)
        dummies = _dummies(codes)
        n_first = int(codes[0].max()) + 1
        # the fixed effects: least squares of the fitted log means' FE part on the dummies
        fe_mask = np.arange(dummies.shape[1]) < n_first
        fe = InformationSolver(dummies, np.ones(len(y)), fe_mask, codes[0]).solve(
            dummies.T @ (np.log(mu_hat) - X @ theta)
        )
        full = np.hstack([X, dummies])
        del dummies  # n x (levels) dense: freed before the sandwich's temporaries
        X = full[:, : X.shape[1]]  # the slopes: a view of the full design, not a second copy
        theta_full = np.concatenate([theta, fe])
        mu = np.exp(full @ theta_full)
        labels = design.frame[cluster].to_numpy()[keep] if cluster else codes[0]
        ccodes, n_clusters = cluster_codes(labels)
        mask = np.zeros(full.shape[1], dtype=bool)
        mask[X.shape[1] : X.shape[1] + n_first] = True
        info = InformationSolver(full, mu, mask, codes[0])
        # the cluster sums of the scores full * (y - mu), weighted in the sparse sum rather
        # than formed as a second n x p matrix (the same products, summed in the same order)
        half = info.solve(cluster_sum(full, ccodes, n_clusters, weights=y - mu).T).T
        vcov = small_sample_factor(n_clusters) * (half.T @ half)
        return cls(
            result, X, keep, list(core.names), theta, y, codes, full, theta_full, vcov, n_clusters
        )

    @property
    def frame(self) -> pd.DataFrame:
        """The estimation rows of the fit's frame, numbered from 0.

        Why taken on each read: an event study's frame carries its event-time indicators,
        as large as the design, and the aggregation never reads it; only the count of
        countries does, once."""
        return self.result.design.frame[self.rows].reset_index(drop=True)

    def column(self, name: str) -> np.ndarray:
        return self.X[:, self.names.index(name)]

    def designs(self, switch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The full design as estimated and with the ``switch`` indicators set to 0."""
        off = self.full.copy()
        off[:, self._positions(switch)] = 0.0
        return self.full, off

    def _positions(self, switch: Sequence[str]) -> list[int]:
        return [self.names.index(n) for n in switch]

    def _theta_off(self, switch: Sequence[str]) -> np.ndarray:
        """``theta_full`` with the ``switch`` coefficients 0: ``full @ theta_off`` is the
        switched-off design times ``theta_full`` without copying the design (a zero column
        and a zero coefficient give the same zero products, summed in the same order)."""
        theta = self.theta_full.copy()
        theta[self._positions(switch)] = 0.0
        return theta

    def means(self, switch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """E[y] as estimated, and with the ``switch`` indicators set to 0 (same FE)."""
        return np.exp(self.full @ self.theta_full), np.exp(self.full @ self._theta_off(switch))

    def aggregate(
        self, switch: Sequence[str], groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count and log effects of switching ``switch`` off, for each 0/1 column of
        ``groups`` (rows x K): mean(E1 - E0) and log(sum E1 / sum E0), their SEs and the
        joint covariance (K count effects, then K log effects).
        """
        mu1, mu0 = self.means(switch)
        Z = np.asarray(groups, dtype=float)
        n, s1, s0 = Z.sum(axis=0), Z.T @ mu1, Z.T @ mu0
        g1, g0 = (Z * mu1[:, None]).T @ self.full, (Z * mu0[:, None]).T @ self.full  # K x p
        g0[:, self._positions(switch)] = 0.0  # d E0 / d theta: the switched-off columns are 0
        count = (s1 - s0) / n
        log = np.log(s1 / s0)
        jac = np.vstack([(g1 - g0) / n[:, None], g1 / s1[:, None] - g0 / s0[:, None]])
        cov = jac @ self.vcov_full @ jac.T
        value = np.concatenate([count, log])
        return value, np.sqrt(np.clip(np.diag(cov), 0.0, None)), cov
