"""Post-estimation: Wald tests, predicted counts and marginal effects.

Why: coefficients of count models are on the log scale and, with interactions
(``ruling * C(fh_status)``) or zero-inflated/hurdle parts, no single
coefficient answers "how many more contacts does a ruling party get?".  These
functions answer on the scale of the outcome, E[y], with delta-method
standard errors over *all* estimated parameters (``result.full_vcov``), so
they inherit the model's variance choice (classical, robust, clustered,
bootstrap).

* :func:`wald_test` — joint chi-squared test of shown coefficients.
* :func:`predict` / :func:`predict_profiles` — E[y] at covariate profiles.
* :func:`marginal_effects` — average marginal effects (AME) over the
  estimation sample, or at representative values (MER) with ``at=``.

Design matrices are always rebuilt from data through the fitted patsy
``DesignInfo``, so interactions, ``C()`` codings and stateful transforms
(``center(x)``) are applied exactly as in estimation.

Limits: ``ols-fe`` models log(1 + y) with absorbed fixed effects and has no
E[y]; ``fe-poisson`` absorbs its fixed effects, so E[y] exists only for the
rows of the estimation sample (with regressors changed on those rows).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.fit import patsy_frame
from cpcstats.estimation.linalg import matrix_rank
from cpcstats.estimation.numdiff import central_jacobian
from cpcstats.estimation.registry import FAMILY_REGISTRY
from cpcstats.estimation.results import FitResult
from cpcstats.formula import parse_formula

__all__ = [
    "DesignMatrices",
    "ModelView",
    "WaldTest",
    "design_matrices",
    "estimation_sample",
    "marginal_effects",
    "model_view",
    "predict",
    "predict_profiles",
    "wald_test",
]

_PARAM_STEP = 1e-5  # relative step of numeric derivatives with respect to parameters
_X_STEP = 1e-4  # step of the x-derivative, in standard deviations of x


# --------------------------------------------------------------------------- Wald test
@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test that ``terms`` equal ``values`` (chi-squared, ``df`` restrictions)."""

    terms: tuple[str, ...]
    statistic: float
    df: int
    p_value: float
    values: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for ``results.json`` or a report."""
        return {
            "terms": list(self.terms),
            "values": [float(v) for v in self.values],
            "statistic": float(self.statistic),
            "df": int(self.df),
            "p_value": float(self.p_value),
            "distribution": "chi2",
        }

    def __str__(self) -> str:
        values = self.values or (0.0,) * len(self.terms)
        hypothesis = ", ".join(f"{t} = {v:g}" for t, v in zip(self.terms, values, strict=True))
        return (
            f"Wald test of {hypothesis}: chi2({self.df}) = {self.statistic:.4f}, "
            f"p = {self.p_value:.4g}"
        )


def _match_terms(result: FitResult, terms: Sequence[str] | str) -> list[str]:
    """Exact names first; otherwise a literal substring selecting every term containing it."""
    available = list(result.params.index)
    wanted = [terms] if isinstance(terms, str) else list(terms)
    if not wanted:
        raise SpecError(
            "wald_test() needs at least one term",
            fix="available terms: " + ", ".join(available),
        )
    chosen: list[str] = []
    for item in wanted:
        if not isinstance(item, str):
            raise SpecError(
                f"terms must be names (strings), not {item!r}",
                fix="available terms: " + ", ".join(available),
            )
        hits = [item] if item in available else [t for t in available if item in t]
        if not hits:
            raise SpecError(
                f"model {result.name!r}: no term is named or contains {item!r}",
                column="terms",
                fix="available terms: " + ", ".join(available),
            )
        chosen += [h for h in hits if h not in chosen]
    return [t for t in available if t in chosen]  # in the order of the model


def _test_values(
    values: float | Sequence[float] | Mapping[str, float] | None, names: list[str]
) -> np.ndarray:
    if values is None:
        return np.zeros(len(names))
    if isinstance(values, Mapping):
        unknown = [k for k in values if k not in names]
        if unknown:
            raise SpecError(
                f"values given for term(s) not tested: {', '.join(map(str, unknown))}",
                fix="tested terms: " + ", ".join(names),
            )
        return np.array([float(values.get(n, 0.0)) for n in names])
    if np.isscalar(values):
        return np.full(len(names), float(values))  # type: ignore[arg-type]
    out = np.asarray(values, dtype=float).ravel()
    if len(out) != len(names):
        raise SpecError(
            f"{len(out)} value(s) given for {len(names)} tested term(s) ({', '.join(names)})",
            fix="give one value per term, a single number, or a {term: value} mapping",
        )
    return out


def wald_test(
    result: FitResult,
    terms: Sequence[str] | str,
    *,
    values: float | Sequence[float] | Mapping[str, float] | None = None,
) -> WaldTest:
    """Joint Wald test H0: the named shown coefficients equal ``values`` (default 0).

    Why: "does freedom status matter at all?" is a question about several
    coefficients at once (all ``C(fh_status)`` dummies and their
    interactions), which individual z tests cannot answer.

    Term selection: each entry of ``terms`` that is exactly the name of a shown
    term (``result.params.index``) selects that term; otherwise it is a
    literal, case-sensitive substring and selects every shown term containing
    it, so ``"C(fh_status)"`` selects the main effects *and* the interactions,
    and ``"ruling:C(fh_status)"`` only the interactions.  Selected terms are
    tested in the model's order, each once.  ``values`` is a number, one value
    per selected term, or a ``{term: value}`` mapping (missing terms 0).  The
    statistic is (b - v)' V^-1 (b - v) with V = ``result.vcov`` (the model's
    variance choice) and is chi-squared with as many degrees of freedom as terms.
    """
    names = _match_terms(result, terms)
    target = _test_values(values, names)
    b = result.params[names].to_numpy(dtype=float)
    V = result.vcov.loc[names, names].to_numpy(dtype=float)
    if not np.isfinite(V).all() or matrix_rank(V) < len(names):
        raise EstimationError(
            f"model {result.name!r}: the variance of {', '.join(names)} is singular or "
            "not finite, so their joint Wald test is not defined",
            fix="test fewer terms (with few clusters a clustered variance has rank "
            "at most the number of clusters - 1)",
        )
    diff = b - target
    statistic = float(diff @ np.linalg.solve(V, diff))
    df = len(names)
    return WaldTest(
        terms=tuple(names),
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)),
        values=tuple(float(v) for v in target),
    )


# --------------------------------------------------------------------------- model context
@dataclass
class _Variable:
    name: str
    kind: str  # "continuous", "binary" or "categorical"
    levels: tuple[Any, ...] = ()
    reference: Any = None


@dataclass
class ModelView:
    """What post-estimation needs from a FitResult, checked once (:func:`model_view`).

    Why public: score tests and other post-estimation code read a fit through this view
    (parameters, variance, mean function, design infos, estimation sample) instead of
    reaching into the result's ``core``/``design``/``spec`` fields.
    """

    result: FitResult
    family: str
    params: np.ndarray
    vcov: np.ndarray
    mean: Callable[..., np.ndarray]
    x_info: Any
    z_info: Any
    x_names: list[str]
    z_names: list[str]
    frame: pd.DataFrame  # estimation sample, raw dtypes
    variables: list[str]  # right-hand-side variables (mean and zero parts)
    fixed_effects: list[str]
    fe_in_design: bool
    exposure: str | None
    offset: str | None
    info: dict[str, _Variable] = field(default_factory=dict)

    @property
    def log_link(self) -> bool:
        # E[y] = exp(X b + offset) (fe-poisson adds its absorbed effects)
        family = FAMILY_REGISTRY.get(self.family)
        log_mean = family is not None and family.log_mean
        return log_mean and len(self.params) == len(self.x_names)


@dataclass
class DesignMatrices:
    """Mean-part and zero-part design matrices and offset of some rows (new data or the
    estimation sample), built through the fit's own patsy design infos."""

    X: np.ndarray
    Z: np.ndarray | None
    offset: np.ndarray | None


