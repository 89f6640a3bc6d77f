"""The Vuong (1989) test of two non-nested models, exactly as ``pscl::vuong``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from cpcstats.diagnostics.common import require_core, require_same_sample
from cpcstats.errors import EstimationError
from cpcstats.estimation.results import FitResult

__all__ = ["vuong_test"]


def _pscl_k(result: FitResult) -> int:
    """``length(coef(m))`` in R: every coefficient (FE dummies too), never the NB theta."""
    return int(result.core.k_dof)


def _loglik_pair(model1: FitResult, model2: FitResult) -> tuple[np.ndarray, np.ndarray]:
    """Both models' per-observation log-likelihoods, refusing pairs the test cannot compare
    (different samples, the same fitted model twice, non-finite values)."""
    for m in (model1, model2):
        require_core(m, "loglik_obs", "the Vuong test")
    require_same_sample(model1, model2, "Vuong test")
    l1 = np.asarray(model1.core.loglik_obs, dtype=float)
    l2 = np.asarray(model2.core.loglik_obs, dtype=float)
    if l1.shape != l2.shape:
        raise EstimationError(
            f"Vuong test: {len(l1)} and {len(l2)} per-observation log-likelihoods",
            fix="fit both models on the same rows",
        )
    m = l1 - l2
    if np.max(np.abs(m)) < 1e-6:
        # e.g. a ZINB whose inflation collapsed onto its NB2: the two fits are the same model,
        # and the statistic would be noise divided by noise
        raise EstimationError(
            f"Vuong test: {model1.name!r} and {model2.name!r} give the same log-likelihood for "
            "every observation (to 1e-6): they are the same fitted model",
            fix="compare two different models",
        )
    if not np.isfinite(m).all():
        raise EstimationError(
            "Vuong test: a per-observation log-likelihood is not finite",
            fix="check that both models converged (result.converged, result.warnings)",
        )
    return l1, l2


def _statistics(
    m: np.ndarray, k1: int, k2: int, names: tuple[str, str]
) -> dict[str, dict[str, Any]]:
    """The raw, AIC- and BIC-corrected statistics with pscl's and the accurate p-values."""
    n = len(m)
    corrections = {
        "raw": 0.0,
        "aic": (k1 - k2) / n,
        "bic": (k1 - k2) * math.log(n) / (2 * n),
    }
    out: dict[str, dict[str, Any]] = {"stat": {}, "p": {}, "p_tail": {}, "direction": {}}
    for key, c in corrections.items():
        d = m - c
        sd = float(np.std(d, ddof=1))
        if not sd > 0:
            raise EstimationError(
                f"Vuong test: {names[0]!r} and {names[1]!r} give the same "
                "log-likelihood for every observation",
                fix="compare two different models",
            )
        z = math.sqrt(n) * float(d.mean()) / sd
        out["stat"][key] = z
        out["p"][key] = 1.0 - float(stats.norm.cdf(z)) if z > 0 else float(stats.norm.cdf(z))
        out["p_tail"][key] = float(stats.norm.sf(abs(z)))
        out["direction"][key] = "model1 > model2" if z > 0 else "model2 > model1"
    return out


def vuong_test(model1: FitResult, model2: FitResult) -> dict[str, Any]:
    """Vuong (1989) test of two non-nested models, exactly as ``pscl::vuong(model1, model2)``.

    m_i = log p1(y_i) - log p2(y_i); stat = sqrt(n)·mean(m - c)/sd(m - c) (sd with
    n - 1), where c = 0 (raw), (k1 - k2)/n (AIC) or (k1 - k2)·log(n)/(2n) (BIC) and k
    counts coefficients without the NB dispersion, as pscl does.  A positive stat
    favours model 1.  ``p`` is pscl's one-sided p-value in the direction of the sign,
    ``1 - pnorm(|stat|)`` (0 once that underflows); ``p_tail`` is the same tail
    computed accurately; ``p_two_sided`` (= 2·p_tail) is the test of "the models are
    equally close to the truth" against either being closer, which is what a 5 %
    decision should use (comparing pscl's ``p`` with 0.05 is a 10 % two-sided test).

    Caveat (Wilson 2015, Economics Letters 127): a zero-inflated model nests its
    parent at inflation probability 0, so the Vuong test of ZIP vs Poisson or ZINB
    vs NB2 is not strictly valid; report it as the literature does, with care.

    Parameters
    ----------
    model1, model2 : FitResult
        Two likelihood-based fits of the same outcome on the same rows.

    Returns
    -------
    dict
        ``model1``, ``model2`` (names), ``n``, ``k1``, ``k2``, ``mean_m``, ``sd_m``,
        ``loglik1``, ``loglik2``, and dicts keyed by ``"raw"``, ``"aic"``, ``"bic"``:
        ``stat``, ``p``, ``p_tail``, ``p_two_sided`` and ``direction``.

    Raises
    ------
    SpecError
        A model provides no per-observation log-likelihood, or the two were fitted
        on different samples.
    EstimationError
        The two give the same log-likelihood for every observation (the same model),
        or a log-likelihood is not finite.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> zip_ = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="zip",
    ...                     inflation="left_roots")
    >>> v = cpcstats.vuong_test(zip_, pois)
    >>> v["direction"]["aic"], v["p_two_sided"]["aic"] < 0.05
    ('model1 > model2', True)
    """
    l1, l2 = _loglik_pair(model1, model2)
    m = l1 - l2
    k1, k2 = _pscl_k(model1), _pscl_k(model2)
    result = _statistics(m, k1, k2, (model1.name, model2.name))
    return {
        "model1": model1.name,
        "model2": model2.name,
        "n": len(m),
        "k1": k1,
        "k2": k2,
        "mean_m": float(m.mean()),
        "sd_m": float(np.std(m, ddof=1)),
        "stat": result["stat"],
        "p": result["p"],
        "p_tail": result["p_tail"],
        "p_two_sided": {k: min(1.0, 2.0 * v) for k, v in result["p_tail"].items()},
        "direction": result["direction"],
        "loglik1": float(l1.sum()),
        "loglik2": float(l2.sum()),
    }
