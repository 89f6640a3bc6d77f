"""NB2 maximum likelihood by alternation, as R's ``MASS::glm.nb`` does, then Newton.

Why not a general optimiser: with theta = 1 / alpha held fixed, NB2 is a GLM whose beta
step is one weighted least-squares solve (IRLS); with beta held fixed, theta is a
one-dimensional maximisation.  The expected information is block-diagonal in (beta,
theta), so alternating the two converges quickly; two or three joint Newton steps with
the analytic Hessian then make the convergence quadratic, and that Hessian's inverse is
the variance of theta (alpha's standard error by the delta method, exact at the optimum).

The digamma and trigamma sums of the theta step, ``sum_i psi(y_i + theta) - psi(theta)``,
are for integer counts ``sum_j #{y_i > j} / (theta + j)``: one histogram of y, then a
sum over at most max(y) terms instead of special functions of every observation.

Returns None whenever the fast path is not sure (theta running to the boundary, a
singular system, no convergence); the caller then uses the general optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

__all__ = ["NB2Fit", "fit_nb2_alternating"]

#: the histogram form of the digamma sums is used up to this largest count
HISTOGRAM_MAX = 1_000_000
#: theta beyond this (alpha < 1e-5) is alpha at or near the boundary, where the
#: likelihood is flat: left to the caller's optimiser, so boundary results are unchanged
THETA_MAX = 1e5


@dataclass
class NB2Fit:
    beta: np.ndarray
    alpha: float
    alpha_se: float
    iterations: int


class _CountSums:
    """sum_i psi(y_i + t) - psi(t) and its derivatives in t, for the counts y."""

    def __init__(self, y: np.ndarray) -> None:
        top = float(y.max()) if len(y) else 0.0
        self.integer = bool(np.all(y == np.round(y))) and top <= HISTOGRAM_MAX
        self.y = y
        if self.integer:
            counts = np.bincount(y.astype(np.intp))
            # #{i: y_i > j} for j = 0 .. max(y) - 1
            self.above = (len(y) - np.cumsum(counts))[:-1].astype(float)
            self.j = np.arange(len(self.above), dtype=float)

    def digamma(self, t: float) -> float:
        if self.integer:
            return float(np.sum(self.above / (t + self.j)))
        return float(np.sum(special.digamma(self.y + t) - special.digamma(t)))

    def trigamma(self, t: float) -> float:
        if self.integer:
            return -float(np.sum(self.above / (t + self.j) ** 2))
        return float(np.sum(special.polygamma(1, self.y + t) - special.polygamma(1, t)))


def _theta_derivatives(
    sums: _CountSums, y: np.ndarray, mu: np.ndarray, t: float
) -> tuple[float, float]:
    """d loglik / d theta and d2 loglik / d theta2 at mu (beta held fixed)."""
    tm = t + mu
    score = sums.digamma(t) + len(y) * (np.log(t) + 1) - float(np.sum(np.log(tm) + (t + y) / tm))
    hess = sums.trigamma(t) + len(y) / t - float(np.sum(1.0 / tm + (mu - y) / tm**2))
    return score, hess


def _theta_step(
    sums: _CountSums, y: np.ndarray, mu: np.ndarray, t: float, steps: int = 50
) -> float:
    """Maximise the log-likelihood in theta given mu: Newton in log theta (stays > 0),
    kept inside a bracket of the score's sign change; ``steps`` steps at most (two suffice
    inside the alternation, which refines).

    Why the bracket: with strong overdispersion (theta well below 1, most counts zero)
    the log-likelihood is not concave in log theta above its maximum, and plain Newton
    jumps back and forth across it (the demo's party-year models: from theta = 1 it
    ended at 1.23 after 50 steps, the optimum being 0.19).  A step leaving the bracket
    is replaced by its geometric midpoint; steps inside it are Newton's unchanged.
    """
    lo, hi = 0.0, np.inf  # score > 0 at lo (theta must grow), < 0 at hi
    for _ in range(steps):
        score, hess = _theta_derivatives(sums, y, mu, t)
        if score > 0:
            lo = t
        else:
            hi = t
        # in u = log t: dl/du = t * score, d2l/du2 = t^2 hess + t score
        g, h = t * score, t * t * hess + t * score
        step = -g / h if h < 0 else np.sign(g) * 1.0  # not concave here: move uphill
        new = float(t * np.exp(np.clip(step, -5.0, 5.0)))
        if not lo < new < hi:  # out of the bracket: bisect it in log theta
            new = float(np.sqrt(lo * hi)) if lo > 0 and np.isfinite(hi) else new
        step, t = float(np.log(new / t)), new
        if abs(step) < 1e-12 or t > THETA_MAX:
            break
    return t


def _joint_hessian(
    X: np.ndarray, y: np.ndarray, mu: np.ndarray, t: float, sums: _CountSums
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the log-likelihood in (beta, theta)."""
    tm = t + mu
    d_eta = t * (y - mu) / tm
    h_eta = -t * mu * (t + y) / tm**2
    h_cross = (y - mu) * mu / tm**2
    score_t, hess_t = _theta_derivatives(sums, y, mu, t)
    k = X.shape[1]
    grad = np.append(X.T @ d_eta, score_t)
    H = np.empty((k + 1, k + 1))
    H[:k, :k] = (X * h_eta[:, None]).T @ X
    H[:k, k] = H[k, :k] = X.T @ h_cross
    H[k, k] = hess_t
    return grad, H


