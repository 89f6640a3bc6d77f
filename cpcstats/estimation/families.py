"""Count-model families: each fits one model and returns what inference needs.

Every family is a function ``(ModelData) -> CoreFit``, registered with its traits in
`cpcstats.spec_registry`.  This module holds the Poisson, NB2, hurdle and FE-NB2
families; the shared types and helpers are in `.base`, and the NB1,
zero-inflated, FE-Poisson, GEE and linear-FE families live in their own modules
(``negbin1``, ``zero_inflated``, ``fe_poisson``, ``gee``, ``linear_fe``), the way a new
family is added.  A ``CoreFit`` carries the coefficients shown in tables
(``names``/``params``), per-observation scores and the model-based variance
("bread") over those coefficients plus any ancillary ones (a dispersion parameter), so
`cpcstats.estimation.vcov` computes classical, robust and clustered variances the
same way for every family.  It also carries per-observation log-likelihoods and probabilities
(for Vuong tests, expected zeros and rootograms) and a ``mean`` function of
the parameters (for predictions and marginal effects).

Conventions match R so that results can be checked against it:
Poisson = ``glm``; NB2 = ``MASS::glm.nb`` (variances hold the dispersion at
its estimate); ZIP/ZINB = ``pscl::zeroinfl``; hurdles = ``pscl::hurdle`` with
a logit zero hurdle modelling P(y > 0).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, special, stats
from statsmodels.discrete.discrete_model import Logit, NegativeBinomial
from statsmodels.genmod import families as sm_families
from statsmodels.genmod.generalized_linear_model import GLM

from cpcstats.errors import EstimationError
from cpcstats.estimation.base import (
    ALPHA_BOUNDARY,
    ZERO,
    CoreFit,
    ModelData,
    _caught,
    _exp_mean,
    _inv,
    _nb2_logpmf,
    _nb2_pmf,
    _offset,
    _poisson_pmf,
    _positive_prob,
    _sqrt,
)
from cpcstats.estimation.base import SINGULAR_HESSIAN as SINGULAR_HESSIAN  # re-exported
from cpcstats.estimation.nb2 import NB2Fit, fit_nb2_alternating
from cpcstats.estimation.truncated import TruncatedFit, fit_truncated
from cpcstats.spec_registry import FitFunctions


# --------------------------------------------------------------------------- Poisson / NB
def _poisson_irls(
    y: np.ndarray,
    X: np.ndarray,
    off: np.ndarray,
    start: np.ndarray | None,
    tol: float = 1e-13,
    maxiter: int = 200,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Poisson IRLS with a Cholesky solve (statsmodels' GLM uses an SVD per iteration,
    slow with many dummy columns); converged when the deviance changes < tol (relative)."""
    if start is None:
        mu = y + 0.5
        eta = np.log(mu)
    else:
        eta = X @ start + off
        mu = np.exp(eta)
    dev_old = np.inf
    beta = np.zeros(X.shape[1])
    for _ in range(maxiter):
        z = eta - off + (y - mu) / mu
        XtW = X.T * mu
        beta = linalg.solve(XtW @ X, XtW @ z, assume_a="pos")
        eta = X @ beta + off
        mu = np.exp(np.clip(eta, -700, 700))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            return beta, mu, True
        dev_old = dev
    return beta, mu, False


def fit_poisson(data: ModelData) -> CoreFit:
    y, X, off = data.y, data.X, _offset(data)
    start = None if data.start is None else data.start[: X.shape[1]]
    try:
        params, mu, converged = _poisson_irls(y, X, off, start)
    except (linalg.LinAlgError, ValueError):  # not positive definite: fall back to statsmodels
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = GLM(y, X, family=sm_families.Poisson(), offset=off).fit(
                method="IRLS", maxiter=200, tol=1e-12
            )
        params, mu = np.asarray(res.params), np.asarray(res.fittedvalues, dtype=float)
        converged = bool(res.converged)
    notes = [] if converged else ["Poisson IRLS did not converge in 200 iterations"]
    loglik_obs = stats.poisson.logpmf(y, mu)
    return CoreFit(
        names=list(data.x_names),
        params=params,
        loglik=float(loglik_obs.sum()),
        bread=_inv((X * mu[:, None]).T @ X),
        scores=X * (y - mu)[:, None],
        k_dof=X.shape[1],
        converged=converged,
        warnings=notes,
        loglik_obs=loglik_obs,
        fitted=mu,
        pmf=lambda k, mu=mu: _poisson_pmf(k, mu),
        mean=_exp_mean,
    )


def _finite(res: object) -> bool:
    return bool(np.isfinite(np.asarray(res.params)).all() and np.isfinite(res.llf))  # type: ignore[attr-defined]


