"""Post-estimation: Wald tests, predicted counts and marginal effects (one entry point).

Why: coefficients of count models are on the log scale and, with interactions
(``ruling * C(fh_status)``) or zero-inflated/hurdle parts, no single
coefficient answers "how many more contacts does a ruling party get?".  These
functions answer on the scale of the outcome, E[y], with delta-method
standard errors over *all* estimated parameters (``result.full_vcov``), so
they inherit the model's variance choice (classical, robust, clustered,
bootstrap).

* `wald_test` — joint chi-squared test of shown coefficients.
* `predict` / `predict_profiles` — E[y] at covariate profiles.
* `marginal_effects` — average marginal effects (AME) over the
  estimation sample, or at representative values (MER) with ``at=``.

The Wald test lives in `.wald`, the predictions in `.predict` and the model
view in `.model_view`; all are re-exported here, the module callers import.

Design matrices are always rebuilt from data through the fitted patsy
``DesignInfo``, so interactions, ``C()`` codings and stateful transforms
(``center(x)``) are applied exactly as in estimation.

Limits: ``ols-fe`` models log(1 + y) with absorbed fixed effects and has no
E[y]; ``fe-poisson`` absorbs its fixed effects, so E[y] exists only for the
rows of the estimation sample (with regressors changed on those rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import SpecError
from cpcstats.estimation.model_view import (
    DesignMatrices,
    ModelView,
    _average_gradient,
    _level_label,
    _mu,
    design_columns,
    design_matrices,
    estimation_sample,
    model_view,
)
from cpcstats.estimation.predict import _check_level, _check_values, predict, predict_profiles
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.wald import WaldTest, wald_test

__all__ = [
    "DesignMatrices",
    "ModelView",
    "WaldTest",
    "design_columns",
    "design_matrices",
    "estimation_sample",
    "marginal_effects",
    "model_view",
    "predict",
    "predict_profiles",
    "wald_test",
]

_X_STEP = 1e-4  # step of the x-derivative, in standard deviations of x


# --------------------------------------------------------------------------- marginal effects
def _apply_at(m: ModelView, at: Mapping[str, Any] | None) -> pd.DataFrame:
    frame = m.frame[design_columns(m)].copy()
    if not at:
        return frame
    if not isinstance(at, Mapping):
        raise SpecError("at must be a mapping of variable -> value", fix="e.g. at={'ruling': 1}")
    allowed = m.variables + (m.fixed_effects if m.fe_in_design else [])
    allowed += [c for c in (m.exposure, m.offset) if c]
    for name, value in at.items():
        if name not in allowed:
            raise SpecError(
                f"model {m.result.name!r}: cannot hold {name!r} at a value: it is not a "
                "variable of the model's design",
                fix="variables: " + ", ".join(allowed),
            )
        if not (isinstance(value, str) or np.isscalar(value)):
            raise SpecError(
                f"at[{name!r}] must be one value, not {value!r}",
                fix="call marginal_effects once per value (or use predict_profiles for grids)",
            )
        frame[name] = value
    _check_values(m, frame, list(at))
    return frame


def _effect(m: ModelView, scenarios: list[tuple[pd.DataFrame, float]]) -> tuple[float, np.ndarray]:
    """Sum of c_s * mean_i E[y_i | scenario s] and its gradient over all parameters."""
    estimate, grad = 0.0, np.zeros(len(m.params))
    for frame, weight in scenarios:
        d = design_matrices(m, frame)
        estimate += weight * float(_mu(m, m.params, d).mean())
        grad += weight * _average_gradient(m, d)
    return estimate, grad


def marginal_effects(
    result: FitResult,
    variables: Sequence[str] | str | None = None,
    *,
    at: Mapping[str, Any] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Average marginal effects on E[y], with delta-method standard errors.

    Why: with a log link, interactions or a zero part, a coefficient is not the change in
    expected contacts; the AME is, and it is comparable across families.

    Effects: numeric variables get dy/dx, a central finite difference of E[y] on the data (the
    design is rebuilt, so interactions and transforms enter correctly); numeric 0/1 variables
    get the discrete change "1 vs 0"; categorical variables the change from the reference
    (base) level to each other level ("NF vs F").  Standard errors: the gradient of the effect
    with respect to all parameters times ``result.full_vcov`` (analytic for log links, numeric
    otherwise).

    Parameters
    ----------
    result : FitResult
        A count model fitted by `cpcstats.fit` in this session.
    variables : str or sequence of str, optional
        Default: every right-hand-side variable (mean and zero parts; fixed effects excluded).
    at : mapping of str to value, optional
        None: AME, averaged over the estimation sample.  ``{"fh_status": "NF", "ruling": 1}``:
        marginal effects at representative values (MER) — the named variables are set to those
        values in *every* row of the estimation sample, the other variables keep their observed
        values, and the effect is averaged over the rows.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Columns variable, contrast, estimate, std_error, z, p_value, ci_lower, ci_upper;
        ``attrs``: ``kind`` (AME or MER), ``at``, ``level``, ``nobs``.

    Raises
    ------
    SpecError
        ``level`` not in (0, 1); a variable not in the model or a fixed effect; ``at`` not a
        mapping of single values of design variables.
    EstimationError
        A result not fitted in this session, or a family without a mean E[y].

    Examples
    --------
    >>> ame = cpcstats.marginal_effects(nb2, "ruling")  # nb2 = cpcstats.fit(...), as in predict
    >>> ame["contrast"].tolist(), ame.attrs["kind"]
    (['1 vs 0'], 'AME')
    """
    m = model_view(result, "marginal effects")
    _check_level(level)
    names = _effect_variables(m, variables)
    base = _apply_at(m, at)
    zcrit = float(stats.norm.ppf(0.5 + level / 2))
    rows = [
        _effect_row(m, name, contrast, scenarios, zcrit)
        for name in names
        for contrast, scenarios in _scenarios(m, base, name)
    ]
    out = pd.DataFrame(rows, columns=list(_EFFECT_COLUMNS))
    out.attrs["kind"] = "MER" if at else "AME"
    out.attrs["at"] = dict(at or {})
    out.attrs["level"] = level
    out.attrs["nobs"] = len(base)
    return out


