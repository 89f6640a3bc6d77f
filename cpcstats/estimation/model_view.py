"""The documented view of a fit that post-estimation works from.

`model_view` checks a `cpcstats.estimation.results.FitResult` once and
gathers what E[y]-based quantities need (parameters, the variance over all parameters,
the family's mean function, the patsy design infos, the estimation sample and the
kind of each right-hand-side variable); `design_matrices` rebuilds the design of
any rows through the fitted design infos.  Predictions, marginal effects and score
tests read a fit only through these, never through ``result.core``/``design``/``spec``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.design import coded_text, patsy_frame
from cpcstats.estimation.numdiff import central_jacobian
from cpcstats.estimation.results import FitResult
from cpcstats.formula import parse_formula
from cpcstats.spec_registry import FAMILY_REGISTRY

__all__ = ["DesignMatrices", "ModelView", "design_matrices", "estimation_sample", "model_view"]

_PARAM_STEP = 1e-5  # relative step of numeric derivatives with respect to parameters


# --------------------------------------------------------------------------- model context
@dataclass
class _Variable:
    name: str
    kind: str  # "continuous", "binary" or "categorical"
    levels: tuple[Any, ...] = ()
    reference: Any = None


@dataclass
class ModelView:
    """What post-estimation needs from a FitResult, checked once (`model_view`).

    Why public: score tests and other post-estimation code read a fit through this view
    (parameters, variance, mean function, design infos, estimation sample) instead of
    reaching into the result's ``core``/``design``/``spec`` fields.
    """

    result: FitResult
    family: str
    params: np.ndarray
    vcov: np.ndarray
    mean: Callable[..., np.ndarray]
    x_info: patsy.DesignInfo  # the fit's own codings, to rebuild designs of new rows
    z_info: patsy.DesignInfo | None
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

    Why: for ``fe-poisson`` this is the only data `predict` accepts (a
    modified copy, same index); for every model it is the sample AMEs average over.
    """
    return model_view(result, "predictions").frame.copy()


# --------------------------------------------------------------------------- designs and means
def design_columns(m: ModelView) -> list[str]:
    """The columns a rebuilt design of ``m`` reads: the formulas' variables, the fixed
    effects, the exposure and the offset.

    Why: predictions, marginal and average effects copy and convert only these of the
    estimation sample or of new rows, not every column of a wide panel (41 in the demo's
    party-year panel, for the two or three a formula uses).
    """
    extra = [c for c in (m.exposure, m.offset) if c]
    return list(dict.fromkeys([*m.variables, *m.fixed_effects, *extra]))


def design_matrices(m: ModelView, frame: pd.DataFrame) -> DesignMatrices:
    """Design matrices of ``frame`` through the fitted DesignInfo (same codings/transforms)."""
    data = coded_text(patsy_frame(frame, design_columns(m)), [m.x_info, m.z_info])
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
