"""The fitted-model object every family returns.

One documented surface (in the spirit of linearmodels): ``params``,
``std_errors``, ``pvalues``, ``conf_int()``, ``irr()``, ``summary()``, plus the
fit statistics a table needs.  Tables, JSON and figures read only this class,
so a new family needs no change in the reporting layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.accounting import StageAccount
from cpcstats.estimation.tidy import Summary, fitted_values, glance, residuals, tidy

if TYPE_CHECKING:  # types only: results must not import the estimators at run time
    from cpcstats.estimation.base import CoreFit
    from cpcstats.estimation.design import Design
    from cpcstats.spec import ModelSpec


def _optional_float(value: Any) -> float | None:
    """A JSON number, or None for a missing value."""
    return None if value is None else float(value)


@dataclass
class FitResult:
    """Estimates, inference and bookkeeping of one fitted count model.

    ``params`` holds the mean-equation coefficients on the log scale (for
    zero-inflated and hurdle models, other parts carry a prefix such as
    ``"inflate:"``); the NB dispersion is kept apart in ``alpha``.  Returned by
    `cpcstats.fit`; built by hand it lacks the post-estimation payload.

    Parameters
    ----------
    name, family, level, formula : str
        The model's name, family, panel level and formula.
    params, std_errors : pandas.Series
        Coefficients (log scale) and their standard errors, indexed by term.
    vcov : pandas.DataFrame
        The variance of ``params`` (the se type asked for).
    nobs : int
        Observations used.
    loglik : float
        Log-likelihood (NaN for estimating-equation families).
    df_model : int
        Estimated parameters, including the dispersion.
    se_type, se_description : str
        The variance estimator and a sentence describing it for table notes.
    n_clusters : int, optional
        Clusters of a clustered variance.
    alpha, alpha_se : float, optional
        NB dispersion and its standard error.
    fixed_effects : list of str
        The fixed effects after ``|``.
    converged : bool, default True
        Whether the optimiser converged.
    warnings : list of str
        Things to report that leave the estimates usable (omitted terms, separation ...).
    problems : list of str
        Why the fit is not a result (singular Hessian, a parameter at the boundary,
        not converged): a model with any is *flagged* (`flagged`), shown with a mark and
        without standard errors, and never ranked or recommended.
    sample : StageAccount, optional
        Rows in, out and why.
    simulated : bool, default False
        Estimated on SIMULATED data.
    study : str, default ""
        The study's name.
    df_resid : float, optional
        Residual degrees of freedom, where defined.
    extra : dict
        Family extras (``family_label``, exposure, offset ...).
    core, design, full_vcov, spec : optional
        The post-estimation payload (the family's fit, design, full variance, spec).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> m
    <FitResult 'contacts ~ ruling + left_roots' negbin N=19698>
    >>> m.params.index.tolist()
    ['Intercept', 'ruling', 'left_roots']
    """

    name: str
    family: str
    level: str
    formula: str
    params: pd.Series
    std_errors: pd.Series
    vcov: pd.DataFrame
    nobs: int
    loglik: float
    df_model: int
    se_type: str
    se_description: str
    n_clusters: int | None = None
    alpha: float | None = None
    alpha_se: float | None = None
    fixed_effects: list[str] = field(default_factory=list)
    converged: bool = True
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sample: StageAccount | None = None
    simulated: bool = False
    study: str = ""
    df_resid: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # post-estimation payload (not part of records): the family's fit, the design, the
    # variance over all estimated parameters and the specification.  None on a result
    # not made by ``fit`` (e.g. built by hand); post-estimation reads them through
    # `cpcstats.estimation.postestimation.model_view`, which checks them.
    core: CoreFit | None = field(default=None, repr=False, compare=False)
    design: Design | None = field(default=None, repr=False, compare=False)
    full_vcov: np.ndarray | None = field(default=None, repr=False, compare=False)
    spec: ModelSpec | None = field(default=None, repr=False, compare=False)

    @property
    def flagged(self) -> bool:
        """The fit is not a result: not converged, or any entry in ``problems``."""
        return (not self.converged) or bool(self.problems)

    @property
    def flag_reason(self) -> str | None:
        """One line saying why the fit is flagged (None when it is not)."""
        if not self.flagged:
            return None
        reasons = ([] if self.converged else ["the optimiser did not converge"]) + list(
            self.problems
        )
        return "; ".join(dict.fromkeys(reasons))

    @property
    def flag_summary(self) -> str | None:
        """`flag_reason` without the explanations: each reason up to its first ": ".

        Why: a table cell or a console line has room for what is wrong ("singular
        Hessian (smallest eigenvalue 1e-15 ...)"), not for why it matters.
        """
        if not self.flagged:
            return None
        reasons = ([] if self.converged else ["the optimiser did not converge"]) + list(
            self.problems
        )
        return "; ".join(dict.fromkeys(part.split(": ")[0] for part in reasons))

    @property
    def tvalues(self) -> pd.Series:
        """z statistics, ``params / std_errors``."""
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from the normal distribution (z statistics)."""
        return pd.Series(2 * stats.norm.sf(np.abs(self.tvalues)), index=self.params.index)

    @property
    def n_params(self) -> int:
        """Estimated parameters including dispersion (for information criteria)."""
        return self.df_model

    @property
    def aic(self) -> float:
        """Akaike's information criterion, -2 loglik + 2 k."""
        return -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float:
        """The Bayesian information criterion, -2 loglik + log(n) k."""
        return -2 * self.loglik + np.log(self.nobs) * self.n_params

    @property
    def pseudo_r2(self) -> float | None:
        """McFadden's pseudo-R², 1 - loglik / ll0, ll0 = ``extra["loglik_null"]``.

        ll0 is the same family with an intercept only in every part, on the same rows and
        with the same offset (FE families: without the fixed effects, fixest's ``pr2``);
        see `cpcstats.estimation.null_model`.  None -- never a number of another model --
        without ll0 (GEE, OLS-FE), without a finite log-likelihood, and for a flagged fit,
        whose log-likelihood is not a maximum to compare.
        """
        ll0 = self.extra.get("loglik_null")
        if self.flagged or ll0 is None or not np.isfinite(float(ll0)) or float(ll0) == 0:
            return None
        if not np.isfinite(float(self.loglik)):
            return None
        return 1.0 - float(self.loglik) / float(ll0)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals b ± z·se on the coefficient (log) scale.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, indexed by term.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> m.conf_int(0.90).columns.tolist()
        ['lower', 'upper']
        """
        z = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame(
            {"lower": self.params - z * self.std_errors, "upper": self.params + z * self.std_errors}
        )

    def irr(self, level: float = 0.95) -> pd.DataFrame:
        """Incidence-rate ratios exp(b) with confidence intervals exp(b ± z·se).

        Why: exp(b) is the multiplicative change in expected contacts, the scale on
        which count-model results are read.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            Columns ``irr``, ``lower``, ``upper``, ``p_value`` (of b = 0), by term.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> round(float(m.irr().loc["ruling", "irr"]), 2)
        4.3
        """
        ci = self.conf_int(level)
        return pd.DataFrame(
            {
                "irr": np.exp(self.params),
                "lower": np.exp(ci["lower"]),
                "upper": np.exp(ci["upper"]),
                "p_value": self.pvalues,
            }
        )

    def coef_table(self) -> pd.DataFrame:
        """estimate, std_error, z, p_value, 95 % ci_lower/ci_upper and irr, by term."""
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.std_errors,
                "z": self.tvalues,
                "p_value": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
                "irr": np.exp(self.params),
            }
        )

    def summary(self) -> Summary:
        """A plain-text summary for the console, rendered as HTML in a notebook.

        Returns
        -------
        Summary
            A ``str`` (so ``print``, ``splitlines`` and ``in`` work as on text) with
            ``_repr_html_`` for Jupyter: name, family, formula, N, clusters,
            log-likelihood and AIC, dispersion, fixed effects, the variance, the
            coefficient table, warnings and the SIMULATED note.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> print(m.summary().splitlines()[0])
        contacts ~ ruling + left_roots: poisson (party-year)
        """
        lines = [
            f"{self.name}: {self.family} ({self.level})",
            f"formula: {self.formula}",
            f"N = {self.nobs}"
            + (f", clusters = {self.n_clusters}" if self.n_clusters else "")
            + (
                f", log-likelihood = {self.loglik:.3f}, AIC = {self.aic:.3f}"
                if np.isfinite(self.loglik)
                else ", no likelihood (estimating equations)"
            ),
        ]
        if self.alpha is not None:
            lines.append(f"NB dispersion alpha = {self.alpha:.4f}")
        if self.fixed_effects:
            lines.append(f"fixed effects: {', '.join(self.fixed_effects)}")
        lines.append(f"standard errors: {self.se_description}")
        lines.append(self.coef_table().round(4).to_string())
        for w in self.warnings:
            lines.append(f"WARNING: {w}")
        if self.simulated:
            lines.append("NOTE: estimated on SIMULATED data (embedded demo study).")
        return Summary("\n".join(lines))

    def tidy(self, conf_level: float = 0.95, exponentiate: bool = False) -> pd.DataFrame:
        """One row per coefficient in broom's columns (`cpcstats.estimation.tidy.tidy`).

        Parameters
        ----------
        conf_level : float, default 0.95
            Confidence level of ``conf.low`` / ``conf.high``.
        exponentiate : bool, default False
            exp(b) and its interval (IRRs); ``std.error``, ``statistic`` and ``p.value``
            stay on the log scale, as in broom's ``tidy.glm``.

        Returns
        -------
        pandas.DataFrame
            ``term``, (``component``,) ``estimate``, ``std.error``, ``statistic``,
            ``p.value``, ``conf.low``, ``conf.high``.

        Raises
        ------
        SpecError
            ``conf_level`` not in (0, 1).

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> round(float(m.tidy(exponentiate=True).loc[1, "estimate"]), 2)
        4.3
        """
        return tidy(self, conf_level, exponentiate)

    def glance(self) -> pd.DataFrame:
        """One row of fit statistics named as broom does (``nobs``, ``logLik``, ``AIC`` ...).

        Returns
        -------
        pandas.DataFrame
            See `cpcstats.estimation.tidy.glance` for the columns and their mapping.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> int(m.glance()["nobs"].iloc[0])
        19698
        """
        return glance(self)

    @property
    def fitted_values(self) -> pd.Series:
        """Expected counts E[y] of the estimation-sample rows (through ``predict``)."""
        return fitted_values(self)

    def residuals(self, kind: Literal["response", "pearson"] = "response") -> pd.Series:
        """Response (y − E[y]) or Pearson residuals of the estimation-sample rows.

        Parameters
        ----------
        kind : {"response", "pearson"}, default "response"
            Pearson residuals divide by the family's sqrt(Var(y)).

        Returns
        -------
        pandas.Series
            One residual per estimation-sample row.

        Raises
        ------
        SpecError, EstimationError
            An unknown ``kind``; Pearson residuals of a zero-inflated or hurdle family.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> len(m.residuals("pearson")) == m.nobs
        True
        """
        return residuals(self, kind)

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Expected counts E[y] at ``newdata`` (default: the estimation sample).

        Why a method beside `cpcstats.predict`: statsmodels and scikit-learn users
        call ``model.predict(X)``; intervals are in `cpcstats.predict`.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Profiles as `cpcstats.predict` takes them (numeric variables left out
            are held at their sample mean).

        Returns
        -------
        pandas.Series
            ``predicted``, indexed like ``newdata`` (or the estimation sample).

        Raises
        ------
        SpecError, EstimationError
            As `cpcstats.predict`.

        Examples
        --------
        >>> import pandas as pd
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> m = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
        >>> m.predict(pd.DataFrame({"ruling": [0, 1], "left_roots": [0, 0]})).round(3).tolist()
        [0.081, 0.433]
        """
        from cpcstats.estimation.predict import predict  # predict imports this module

        return predict(self, newdata)["predicted"]

    def without_payload(self) -> FitResult:
        """The same result without its post-estimation payload (``core``, ``design``).

        Why: the payload holds the design matrices and per-row fits (several times the
        sample's size); a run that only writes tables lets it go, and a result sent
        between processes cannot carry it (patsy's design infos do not pickle).
        Predictions and marginal effects of such a result raise an EstimationError
        that says to refit.
        """
        return dataclasses.replace(self, core=None, design=None)

    def __repr__(self) -> str:
        return f"<FitResult {self.name!r} {self.family} N={self.nobs}>"

    def to_record(self) -> dict[str, Any]:
        """The ``results.json`` record of this model (plain JSON types only)."""
        table = self.coef_table()
        terms = {
            term: {
                "estimate": float(row.estimate),
                "std_error": float(row.std_error),
                "p_value": float(row.p_value),
                "irr": float(row.irr),
            }
            for term, row in table.iterrows()
        }
        return {
            "name": self.name,
            "family": self.family,
            "level": self.level,
            "formula": self.formula,
            "fixed_effects": list(self.fixed_effects),
            "se_type": self.se_type,
            "se_description": self.se_description,
            "nobs": int(self.nobs),
            "n_clusters": None if self.n_clusters is None else int(self.n_clusters),
            "loglik": float(self.loglik),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "loglik_null": _optional_float(self.extra.get("loglik_null")),
            "pseudo_r2": _optional_float(self.pseudo_r2),
            "alpha": None if self.alpha is None else float(self.alpha),
            "alpha_std_error": None if self.alpha_se is None else float(self.alpha_se),
            "converged": bool(self.converged),
            "warnings": list(self.warnings),
            "problems": list(self.problems),
            "flagged": bool(self.flagged),
            "simulated": bool(self.simulated),
            "sample": None if self.sample is None else self.sample.to_dict(),
            "terms": terms,
        }
