"""Poisson with high-dimensional fixed effects (PPML): one family module.

The fixed effects are partialled out by `cpcstats.estimation.hdfe` (not dummies in
X), which also drops all-zero groups and separated observations and counts them; the
family is registered with ``fe="absorbed"``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from cpcstats.estimation.base import CoreFit, ModelData, _inv, _poisson_pmf
from cpcstats.estimation.hdfe import fit_ppml_hdfe


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
    loglik_obs = stats.poisson.logpmf(y, mu)

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
        loglik=float(loglik_obs.sum()),
        bread=_inv((Xt * mu[:, None]).T @ Xt),
        scores=Xt * (y - mu)[:, None],
        k_dof=len(res.beta) + res.n_fe_params,
        converged=res.converged,
        warnings=res.warnings,
        loglik_obs=loglik_obs,
        fitted=mu,
        pmf=lambda k, mu=mu: _poisson_pmf(k, mu),
        mean=mean,
        dropped=res.dropped,
        keep=None if keep.all() else keep,
        extra={"fe_params": float(res.n_fe_params), "iterations": float(res.iterations)},
    )