def _absorbs_fe(name: str) -> bool:
    """Whether the family's fixed effects are absorbed (not dummies in X)."""
    family = FAMILY_REGISTRY.get(name)
    return family is not None and family.absorbs_fe


def model_view(result: FitResult, what: str) -> ModelView:
    """Check that ``result`` supports E[y]-based quantities and gather its pieces.

    ``what`` names the quantity in error messages ("predictions", "score tests").
    """
    if not isinstance(result, FitResult):
        raise SpecError(
            f"{what} need a FitResult from cpcstats.fit(), not {type(result).__name__}",
            fix="pass the object returned by cpcstats.fit(...)",
        )
    family = FAMILY_REGISTRY.get(result.family)
    if family is not None and not family.count_outcome:
        raise EstimationError(
            f"model {result.name!r}: {what} are not defined for family {result.family!r}: "
            "it models "
            "log(1 + y) with absorbed two-way fixed effects, so it has no expected count E[y]",
            fix="interpret its coefficients directly, or fit a count family "
            "(poisson, negbin, fe-poisson) for predictions and marginal effects",
        )
    core, design, spec = result.core, result.design, result.spec
    if core is None or design is None or spec is None or result.full_vcov is None:
        raise EstimationError(
            f"model {result.name!r}: the result carries no post-estimation payload "
            "(it was not produced by cpcstats.fit in this session)",
            fix="refit the model with cpcstats.fit(...)",
        )
    if core.mean is None:
        raise EstimationError(
            f"model {result.name!r}: family {result.family!r} provides no mean function, "
            f"so {what} are not defined for it",
            fix="use a count family such as poisson or negbin",
        )
    params = np.asarray(core.params, dtype=float)
    p = len(params)
    full = np.asarray(result.full_vcov, dtype=float)
    vcov = np.zeros((p, p))  # the parameters `mean` uses: drop ancillary rows, pad if short
    q = min(p, full.shape[0])
    vcov[:q, :q] = full[:q, :q]
    formula = parse_formula(spec.formula)
    fes = list(formula.fixed_effects)
    variables = [v for v in formula.variables if v != formula.response and v not in fes]
    if spec.inflation:
        zpart = parse_formula(f"{formula.response} ~ {spec.inflation}")
        variables += [
            v
            for v in zpart.variables
            if v != formula.response and v not in fes and v not in variables
        ]
    frame = design.frame if core.keep is None else design.frame[core.keep]
    m = ModelView(
        result=result,
        family=result.family,
        params=params,
        vcov=vcov,
        mean=core.mean,
        x_info=design.x_info,
        z_info=design.z_info,
        x_names=list(design.data.x_names),
        z_names=list(design.data.z_names),
        frame=frame,
        variables=variables,
        fixed_effects=fes,
        fe_in_design=bool(fes) and not _absorbs_fe(result.family),
        exposure=spec.exposure,
        offset=spec.offset,
    )
    m.info = _classify(m)
    return m