def _robust_ml(
    model: object, starts: list[np.ndarray | None], *, dispersion_last: bool = False
) -> tuple[object, list[str]]:
    """Maximum likelihood that survives a bad start.

    From each start in turn: BFGS, then a short Newton polish when BFGS stops short.  The
    first finite, converged optimum is returned with the warnings of that fit only; a later
    start is tried only when an earlier one gives nothing finite or does not converge.
    """
    best, best_notes = None, []
    for start in starts:
        for method, maxiter in (("bfgs", 1000), ("newton", 50)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    res = model.fit(
                        start_params=start,
                        method=method,
                        maxiter=maxiter,  # type: ignore[attr-defined]
                        disp=0,
                        gtol=1e-10,
                    )
                except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                    continue
            if not _finite(res):
                continue
            if best is None or res.llf > best.llf - 1e-9:
                best, best_notes = res, _caught(caught)
            if res.mle_retvals.get("converged", False):
                return res, _caught(caught)
            start = np.asarray(res.params)
            if dispersion_last and start[-1] < 1e-4:
                # Newton would step the dispersion below zero (and statsmodels' NB Hessian is
                # then very slow); BFGS works on log(alpha) and has found the boundary
                return res, _caught(caught)
    if best is None:
        best, best_notes = _nelder_mead_fallback(model, starts)
    if best is None:
        raise np.linalg.LinAlgError("no starting value led to a finite likelihood")
    return best, best_notes


NELDER_MEAD_NOTE = (
    "the gradient-based optimisers failed (the dispersion stepped out of range); the "
    "likelihood was maximised by Nelder-Mead, whose convergence the gradient does not confirm"
)


def _nelder_mead_fallback(
    model: object, starts: list[np.ndarray | None]
) -> tuple[object | None, list[str]]:
    """Last resort when BFGS and Newton give nothing finite from every start.

    Why: statsmodels' ZINB steps its dispersion on the natural scale; on data with no
    overdispersion (alpha -> 0) and no excess zeros a gradient step makes alpha negative
    and every likelihood NaN.  The simplex only ever compares likelihoods, so it stays
    where they are finite; a BFGS polish from its optimum is kept when it is finite and
    no worse.
    """
    best = None
    for start in starts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = model.fit(  # type: ignore[attr-defined]
                    start_params=start, method="nm", maxiter=20000, disp=0
                )
            except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                continue
            if not _finite(res):
                continue
            try:
                polish = model.fit(  # type: ignore[attr-defined]
                    start_params=np.asarray(res.params), method="bfgs", maxiter=200, disp=0
                )
                if _finite(polish) and polish.llf >= res.llf - 1e-9:
                    res = polish
            except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                pass
        if best is None or res.llf > best.llf:
            best = res
    return best, ([NELDER_MEAD_NOTE] if best is not None else [])


def _nb2_fast(
    y: np.ndarray, X: np.ndarray, off: np.ndarray, start: np.ndarray | None
) -> NB2Fit | None:
    if start is None:
        try:
            beta, _, _ = _poisson_irls(y, X, off, None, tol=1e-8)  # a start only
        except (linalg.LinAlgError, ValueError):
            return None
    else:
        beta = np.asarray(start[: X.shape[1]], dtype=float)
    if not np.all(np.isfinite(beta)):
        return None
    with np.errstate(all="ignore"):
        return fit_nb2_alternating(y, X, off, beta)


def _nb2_ml(data: ModelData) -> tuple[np.ndarray, float, float, bool, list[str]]:
    """NB2 maximum likelihood for (beta, alpha); returns beta, alpha, se(alpha), converged.

    The glm.nb-style alternation (`nb2.fit_nb2_alternating`) first; statsmodels' Newton,
    then the robust optimisers, only when it declines (alpha at the boundary, no
    convergence): same optimum, a fraction of the time.
    """
    y, X, off = data.y, data.X, _offset(data)
    fast = _nb2_fast(y, X, off, data.start)
    if fast is not None:
        return fast.beta, fast.alpha, fast.alpha_se, True, []
    start = fit_poisson(data).params if data.start is None else data.start[: X.shape[1]]
    model = NegativeBinomial(y, X, loglike_method="nb2", offset=off)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = None
        try:  # Newton from the Poisson solution is fastest and usually fine
            res = model.fit(
                start_params=np.append(start, 0.5), method="newton", maxiter=300, disp=0, gtol=1e-10
            )
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            res = None
        seen = _caught(caught)
        if res is None or not _finite(res) or not res.mle_retvals.get("converged", False):
            res, seen = _robust_ml(model, [np.append(start, 1.0), None], dispersion_last=True)
    if not res.mle_retvals.get("converged", False):
        notes.append("NB2 optimiser did not report convergence")
    params = np.asarray(res.params)
    try:
        with np.errstate(invalid="ignore"):
            alpha_se = float(np.sqrt(np.diag(res.cov_params()))[-1])
    except (ValueError, np.linalg.LinAlgError):  # singular Hessian, e.g. alpha at the boundary
        alpha_se = float("nan")
    converged = bool(res.mle_retvals.get("converged", False))
    return params[:-1], float(params[-1]), alpha_se, converged, notes + seen


def fit_negbin(data: ModelData) -> CoreFit:
    """NB2 (Var = mu + alpha mu^2); variances hold alpha at its ML estimate (as glm.nb)."""
    y, X, off = data.y, data.X, _offset(data)
    beta, alpha, alpha_se, converged, notes = _nb2_ml(data)
    if alpha < ALPHA_BOUNDARY:
        notes.append(
            f"NB dispersion at the boundary (alpha = {alpha:.2e}): no overdispersion; "
            "the Poisson model is the appropriate one"
        )
    mu = np.exp(X @ beta + off)
    w = 1.0 / (1.0 + alpha * mu)
    loglik_obs = _nb2_logpmf(y, mu, alpha)
    return CoreFit(
        names=list(data.x_names),
        params=beta,
        loglik=float(loglik_obs.sum()),
        bread=_inv((X * (mu * w)[:, None]).T @ X),
        scores=X * ((y - mu) * w)[:, None],
        k_dof=X.shape[1],
        n_extra=1,
        alpha=alpha,
        alpha_se=alpha_se,
        converged=converged,
        warnings=notes,
        loglik_obs=loglik_obs,
        fitted=mu,
        pmf=lambda k, mu=mu, a=alpha: _nb2_pmf(k, mu, a),
        mean=_exp_mean,
    )


# --------------------------------------------------------------------------- hurdles
def _require_z(data: ModelData, family: str) -> np.ndarray:
    if data.Z is None:
        raise ValueError(f"family {family!r} needs an `inflation` formula for its zero part")
    return data.Z


def _check_hurdle_sample(n_pos: int, n: int, k_count: int) -> None:
    """A hurdle needs zeros, and more positive counts than count-part parameters."""
    if n_pos <= k_count or n_pos == n:
        what = "no zero outcomes" if n_pos == n else f"only {n_pos} positive outcome(s)"
        raise EstimationError(
            f"a hurdle model needs zeros and more positive counts than count-part "
            f"parameters ({k_count}); the sample has {what}",
            column="family",
            fix="use a model without a zero part (poisson, negbin), or widen the sample",
        )


def _hurdle_bread_scores(
    trunc: TruncatedFit,
    logit_model: Logit,
    zp: np.ndarray,
    positive: np.ndarray,
    kx: int,
    negbin: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bread and per-observation scores of both parts (block diagonal), and the count
    part's own bread; parameters are ordered count, zero, then log alpha."""
    kz, n = len(zp), len(positive)
    q = kx + kz + int(negbin)
    bread = np.zeros((q, q))
    if trunc.boundary:
        # alpha held at its bound: the variance of the count coefficients given alpha (as
        # glm.nb holds theta); a zero alpha row keeps NaN out of the sandwich products
        count_bread = np.zeros((kx + 1, kx + 1))
        count_bread[:kx, :kx] = _inv(-trunc.hessian[:kx, :kx])
    else:
        count_bread = _inv(-trunc.hessian)
    idx_count = list(range(kx)) + ([kx + kz] if negbin else [])
    bread[np.ix_(idx_count, idx_count)] = count_bread
    bread[kx : kx + kz, kx : kx + kz] = _inv(-logit_model.hessian(zp))
    scores = np.zeros((n, q))
    scores[np.ix_(np.flatnonzero(positive), idx_count)] = trunc.scores
    scores[:, kx : kx + kz] = logit_model.score_obs(zp)
    if negbin:
        scores[:, -1] = 0.0  # R's estfun.hurdle has no theta column (see vcov.py)
    return bread, scores, count_bread


def _hurdle_notes(trunc: TruncatedFit, negbin: bool, alpha: float | None) -> list[str]:
    """What the table notes say about the truncated count part's fit."""
    notes = [] if trunc.converged else ["the truncated count part did not converge"]
    if trunc.boundary == "upper":
        notes.append(
            f"hurdle NB dispersion at the boundary (alpha = {alpha:.3g}, the upper bound): "
            "the positive counts are more dispersed than any NB2, the likelihood keeps "
            "rising towards the logarithmic-series limit; alpha is held at the bound (no "
            "standard error); the count intercept trades off against log(alpha) and is "
            "not interpretable, the count slopes and the zero hurdle are"
        )
    elif trunc.boundary == "lower":
        notes.append(
            f"hurdle NB dispersion at the boundary (alpha = {alpha:.2e}, the lower bound): "
            "no overdispersion among the positive counts; hurdle-poisson is the "
            "appropriate model"
        )
    elif negbin and alpha is not None and alpha > 1e3:
        notes.append(
            f"hurdle NB dispersion diverges (alpha = {alpha:.3g}): the truncated "
            "count part approaches its logarithmic-series limit"
        )
    return notes


def _fit_hurdle(data: ModelData, negbin: bool) -> CoreFit:
    """Logit for P(y > 0) on Z, zero-truncated Poisson/NB2 for the positive counts on X."""
    y, X, off = data.y, data.X, _offset(data)
    Z = _require_z(data, "hurdle-negbin" if negbin else "hurdle-poisson")
    kx, kz, n = X.shape[1], Z.shape[1], len(y)
    positive = y > 0
    _check_hurdle_sample(int(positive.sum()), n, kx + int(negbin))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logit_model = Logit(positive.astype(float), Z)
        logit = logit_model.fit(disp=0, maxiter=200, method="newton", tol=1e-12)
    yp, Xp, offp = y[positive], X[positive], off[positive]
    start = None
    if data.start is not None:
        start = data.start[: kx + int(negbin)]
    else:
        start = fit_poisson(ModelData(yp, Xp, data.x_names, offp)).params
        if negbin:
            start = np.append(start, 0.0)
    trunc = fit_truncated(yp, Xp, offp, negbin=negbin, start=start)
    cp = trunc.params
    zp = np.asarray(logit.params)
    names = list(data.x_names) + [ZERO + s for s in data.z_names]
    params = np.concatenate([cp[:kx], zp])
    bread, scores, count_bread = _hurdle_bread_scores(trunc, logit_model, zp, positive, kx, negbin)
    alpha = float(cp[-1]) if negbin else None
    p_pos = special.expit(Z @ zp)
    mu = np.exp(X @ cp[:kx] + off)
    one_m_f0 = _positive_prob(mu, alpha if negbin else None)
    ll_obs = np.where(positive, np.log(p_pos), np.log1p(-p_pos))
    ll_obs[positive] += trunc.loglik_obs
    notes = _hurdle_notes(trunc, negbin, alpha)

    def pmf(k: np.ndarray) -> np.ndarray:
        base = _nb2_pmf(k, mu, alpha) if negbin else _poisson_pmf(k, mu)  # type: ignore[arg-type]
        scaled = p_pos[:, None] * base / one_m_f0[:, None]
        return np.where(k[None, :] == 0, (1 - p_pos)[:, None], scaled)

    def mean(
        p: np.ndarray, X: np.ndarray, Z: np.ndarray | None = None, offset: np.ndarray | None = None
    ) -> np.ndarray:
        assert Z is not None
        m = _exp_mean(p, X, None, offset)
        return special.expit(Z @ p[kx : kx + kz]) * m / _positive_prob(m, alpha if negbin else None)

    return CoreFit(
        names=names,
        params=params,
        loglik=float(ll_obs.sum()),
        bread=bread,
        scores=scores,
        k_dof=kx + kz,
        n_extra=int(negbin),
        alpha=alpha,
        alpha_se=(float("nan") if trunc.boundary else _sqrt(count_bread[-1, -1]))
        if negbin
        else None,
        converged=trunc.converged,
        warnings=notes + _caught(caught),
        loglik_obs=ll_obs,
        fitted=p_pos * mu / one_m_f0,
        pmf=pmf,
        mean=mean,
    )


def fit_hurdle_poisson(data: ModelData) -> CoreFit:
    return _fit_hurdle(data, negbin=False)


def fit_hurdle_negbin(data: ModelData) -> CoreFit:
    return _fit_hurdle(data, negbin=True)


# --------------------------------------------------------------------------- fixed effects
def fit_fe_negbin(data: ModelData) -> CoreFit:
    """NB2 with fixed effects as dummy variables (the design already holds them)."""
    return fit_negbin(data)


#: ``name -> fit function``, a view of `cpcstats.spec_registry.FAMILY_REGISTRY`
#: (kept for callers that replace a fit function by item assignment)
FAMILIES = FitFunctions()


def __getattr__(name: str) -> object:
    """Names that moved to their family module, still reachable from here (PEP 562)."""
    if name == "TimeAR1":
        from cpcstats.estimation.gee import TimeAR1

        return TimeAR1
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
