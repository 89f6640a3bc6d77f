"""Overdispersion: Cameron–Trivedi regression tests and the boundary-corrected LR test of
Poisson against NB2 (conventions of R's ``lm`` and of Self & Liang 1987)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from cpcstats.diagnostics.common import (
    count_terms,
    negbin_families,
    outcome,
    poisson_families,
    require_core,
    require_same_sample,
)
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.results import FitResult

__all__ = ["lr_test_poisson_negbin", "overdispersion_test"]


def _through_origin(y: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """OLS of y on x without intercept, as ``lm(y ~ 0 + x)``; one-sided test of b > 0."""
    n = len(y)
    coef = float(x @ y / (x @ x))
    resid = y - coef * x
    se = math.sqrt(float(resid @ resid) / (n - 1) / float(x @ x))
    t = coef / se
    return {
        "coef": coef,
        "se": se,
        "t": t,
        "df": n - 1,
        "p_one_sided": float(stats.t.sf(t, n - 1)),
        "p_one_sided_normal": float(stats.norm.sf(t)),
    }


def overdispersion_test(poisson_result: FitResult) -> dict[str, Any]:
    """Cameron–Trivedi (1990) regression tests of the Poisson variance assumption.

    With ``aux = ((y - mu)^2 - y) / mu``, the OLS regression of ``aux`` on ``mu``
    without intercept tests Var = mu + alpha·mu² (NB2 alternative) and the
    regression on a constant tests Var = mu(1 + alpha) (NB1 alternative).
    H0 alpha = 0 against alpha > 0: overdispersion only, hence one-sided
    p-values, from t(n - 1) as ``lm`` (``p_one_sided``) and from N(0, 1).
    The test needs the Poisson fit itself, since mu must be the Poisson mean.

    Parameters
    ----------
    poisson_result : FitResult
        A ``poisson`` or ``fe-poisson`` fit made by `cpcstats.fit`.

    Returns
    -------
    dict
        ``model``, ``nobs``, the hypotheses ``h0`` and ``h1``, and for each
        alternative (``"nb2"``, ``"nb1"``) a dict with ``coef`` (alpha), ``se``,
        ``t``, ``df``, ``p_one_sided`` (t) and ``p_one_sided_normal``.

    Raises
    ------
    SpecError
        The model is not Poisson, or carries no fitted values (not made by ``fit``).
    EstimationError
        Fewer than three observations, or outcomes and fitted values do not match.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> res = cpcstats.overdispersion_test(pois)
    >>> res["nb2"]["p_one_sided"] < 0.05  # overdispersed: NB2 preferred
    True
    """
    if poisson_result.family not in poisson_families():
        raise SpecError(
            f"the overdispersion test needs a Poisson fit; model {poisson_result.name!r} is "
            f"{poisson_result.family!r}",
            fix="refit the model with family='poisson' (or 'fe-poisson') and pass that result",
        )
    core = require_core(poisson_result, "fitted", "the overdispersion test")
    y = outcome(poisson_result)
    mu = np.asarray(core.fitted, dtype=float)
    if len(y) != len(mu) or len(y) < 3:
        raise EstimationError(
            f"model {poisson_result.name!r}: {len(y)} outcomes for {len(mu)} fitted values",
            fix="pass a result returned by cpcstats.fit",
        )
    aux = ((y - mu) ** 2 - y) / mu
    nb2 = _through_origin(aux, mu)
    nb1 = _through_origin(aux, np.ones_like(mu))
    return {
        "model": poisson_result.name,
        "nobs": len(y),
        "nb2": nb2,
        "nb1": nb1,
        "h0": "equidispersion: Var(y) = mu",
        "h1": "nb2: Var(y) = mu + alpha mu^2, alpha > 0; nb1: Var(y) = mu (1 + alpha), alpha > 0",
    }


def lr_test_poisson_negbin(poisson_result: FitResult, negbin_result: FitResult) -> dict[str, Any]:
    """Likelihood-ratio test of Poisson (alpha = 0) against NB2 (alpha > 0).

    alpha = 0 lies on the boundary of the parameter space, so LR is not chi2(1)
    under H0 but the 50:50 mixture of a point mass at 0 and chi2(1)
    (Self & Liang 1987): p = 0.5·P(chi2_1 > LR) for LR > 0 and p = 1 at LR = 0
    (a numerically negative LR, NB2 at the boundary, counts as 0).

    Parameters
    ----------
    poisson_result, negbin_result : FitResult
        The Poisson (or FE-Poisson) fit and the NB2 fit of the same regressors, fixed
        effects, exposure and sample.

    Returns
    -------
    dict
        ``poisson``, ``negbin`` (names), ``nobs``, ``loglik_poisson``, ``loglik_nb``,
        ``LR``, ``df`` (1), ``p``, ``alpha``, ``null_distribution``, ``note`` (LR < 0).

    Raises
    ------
    SpecError
        The first model is not Poisson or the second not NB2, their samples differ,
        or Poisson is not nested in NB2 (other regressors, fixed effects, exposure).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> cpcstats.lr_test_poisson_negbin(pois, nb2)["p"] < 0.05
    True
    """
    if poisson_result.family not in poisson_families():
        raise SpecError(
            f"first model {poisson_result.name!r} is {poisson_result.family!r}, not Poisson",
            fix="call lr_test_poisson_negbin(poisson_fit, negbin_fit)",
        )
    if negbin_result.family not in negbin_families():
        raise SpecError(
            f"second model {negbin_result.name!r} is {negbin_result.family!r}, not NB2",
            fix="call lr_test_poisson_negbin(poisson_fit, negbin_fit) with family='negbin'",
        )
    require_same_sample(poisson_result, negbin_result, "LR test Poisson vs NB2")
    same_terms = count_terms(poisson_result) == count_terms(negbin_result) and sorted(
        poisson_result.fixed_effects
    ) == sorted(negbin_result.fixed_effects)
    same_offset = all(
        poisson_result.extra.get(k) == negbin_result.extra.get(k) for k in ("exposure", "offset")
    )
    if not (same_terms and same_offset):
        raise SpecError(
            f"LR test: {poisson_result.name!r} and {negbin_result.name!r} have different "
            "regressors, fixed effects or exposure, so Poisson is not nested in the NB2 model",
            fix="fit both with the same formula and exposure; use information_criteria() "
            "to compare non-nested models",
        )
    ll_p, ll_nb = float(poisson_result.loglik), float(negbin_result.loglik)
    lr = 2.0 * (ll_nb - ll_p)
    p = 1.0 if lr <= 0 else 0.5 * float(stats.chi2.sf(lr, 1))
    note = ""
    if lr < 0:
        note = (
            "LR < 0: the NB2 fit ended at (or short of) the alpha = 0 boundary, where it "
            "equals the Poisson model; read as LR = 0, no overdispersion"
        )
    return {
        "poisson": poisson_result.name,
        "negbin": negbin_result.name,
        "nobs": int(poisson_result.nobs),
        "loglik_poisson": ll_p,
        "loglik_nb": ll_nb,
        "LR": lr,
        "df": 1,
        "p": p,
        "alpha": negbin_result.alpha,
        "null_distribution": "0.5 chi2_0 + 0.5 chi2_1 (boundary; Self & Liang 1987)",
        "note": note,
    }
