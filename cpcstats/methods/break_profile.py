"""The sup-Wald profile (Wald and log-likelihood at every candidate) without refitting formulas.

Why (issue 17): the profile fits the same model at 11-15 candidate dates, and `fit` builds
a patsy design each time.  Here the setting's arrays are built once
(`cpcstats.methods.break_design.break_arrays`) and only the break columns change: a series
fits every candidate in one batched IRLS (`batch_poisson`), a panel with unit effects every
candidate in one batched Newton on the concentrated likelihood (`fe_poisson_batch`).  The
variance is the one `fit` would give (quasi-Poisson for a series, Driscoll-Kraay by period
for a panel; tests/test_methods_breaks.py checks equality with the `fit` path); other variances
return None and the caller uses `fit`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, special, stats

from cpcstats.estimation.hdfe import drop_zero_groups
from cpcstats.estimation.vcov_driscoll_kraay import driscoll_kraay_meat
from cpcstats.methods.break_bootstrap import batch_poisson, break_columns, quasi_wald
from cpcstats.methods.break_design import break_arrays
from cpcstats.methods.break_model import BreakSetting

__all__ = ["fast_profile", "fe_poisson_batch"]


def _loglik(y: np.ndarray, mu: np.ndarray) -> float:
    return float((y * np.log(mu) - mu - special.gammaln(y + 1)).sum())


def _row(year: int, wald: float, df: int, loglik: float, nobs: int) -> dict[str, float]:
    p = float(stats.chi2.sf(wald, df))
    return {"year": year, "wald": wald, "p_pointwise": p, "loglik": loglik, "nobs": nobs}


def _series(s: BreakSetting, chosen: Sequence[int], p: int) -> pd.DataFrame | None:
    arrays = break_arrays(s)
    if arrays is None:
        return None
    y, time, Z = arrays.y, arrays.time, arrays.nuisance
    X = np.stack([np.column_stack([Z, break_columns(time, c, p)]) for c in chosen])
    beta, mu, info, ok = batch_poisson(X, y[None, :])
    if not ok.all():
        return None
    idx = list(range(Z.shape[1], X.shape[2]))
    wald = quasi_wald(y[None, :], beta, mu, info, idx)[0]
    rows = [_row(c, float(wald[k]), p, _loglik(y, mu[0, k]), len(y)) for k, c in enumerate(chosen)]
    return pd.DataFrame(rows)


def fe_poisson_batch(
    X: np.ndarray, y: np.ndarray, units: np.ndarray, maxiter: int = 100, tol: float = 1e-11
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Poisson with one set of unit effects for every design ``X`` (K x n x k) at once.

    Why: with one fixed effect the effects have a closed form given beta,
    alpha_i = log(sum_t y_it / sum_t exp(x_it beta)), so Newton steps on beta alone (the
    concentrated likelihood, globally concave) give PPML's coefficients without the
    K fits of `cpcstats.estimation.hdfe.fit_ppml_hdfe`.  Rows of all-zero units must be
    dropped first.  Returns beta (K, k), mu (K, n), the unit-demeaned (mu-weighted) X, or
    None if it did not converge or a zero is predicted perfectly (separation).
    """
    G, (K, n, k) = int(units.max()) + 1, X.shape
    # unit sums as one sparse product: row g of the indicator holds g's rows in order, so
    # every sum adds the same numbers in the same order as np.bincount
    D = sparse.csr_matrix((np.ones(n), (units, np.arange(n))), shape=(G, n))
    ysum = np.bincount(units, weights=y, minlength=G)
    Xn = X.transpose(1, 0, 2)  # row i: x_i of every design
    beta = np.zeros((K, k))
    for _ in range(maxiter):
        eta = (X @ beta[:, :, None])[:, :, 0]
        eta -= eta.max(axis=1, keepdims=True)
        e = np.exp(eta)
        esum = (D @ e.T).T
        mu = e * (ysum[None, :] / esum)[:, units]
        msum = (D @ mu.T).T
        weighted = (mu.T[:, :, None] * Xn).reshape(n, K * k)
        xbar = (D @ weighted).reshape(G, K, k).transpose(1, 0, 2)
        xbar = xbar / np.maximum(msum, 1e-300)[..., None]
        Xt = X - xbar[:, units, :]
        grad = ((y[None, :] - mu)[:, None, :] @ X)[:, 0, :]
        H = (Xt * mu[..., None]).transpose(0, 2, 1) @ Xt
        step = np.linalg.solve(H, grad[..., None])[..., 0]
        beta = beta + step
        if np.abs(step).max() < tol * (1 + np.abs(beta).max()):
            break
    else:
        return None
    zero = y == 0
    if (mu[:, zero] < 1e-9 * max(1.0, float(y.mean()))).any():
        return None
    return beta, mu, Xt


def _panel(s: BreakSetting, chosen: Sequence[int], p: int) -> pd.DataFrame | None:
    arrays = break_arrays(s)
    if arrays is None:
        return None
    y, time, Z = arrays.y, arrays.time, arrays.nuisance
    X = np.stack([np.column_stack([Z, break_columns(time, c, p)]) for c in chosen])
    if arrays.units is not None:
        keep = drop_zero_groups(y, [arrays.units])
        _, units = np.unique(arrays.units[keep], return_inverse=True)
        y, time, X = y[keep], time[keep], X[:, keep, :]
        fitted = fe_poisson_batch(X, y, units)
        if fitted is None:
            return None
        beta, mu, Xt = fitted
        k = X.shape[2] + int(units.max()) + 1
    else:
        b, m, _, ok = batch_poisson(X, y[None, :])
        if not ok.all():
            return None
        beta, mu, Xt, k = b[0], m[0], X, X.shape[2]
    n = len(y)
    idx = slice(Z.shape[1], X.shape[2])
    rows = []
    for j, c in enumerate(chosen):
        bread = np.linalg.inv((Xt[j] * mu[j][:, None]).T @ Xt[j])
        meat, _, _ = driscoll_kraay_meat(Xt[j] * (y - mu[j])[:, None], time)
        V = (n / (n - k)) * bread @ meat @ bread
        b = beta[j, idx]
        wald = float(b @ np.linalg.solve(V[idx, idx], b))
        rows.append(_row(c, wald, p, _loglik(y, mu[j]), n))
    return pd.DataFrame(rows)


def fast_profile(s: BreakSetting, chosen: Sequence[int], n_terms: int) -> pd.DataFrame | None:
    """Columns year, wald, p_pointwise, loglik, nobs; None when `fit` must do it.

    The fast path covers a Poisson series with quasi-Poisson SEs and a Poisson or
    FE-Poisson panel with Driscoll-Kraay SEs, numeric controls, and no separation or
    dropped column (any of those: None).
    """
    if s.family not in ("poisson", "fe-poisson"):
        return None
    if s.series and s.se == "quasi":
        return _series(s, chosen, n_terms)
    if not s.series and s.se == "driscoll-kraay":
        return _panel(s, chosen, n_terms)
    return None
