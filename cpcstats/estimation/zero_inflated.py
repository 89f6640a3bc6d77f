"""Zero-inflated Poisson and NB2 (``pscl::zeroinfl`` conventions): one family module.

A logit inflation part (its formula is the spec's ``inflation``) mixes structural zeros
with a Poisson or NB2 count part.  The likelihood, scores and Hessian are the analytic
ones of `cpcstats.estimation.zi_likelihood`, maximised by its damped Newton fit from a
logit of y == 0 and the Poisson fit; only when that declines (alpha at its zero
boundary, no convergence) do statsmodels' ``ZeroInflated*`` and the robust optimiser
chain of `cpcstats.estimation.families` decide.  The bread is the inverse of the
analytic Hessian at the optimum either way.  Registered in `cpcstats.spec_registry`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special
from statsmodels.discrete.count_model import ZeroInflatedNegativeBinomialP, ZeroInflatedPoisson
from statsmodels.discrete.discrete_model import Logit

from cpcstats.estimation.base import (
    ALPHA_BOUNDARY,
    INFLATE,
    CoreFit,
    ModelData,
    _exp_mean,
    _inv,
    _nb2_pmf,
    _offset,
    _poisson_pmf,
    _sqrt,
)
from cpcstats.estimation.families import _require_z, _robust_ml, fit_negbin, fit_poisson
from cpcstats.estimation.zi_likelihood import ZeroInflatedLikelihood, fit_newton


def _logit_start(data: ModelData, Z: np.ndarray) -> np.ndarray:
    """A logit of y == 0 on Z: start values only, so its convergence warnings (a group
    without zeros separates) are not the fit's; the fit's own checks report a boundary."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = Logit((data.y == 0).astype(float), Z).fit(disp=0, maxiter=200)
    return np.asarray(logit.params)


def _newton_start(data: ModelData, Z: np.ndarray, negbin: bool) -> np.ndarray:
    """Newton's start in statsmodels order: a logit of y == 0 on Z, the Poisson fit's
    count coefficients (and alpha = 1); the caller's warm start when it gives one.
    Why Poisson, not NB2: as good a start for Newton, at a tenth of an NB2 fit's cost."""
    if data.start is not None:
        return np.asarray(data.start, dtype=float)
    count = fit_poisson(data).params
    return np.concatenate([_logit_start(data, Z), count] + ([[1.0]] if negbin else []))


def _fallback_start(data: ModelData, Z: np.ndarray, negbin: bool) -> np.ndarray:
    """The general optimiser's start (as before the Newton path): a logit of y == 0, the
    count model's own fit and its alpha (at least 0.05); the caller's warm start first."""
    if data.start is not None:
        return np.asarray(data.start, dtype=float)
    count = fit_negbin(data) if negbin else fit_poisson(data)
    return np.concatenate(
        [_logit_start(data, Z), count.params]
        + ([[max(count.alpha or 0.5, 0.05)]] if negbin else [])
    )


def _statsmodels_optimum(
    data: ModelData, Z: np.ndarray, negbin: bool
) -> tuple[np.ndarray, bool, list[str]]:
    """The general optimiser chain (`families._robust_ml` on statsmodels' model), for
    the fits the Newton path declines (alpha at its boundary, no convergence)."""
    y, X, off = data.y, data.X, _offset(data)
    if negbin:
        model = ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z, offset=off, p=2)
    else:
        model = ZeroInflatedPoisson(y, X, exog_infl=Z, offset=off)
    res, seen = _robust_ml(model, [_fallback_start(data, Z, negbin), None])
    converged = bool(res.mle_retvals.get("converged", False))  # type: ignore[attr-defined]
    return np.asarray(res.params), converged, seen  # type: ignore[attr-defined]


def _fit_zero_inflated(data: ModelData, negbin: bool) -> CoreFit:
    """Long because: the optimum, the bread and scores in cpcstats' order, the boundary
    notes and the pmf / mean closures are one fit's state."""
    y, X, off = data.y, data.X, _offset(data)
    Z = _require_z(data, "zinb" if negbin else "zip")
    kx, kz = X.shape[1], Z.shape[1]
    lik = ZeroInflatedLikelihood(y, X, Z, off, negbin=negbin)
    fast = fit_newton(lik, _newton_start(data, Z, negbin))
    if fast is not None:
        full, converged, seen = fast.params, True, []
        hessian = fast.hessian
    else:
        full, converged, seen = _statsmodels_optimum(data, Z, negbin)
        hessian = lik.hessian(full)
    # statsmodels order: inflate, count, (alpha); cpcstats order: count, inflate, (alpha)
    order = np.r_[kz : kz + kx, 0:kz, kz + kx : len(full)]
    bread = _inv(-hessian)[np.ix_(order, order)]
    scores = lik.score_obs(full)[:, order]
    if negbin:
        scores[:, -1] = 0.0  # R's estfun.zeroinfl has no theta column (see vcov.py)
    loglik_obs = lik.loglike_obs(full)
    alpha = float(full[-1]) if negbin else None
    notes = [] if converged else [f"{'ZINB' if negbin else 'ZIP'} optimiser did not converge"]
    if negbin and alpha is not None and alpha < ALPHA_BOUNDARY:
        notes.append(f"ZINB dispersion at the boundary (alpha = {alpha:.2e})")
    params = full[order][: kx + kz]
    pi = special.expit(Z @ params[kx:])
    if pi.max() < 1e-6:
        notes.append(
            "zero-inflation probability at the boundary (max pi < 1e-6): the data "
            "show no excess zeros beyond the count model, whose fit this equals; the "
            "inflation coefficients are not identified"
        )
    mu = np.exp(X @ params[:kx] + off)

    def pmf(k: np.ndarray, pi: np.ndarray = pi, mu: np.ndarray = mu) -> np.ndarray:
        base = _nb2_pmf(k, mu, alpha) if negbin else _poisson_pmf(k, mu)  # type: ignore[arg-type]
        return (1 - pi)[:, None] * base + np.where(k[None, :] == 0, pi[:, None], 0.0)

    def mean(
        p: np.ndarray, X: np.ndarray, Z: np.ndarray | None = None, offset: np.ndarray | None = None
    ) -> np.ndarray:
        assert Z is not None
        return (1 - special.expit(Z @ p[kx : kx + kz])) * _exp_mean(p, X, None, offset)

    return CoreFit(
        names=list(data.x_names) + [INFLATE + n for n in data.z_names],
        params=params,
        loglik=float(np.sum(loglik_obs)),
        bread=bread,
        scores=scores,
        k_dof=kx + kz,
        n_extra=int(negbin),
        alpha=alpha,
        alpha_se=_sqrt(bread[-1, -1]) if negbin else None,
        converged=converged,
        warnings=notes + seen,
        loglik_obs=loglik_obs,
        fitted=(1 - pi) * mu,
        pmf=pmf,
        mean=mean,
    )


def fit_zip(data: ModelData) -> CoreFit:
    return _fit_zero_inflated(data, negbin=False)


def fit_zinb(data: ModelData) -> CoreFit:
    return _fit_zero_inflated(data, negbin=True)
