"""The sup-Wald profile (Wald and log-likelihood at every candidate) without refitting formulas.

Why (issue 17): the profile fits the same model at 11-15 candidate dates, and `fit` builds
a patsy design each time.  Here the setting's arrays are built once
(`cpcstats.methods.break_design.break_arrays`) and only the break columns change: a series
fits every candidate in one batched IRLS (`batch_poisson`), a panel one PPML per
candidate on arrays (`cpcstats.estimation.hdfe.fit_ppml_hdfe`).  The variance is the one
`fit` would give (quasi-Poisson for a series, Driscoll-Kraay by period for a panel;
tests/test_methods_breaks.py checks equality with the `fit` path); other variances
return None and the caller uses `fit`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from cpcstats.estimation.hdfe import fit_ppml_hdfe
from cpcstats.estimation.vcov_driscoll_kraay import driscoll_kraay_meat
from cpcstats.methods.break_bootstrap import batch_poisson, break_columns, quasi_wald
from cpcstats.methods.break_design import break_arrays
from cpcstats.methods.break_model import BreakSetting

__all__ = ["fast_profile"]


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


def _panel(s: BreakSetting, chosen: Sequence[int], p: int) -> pd.DataFrame | None:
    arrays = break_arrays(s)
    if arrays is None:
        return None
    y, time, Z = arrays.y, arrays.time, arrays.nuisance
    rows = []
    for c in chosen:
        X = np.column_stack([Z, break_columns(time, c, p)])
        if arrays.units is not None:
            res = fit_ppml_hdfe(y, X, [arrays.units])
            if len(res.active) != X.shape[1] or not res.converged or res.warnings:
                return None
            keep, mu, Xt, k = res.keep, res.mu, res.X_demeaned, len(res.beta) + res.n_fe_params
            beta = res.beta
        else:
            b, m, _, ok = batch_poisson(X[None], y[None, :])
            if not ok.all():
                return None
            keep, mu, Xt, k, beta = np.ones(len(y), bool), m[0, 0], X, X.shape[1], b[0, 0]
        yk = y[keep]
        bread = np.linalg.inv((Xt * mu[:, None]).T @ Xt)
        meat, _, _ = driscoll_kraay_meat(Xt * (yk - mu)[:, None], time[keep])
        n = len(yk)
        V = (n / (n - k)) * bread @ meat @ bread
        idx = slice(Z.shape[1], X.shape[1])
        b = beta[idx]
        wald = float(b @ np.linalg.solve(V[idx, idx], b))
        rows.append(_row(c, wald, p, _loglik(yk, mu), n))
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