def _factor_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _categorical_factors(m: ModelView) -> dict[str, tuple[tuple[Any, ...], Any]]:
    """Variables entering as one-variable categorical factors: (levels, reference level)."""
    out: dict[str, tuple[tuple[Any, ...], Any]] = {}
    for info in (m.x_info, m.z_info):
        if info is None:
            continue
        for factor, finfo in info.factor_infos.items():
            if finfo.type != "categorical":
                continue
            names = _factor_names(factor.code) & set(m.variables + m.fixed_effects)
            if len(names) != 1:
                continue
            (name,) = names
            if name in out:
                continue
            levels = tuple(finfo.categories)
            out[name] = (levels, _reference_level(info, factor, levels))
    return out


def _reference_level(info: Any, factor: Any, levels: tuple[Any, ...]) -> Any:
    """The level coded by a zero row (treatment coding's base); else the first level."""
    for subterms in info.term_codings.values():
        for sub in subterms:
            contrast = sub.contrast_matrices.get(factor)
            if contrast is None:
                continue
            zero = np.flatnonzero(~np.abs(contrast.matrix).any(axis=1))
            if len(zero) == 1:
                return levels[int(zero[0])]
    return levels[0]


def _classify(m: ModelView) -> dict[str, _Variable]:
    categorical = _categorical_factors(m)
    out: dict[str, _Variable] = {}
    for name in m.variables + m.fixed_effects:
        if name in categorical:
            levels, ref = categorical[name]
            out[name] = _Variable(name, "categorical", levels, ref)
            continue
        column = m.frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            levels = tuple(sorted(pd.unique(column.dropna())))
            out[name] = _Variable(name, "categorical", levels, levels[0] if levels else None)
            continue
        values = set(pd.unique(column.dropna().astype(float)))
        kind = "binary" if values == {0.0, 1.0} else "continuous"
        out[name] = _Variable(name, kind, (0.0, 1.0) if kind == "binary" else (), 0.0)
    return out


def estimation_sample(result: FitResult) -> pd.DataFrame:
    """The rows the model was estimated on (after the family's own exclusions).

    Why: for ``fe-poisson`` this is the only data :func:`predict` accepts (a
    modified copy, same index); for every model it is the sample AMEs average over.
    """
    return model_view(result, "predictions").frame.copy()


