"""Predicted counts E[y] at covariate profiles, with delta-method intervals.

Why its own module: `.postestimation` is the one entry point callers import (it
re-exports `predict` and `predict_profiles`); the checks of user-given
values here are shared with the marginal effects there.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.model_view import (
    ModelView,
    _absorbs_fe,
    _mean_jacobian,
    _mu,
    _show,
    _show_all,
    design_columns,
    design_matrices,
    model_view,
)
from cpcstats.estimation.results import FitResult


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise SpecError(f"level must be between 0 and 1, not {level!r}", fix="e.g. level=0.95")


def _check_values(m: ModelView, frame: pd.DataFrame, names: Sequence[str]) -> None:
    """Numeric variables must be numbers; categorical ones levels the model was estimated with.

    Checked here because patsy's own errors for these are obscure (or crash).
    """
    for name in names:
        var = m.info.get(name)
        if var is None or name not in frame.columns:
            continue
        if var.kind != "categorical":
            column = frame[name]
            if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
                if pd.api.types.is_bool_dtype(column):
                    column = column.astype(float)
                converted = pd.to_numeric(column, errors="coerce").astype(float)
                if converted.isna().any():
                    wrong = frame[name][converted.isna()].iloc[0]
                    raise SpecError(
                        f"model {m.result.name!r}: {name!r} is numeric in the model, but was "
                        f"given {_show(wrong)}",
                        column=name,
                        fix=f"give numbers for {name!r}",
                    )
                frame[name] = converted
            continue
        known = set(var.levels)
        bad = [v for v in pd.unique(frame[name]) if v not in known]
        if not bad:
            continue
        if name in m.fixed_effects:
            raise EstimationError(
                f"model {m.result.name!r}: fixed-effect level(s) {_show_all(bad)} "
                f"of {name!r} are not in the estimation sample, so they have no estimated effect",
                column=name,
                fix=f"use levels of the estimation sample (e.g. {_show(var.levels[0])})",
            )
        raise SpecError(
            f"model {m.result.name!r}: {name!r} has level(s) {_show_all(bad)} "
            "that the model was not estimated with",
            column=name,
            fix=f"use one of {_show_all(var.levels)}",
        )


def _complete_profiles(
    m: ModelView, profiles: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, float], list[str]]:
    """Profiles with every variable the design needs; numeric gaps at the sample mean."""
    if not isinstance(profiles, pd.DataFrame) or profiles.empty:
        raise SpecError(
            "profiles must be a non-empty DataFrame with one row per profile",
            fix="e.g. pd.DataFrame({'ruling': [0, 1], 'fh_status': ['F', 'F']}), "
            "or use predict_profiles(result, {'ruling': [0, 1], ...})",
        )
    frame = profiles.copy()
    held: dict[str, float] = {}
    notes: list[str] = []
    if m.fe_in_design:
        missing_fe = [f for f in m.fixed_effects if f not in frame.columns]
        if missing_fe:
            raise EstimationError(
                f"model {m.result.name!r} estimates fixed effects of "
                f"{', '.join(m.fixed_effects)} as dummies, so a prediction needs their "
                f"level; the profiles lack {', '.join(missing_fe)}",
                column=missing_fe[0],
                fix="add a column for each fixed effect with a level of the estimation sample",
            )
    missing_cat = [
        v for v in m.variables if v not in frame.columns and m.info[v].kind == "categorical"
    ]
    if missing_cat:
        described = "; ".join(f"{v} (levels {_show_all(m.info[v].levels)})" for v in missing_cat)
        raise SpecError(
            f"model {m.result.name!r}: the profiles lack the categorical variable(s) "
            f"{described}; a categorical variable has no well-defined 'average' value",
            fix="add a column for each (predict_profiles(result, {var: [levels]}) "
            "builds the combinations)",
        )
    for v in m.variables:
        if v not in frame.columns:
            value = float(pd.to_numeric(m.frame[v]).astype(float).mean())
            frame[v] = value
            held[v] = value
    needed = m.variables + (m.fixed_effects if m.fe_in_design else [])
    empty = [v for v in needed if frame[v].isna().any()]
    if empty:
        raise SpecError(
            f"profiles have missing values in {', '.join(empty)}",
            fix="give a value in every row, or leave a numeric column out to hold it at "
            "the sample mean",
        )
    _check_values(m, frame, needed)
    if m.exposure and m.exposure not in frame.columns:
        held[m.exposure] = 1.0
        notes.append(f"exposure {m.exposure!r} not given: predictions are per unit exposure (1)")
    if m.offset and m.offset not in frame.columns:
        held[m.offset] = 0.0
        notes.append(f"offset {m.offset!r} not given: predictions use offset 0")
    if held:
        notes += [
            f"{k} held at its estimation-sample mean {v:.6g}"
            for k, v in held.items()
            if k in m.variables
        ]
    return frame, held, notes


def predict(
    result: FitResult, profiles: pd.DataFrame | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """Expected counts E[y] at covariate profiles, with delta-method SEs and intervals.

    Why: with interactions and zero parts, predicted counts (e.g. ruling vs opposition parties
    by freedom status) are the interpretable quantity.
    Long because the docstring states the rules for profiles and intervals.

    Intervals: for log-link families (Poisson, NB, GEE, FE) E[y] = exp(eta) and the interval is
    exp(eta ± z·se(eta)); for zero-inflated and hurdle models the delta method is applied to
    E[y] itself with a numeric gradient over all parameters and ``result.full_vcov``.
    fe-poisson intervals are conditional on the estimated fixed effects.

    Parameters
    ----------
    result : FitResult
        A count model fitted by `cpcstats.fit` in this session.
    profiles : pandas.DataFrame, optional
        One row per profile, giving every variable the formula uses (mean and inflation/zero
        parts).  The exception: a *numeric* variable left out is held at its estimation-sample
        mean, reported in ``out.attrs["held_at"]`` (categorical variables have no meaningful
        average and must be given).  Models with fixed effects as dummies (poisson/negbin with
        ``|``, ``fe-negbin``) need the fixed-effect columns, at levels of the estimation
        sample.  ``fe-poisson`` absorbs its fixed effects, so it predicts only the
        estimation-sample rows: pass ``None`` or a modified copy of `estimation_sample`
        (same index).  Exposure / offset columns are used when given; otherwise exposure 1 /
        offset 0 (noted in ``attrs["notes"]``).  None predicts every estimation-sample row.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        The profile columns plus ``predicted``, ``std_error`` (of E[y]), ``ci_lower`` and
        ``ci_upper``; ``attrs``: ``held_at``, ``notes``, ``level``, ``interval``.

    Raises
    ------
    SpecError
        ``level`` not in (0, 1), ``result`` not a FitResult, or profiles that are empty, lack
        a categorical variable, or have missing values or unknown levels.
    EstimationError
        A result not fitted in this session or without a mean E[y]; fixed effects missing or
        at levels outside the sample; fe-poisson asked for other rows.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> nb2 = cpcstats.fit("contacts ~ ruling * C(fh_status) + left_roots", panel, family="negbin")
    >>> import pandas as pd
    >>> out = cpcstats.predict(nb2, pd.DataFrame({"ruling": [0, 1], "fh_status": ["F", "F"]}))
    >>> out["predicted"].round(3).tolist()
    [0.115, 0.339]
    """
    m = model_view(result, "predictions")
    _check_level(level)
    if profiles is None:
        frame = m.frame[design_columns(m)].copy()
        held: dict[str, float] = {}
        notes = ["predictions for every row of the estimation sample"]
    else:
        if _absorbs_fe(m.family) and not (
            isinstance(profiles, pd.DataFrame) and profiles.index.equals(m.frame.index)
        ):
            raise EstimationError(
                f"model {m.result.name!r} (fe-poisson) absorbs its fixed effects, which are "
                "estimated only for the estimation-sample rows; predictions are possible only "
                "on those rows (with regressors changed there), not on other data",
                fix="pass profiles=None, or a modified copy of "
                "cpcstats.estimation.postestimation.estimation_sample(result) with the same "
                "index; or fit family 'poisson' with '| fe' (dummies) to predict new profiles",
            )
        frame, held, notes = _complete_profiles(m, profiles)
    d = design_matrices(m, frame)
    mu = _mu(m, m.params, d)
    zcrit = float(stats.norm.ppf(0.5 + level / 2))
    if m.log_link:
        kx = d.X.shape[1]
        se_eta = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", d.X, m.vcov[:kx, :kx], d.X), 0, None))
        eta = np.log(mu)
        se = mu * se_eta
        lower, upper = np.exp(eta - zcrit * se_eta), np.exp(eta + zcrit * se_eta)
        interval = "exp(eta ± z·se(eta)) (log scale)"
    else:
        J = _mean_jacobian(m, d)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, m.vcov, J), 0, None))
        lower, upper = mu - zcrit * se, mu + zcrit * se
        interval = "E[y] ± z·se (delta method on E[y])"
    out = frame.copy()
    out["predicted"] = mu
    out["std_error"] = se
    out["ci_lower"] = lower
    out["ci_upper"] = upper
    out.attrs["held_at"] = held
    out.attrs["notes"] = notes
    out.attrs["level"] = level
    out.attrs["interval"] = interval
    return out


def predict_profiles(
    result: FitResult, grid: Mapping[str, Sequence[Any]], *, level: float = 0.95
) -> pd.DataFrame:
    """Predictions at every combination of ``grid`` values (a Cartesian product).

    Why: the usual table of predicted counts, e.g. ``{"ruling": [0, 1], "fh_status": ["F",
    "PF", "NF"]}``; variables not in the grid follow `predict`'s rules (numeric ones at
    the sample mean).

    Parameters
    ----------
    result : FitResult
        A count model fitted by `cpcstats.fit`.
    grid : mapping of str to sequence
        Variable -> values (a single value counts as one).
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per combination, with `predict`'s columns and ``attrs``.

    Raises
    ------
    SpecError, EstimationError
        ``grid`` is not a non-empty mapping (SpecError), or as in `predict`.

    Examples
    --------
    >>> len(cpcstats.predict_profiles(nb2, {"ruling": [0, 1], "fh_status": ["F", "NF"]}))
    4
    """
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError(
            "grid must be a non-empty mapping of variable -> values",
            fix="e.g. {'ruling': [0, 1], 'fh_status': ['F', 'PF', 'NF']}",
        )
    columns = {k: [v] if isinstance(v, str) or np.isscalar(v) else list(v) for k, v in grid.items()}
    rows = list(itertools.product(*columns.values()))
    return predict(result, pd.DataFrame(rows, columns=list(columns)), level=level)
