"""Results as the Python and R ecosystems read them: broom's tidy/glance frames, fitted
values, residuals and a printable summary.

Why its own module: `cpcstats.estimation.results.FitResult` stays a small
data class whose methods delegate here, and the conventions (column names, the
exponentiated scale, which statistics a one-row glance holds) are documented in one
place.  Column names follow broom (``term``, ``estimate``, ``std.error``, ``statistic``,
``p.value``, ``conf.low``, ``conf.high``; ``nobs``, ``logLik``, ``AIC``, ``BIC``,
``df.residual``), so a frame written to CSV reads like R's output; modelsummary's own
names are the same except that it lowercases ``aic`` and ``bic``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.base import INFLATE, ZERO
from cpcstats.formula import parse_formula

if TYPE_CHECKING:
    from cpcstats.estimation.results import FitResult

__all__ = ["TIDY_COLUMNS", "Summary", "fitted_values", "glance", "residuals", "tidy"]

#: The columns of `tidy`, in broom's order (``component`` is added for zero parts).
TIDY_COLUMNS = ("term", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high")

#: Variance functions Var(y | mu, alpha) of the families with a Pearson residual.
_VARIANCE = {
    "poisson": lambda mu, a: mu,
    "fe-poisson": lambda mu, a: mu,
    "gee-poisson": lambda mu, a: mu,
    "negbin": lambda mu, a: mu + a * mu**2,
    "fe-negbin": lambda mu, a: mu + a * mu**2,
    "gee-negbin": lambda mu, a: mu + a * mu**2,
    "negbin1": lambda mu, a: mu * (1 + a),
}


class Summary(str):
    """The text summary of a fit that also renders as HTML in a notebook.

    Why a ``str`` subclass: ``summary()`` returned plain text before, and callers split,
    search and print it; as a ``str`` every such use keeps working, while Jupyter picks
    up `_repr_html_` and the console shows the text itself, not a quoted string.

    Examples
    --------
    >>> s = Summary("model: poisson\\nN = 10")
    >>> print(s)
    model: poisson
    N = 10
    >>> s.splitlines()[1]
    'N = 10'
    """

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """The summary as preformatted HTML (the coefficient table keeps its alignment)."""
        return f"<pre>{html.escape(str(self))}</pre>"


def _component(term: str) -> tuple[str, str]:
    """``("zero", bare term)`` for inflation/zero-hurdle terms, else ``("count", term)``."""
    for prefix in (INFLATE, ZERO):
        if term.startswith(prefix):
            return "zero", term[len(prefix) :]
    return "count", term


def tidy(result: FitResult, conf_level: float = 0.95, exponentiate: bool = False) -> pd.DataFrame:
    """One row per coefficient with broom's columns.

    Why broom's layout: it is what R users, modelsummary-style tools and plotting code
    expect, one row per term with its interval, instead of several indexed Series.

    ``exponentiate=True`` follows broom's ``tidy.glm``: ``estimate``, ``conf.low`` and
    ``conf.high`` become exp(b) and exp(b ± z·se) (incidence-rate ratios), while
    ``std.error``, ``statistic`` and ``p.value`` stay on the link (log) scale.

    Parameters
    ----------
    result : FitResult
        A fitted model.
    conf_level : float, default 0.95
        Confidence level of ``conf.low`` / ``conf.high`` (Wald, normal quantiles).
    exponentiate : bool, default False
        Report exp(b) and its interval (see above).

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``estimate``, ``std.error``, ``statistic`` (z), ``p.value``,
        ``conf.low``, ``conf.high``; for families with a zero part (zero-inflated,
        hurdle) also ``component`` (``"count"`` or ``"zero"``), and ``term`` is then
        the name without its ``inflate:``/``zero:`` prefix (as broom.mixed does).  The
        NB dispersion is not a row: it is in `glance`.

    Raises
    ------
    SpecError
        ``conf_level`` not in (0, 1).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> m.tidy().columns.tolist()[:3]
    ['term', 'estimate', 'std.error']
    """
    if not 0 < conf_level < 1:
        raise SpecError(f"conf_level must be between 0 and 1, not {conf_level!r}", fix="e.g. 0.95")
    ci = result.conf_int(conf_level)
    est, low, high = result.params, ci["lower"], ci["upper"]
    if exponentiate:
        est, low, high = np.exp(est), np.exp(low), np.exp(high)
    terms = [str(t) for t in result.params.index]
    parts = [_component(t) for t in terms]
    out = pd.DataFrame(
        {
            "term": [bare for _, bare in parts],
            "estimate": est.to_numpy(dtype=float),
            "std.error": result.std_errors.to_numpy(dtype=float),
            "statistic": result.tvalues.to_numpy(dtype=float),
            "p.value": result.pvalues.to_numpy(dtype=float),
            "conf.low": low.to_numpy(dtype=float),
            "conf.high": high.to_numpy(dtype=float),
        }
    )
    if any(comp == "zero" for comp, _ in parts):
        out.insert(1, "component", [comp for comp, _ in parts])
    else:
        out["term"] = terms
    return out


def glance(result: FitResult) -> pd.DataFrame:
    """One row of model-level statistics, named as broom's ``glance`` names them.

    Mapping to `FitResult`: ``nobs`` = ``nobs``, ``n_clusters`` = ``n_clusters``,
    ``logLik`` = ``loglik``, ``AIC`` = ``aic``, ``BIC`` = ``bic``, ``df.residual`` =
    ``df_resid``, ``alpha`` = ``alpha`` (NB dispersion, NaN without one), ``family``,
    ``se_type``, ``converged``, ``flags`` = the number of ``warnings``.  Missing values
    (no likelihood, no clusters) are NaN, so models of several families stack into one
    frame with `pandas.concat`.  No deviance column: it is not kept for every family.

    Parameters
    ----------
    result : FitResult
        A fitted model.

    Returns
    -------
    pandas.DataFrame
        One row, the columns above (index ``[result.name]``).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> row = m.glance().iloc[0]
    >>> int(row["nobs"]), row["family"]
    (19698, 'negbin')
    """
    finite = bool(np.isfinite(result.loglik))
    row = {
        "nobs": int(result.nobs),
        "n_clusters": np.nan if result.n_clusters is None else int(result.n_clusters),
        "logLik": float(result.loglik),
        "AIC": float(result.aic) if finite else np.nan,
        "BIC": float(result.bic) if finite else np.nan,
        "df.residual": np.nan if result.df_resid is None else float(result.df_resid),
        "alpha": np.nan if result.alpha is None else float(result.alpha),
        "family": result.family,
        "se_type": result.se_type,
        "converged": bool(result.converged),
        "flags": len(result.warnings),
    }
    return pd.DataFrame([row], index=[result.name])


def fitted_values(result: FitResult) -> pd.Series:
    """Expected counts E[y] of the estimation-sample rows, indexed like the sample.

    Why through `cpcstats.estimation.predict.predict`: the mean function of each
    family (zero parts, absorbed fixed effects, exposure) lives there once.

    Parameters
    ----------
    result : FitResult
        A count model fitted by `cpcstats.fit` in this session.

    Returns
    -------
    pandas.Series
        ``fitted``, one value per estimation-sample row.

    Raises
    ------
    EstimationError
        As `cpcstats.estimation.predict.predict` (no payload, no mean E[y]).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> len(m.fitted_values) == m.nobs
    True
    """
    from cpcstats.estimation.predict import predict  # predict imports results

    return predict(result)["predicted"].rename("fitted")


def residuals(result: FitResult, kind: Literal["response", "pearson"] = "response") -> pd.Series:
    """Response residuals y − E[y] or Pearson residuals (y − E[y]) / sqrt(Var(y)).

    Parameters
    ----------
    result : FitResult
        A count model fitted by `cpcstats.fit` in this session.
    kind : {"response", "pearson"}, default "response"
        Pearson residuals use the family's variance: mu (Poisson), mu + alpha·mu² (NB2),
        mu·(1 + alpha) (NB1).

    Returns
    -------
    pandas.Series
        One residual per estimation-sample row.

    Raises
    ------
    SpecError
        ``kind`` is not ``"response"`` or ``"pearson"``.
    EstimationError
        Pearson residuals of a family without a variance function here (zero-inflated,
        hurdle), or as `fitted_values`.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> abs(float(m.residuals().sum())) < 1e-6  # Poisson with an intercept
    True
    """
    if kind not in ("response", "pearson"):
        raise SpecError(f"kind must be 'response' or 'pearson', not {kind!r}")
    if kind == "pearson" and result.family not in _VARIANCE:
        raise EstimationError(
            f"model {result.name!r}: Pearson residuals are not available for family "
            f"{result.family!r}",
            fix="use kind='response', or a Poisson or negative binomial family",
        )
    mu = fitted_values(result)
    sample = result.design.frame if result.design is not None else None
    response = parse_formula(result.formula).response
    y = pd.to_numeric(sample.loc[mu.index, response]).astype(float)  # type: ignore[union-attr]
    resid = y - mu
    if kind == "pearson":
        alpha = 0.0 if result.alpha is None else float(result.alpha)
        resid = resid / np.sqrt(_VARIANCE[result.family](mu, alpha))
    return resid.rename(f"{kind} residuals")
