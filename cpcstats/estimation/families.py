"""Count-model families: each fits one model and returns what inference needs.

Every family is a function ``(ModelData) -> CoreFit``.  A ``CoreFit`` carries
the coefficients shown in tables (``names``/``params``), per-observation
scores and the model-based variance ("bread") over those coefficients plus any
ancillary ones (a dispersion parameter), so :mod:`cpcstats.estimation.vcov`
computes classical, robust and clustered variances the same way for every
family.  It also carries per-observation log-likelihoods and probabilities
(for Vuong tests, expected zeros and rootograms) and a ``mean`` function of
the parameters (for predictions and marginal effects).

Conventions match R so that results can be checked against it:
Poisson = ``glm``; NB2 = ``MASS::glm.nb`` (variances hold the dispersion at
its estimate); ZIP/ZINB = ``pscl::zeroinfl``; hurdles = ``pscl::hurdle`` with
a logit zero hurdle modelling P(y > 0).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import linalg, optimize, special, stats
from statsmodels.discrete.count_model import ZeroInflatedNegativeBinomialP, ZeroInflatedPoisson
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.hdfe import fit_ppml_hdfe
from cpcstats.estimation.numdiff import symmetric_jacobian
from cpcstats.estimation.registry import FitFunctions
from cpcstats.estimation.truncated import fit_truncated

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
    frame: pd.DataFrame | None = None  # the estimation sample (linear FE models)
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
    ``fit.estimate`` then adds :data:`SINGULAR_HESSIAN` to the fit's warnings.
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
            res = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit(
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


def _nb2_ml(data: ModelData) -> tuple[np.ndarray, float, float, bool, list[str]]:
    """NB2 maximum likelihood for (beta, alpha); returns beta, alpha, se(alpha), converged."""
    y, X, off = data.y, data.X, _offset(data)
    start = fit_poisson(data).params if data.start is None else data.start[: X.shape[1]]
    model = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=off)
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
    return CoreFit(
        names=list(data.x_names),
        params=beta,
        loglik=float(_nb2_logpmf(y, mu, alpha).sum()),
        bread=_inv((X * (mu * w)[:, None]).T @ X),
        scores=X * ((y - mu) * w)[:, None],
        k_dof=X.shape[1],
        n_extra=1,
        alpha=alpha,
        alpha_se=alpha_se,
        converged=converged,
        warnings=notes,
        loglik_obs=_nb2_logpmf(y, mu, alpha),
        fitted=mu,
        pmf=lambda k, mu=mu, a=alpha: _nb2_pmf(k, mu, a),
        mean=_exp_mean,
    )


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
    model = sm.NegativeBinomial(y, X, loglike_method="nb1", offset=off)
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


# --------------------------------------------------------------------------- zero-inflated
def _require_z(data: ModelData, family: str) -> np.ndarray:
    if data.Z is None:
        raise ValueError(f"family {family!r} needs an `inflation` formula for its zero part")
    return data.Z


def _fit_zero_inflated(data: ModelData, negbin: bool) -> CoreFit:
    y, X, off = data.y, data.X, _offset(data)
    Z = _require_z(data, "zinb" if negbin else "zip")
    kx, kz = X.shape[1], Z.shape[1]
    if negbin:
        model = ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z, offset=off, p=2)
    else:
        model = ZeroInflatedPoisson(y, X, exog_infl=Z, offset=off)
    count = fit_negbin(data) if negbin else fit_poisson(data)
    logit = sm.Logit((y == 0).astype(float), Z).fit(disp=0, maxiter=200)
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


# --------------------------------------------------------------------------- hurdles
def _fit_hurdle(data: ModelData, negbin: bool) -> CoreFit:
    """Logit for P(y > 0) on Z, zero-truncated Poisson/NB2 for the positive counts on X."""
    y, X, off = data.y, data.X, _offset(data)
    Z = _require_z(data, "hurdle-negbin" if negbin else "hurdle-poisson")
    kx, kz, n = X.shape[1], Z.shape[1], len(y)
    positive = y > 0
    n_pos = int(positive.sum())
    if n_pos <= kx + int(negbin) or n_pos == n:
        what = "no zero outcomes" if n_pos == n else f"only {n_pos} positive outcome(s)"
        raise EstimationError(
            f"a hurdle model needs zeros and more positive counts than count-part "
            f"parameters ({kx + int(negbin)}); the sample has {what}",
            column="family",
            fix="use a model without a zero part (poisson, negbin), or widen the sample",
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logit_model = sm.Logit(positive.astype(float), Z)
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
    alpha = float(cp[-1]) if negbin else None
    p_pos = special.expit(Z @ zp)
    mu = np.exp(X @ cp[:kx] + off)
    one_m_f0 = _positive_prob(mu, alpha if negbin else None)
    ll_obs = np.where(positive, np.log(p_pos), np.log1p(-p_pos))
    ll_obs[positive] += trunc.loglik_obs
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
def fit_fe_poisson(data: ModelData) -> CoreFit:
    """Poisson with high-dimensional fixed effects (PPML), FE partialled out (hdfe.py)."""
    res = fit_ppml_hdfe(
        data.y, data.X, data.fe_codes, offset=data.offset, start=data.start, x_names=data.x_names
    )
    mu, Xt = res.mu, res.X_demeaned
    keep = res.keep
    active = res.active
    names = [data.x_names[i] for i in active]
    y = data.y[keep]
    fe_eta = res.fe_eta

    def mean(
        p: np.ndarray,
        X: np.ndarray,
        Z: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        fe_eta: np.ndarray = fe_eta,
    ) -> np.ndarray:
        eta = X @ p + fe_eta
        return np.exp(eta if offset is None else eta + offset)

    return CoreFit(
        names=names,
        params=res.beta,
        loglik=float(stats.poisson.logpmf(y, mu).sum()),
        bread=_inv((Xt * mu[:, None]).T @ Xt),
        scores=Xt * (y - mu)[:, None],
        k_dof=len(res.beta) + res.n_fe_params,
        converged=res.converged,
        warnings=res.warnings,
        loglik_obs=stats.poisson.logpmf(y, mu),
        fitted=mu,
        pmf=lambda k, mu=mu: _poisson_pmf(k, mu),
        mean=mean,
        dropped=res.dropped,
        keep=None if keep.all() else keep,
        extra={"fe_params": float(res.n_fe_params), "iterations": float(res.iterations)},
    )


def fit_fe_negbin(data: ModelData) -> CoreFit:
    """NB2 with fixed effects as dummy variables (the design already holds them)."""
    return fit_negbin(data)


# --------------------------------------------------------------------------- GEE
class TimeAR1(sm.cov_struct.CovStruct):
    """AR(1) working correlation in calendar time: corr(y_is, y_it) = rho^|t - s|.

    Why our own: statsmodels' ``Autoregressive`` builds the working correlation from the
    positions of the rows inside a unit (rho^|j - k|) whatever ``time`` says -- only its
    estimate of rho uses time distances, and with ``grid=True`` not even that.  When a
    unit's years have gaps (a sample filter, a missing covariate), two years two apart
    would get rho^1.  Here the distance is the time difference, in the matrix and in the
    estimate.

    The estimator of rho is geepack's (``geeglm(corstr = "ar1", waves = year)``, identity
    correlation link): unweighted least squares of the products of standardised Pearson
    residuals of every pair of observations of a unit on rho^distance,
    min_rho sum_pairs (e_is e_it - rho^|t - s|)^2 with e = (y - mu) / sqrt(phi V(mu)) and
    phi = sum r^2 / N.  It differs from statsmodels' ``Autoregressive``: with
    ``grid=True`` a lag-one ratio sum(e_t e_{t+1}) / sum(e_t^2) over adjacent *rows*; with
    ``grid=False`` a weighted regression of each residual on each earlier one, e_t on
    rho^d e_s.  tests/test_robust_estimation.py checks rho, coefficients and both
    variances against geepack on a panel with gaps (tests/reference/make_gee_gaps.R).
    """

    def __init__(self) -> None:
        super().__init__()
        self.dep_params = 0.0
        self._dist: list[np.ndarray] = []
        self._integer = True

    def initialize(self, model: object) -> None:
        super().initialize(model)
        self._dist = []
        for t in model.time_li:  # type: ignore[attr-defined]
            t = np.asarray(t, dtype=float)[:, 0]
            self._dist.append(np.abs(t[:, None] - t[None, :]))
        self._integer = all(np.allclose(d, np.round(d)) for d in self._dist)

    def update(self, params: np.ndarray) -> None:
        model = self.model
        scale = model.estimate_scale()
        products, distances = [], []
        for i in range(model.num_group):
            expval, _ = model.cached_means[i]
            e = (model.endog_li[i] - expval) / np.sqrt(scale * model.family.variance(expval))
            j, k = np.triu_indices(len(e), 1)
            products.append(e[j] * e[k])
            distances.append(self._dist[i][j, k])
        prod, dist = np.concatenate(products), np.concatenate(distances)
        if len(prod) == 0:  # no unit has two observations: nothing to estimate
            self.dep_params = 0.0
            return
        lower = -0.999 if self._integer else 0.0  # rho^d of a negative rho needs integer d

        def loss(rho: float) -> float:
            return float(np.sum((prod - np.power(rho, dist)) ** 2))

        best = optimize.minimize_scalar(
            loss, bounds=(lower, 0.999), method="bounded", options={"xatol": 1e-12}
        )
        self.dep_params = float(best.x)

    def covariance_matrix(self, endog_expval: np.ndarray, index: int) -> tuple[np.ndarray, bool]:
        return np.power(self.dep_params, self._dist[index]), True

    def summary(self) -> str:
        return f"AR(1) in time, rho^|t - s|: rho = {self.dep_params:.3f}"


def _gee_time(data: ModelData) -> np.ndarray:
    """The time of each row for an AR(1) working correlation, checked.

    Refused (SpecError) rather than guessed: no time variable (row order is not time), a
    time that is not numeric, or two rows of one unit at the same time (distance 0 would
    make their working correlation 1, a singular matrix) -- the usual cause is clustering
    a party-year panel by country.
    """
    if data.time is None:
        raise SpecError(
            'correlation = "ar1" needs the time of each row (a `year` column); the row '
            "order is not taken as time",
            column="correlation",
            fix='add an integer `year` column, or use correlation = "exchangeable"',
        )
    time = pd.to_numeric(pd.Series(data.time), errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(time).all():
        bad = int((~np.isfinite(time)).sum())
        raise SpecError(
            f'correlation = "ar1": the time variable `year` is missing or not a number in '
            f"{bad} row(s)",
            column="year",
            fix="give every row a numeric year, or drop those rows with a sample filter",
        )
    assert data.groups is not None
    pairs = pd.DataFrame({"g": data.groups, "t": time})
    dup = pairs.duplicated()
    if dup.any():
        raise SpecError(
            f'correlation = "ar1": {int(dup.sum())} row(s) repeat a (unit, year) pair '
            f"(first: year {pairs.t[dup].iloc[0]:g}); an AR(1) in time needs one row per "
            "unit and year",
            column="cluster",
            fix="cluster by the panel unit (party_id on the party-year panel), or use "
            'correlation = "exchangeable"',
        )
    return time


def _fit_gee(data: ModelData, negbin: bool) -> CoreFit:
    """GEE with a robust variance by panel unit (geepack conventions: scale = sum r^2/N).

    Rows are sorted by unit and time.  ``ar1`` uses :class:`TimeAR1` (rho^|t - s| in
    calendar time, geepack's estimator of rho).
    """
    if data.groups is None:
        raise SpecError(
            'GEE needs a panel unit: give `cluster` (e.g. cluster = "iso3") or fit a Panel',
            column="cluster",
            fix='add cluster = "iso3" (country-year) or "party_id" (party-year)',
        )
    y, X, off = data.y, data.X, _offset(data)
    time = _gee_time(data) if data.correlation == "ar1" else None  # only AR(1) uses time
    sort_time = np.zeros(len(y))
    if data.time is not None:  # rows in unit-time order, whatever the correlation
        sort_time = np.nan_to_num(
            pd.to_numeric(pd.Series(data.time), errors="coerce").to_numpy(dtype=float)
        )
    order = np.lexsort((sort_time, data.groups))
    alpha = None
    if negbin:
        _, alpha, _, _, _ = _nb2_ml(data)
        family = sm.families.NegativeBinomial(alpha=alpha)
    else:
        family = sm.families.Poisson()
    if data.correlation == "ar1":
        cov: sm.cov_struct.CovStruct = TimeAR1()
    elif data.correlation == "exchangeable":
        cov = sm.cov_struct.Exchangeable()
    else:
        cov = sm.cov_struct.Independence()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.GEE(
            y[order],
            X[order],
            groups=data.groups[order],
            time=None if time is None else time[order],
            family=family,
            cov_struct=cov,
            offset=off[order],
        )
        res = model.fit(maxiter=200, ctol=1e-10, scale="X2", ddof_scale=0)
    beta = np.asarray(res.params)
    mu = np.exp(X @ beta + off)
    dep_params = getattr(cov, "dep_params", None)
    dep = float(np.ravel(dep_params)[0]) if dep_params is not None and np.size(dep_params) else 0.0
    label = "AR(1) in time" if data.correlation == "ar1" else data.correlation
    return CoreFit(
        names=list(data.x_names),
        params=beta,
        loglik=float("nan"),
        bread=np.asarray(res.cov_naive),
        scores=None,
        k_dof=X.shape[1],
        n_extra=int(negbin),
        alpha=alpha,
        converged=bool(res.converged) if hasattr(res, "converged") else True,
        warnings=_caught(caught),
        fitted=mu,
        mean=_exp_mean,
        vcov=np.asarray(res.cov_robust),
        vcov_description=f"GEE robust (sandwich) by panel unit, {label} working "
        f"correlation (rho = {dep:.3f})",
        n_clusters=len(np.unique(data.groups)),
        extra={"working_correlation": dep},
    )


def fit_gee_poisson(data: ModelData) -> CoreFit:
    return _fit_gee(data, negbin=False)


def fit_gee_negbin(data: ModelData) -> CoreFit:
    return _fit_gee(data, negbin=True)


# --------------------------------------------------------------------------- linear FE
def fit_ols_fe(data: ModelData) -> CoreFit:
    """Two-way FE OLS of log(1 + y) with linearmodels' PanelOLS, clustered by unit."""
    from linearmodels.panel import PanelOLS
    from linearmodels.panel.utility import AbsorbingEffectError

    assert data.frame is not None and data.unit and data.period
    index = pd.MultiIndex.from_arrays(
        [data.frame[data.unit].to_numpy(), data.frame[data.period].to_numpy()]
    )
    dep = pd.Series(np.log1p(data.y), index=index, name="log1p_y")
    keep_cols = [i for i, n in enumerate(data.x_names) if n != "Intercept"]
    exog = pd.DataFrame(
        data.X[:, keep_cols], index=index, columns=[data.x_names[i] for i in keep_cols]
    )
    try:
        model = PanelOLS(dep, exog, entity_effects=True, time_effects=True, drop_absorbed=False)
        res = model.fit(cov_type="clustered", cluster_entity=True)
    except AbsorbingEffectError as exc:  # linearmodels' own type: a per-model user error
        raise EstimationError(
            f"the regressors are absorbed by the unit and year effects ({exc})",
            column="formula",
            fix="use regressors that vary within units and years, or widen the sample",
        ) from exc
    params = np.asarray(res.params)
    return CoreFit(
        names=list(exog.columns),
        params=params,
        loglik=float(res.loglik),
        bread=np.asarray(res.cov),
        scores=None,
        k_dof=len(params),
        converged=True,
        vcov=np.asarray(res.cov),
        vcov_description=f"clustered by {data.unit} (linearmodels PanelOLS, "
        "small-sample corrected)",
        n_clusters=int(res.entity_info["total"]),
        extra={"r2_within": float(res.rsquared_within), "outcome": 0.0},
    )


#: ``name -> fit function``, a view of :data:`cpcstats.estimation.registry.FAMILY_REGISTRY`
#: (kept for callers that replace a fit function by item assignment)
FAMILIES = FitFunctions()
