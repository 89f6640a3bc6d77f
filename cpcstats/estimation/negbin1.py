"""The NB1 family (Var = mu (1 + alpha)), as ``statsmodels``' ``NegativeBinomial(nb1)``.

Why its own module: a family is one fit function ``(ModelData) -> CoreFit`` registered in
`cpcstats.spec_registry`; NB1 also needs its own Newton steps (below) that keep the
dispersion positive.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from cpcstats.estimation.base import (
    ALPHA_BOUNDARY,
    CoreFit,
    ModelData,
    _caught,
    _exp_mean,
    _inv,
    _offset,
    _sqrt,
)
from cpcstats.estimation.families import fit_poisson


def _newton_positive(
    model: object, params: np.ndarray, maxiter: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, bool]:
    """Newton steps on (beta, alpha) with step halving that keep alpha > 0 and never lower
    the likelihood.

    Why not statsmodels' ``method="newton"``: it steps alpha on its natural scale, below
    zero near the boundary, where its NB1 Hessian evaluates polygamma at large negative
    arguments -- minutes per call (a hang on underdispersed data).
    """
    p = np.asarray(params, dtype=float).copy()
    ll = float(model.loglike(p))  # type: ignore[attr-defined]
    for _ in range(maxiter):
        g = np.asarray(model.score(p))  # type: ignore[attr-defined]
        h = np.asarray(model.hessian(p))  # type: ignore[attr-defined]
        if not (np.isfinite(g).all() and np.isfinite(h).all()):
            return p, False
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            return p, False
        t = 1.0
        while True:
            new = p - t * step
            if new[-1] > 0:
                ll_new = float(model.loglike(new))  # type: ignore[attr-defined]
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                    break
            t /= 2
            if t < 1e-10:
                return p, False
        p, ll = new, ll_new
        if np.max(np.abs(t * step) / np.maximum(np.abs(p), 1.0)) < tol:
            return p, True
    return p, False


def fit_negbin1(data: ModelData) -> CoreFit:
    """NB1 (Var = mu (1 + alpha)); joint variance of (beta, alpha) from the observed Hessian."""
    y, X, off = data.y, data.X, _offset(data)
    start = fit_poisson(data).params
    model = NegativeBinomial(y, X, loglike_method="nb1", offset=off)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(
            start_params=np.append(start, 0.5), method="bfgs", maxiter=1000, disp=0, gtol=1e-10
        )
        params = np.asarray(res.params)
        converged = bool(res.mle_retvals.get("converged", False))
        if not converged and params[-1] >= ALPHA_BOUNDARY:
            params, converged = _newton_positive(model, params)
    beta, alpha = params[:-1], float(params[-1])
    notes = [] if converged or alpha < ALPHA_BOUNDARY else ["NB1 did not converge"]
    if alpha < ALPHA_BOUNDARY:
        notes.append(f"NB1 dispersion at the boundary (alpha = {alpha:.2e})")
    bread = _inv(-model.hessian(params))
    mu = np.exp(X @ beta + off)
    size = mu / alpha
    prob = 1.0 / (1.0 + alpha)

    def pmf(k: np.ndarray, size: np.ndarray = size, prob: float = prob) -> np.ndarray:
        return stats.nbinom.pmf(k[None, :], size[:, None], prob)

    return CoreFit(
        names=list(data.x_names),
        params=beta,
        loglik=float(model.loglike(params)),
        bread=bread,
        scores=model.score_obs(params),
        k_dof=X.shape[1],
        n_extra=1,
        alpha=alpha,
        alpha_se=_sqrt(bread[-1, -1]),
        converged=not notes or alpha < ALPHA_BOUNDARY,
        warnings=notes + _caught(caught),
        loglik_obs=model.loglikeobs(params),
        fitted=mu,
        pmf=pmf,
        mean=_exp_mean,
    )
