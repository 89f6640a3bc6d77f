"""What every family shares: the model data it receives, the fit it returns, helpers.

Why a module of its own: each family module (``families``, ``zero_inflated``, ``gee``,
``linear_fe``, and any new one) needs these types and helpers, and none should have to
import another family to get them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from cpcstats.estimation.numdiff import symmetric_jacobian

ALPHA_BOUNDARY = 1e-6
INFLATE = "inflate:"
ZERO = "zero:"


@dataclass
class ModelData:
    """The numbers a family needs, built from a formula by ``fit``."""

    y: np.ndarray
    X: np.ndarray
    x_names: list[str]
    offset: np.ndarray | None = None
    Z: np.ndarray | None = None  # inflation / zero-hurdle design
    z_names: list[str] = field(default_factory=list)
    fe_codes: list[np.ndarray] = field(default_factory=list)  # high-dimensional FE
    fe_names: list[str] = field(default_factory=list)
    groups: np.ndarray | None = None  # GEE panel unit
    time: np.ndarray | None = None  # GEE time order
    correlation: str = "exchangeable"
    frame: pd.DataFrame | None = None  # the estimation sample, for families with fe="own"
    unit: str | None = None
    period: str | None = None
    start: np.ndarray | None = None  # warm start (bootstrap)


@dataclass
class CoreFit:
    """Estimates plus everything variance estimation and diagnostics need."""

    names: list[str]
    params: np.ndarray
    loglik: float
    bread: np.ndarray  # model-based variance over params + ancillary parameters
    scores: np.ndarray | None  # n x q per-observation scores (q = len(bread))
    k_dof: int  # coefficients counted in the (n-1)/(n-k) factor (FE dummies included)
    n_extra: int = 0  # dispersion parameters (information criteria)
    alpha: float | None = None
    alpha_se: float | None = None
    converged: bool = True
    warnings: list[str] = field(default_factory=list)
    loglik_obs: np.ndarray | None = None
    fitted: np.ndarray | None = None  # E[y] per observation
    pmf: Callable[[np.ndarray], np.ndarray] | None = None  # k -> n x len(k) probabilities
    mean: Callable[..., np.ndarray] | None = None  # (params, X, Z, offset) -> E[y]
    vcov: np.ndarray | None = None  # a family's own robust variance (GEE, linear FE)
    vcov_description: str | None = None
    n_clusters: int | None = None
    dropped: dict[str, int] = field(default_factory=dict)  # rows the family itself removed
    keep: np.ndarray | None = None  # mask of rows used, when the family dropped some
    extra: dict[str, float] = field(default_factory=dict)
    # the fixed effects counted in k_dof, when not the formula's (ols-fe adds year effects)
    fixed_effects: tuple[str, ...] | None = None


# --------------------------------------------------------------------------- helpers
def _offset(data: ModelData) -> np.ndarray:
    return np.zeros(len(data.y)) if data.offset is None else data.offset


def _caught(caught: list[warnings.WarningMessage]) -> list[str]:
    keep = (ConvergenceWarning, HessianInversionWarning)
    seen: list[str] = []
    for w in caught:
        if issubclass(w.category, keep):
            text = str(w.message).splitlines()[0]
            if text not in seen:
                seen.append(text)
    return seen


#: the flag a fit carries when a Hessian / information matrix cannot be inverted
SINGULAR_HESSIAN = (
    "singular/non-finite Hessian: the model-based variance cannot be computed, so its "
    "standard errors are NaN (a boundary, separation or a diverging parameter)"
)


def _inv(matrix: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a symmetric information matrix, never an exception.

    Why: the eigendecomposition behind ``pinv(hermitian=True)`` raises ``LinAlgError``
    ("Eigenvalues did not converge") when the matrix holds inf/NaN -- which a fit at a
    boundary produces on some BLAS builds -- and that is a property of the user's data,
    not a bug.  A non-finite matrix or a failed decomposition gives an all-NaN matrix;
    ``fit.estimate`` then adds `SINGULAR_HESSIAN` to the fit's warnings.
    """
    matrix = np.asarray(matrix, dtype=float)
    nan = np.full(matrix.shape, np.nan)
    if not np.isfinite(matrix).all():
        return nan
    try:
        return np.linalg.pinv((matrix + matrix.T) / 2, hermitian=True)
    except (np.linalg.LinAlgError, ValueError):
        return nan


def _sqrt(value: float) -> float:
    """Standard error from a variance; NaN (not a warning) when it is negative or NaN."""
    return float(np.sqrt(value)) if np.isfinite(value) and value >= 0 else float("nan")


def _numeric_hessian(score: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Symmetrised central-difference Jacobian of an analytic score (relative step 1e-5)."""
    return symmetric_jacobian(score, x, rel_step=1e-5)


def _nb2_logpmf(y: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    size = 1.0 / alpha
    return (
        special.gammaln(y + size)
        - special.gammaln(size)
        - special.gammaln(y + 1)
        + size * np.log(size / (size + mu))
        + y * np.log(mu / (size + mu))
    )


def _nb2_pmf(k: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    size = 1.0 / alpha
    return stats.nbinom.pmf(k[None, :], size, (size / (size + mu))[:, None])


def _poisson_pmf(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    return stats.poisson.pmf(k[None, :], mu[:, None])


def _positive_prob(mu: np.ndarray, alpha: float | None) -> np.ndarray:
    """P(y > 0) of a Poisson (alpha None) or NB2, stable for tiny mu and huge alpha."""
    if alpha is None:
        return -np.expm1(-mu)
    return -np.expm1(-np.log1p(alpha * mu) / alpha)


def _exp_mean(
    params: np.ndarray, X: np.ndarray, Z: np.ndarray | None = None, offset: np.ndarray | None = None
) -> np.ndarray:
    eta = X @ params[: X.shape[1]]
    return np.exp(eta if offset is None else eta + offset)
