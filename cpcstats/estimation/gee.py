"""GEE Poisson and NB2 with a robust variance by panel unit (geepack conventions).

One family module: the working correlations (exchangeable, independence, and AR(1) in
calendar time, `TimeAR1`) and the fit.  GEE has no likelihood, so the family is
registered with ``no_likelihood`` and its own variance (``own_variance_label``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize
from statsmodels.genmod import cov_struct
from statsmodels.genmod import families as sm_families
from statsmodels.genmod.generalized_estimating_equations import GEE

from cpcstats.errors import SpecError
from cpcstats.estimation.base import CoreFit, ModelData, _caught, _exp_mean, _offset
from cpcstats.estimation.families import _nb2_ml


class TimeAR1(cov_struct.CovStruct):
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

    Rows are sorted by unit and time.  ``ar1`` uses `TimeAR1` (rho^|t - s| in
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
        family = sm_families.NegativeBinomial(alpha=alpha)
    else:
        family = sm_families.Poisson()
    if data.correlation == "ar1":
        cov: cov_struct.CovStruct = TimeAR1()
    elif data.correlation == "exchangeable":
        cov = cov_struct.Exchangeable()
    else:
        cov = cov_struct.Independence()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GEE(
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
