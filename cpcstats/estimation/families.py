"""Count-model families: each one fits y on X and returns what inference needs.

A family is a small function ``(y, X, offset) -> CoreFit``.  Estimation uses
statsmodels' maximum-likelihood routines; variance estimation is done
uniformly in :mod:`cpcstats.estimation.vcov` from the family's score and
information weights, so every family gets the same standard-error options.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

ALPHA_BOUNDARY = 1e-6


@dataclass
class CoreFit:
    """Point estimates and the weights the sandwich needs."""

    params: np.ndarray
    loglik: float
    mu: np.ndarray
    resid_score: np.ndarray  # (y - mu) * w
    info_weights: np.ndarray  # v in X' diag(v) X
    n_extra: int = 0  # extra parameters (NB dispersion) for information criteria
    alpha: float | None = None
    alpha_se: float | None = None
    converged: bool = True
    warnings: list[str] = field(default_factory=list)


def fit_poisson(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None = None) -> CoreFit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
            method="IRLS", maxiter=200, tol=1e-12
        )
    mu = np.asarray(res.fittedvalues, dtype=float)
    converged = bool(res.converged)
    notes = [] if converged else ["Poisson IRLS did not converge in 200 iterations"]
    notes += _warning_notes(caught)
    return CoreFit(
        np.asarray(res.params), float(res.llf), mu, y - mu, mu, converged=converged, warnings=notes
    )


def fit_negbin(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None = None) -> CoreFit:
    """NB2 (Var = mu + alpha mu^2) by maximum likelihood, alpha estimated jointly."""
    start = fit_poisson(y, X, offset)
    model = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=offset)
    start_params = np.append(start.params, 0.5)
    res = None
    notes: list[str] = []
    for method in ("newton", "bfgs"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = model.fit(start_params=start_params, method=method, maxiter=300, disp=0)
            except (np.linalg.LinAlgError, ValueError) as exc:
                notes.append(f"NB2 {method} failed: {exc}")
                res = None
                continue
        if res.mle_retvals.get("converged", False):
            break
        notes.append(f"NB2 {method} optimiser did not report convergence")
    if res is None:
        raise np.linalg.LinAlgError("; ".join(notes))
    converged = bool(res.mle_retvals.get("converged", False))
    if converged:
        notes = []
    notes += _warning_notes(caught)
    params = np.asarray(res.params)
    beta, alpha = params[:-1], float(params[-1])
    with np.errstate(invalid="ignore"):
        alpha_se = float(np.sqrt(np.diag(res.cov_params()))[-1])
    if alpha < ALPHA_BOUNDARY:
        notes.append(
            f"NB dispersion at the boundary (alpha = {alpha:.2e}): the data show no "
            "overdispersion; the Poisson model is the appropriate one"
        )
    eta = X @ beta + (0 if offset is None else offset)
    mu = np.exp(eta)
    w = 1.0 / (1.0 + alpha * mu)
    return CoreFit(
        beta,
        float(res.llf),
        mu,
        (y - mu) * w,
        mu * w,
        n_extra=1,
        alpha=alpha,
        alpha_se=alpha_se,
        converged=converged,
        warnings=notes,
    )


def _warning_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    keep = (ConvergenceWarning, HessianInversionWarning, RuntimeWarning)
    seen: list[str] = []
    for w in caught:
        if issubclass(w.category, keep):
            text = str(w.message).splitlines()[0]
            if text not in seen:
                seen.append(text)
    return seen


FAMILIES: dict[str, Callable[..., CoreFit]] = {
    "poisson": fit_poisson,
    "negbin": fit_negbin,
}
FAMILY_LABELS = {"poisson": "Poisson", "negbin": "NB2"}
