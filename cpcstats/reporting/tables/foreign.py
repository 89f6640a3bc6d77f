"""Models fitted with statsmodels or pyfixest, read into the layout of `cpcstats.table`.

Why an adapter, not a second table builder: each foreign result is converted once into a
`cpcstats.estimation.results.FitResult` (coefficients, standard errors, p-values,
N, log-likelihood, AIC, variance label), so the coefficient cells, statistics rows and
notes are made by the same code as for cpcstats' own models and a publication table can
mix them.  Neither library is imported here: objects are recognised by the module their
class comes from, so pyfixest need not be installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.estimation.results import FitResult

__all__ = ["SUPPORTED", "ForeignFit", "as_fit_result"]

#: What `as_fit_result` accepts, for the error message.
SUPPORTED = (
    "cpcstats FitResult, statsmodels results (GLM, discrete count and OLS models: params, "
    "bse, pvalues, nobs, llf, aic) and pyfixest Feols/Fepois objects"
)


@dataclass
class ForeignFit(FitResult):
    """A FitResult made from another library's result, keeping that library's p-values and AIC.

    Why a subclass: statsmodels' OLS tests with t, not z, and its AIC counts parameters its
    own way; the table's stars and AIC row must show what the source library reports.
    It has no post-estimation payload (``predict`` and friends refuse it).

    Parameters
    ----------
    source_pvalues : pandas.Series, optional
        The source's p-values (default: normal p-values of params / std_errors).
    source_aic : float, optional
        The source's AIC (default: -2 loglik + 2 df_model).
    """

    source_pvalues: pd.Series | None = None
    source_aic: float | None = None

    @property
    def pvalues(self) -> pd.Series:
        """The source library's p-values."""
        return super().pvalues if self.source_pvalues is None else self.source_pvalues

    @property
    def aic(self) -> float:
        """The source library's AIC."""
        return super().aic if self.source_aic is None else self.source_aic


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _statsmodels_family(res: Any) -> str:
    model = res.model
    family = getattr(model, "family", None)
    kind = type(model).__name__
    return f"{kind} {type(family).__name__}" if family is not None else kind


def _build(
    source: str, coefs: tuple[pd.Series, pd.Series, pd.Series], se: str, **fields: Any
) -> ForeignFit:
    """A ForeignFit of ``source`` ("statsmodels"/"pyfixest") from (params, SEs, p-values).

    The variance is diagonal (a table needs only the standard errors); the name is the
    formula (else library and family), the header label ``family (library)``.
    """
    params, bse, pvalues = coefs
    vcov = pd.DataFrame(np.diag(bse.to_numpy() ** 2), index=params.index, columns=params.index)
    family = fields["family"]
    fields.setdefault("name", fields["formula"] or f"{source} {family}")
    return ForeignFit(
        level="",
        params=params,
        std_errors=bse,
        vcov=vcov,
        source_pvalues=pvalues,
        se_type=se,
        se_description=f"{source} variance {se!r}",
        extra={"family_label": f"{family} ({source})"},
        **fields,
    )


def _statsmodels_converged(res: Any) -> bool:
    """GLM results say ``converged``; discrete (ML) results keep it in ``mle_retvals``."""
    if hasattr(res, "converged"):
        return bool(res.converged)
    retvals = getattr(res, "mle_retvals", None) or {}
    return bool(retvals.get("converged", True))


