"""The null (intercept-only) log-likelihood ll0 of a fit, for McFadden's pseudo-R².

Definition: ll0 is the maximised log-likelihood of the *same family* on the *same
estimation sample* with only an intercept in every part of the model (the mean; the
zero-inflation or hurdle equation too) and the same offset / log exposure in the count
part, every dispersion parameter estimated afresh.  McFadden's pseudo-R² is then
1 - ll/ll0.  Families and their null models, as R computes them:

* ``poisson`` -- ``glm(y ~ 1 + offset(o), poisson)``; closed form,
  mu_i = exp(o_i) * sum(y) / sum(exp(o)).
* ``negbin`` -- ``MASS::glm.nb(y ~ 1 + offset(o))``: NB2 with its own alpha (a 1-D search
  over log alpha without offset, where mu = mean(y) exactly; 2-D with one).
* ``negbin1`` -- NB1 (Var = mu (1 + alpha)) with its own alpha (2-D).
* ``zip`` / ``zinb`` -- ``pscl::zeroinfl(y ~ 1 + offset(o) | 1, dist = ...)`` (2-D / 3-D).
* ``hurdle-poisson`` / ``hurdle-negbin`` -- ``pscl::hurdle(y ~ 1 + offset(o) | 1, ...)``:
  the binary part in closed form (n0 log(n0/n) + n1 log(n1/n)), the zero-truncated count
  part on its own (1-D / 2-D).
* ``fe-poisson`` / ``fe-negbin`` -- the Poisson / NB2 null *without* the fixed effects
  (fixest's ``pr2`` of ``fepois``/``fenegbin``, not its "within" pseudo-R², which is
  against the FE-only model), on the rows the FE fit kept (groups with only zeros out).
  One difference: fixest's null (``get_model_null``) ignores an offset (mu = mean(y)),
  this one keeps it as ``glm``'s null does; without an offset they are the same model.
* GEE and OLS-FE (no count likelihood) and any family not named here: no ll0 (None), so no
  pseudo-R² -- an empty cell, never a number of another model.

Why cheap: without an offset the intercept-only likelihood depends on the data only
through the counts of each value of y, so the rows are collapsed to distinct (y, offset)
pairs with weights before any optimisation (milliseconds on the demo's 19,698 rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize, special

__all__ = ["NULL_MODELS", "null_extra", "null_loglik"]

#: one-line definition of each family's null model (``FitResult.extra["loglik_null_model"]``)
NULL_MODELS: dict[str, str] = {
    "poisson": "Poisson, intercept only (and the offset)",
    "negbin": "NB2, intercept only (and the offset), own alpha",
    "negbin1": "NB1, intercept only (and the offset), own alpha",
    "zip": "ZIP, intercept only in count and zero parts",
    "zinb": "ZINB, intercept only in count and zero parts, own alpha",
    "hurdle-poisson": "hurdle Poisson, intercept only in count and zero parts",
    "hurdle-negbin": "hurdle NB2, intercept only in count and zero parts, own alpha",
    "fe-poisson": "Poisson, intercept only, no fixed effects (fixest's pr2, not within)",
    "fe-negbin": "NB2, intercept only, no fixed effects (fixest's pr2, not within), own alpha",
}

#: bounds of log alpha in the searches: alpha from 1e-8 (Poisson limit) to e^12
_LOG_ALPHA = (np.log(1e-8), 12.0)


class _Cells:
    """Distinct (y, offset) pairs of the sample with their counts (``w``)."""

    def __init__(self, y: np.ndarray, offset: np.ndarray | None) -> None:
        y = np.asarray(y, dtype=float)
        off = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=float)
        self.plain = offset is None or len(off) == 0 or bool(np.all(off == off[0]))
        if self.plain:  # one offset: distinct y values (a 1-D unique, much faster)
            values, counts = np.unique(y, return_counts=True)
            self.y, self.off = values, np.full(len(values), off[0] if len(off) else 0.0)
        else:
            pairs, counts = np.unique(np.column_stack([y, off]), axis=0, return_counts=True)
            self.y, self.off = pairs[:, 0], pairs[:, 1]
        self.w = counts.astype(float)
        self.lfact = special.gammaln(self.y + 1)

    def subset(self, mask: np.ndarray) -> _Cells:
        """The cells where ``mask`` holds (the positive counts of a hurdle)."""
        out = object.__new__(_Cells)
        out.y, out.off, out.w = self.y[mask], self.off[mask], self.w[mask]
        out.plain, out.lfact = self.plain, self.lfact[mask]
        return out

    def mean(self) -> float:
        """Mean count (weighted)."""
        return float(np.sum(self.w * self.y) / np.sum(self.w))


def _poisson_logpmf(c: _Cells, mu: np.ndarray) -> np.ndarray:
    return special.xlogy(c.y, mu) - mu - c.lfact


def _nb_logpmf(c: _Cells, mu: np.ndarray, size: np.ndarray) -> np.ndarray:
    """NB log-pmf with mean mu and size (shape) ``size`` (NB2: 1/alpha; NB1: mu/alpha)."""
    log_total = np.log(size + mu)
    return (
        special.gammaln(c.y + size)
        - special.gammaln(size)
        - c.lfact
        + size * (np.log(size) - log_total)
        + special.xlogy(c.y, mu)
        - c.y * log_total
    )


def _count_logpmf(c: _Cells, b0: float, log_alpha: float | None, nb1: bool) -> np.ndarray:
    """Log-pmf of each cell under intercept b0 (Poisson when ``log_alpha`` is None)."""
    mu = np.exp(b0 + c.off)
    if log_alpha is None:
        return _poisson_logpmf(c, mu)
    alpha = np.exp(log_alpha)
    return _nb_logpmf(c, mu, mu / alpha if nb1 else np.full_like(mu, 1.0 / alpha))


def _log_p0(c: _Cells, b0: float, log_alpha: float | None, nb1: bool) -> np.ndarray:
    """log P(y = 0) of the count distribution at each cell."""
    mu = np.exp(b0 + c.off)
    if log_alpha is None:
        return -mu
    alpha = np.exp(log_alpha)
    if nb1:
        return -(mu / alpha) * np.log1p(alpha)
    return -np.log1p(alpha * mu) / alpha


def _maximise(nll: Callable[[np.ndarray], float], start: np.ndarray) -> tuple[float, np.ndarray]:
    """max of -nll: BFGS from ``start``; Nelder-Mead from there when BFGS stops short (a
    numerical gradient near a boundary of alpha); the best value seen and where."""
    seen = [(float(nll(start)), np.asarray(start, dtype=float))]
    with np.errstate(all="ignore"):
        res = optimize.minimize(nll, start, method="BFGS", options={"gtol": 1e-5})
        seen.append((float(res.fun), res.x))
        if not res.success:
            x = res.x if np.isfinite(res.fun) else start
            polish = optimize.minimize(
                nll, x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}
            )
            seen.append((float(polish.fun), polish.x))
    finite = [(v, x) for v, x in seen if np.isfinite(v)]
    if not finite:
        return float("nan"), np.asarray(start, dtype=float)
    value, x = min(finite, key=lambda item: item[0])
    return -value, x


def _poisson_b0(c: _Cells) -> float:
    """The Poisson intercept MLE, log(sum y / sum exp(offset))."""
    return float(np.log(np.sum(c.w * c.y) / np.sum(c.w * np.exp(c.off))))


def _alpha_start(c: _Cells) -> float:
    """log alpha from the moments (Var = mu + alpha mu^2), inside the search bounds."""
    m = c.mean()
    var = float(np.sum(c.w * (c.y - m) ** 2) / np.sum(c.w))
    return float(np.clip(np.log(max((var - m) / max(m * m, 1e-12), 1e-4)), *_LOG_ALPHA))


def _count_null(c: _Cells, negbin: bool, nb1: bool = False) -> float:
    """ll0 of a Poisson / NB2 / NB1 with an intercept (and the offset)."""
    b0 = _poisson_b0(c)
    if not negbin:
        return float(np.sum(c.w * _count_logpmf(c, b0, None, False)))
    if c.plain and not nb1:  # NB2 without offset: the intercept MLE is log(mean) exactly
        res = optimize.minimize_scalar(
            lambda la: -np.sum(c.w * _count_logpmf(c, b0, la, False)),
            bounds=_LOG_ALPHA,
            method="bounded",
            options={"xatol": 1e-10},
        )
        return -float(res.fun)
    return _maximise(
        lambda p: -np.sum(c.w * _count_logpmf(c, p[0], p[1], nb1)),
        np.array([b0, _alpha_start(c)]),
    )[0]


def _truncated_null(c: _Cells, negbin: bool) -> tuple[float, np.ndarray]:
    """ll0 of the zero-truncated count part of a hurdle (positive counts only), and the
    (intercept, log alpha) where it is reached."""

    def nll(p: np.ndarray) -> float:
        la = p[1] if negbin else None
        log_pos = np.log(-np.expm1(_log_p0(c, p[0], la, False)))
        return -float(np.sum(c.w * (_count_logpmf(c, p[0], la, False) - log_pos)))

    start = [_poisson_b0(c) - 0.5] + ([_alpha_start(c)] if negbin else [])
    return _maximise(nll, np.array(start))


def _hurdle_null(c: _Cells, negbin: bool) -> tuple[float, np.ndarray | None]:
    """Binary part in closed form plus the truncated count part (and the latter's
    parameters, None without positive counts)."""
    positive = c.y > 0
    n1, n0 = float(c.w[positive].sum()), float(c.w[~positive].sum())
    n = n0 + n1
    binary = float(special.xlogy(n0, n0 / n) + special.xlogy(n1, n1 / n))
    if n1 == 0:
        return binary, None
    value, x = _truncated_null(c.subset(positive), negbin)
    return binary + value, x


def _zero_inflated_null(c: _Cells, negbin: bool) -> float:
    """ZIP / ZINB with intercepts only.

    Without an offset, an intercept-only zero-inflated model is the intercept-only hurdle
    model reparametrised (P(0) = pi + (1 - pi) f0), so its maximum is the hurdle's whenever
    the hurdle's P(0) = n0/n is at least the count part's f0 (pi >= 0); otherwise -- and
    with an offset -- it is maximised directly, from the count null and from a logit of
    the share of zeros.
    """
    zero = c.y == 0
    share0 = float(c.w[zero].sum() / c.w.sum())
    if c.plain:
        value, x = _hurdle_null(c, negbin)
        if x is not None:
            log_f0 = _log_p0(c, x[0], x[1] if negbin else None, False)  # one offset: equal
            if share0 > float(np.exp(log_f0[0])):
                return value

    def nll(p: np.ndarray) -> float:
        la = p[2] if negbin else None
        log_pi, log_1m = -np.logaddexp(0.0, -p[0]), -np.logaddexp(0.0, p[0])
        count = _count_logpmf(c, p[1], la, False)
        ll = np.where(zero, np.logaddexp(log_pi, log_1m + count), log_1m + count)
        return -float(np.sum(c.w * ll))

    starts = [
        [-4.0, _poisson_b0(c)],
        [special.logit(np.clip(share0 / 2, 1e-3, 1 - 1e-3)), _poisson_b0(c) + 0.5],
    ]
    tail = [_alpha_start(c)] if negbin else []
    return max(_maximise(nll, np.array(s + tail))[0] for s in starts)


def _fe_sample(y: np.ndarray, offset: np.ndarray | None, keep: np.ndarray | None) -> _Cells:
    if keep is not None and len(keep) == len(y):
        y = y[keep]
        offset = None if offset is None else offset[keep]
    return _Cells(y, offset)


def null_loglik(
    family: str,
    y: np.ndarray,
    offset: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> float | None:
    """ll0 of ``family`` on outcome ``y`` with ``offset`` (see the module docstring).

    ``keep`` is the mask of rows the family's fit used (FE-Poisson drops groups with only
    zeros), applied before anything else.  Returns None for a family without a null model
    here (GEE, OLS-FE, families registered by the user) and for an empty sample.
    """
    if family not in NULL_MODELS:
        return None
    cells = _fe_sample(np.asarray(y, dtype=float), offset, keep)
    if cells.w.size == 0 or cells.w.sum() == 0 or np.sum(cells.w * cells.y) == 0:
        return None  # no positive count: every null (and full) model is degenerate
    if family in ("poisson", "fe-poisson", "negbin", "fe-negbin", "negbin1"):
        negbin = family not in ("poisson", "fe-poisson")
        value = _count_null(cells, negbin, nb1=family == "negbin1")
    elif family.startswith("hurdle-"):
        value = _hurdle_null(cells, family == "hurdle-negbin")[0]
    else:
        value = _zero_inflated_null(cells, family == "zinb")
    return value if np.isfinite(value) else None


def null_extra(
    family: str, y: np.ndarray, offset: np.ndarray | None, keep: np.ndarray | None
) -> dict:
    """``FitResult.extra`` entries of the null model: ``loglik_null`` (ll0 or None) and
    ``loglik_null_model`` (its one-line definition, None without ll0)."""
    ll0 = null_loglik(family, y, offset, keep)
    return {
        "loglik_null": ll0,
        "loglik_null_model": None if ll0 is None else NULL_MODELS[family],
    }