_EFFECT_COLUMNS = (
    "variable",
    "contrast",
    "estimate",
    "std_error",
    "z",
    "p_value",
    "ci_lower",
    "ci_upper",
)


def _effect_variables(m: ModelView, variables: Sequence[str] | str | None) -> list[str]:
    """The variables asked for (default: every right-hand-side variable), checked."""
    if variables is None:
        names = list(m.variables)
    else:
        names = [variables] if isinstance(variables, str) else list(variables)
    for name in names:
        if name in m.fixed_effects:
            raise SpecError(
                f"model {m.result.name!r}: {name!r} is a fixed effect; marginal effects of "
                "fixed effects are not reported",
                fix="variables: " + ", ".join(m.variables),
            )
        if name not in m.variables:
            raise SpecError(
                f"model {m.result.name!r} has no variable {name!r}",
                fix="variables: " + ", ".join(m.variables),
            )
    return names


def _scenarios(
    m: ModelView, base: pd.DataFrame, name: str
) -> list[tuple[str, list[tuple[pd.DataFrame, float]]]]:
    """Per contrast of ``name``: the data scenarios and their weights in the effect
    (a central difference for a continuous variable, level vs reference otherwise)."""
    var = m.info[name]
    jobs: list[tuple[str, list[tuple[pd.DataFrame, float]]]] = []
    if var.kind == "continuous":
        x = pd.to_numeric(m.frame[name]).astype(float)
        sd = float(x.std())
        h = _X_STEP * (sd if sd > 0 else max(abs(float(x.mean())), 1.0))
        start = pd.to_numeric(base[name]).astype(float)
        jobs.append(
            (
                "dy/dx",
                [
                    (base.assign(**{name: start + h}), 0.5 / h),
                    (base.assign(**{name: start - h}), -0.5 / h),
                ],
            )
        )
        return jobs
    ref = var.reference
    for value in var.levels:
        if value == ref:
            continue
        label = (
            "1 vs 0" if var.kind == "binary" else f"{_level_label(value)} vs {_level_label(ref)}"
        )
        jobs.append(
            (label, [(base.assign(**{name: value}), 1.0), (base.assign(**{name: ref}), -1.0)])
        )
    return jobs


def _effect_row(
    m: ModelView,
    name: str,
    contrast: str,
    scenarios: list[tuple[pd.DataFrame, float]],
    zcrit: float,
) -> dict[str, Any]:
    """One effect with its delta-method standard error, z, p-value and interval."""
    estimate, grad = _effect(m, scenarios)
    se = float(np.sqrt(max(grad @ m.vcov @ grad, 0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se if se > 0 else float("nan")
    return {
        "variable": name,
        "contrast": contrast,
        "estimate": estimate,
        "std_error": se,
        "z": z,
        "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
        "ci_lower": estimate - zcrit * se,
        "ci_upper": estimate + zcrit * se,
    }


# Old private names, kept until every caller uses the public ones.
_Model = ModelView
_Design = DesignMatrices
_context = model_view
_build = design_matrices