# --------------------------------------------------------------------------- designs and means
def design_matrices(m: ModelView, frame: pd.DataFrame) -> DesignMatrices:
    """Design matrices of ``frame`` through the fitted DesignInfo (same codings/transforms)."""
    data = patsy_frame(frame)
    try:
        (X,) = patsy.build_design_matrices([m.x_info], data, NA_action="raise")
        X = pd.DataFrame(np.asarray(X), columns=m.x_info.column_names)[m.x_names]
        Z = None
        if m.z_info is not None:
            (Zm,) = patsy.build_design_matrices([m.z_info], data, NA_action="raise")
            Z = pd.DataFrame(np.asarray(Zm), columns=m.z_info.column_names)[m.z_names]
    except patsy.PatsyError as exc:
        levels = "; ".join(
            f"{v.name}: {_show_all(v.levels)}" for v in m.info.values() if v.kind == "categorical"
        )
        raise SpecError(
            f"model {m.result.name!r}: the design cannot be built for these values: "
            f"{str(exc).splitlines()[0]}",
            fix="give values of the estimation sample's types"
            + (f"; categorical levels are {levels}" if levels else ""),
        ) from exc
    return DesignMatrices(
        X.to_numpy(dtype=float),
        None if Z is None else Z.to_numpy(dtype=float),
        _offset(m, frame),
    )


