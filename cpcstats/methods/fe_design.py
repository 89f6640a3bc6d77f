"""FE-Poisson with explicit unit and period dummies: design, Newton fit, clustered sandwich.

Why explicit dummies: with a few hundred units and a few dozen periods the full
information matrix is small (a few hundred columns), so the fixed effects can be part of
the parameter vector.  Delta methods and influence functions built on it then include the
sampling error of the fixed effects instead of treating them as known, and every
derivative is analytic (for the exponential mean d mu / d theta = mu * x).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cpcstats.errors import EstimationError

__all__ = [
    "DummyDesign",
    "InformationSolver",
    "PoissonFit",
    "cluster_codes",
    "cluster_sum",
    "dummy_design",
    "fit_poisson",
    "small_sample_factor",
]


@dataclass(frozen=True)
class DummyDesign:
    """Columns: covariates, one dummy per unit, one per period but the first, then each
    time-invariant covariate times those period dummies (its own period-specific slope)."""

    X: np.ndarray
    names: list[str]
    unit_levels: np.ndarray
    period_levels: np.ndarray
    n_covariates: int
    unit_code: np.ndarray  # each row's unit column (-1: unit not among the levels)

    @property
    def unit_mask(self) -> np.ndarray:
        """True for the unit-dummy columns."""
        mask = np.zeros(self.X.shape[1], dtype=bool)
        mask[self.n_covariates : self.n_covariates + len(self.unit_levels)] = True
        return mask


def dummy_design(
    frame: pd.DataFrame,
    *,
    idname: str,
    tname: str,
    covariates: Sequence[str] = (),
    invariant: Sequence[str] = (),
    unit_levels: np.ndarray | None = None,
    period_levels: np.ndarray | None = None,
) -> DummyDesign:
    """The dummy design of ``frame``; given levels make a prediction design comparable.

    A row whose unit or period is not among the levels gets zeros in those dummies (the
    caller keeps such rows out of any prediction).
    """
    units = np.asarray(
        pd.unique(frame[idname]) if unit_levels is None else unit_levels, dtype=object
    )
    periods = np.sort(frame[tname].unique()) if period_levels is None else period_levels
    n = len(frame)
    u_idx = pd.Index(units).get_indexer(frame[idname])
    t_idx = pd.Index(periods).get_indexer(frame[tname])
    unit_d = np.zeros((n, len(units)))
    unit_d[np.flatnonzero(u_idx >= 0), u_idx[u_idx >= 0]] = 1.0
    period_d = np.zeros((n, len(periods)))
    period_d[np.flatnonzero(t_idx >= 0), t_idx[t_idx >= 0]] = 1.0
    period_d = period_d[:, 1:]
    blocks = [frame[list(covariates)].to_numpy(dtype=float).reshape(n, len(covariates))]
    names = [*covariates]
    blocks += [unit_d, period_d]
    names += [f"{idname}[{u}]" for u in units] + [f"{tname}[{p}]" for p in periods[1:]]
    for name in invariant:
        blocks.append(period_d * frame[name].to_numpy(dtype=float)[:, None])
        names += [f"{name}:{tname}[{p}]" for p in periods[1:]]
    return DummyDesign(np.hstack(blocks), names, units, np.asarray(periods), len(covariates), u_idx)


class InformationSolver:
    """Solves H z = r for the Poisson information H = X' diag(mu) X, exploiting that the
    unit dummies (``mask``) form a diagonal block: the Schur complement of that block is
    small (covariates and periods), so no large dense factorisation is needed.

    Why not ``np.linalg.solve`` on H: with a few hundred unit dummies it is a dense
    factorisation per Newton step, slow on a shared machine with threaded BLAS.
    """

    def __init__(self, X: np.ndarray, mu: np.ndarray, mask: np.ndarray, unit_code: np.ndarray):
        self.mask = mask
        n_units = int(mask.sum())
        Xd = X[:, ~mask]
        self.d = np.bincount(unit_code, weights=mu, minlength=n_units)
        self.hab = cluster_sum(Xd * mu[:, None], unit_code, n_units)
        schur = Xd.T @ (Xd * mu[:, None]) - self.hab.T @ (self.hab / self.d[:, None])
        try:
            self.schur_inv = np.linalg.inv(schur)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "singular Poisson information matrix (collinear columns)"
            ) from exc

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """H^-1 rhs for a vector or a matrix (columns) ``rhs``."""
        r = rhs.reshape(len(self.mask), -1)
        ra, rb = r[self.mask], r[~self.mask]
        db = self.schur_inv @ (rb - self.hab.T @ (ra / self.d[:, None]))
        out = np.empty_like(r, dtype=float)
        out[~self.mask] = db
        out[self.mask] = (ra - self.hab @ db) / self.d[:, None]
        return out.reshape(rhs.shape)


@dataclass(frozen=True)
class PoissonFit:
    """Poisson QMLE: coefficients, fitted means and a solver for the information matrix."""

    theta: np.ndarray
    mu: np.ndarray
    info: InformationSolver
    iterations: int


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    return float(np.sum(y * eta - np.exp(eta)))


def fit_poisson(
    X: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    unit_code: np.ndarray,
    *,
    tol: float = 1e-10,
    maxit: int = 200,
) -> PoissonFit:
    """Newton-Raphson with step halving for the Poisson log likelihood.

    Why not the package's demeaning fit: the unit and period effects are wanted as
    parameters (for the full information matrix and for predicting untreated means).
    ``mask`` marks the unit-dummy columns, ``unit_code`` each row's unit column.  Starts
    from unit means; converged when the largest Newton step is below ``tol``.
    """
    theta = np.zeros(X.shape[1])
    n_units = int(mask.sum())
    unit_mean = np.bincount(unit_code, weights=y, minlength=n_units) / np.bincount(
        unit_code, minlength=n_units
    )
    theta[mask] = np.log(np.maximum(unit_mean, 1e-3))
    eta = X @ theta
    ll = _loglik(y, eta)
    iterations = 0
    for _ in range(maxit):
        iterations += 1
        mu = np.exp(eta)
        step = InformationSolver(X, mu, mask, unit_code).solve(X.T @ (y - mu))
        t = 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            while t >= 1e-10:
                new_eta = X @ (theta + t * step)
                new_ll = _loglik(y, new_eta)
                if np.isfinite(new_ll) and new_ll >= ll - 1e-12 * abs(ll):
                    break
                t /= 2
        if t < 1e-10:  # no step improves the likelihood: at the optimum, or stuck
            if np.max(np.abs(step)) < 1e-6:
                break
            raise EstimationError("Poisson Newton iterations stalled (separation?)")
        theta, eta, ll = theta + t * step, new_eta, new_ll
        if np.max(np.abs(t * step)) < tol:
            break
    else:
        raise EstimationError(f"Poisson Newton iterations did not converge in {maxit} steps")
    mu = np.exp(eta)
    return PoissonFit(theta, mu, InformationSolver(X, mu, mask, unit_code), iterations)


def cluster_codes(labels: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Integer cluster codes and the number of clusters."""
    codes, levels = pd.factorize(pd.Series(labels), sort=False)
    return np.asarray(codes), len(levels)


def cluster_sum(
    values: np.ndarray, codes: np.ndarray, n_clusters: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum the rows of ``values`` (n x k) within clusters: (n_clusters x k); with
    ``weights``, of ``values * weights[:, None]`` without forming that n x k product."""
    ind = sparse.csr_matrix(
        (np.ones(len(codes)) if weights is None else weights, (codes, np.arange(len(codes)))),
        shape=(n_clusters, len(codes)),
    )
    return np.asarray(ind @ values)


def small_sample_factor(n_clusters: int) -> float:
    """G / (G - 1): the cluster adjustment of CR1 (``sandwich::vcovCL(type = "HC0")``'s
    default ``cadjust``); no (n - 1) / (n - k) factor, since k grows with the dummies."""
    return n_clusters / (n_clusters - 1) if n_clusters > 1 else np.nan