def fit_nb2_alternating(
    y: np.ndarray,
    X: np.ndarray,
    off: np.ndarray,
    beta: np.ndarray,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> NB2Fit | None:
    """NB2 ML from a starting beta (e.g. Poisson's); None when not sure (see module).

    Long because: the alternation (IRLS step for beta, 1-D Newton for theta) and the
    joint Newton polish with its acceptance rule are one loop over shared state.
    """
    sums = _CountSums(y)
    beta = np.asarray(beta, dtype=float).copy()
    eta = X @ beta + off
    mu = np.exp(np.clip(eta, -700, 700))
    t = _theta_step(sums, y, mu, 1.0)
    joint = False
    for it in range(1, maxiter + 1):
        if t > THETA_MAX or not np.isfinite(t):
            return None
        if not joint:  # one IRLS step for beta at theta, then theta at the new mu
            w = mu * t / (t + mu)
            z = eta - off + (y - mu) / mu
            XtW = X.T * w
            try:
                new = linalg.solve(XtW @ X, XtW @ z, assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                return None
            change = float(np.max(np.abs(new - beta)))
            beta = new
            eta = X @ beta + off
            mu = np.exp(np.clip(eta, -700, 700))
            t_new = _theta_step(sums, y, mu, t, steps=2)
            change = max(change, abs(np.log(t_new / t)))
            t = t_new
            joint = change < 1e-5
            continue
        grad, H = _joint_hessian(X, y, mu, t, sums)
        try:
            step = linalg.solve(H, -grad, assume_a="sym")
        except (linalg.LinAlgError, ValueError):
            return None
        if not np.all(np.isfinite(step)) or t + step[-1] <= 0:
            return None
        beta = beta + step[:-1]
        t = t + float(step[-1])
        eta = X @ beta + off
        mu = np.exp(np.clip(eta, -700, 700))
        if t > THETA_MAX:
            return None
        if np.max(np.abs(step[:-1])) < tol and abs(step[-1]) < tol * max(t, 1.0):
            grad, H = _joint_hessian(X, y, mu, t, sums)
            try:
                cov = linalg.inv(-H)
            except (linalg.LinAlgError, ValueError):
                return None
            if not cov[-1, -1] > 0:
                return None
            # Var(alpha) = Var(theta) / theta^4 (delta method; exact at the optimum)
            return NB2Fit(beta, 1.0 / t, float(np.sqrt(cov[-1, -1]) / t**2), it)
    return None