def _offset(m: ModelView, frame: pd.DataFrame) -> np.ndarray | None:
    if m.exposure and m.exposure in frame.columns:
        exposure = pd.to_numeric(frame[m.exposure], errors="coerce").to_numpy(dtype=float)
        if not (exposure > 0).all():
            raise SpecError(
                f"exposure {m.exposure!r} must be a positive number in every row",
                column=m.exposure,
                fix="give positive exposures, or leave the column out for exposure 1",
            )
        return np.log(exposure)
    if m.offset and m.offset in frame.columns:
        off = pd.to_numeric(frame[m.offset], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(off).all():
            raise SpecError(
                f"offset {m.offset!r} must be a finite number in every row",
                column=m.offset,
                fix="give finite offsets, or leave the column out for offset 0",
            )
        return off
    return None


def _mu(m: ModelView, theta: np.ndarray, d: DesignMatrices) -> np.ndarray:
    return np.asarray(m.mean(theta, d.X, d.Z, d.offset), dtype=float)


def _mean_jacobian(m: ModelView, d: DesignMatrices) -> np.ndarray:
    """n x p derivatives of E[y] with respect to all parameters (analytic for log links)."""
    theta = m.params
    if m.log_link:
        return _mu(m, theta, d)[:, None] * d.X
    return central_jacobian(lambda t: _mu(m, t, d), theta, rel_step=_PARAM_STEP)


def _average_gradient(m: ModelView, d: DesignMatrices) -> np.ndarray:
    """Gradient of mean_i E[y_i] with respect to all parameters."""
    theta = m.params
    if m.log_link:
        mu = _mu(m, theta, d)
        return (mu @ d.X) / len(mu)
    return central_jacobian(lambda t: _mu(m, t, d).mean(), theta, rel_step=_PARAM_STEP)


# --------------------------------------------------------------------------- predictions
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

    Why: with interactions and zero parts, predicted counts (e.g. ruling vs
    opposition parties by freedom status) are the interpretable quantity.

    ``profiles`` has one row per profile and must give every variable the
    formula uses (mean and inflation/zero parts).  The exception: a *numeric*
    variable left out is held at its estimation-sample mean, reported in
    ``out.attrs["held_at"]`` (categorical variables have no meaningful
    average and must be given).  Models with fixed effects as dummies
    (poisson/negbin with ``|``, ``fe-negbin``) need the fixed-effect columns,
    at levels of the estimation sample.  ``fe-poisson`` absorbs its fixed
    effects, so it predicts only the estimation-sample rows: pass ``None`` or
    a modified copy of :func:`estimation_sample` (same index).  Exposure /
    offset columns are used when given; otherwise exposure 1 / offset 0
    (noted in ``attrs["notes"]``).  ``profiles=None`` predicts every row of
    the estimation sample.

    Intervals: for log-link families (Poisson, NB, GEE, FE) E[y] = exp(eta)
    and the interval is exp(eta ± z·se(eta)); for zero-inflated and hurdle
    models the delta method is applied to E[y] itself with a numeric gradient
    over all parameters and ``result.full_vcov``.  fe-poisson intervals are
    conditional on the estimated fixed effects.

    Returns the profile columns plus ``predicted``, ``std_error`` (of E[y]),
    ``ci_lower`` and ``ci_upper``.
    """
    m = model_view(result, "predictions")
    _check_level(level)
    if profiles is None:
        needed = m.variables + (m.fixed_effects if m.fixed_effects else [])
        extra = [c for c in (m.exposure, m.offset) if c]
        frame = m.frame[list(dict.fromkeys(needed + extra))].copy()
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

    Why: the usual table of predicted counts, e.g. ``{"ruling": [0, 1],
    "fh_status": ["F", "PF", "NF"]}``; variables not in the grid follow
    :func:`predict`'s rules (numeric ones at the sample mean).
    """
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError(
            "grid must be a non-empty mapping of variable -> values",
            fix="e.g. {'ruling': [0, 1], 'fh_status': ['F', 'PF', 'NF']}",
        )
    columns = {k: [v] if isinstance(v, str) or np.isscalar(v) else list(v) for k, v in grid.items()}
    rows = list(itertools.product(*columns.values()))
    return predict(result, pd.DataFrame(rows, columns=list(columns)), level=level)


# --------------------------------------------------------------------------- marginal effects
def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise SpecError(f"level must be between 0 and 1, not {level!r}", fix="e.g. level=0.95")


def _apply_at(m: ModelView, at: Mapping[str, Any] | None) -> pd.DataFrame:
    frame = m.frame.copy()
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

    Why: with a log link, interactions or a zero part, a coefficient is not
    the change in expected contacts; the AME is, and it is comparable across
    families.

    ``at=None``: AME, averaged over the estimation sample.  ``at={"fh_status":
    "NF", "ruling": 1}``: marginal effects at representative values (MER) —
    the named variables are set to those values in *every* row of the
    estimation sample, the other variables keep their observed values, and
    the effect is averaged over the rows.  ``variables`` defaults to every
    right-hand-side variable (mean and zero parts; fixed effects excluded).

    Effects: numeric variables get dy/dx, a central finite difference of E[y]
    on the data (the design is rebuilt, so interactions and transforms enter
    correctly); numeric 0/1 variables get the discrete change "1 vs 0";
    categorical variables the change from the reference (base) level to each
    other level ("NF vs F").  Standard errors: the gradient of the effect with
    respect to all parameters times ``result.full_vcov`` (analytic for log
    links, numeric otherwise).

    Columns: variable, contrast, estimate, std_error, z, p_value, ci_lower, ci_upper.
    """
    m = model_view(result, "marginal effects")
    _check_level(level)
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
    base = _apply_at(m, at)
    zcrit = float(stats.norm.ppf(0.5 + level / 2))
    rows: list[dict[str, Any]] = []
    for name in names:
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
        else:
            ref = var.reference
            for value in var.levels:
                if value == ref:
                    continue
                label = (
                    "1 vs 0"
                    if var.kind == "binary"
                    else f"{_level_label(value)} vs {_level_label(ref)}"
                )
                jobs.append(
                    (
                        label,
                        [(base.assign(**{name: value}), 1.0), (base.assign(**{name: ref}), -1.0)],
                    )
                )
        for contrast, scenarios in jobs:
            estimate, grad = _effect(m, scenarios)
            se = float(np.sqrt(max(grad @ m.vcov @ grad, 0.0)))
            with np.errstate(divide="ignore", invalid="ignore"):
                z = estimate / se if se > 0 else float("nan")
            rows.append(
                {
                    "variable": name,
                    "contrast": contrast,
                    "estimate": estimate,
                    "std_error": se,
                    "z": z,
                    "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
                    "ci_lower": estimate - zcrit * se,
                    "ci_upper": estimate + zcrit * se,
                }
            )
    out = pd.DataFrame(
        rows,
        columns=[
            "variable",
            "contrast",
            "estimate",
            "std_error",
            "z",
            "p_value",
            "ci_lower",
            "ci_upper",
        ],
    )
    out.attrs["kind"] = "MER" if at else "AME"
    out.attrs["at"] = dict(at or {})
    out.attrs["level"] = level
    out.attrs["nobs"] = len(base)
    return out


def _level_label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _show(value: Any) -> str:
    """A level as users type it: quoted labels, plain numbers (not np.int64(...))."""
    return repr(value) if isinstance(value, str) else _level_label(value)


def _show_all(values: Sequence[Any]) -> str:
    return ", ".join(_show(v) for v in values)


# Old private names, kept until every caller uses the public ones.
_Model = ModelView
_Design = DesignMatrices
_context = model_view
_build = design_matrices