def _from_statsmodels(res: Any) -> ForeignFit:
    """statsmodels results (formula or array API); a NB ``alpha`` goes to the dispersion row."""
    params = pd.Series(res.params, dtype=float).copy()
    bse = pd.Series(res.bse, index=params.index, dtype=float).copy()
    pvalues = pd.Series(res.pvalues, index=params.index, dtype=float).copy()
    alpha = alpha_se = None
    if "alpha" in params.index:
        alpha, alpha_se = float(params["alpha"]), float(bse["alpha"])
        params, bse, pvalues = (s.drop("alpha") for s in (params, bse, pvalues))
    llf, aic = _float(getattr(res, "llf", math.nan)), _float(getattr(res, "aic", math.nan))
    k = (aic + 2 * llf) / 2 if np.isfinite(aic) and np.isfinite(llf) else len(params)
    formula = str(getattr(res.model, "formula", "") or "")
    cov_type = str(getattr(res, "cov_type", "nonrobust"))
    groups = (getattr(res, "cov_kwds", None) or {}).get("groups")
    family = _statsmodels_family(res)
    return _build(
        "statsmodels",
        (params, bse, pvalues),
        cov_type,
        formula=formula,
        family=family,
        nobs=int(res.nobs),
        loglik=llf,
        df_model=round(k),
        n_clusters=None if groups is None else len(np.unique(np.asarray(groups))),
        alpha=alpha,
        alpha_se=alpha_se,
        converged=_statsmodels_converged(res),
        df_resid=_float(getattr(res, "df_resid", math.nan)),
        source_aic=aic if np.isfinite(aic) else None,
    )


def _from_pyfixest(fit: Any) -> ForeignFit:
    """pyfixest Feols / Fepois: ``coef()``, ``se()``, ``pvalue()``, ``_N``, fixed effects."""
    params = pd.Series(fit.coef(), dtype=float)
    params.index = [str(t) for t in params.index]
    bse = pd.Series(np.asarray(fit.se(), dtype=float), index=params.index)
    pvalues = pd.Series(np.asarray(fit.pvalue(), dtype=float), index=params.index)
    method = str(getattr(fit, "_method", type(fit).__name__)).lower()
    fixef = str(getattr(fit, "_fixef", "") or "")
    fes = [f for f in fixef.split("+") if f and f != "0"]
    llf = math.nan
    for attr in ("_loglik", "_llik", "loglik"):
        value = getattr(fit, attr, None)
        llf = _float(value() if callable(value) else value)
        if np.isfinite(llf):
            break
    vcov_type = str(getattr(fit, "_vcov_type_detail", getattr(fit, "_vcov_type", "")))
    clusters = getattr(fit, "_G", None)
    formula = str(getattr(fit, "_fml", ""))
    return _build(
        "pyfixest",
        (params, bse, pvalues),
        vcov_type,
        family=method,
        formula=formula,
        fixed_effects=fes,
        nobs=int(fit._N),
        n_clusters=int(min(clusters)) if clusters else None,
        loglik=llf,
        df_model=len(params),
        converged=bool(getattr(fit, "_convergence", True)),
        source_aic=None if np.isfinite(llf) else math.nan,
    )


def as_fit_result(model: Any) -> FitResult:
    """A cpcstats FitResult as it is; a statsmodels or pyfixest result converted.

    Parameters
    ----------
    model : FitResult, statsmodels results or pyfixest Feols/Fepois
        One column of a regression table.

    Returns
    -------
    FitResult
        ``model`` itself, or a `ForeignFit` with the source's estimates.

    Raises
    ------
    TypeError
        Any other object (the message names the supported types).

    Examples
    --------
    >>> import statsmodels.formula.api as smf, statsmodels.api as sm
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> glm = smf.glm("contacts ~ ruling", panel.data, family=sm.families.Poisson()).fit()
    >>> as_fit_result(glm).family
    'GLM Poisson'
    """
    if isinstance(model, FitResult):
        return model
    module = type(model).__module__ or ""
    if module.startswith("statsmodels.") and hasattr(model, "params") and hasattr(model, "bse"):
        return _from_statsmodels(model)
    if module.startswith("pyfixest.") and hasattr(model, "coef") and hasattr(model, "se"):
        return _from_pyfixest(model)
    raise TypeError(
        f"table() cannot read a {type(model).__name__} ({module}); it reads {SUPPORTED}"
    )
