"""Zero-inflated Poisson and NB2 (``pscl::zeroinfl`` conventions): one family module.

A logit inflation part (its formula is the spec's ``inflation``) mixes structural zeros
with a Poisson or NB2 count part; fitted by statsmodels' ``ZeroInflated*`` with the
robust optimiser chain of `cpcstats.estimation.families`, and the bread from the
numeric Hessian of the analytic score.  Registered in `cpcstats.spec_registry`.
"""

from __future__ import annotations

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
    _numeric_hessian,
    _offset,
    _poisson_pmf,
    _sqrt,
)
from cpcstats.estimation.families import _require_z, _robust_ml, fit_negbin, fit_poisson


def _fit_zero_inflated(data: ModelData, negbin: bool) -> CoreFit:
    y, X, off = data.y, data.X, _offset(data)
    Z = _require_z(data, "zinb" if negbin else "zip")
    kx, kz = X.shape[1], Z.shape[1]
    if negbin:
        model = ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z, offset=off, p=2)
    else:
        model = ZeroInflatedPoisson(y, X, exog_infl=Z, offset=off)
    count = fit_negbin(data) if negbin else fit_poisson(data)
    logit = Logit((y == 0).astype(float), Z).fit(disp=0, maxiter=200)
    start = np.concatenate(
        [np.asarray(logit.params), count.params]
        + ([[max(count.alpha or 0.5, 0.05)]] if negbin else [])
    )
    if data.start is not None:
        start = data.start
    res, seen = _robust_ml(model, [start, None])
    full = np.asarray(res.params)  # statsmodels order: inflate, count, (alpha)
    order = np.r_[kz : kz + kx, 0:kz, kz + kx : len(full)]
    # statsmodels 0.15's analytic ZIP Hessian has a wrong inflation x count block, so the
    # Hessian is the central difference of the analytic score (pscl also differences).
    bread = _inv(-_numeric_hessian(model.score, full))[np.ix_(order, order)]
    scores = model.score_obs(full)[:, order]
    if negbin:
        scores[:, -1] = 0.0  # R's estfun.zeroinfl has no theta column (see vcov.py)
    alpha = float(full[-1]) if negbin else None
    notes = (
        []
        if res.mle_retvals.get("converged", False)
        else [f"{'ZINB' if negbin else 'ZIP'} optimiser did not converge"]
    )
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
        loglik=float(res.llf),
        bread=bread,
        scores=scores,
        k_dof=kx + kz,
        n_extra=int(negbin),
        alpha=alpha,
        alpha_se=_sqrt(bread[-1, -1]) if negbin else None,
        converged=bool(res.mle_retvals.get("converged", False)),
        warnings=notes + seen,
        loglik_obs=model.loglikeobs(full),
        fitted=(1 - pi) * mu,
        pmf=pmf,
        mean=mean,
    )


def fit_zip(data: ModelData) -> CoreFit:
    return _fit_zero_inflated(data, negbin=False)


def fit_zinb(data: ModelData) -> CoreFit:
    return _fit_zero_inflated(data, negbin=True)
