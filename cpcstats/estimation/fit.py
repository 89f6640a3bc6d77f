"""``fit``: one call from a formula or a specification to a :class:`FitResult`.

The model sample is built here and accounted for: rows removed by the sample
filter, by missing values (per variable), by fixed-effect groups whose
outcomes are all zero, and by separation (FE-Poisson) are each counted with
their reason.  Variances are computed by one sandwich for all families
(:mod:`cpcstats.estimation.vcov`), or by the cluster bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import patsy

from cpcstats.accounting import StageAccount
from cpcstats.errors import EstimationError, InputError, SpecError
from cpcstats.estimation.families import SINGULAR_HESSIAN, CoreFit, ModelData
from cpcstats.estimation.hdfe import ZERO_GROUP, drop_zero_groups
from cpcstats.estimation.linalg import collinear_columns, matrix_rank
from cpcstats.estimation.registry import family_label, get_family
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.vcov import (
    VARIANCES,
    VarianceRequest,
    Vcov,
    check_cluster_levels,
)
from cpcstats.formula import FORMULA_NAMESPACE, Formula, evaluate_filter, parse_formula
from cpcstats.panels import Panel
from cpcstats.spec import ModelSpec, load_specs, spec_from_dict

ZERO_GROUPS = ZERO_GROUP  # one reason string for the rows every count-FE model drops
DIVERGING = 15.0


def _plain(message: str) -> str:
    """statsmodels' optimiser messages in words a reader of a table understands."""
    if message.startswith("Inverting hessian failed"):
        return "the Hessian is singular at the optimum (a boundary or separation)"
    if message.startswith("Maximum Likelihood optimization failed"):
        return "the likelihood optimiser did not converge"
    return message


@dataclass
class Design:
    """Design matrices of one model and how to rebuild them for new data."""

    data: ModelData
    x_info: Any
    z_info: Any | None
    frame: pd.DataFrame  # the estimation sample


def _as_spec(model: str | Path | ModelSpec, **kw: Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    text = str(model)
    if text.endswith(".toml"):
        specs = load_specs(text)
        if len(specs) != 1:
            raise SpecError(
                f"holds {len(specs)} models; fit() takes one",
                file=text,
                fix="pass a ModelSpec from cpcstats.load_specs(...)",
            )
        return specs[0]
    entry: dict[str, object] = {"name": kw.pop("name") or text, "formula": text}
    entry.update({k: v for k, v in kw.items() if v is not None})
    return spec_from_dict(entry, allow_custom=True)


def _resolve_data(
    spec: ModelSpec, data: Panel | pd.DataFrame | None, study: object
) -> tuple[pd.DataFrame, bool, str, str | None]:
    if data is None:
        if study is None:
            raise SpecError(
                f"model {spec.name!r}: give a panel (data=...) or a study=...",
                fix="e.g. cpcstats.fit(spec, study=cpcstats.load_study('demo'))",
            )
        from cpcstats.panels import country_year, party_year

        build = party_year if spec.level == "party-year" else country_year
        data = build(study)  # type: ignore[arg-type]
    if isinstance(data, Panel):
        if spec.level in ("country-year", "party-year") and data.level != spec.level:
            raise SpecError(
                f"model {spec.name!r} is specified for the {spec.level} panel but "
                f"was given the {data.level} panel",
                file=spec.source,
                column="level",
                fix=f"build the {spec.level} panel for it",
            )
        return data.data, data.simulated, data.study, data.unit
    attrs = data.attrs
    return data, bool(attrs.get("simulated", False)), str(attrs.get("study", "")), None


def _inflation_formula(spec: ModelSpec, formula: Formula, columns: Any) -> Formula | None:
    if not spec.inflation:
        return None
    return parse_formula(f"{formula.response} ~ {spec.inflation}", columns, file=spec.source)


def _first_row(frame: pd.DataFrame, mask: np.ndarray) -> tuple[int | None, str]:
    """The first flagged row: its number in the data file (row 1 is the header) when the
    frame came from ``cpcstats fit --data`` (``attrs["file"]``, a 0-based index), else
    None and the DataFrame index label in words."""
    label = frame.index[np.flatnonzero(mask)[0]]
    if frame.attrs.get("file") and isinstance(label, int | np.integer):
        return int(label) + 2, f"row {int(label) + 2}"
    return None, f"index label {label!r}"


def _check_finite_columns(spec: ModelSpec, frame: pd.DataFrame, columns: list[str]) -> None:
    """``inf``/``-inf`` in a column the model uses is a user error, not a NaN to drop.

    Why: missing values are dropped and counted, but an infinite value is a value --
    left in, it makes the likelihood or the design's SVD fail deep inside a fit (an
    "internal error").  The first such column is named with how many rows and the first.
    """
    for column in dict.fromkeys(columns):
        if column not in frame.columns:
            continue
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
            values.dtype
        ):
            continue
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            row, where = _first_row(frame, infinite)
            raise InputError(
                f"model {spec.name!r}: column {column!r} holds {int(infinite.sum())} "
                f"infinite value(s) (inf or -inf; first at {where})",
                file=frame.attrs.get("file"),
                row=row,
                column=column,
                fix="replace them with finite numbers, or leave them empty (rows with a "
                "missing value are dropped and counted), or exclude them with a sample filter",
            )


#: kept for callers of the old private name; the check lives with the variances
_check_cluster_levels = check_cluster_levels


def model_sample(
    spec: ModelSpec, formula: Formula, frame: pd.DataFrame, extra: list[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows the model uses, with every exclusion counted by reason.

    Rows are numbered as in the data file (row 1 is the header) when the frame carries
    ``attrs["file"]`` (a user-supplied panel read by ``cpcstats fit --data``).
    """
    dropped: dict[str, int] = {}
    data_file = frame.attrs.get("file")
    if spec.sample:
        keep = evaluate_filter(spec.sample, frame, file=spec.source)
        dropped[f"sample filter: {spec.sample}"] = int((~keep).sum())
        frame = frame[keep.to_numpy()]
        if frame.empty:
            raise SpecError(
                f"model {spec.name!r}: the sample filter {spec.sample!r} selects no rows",
                file=spec.source,
                column="sample",
                fix="loosen the filter",
            )
    used = list(
        dict.fromkeys(
            [formula.response, *formula.variables, *formula.fixed_effects, *spec.cluster, *extra]
        )
    )
    for variable in used:
        missing = frame[variable].isna().to_numpy()
        if missing.any():
            dropped[f"missing {variable}"] = int(missing.sum())
            frame = frame[~missing]
    _check_finite_columns(spec, frame, [formula.response, *formula.variables, *extra])
    y = pd.to_numeric(frame[formula.response], errors="coerce")
    bad = y.isna() | (y < 0) | (y % 1 != 0)
    if get_family(spec.family).count_outcome and bad.any():
        first = frame.index[np.flatnonzero(bad.to_numpy())[0]]
        row, _ = _first_row(frame, bad.to_numpy())
        raise InputError(
            f"model {spec.name!r}: the outcome {formula.response!r} must be a non-negative "
            f"whole count; {int(bad.sum())} value(s) are not "
            f"(first: {frame[formula.response][first]!r})",
            file=data_file,
            row=row,
            column=formula.response,
            fix="check the panel file, or choose a count outcome",
        )
    if spec.exposure:
        nonpositive = (pd.to_numeric(frame[spec.exposure], errors="coerce") <= 0).to_numpy()
        if nonpositive.any():
            row, where = _first_row(frame, nonpositive)
            raise InputError(
                f"model {spec.name!r}: exposure {spec.exposure!r} must be > 0 "
                f"({int(nonpositive.sum())} rows are not; first at {where})",
                file=data_file,
                row=row,
                column=spec.exposure,
                fix="drop those rows with a sample filter, or fix the values",
            )
    if formula.fixed_effects and get_family(spec.family).count_outcome:
        frame, n_zero = _drop_all_zero_groups(frame, formula)
        dropped[ZERO_GROUPS] = n_zero
    if frame.empty:
        raise EstimationError(
            f"model {spec.name!r}: no observations left ({dropped})",
            file=spec.source,
            fix="check the sample filter and missing values",
        )
    return frame, dropped


def _drop_all_zero_groups(frame: pd.DataFrame, formula: Formula) -> tuple[pd.DataFrame, int]:
    """Rows outside fixed-effect groups whose outcomes are all zero, and how many went.

    One implementation with the FE-Poisson solver (:func:`hdfe.drop_zero_groups`), iterated
    to a fixed point: dropping a group can empty a group of another fixed effect.
    """
    y = pd.to_numeric(frame[formula.response]).to_numpy(dtype=float)
    codes = [pd.factorize(frame[fe])[0] for fe in formula.fixed_effects]
    keep = drop_zero_groups(y, codes)
    if keep.all():
        return frame, 0
    return frame[keep], int((~keep).sum())


def patsy_frame(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Columns patsy can read (text as objects, nullable numbers as floats); only
    ``columns`` when given, so wide panels are not converted column by column.

    Public because post-estimation rebuilds design matrices of new rows the same way.
    """
    keep = [c for c in dict.fromkeys(columns or frame.columns) if c in frame.columns]
    data = frame[keep].copy()
    for column in data.columns:
        dtype = data[column].dtype
        if isinstance(dtype, pd.StringDtype) or dtype is np.dtype(object):
            data[column] = data[column].astype(object)
        elif pd.api.types.is_extension_array_dtype(dtype):
            data[column] = data[column].astype(float)
    return data


_patsy_frame = patsy_frame  # old private name, kept for existing callers


def _matrices(text: str, frame: pd.DataFrame, spec: ModelSpec) -> tuple[pd.DataFrame, Any]:
    try:
        _, X = patsy.dmatrices(
            text,
            frame,
            return_type="dataframe",
            NA_action="raise",
            eval_env=patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)]),
        )
    except patsy.PatsyError as exc:
        raise SpecError(
            f"model {spec.name!r}: formula {text!r} cannot be built: {str(exc).splitlines()[0]}",
            file=spec.source,
            column="formula",
            fix="check the formula against the panel's variables",
        ) from exc
    return X, X.design_info


def build_design(
    spec: ModelSpec,
    formula: Formula,
    frame: pd.DataFrame,
    inflation: Formula | None,
    unit: str | None,
) -> Design:
    used = [formula.response, *formula.variables, *formula.fixed_effects]
    if inflation is not None:
        used += [*inflation.variables, *inflation.fixed_effects]
    data = patsy_frame(frame, used)
    family = get_family(spec.family)
    high_dim = not family.fe_in_design
    X, x_info = _matrices(formula.patsy(fe_as_dummies=not high_dim), data, spec)
    if high_dim and "Intercept" in X.columns:
        X = X.drop(columns="Intercept")
    _check_finite_design(X, spec, frame)
    _check_rank(X, spec)
    Z = z_info = None
    if inflation is not None:
        Z, z_info = _matrices(inflation.patsy(), data, spec)
        _check_finite_design(Z, spec, frame)
        _check_rank(Z, spec)
    offset = None
    if spec.exposure:
        offset = np.log(frame[spec.exposure].to_numpy(dtype=float))
    elif spec.offset:
        offset = frame[spec.offset].to_numpy(dtype=float)
    fe_codes = (
        [pd.factorize(frame[fe])[0] for fe in formula.fixed_effects]
        if family.absorbs_fe
        else []
    )
    group_var = spec.cluster[0] if spec.cluster else unit
    groups = (
        pd.factorize(frame[group_var])[0] if group_var and family.gee else None
    )
    time = frame["year"].to_numpy() if "year" in frame.columns else None
    model_data = ModelData(
        y=frame[formula.response].to_numpy(dtype=float),
        X=X.to_numpy(dtype=float),
        x_names=list(X.columns),
        offset=offset,
        Z=None if Z is None else Z.to_numpy(dtype=float),
        z_names=[] if Z is None else list(Z.columns),
        fe_codes=fe_codes,
        fe_names=list(formula.fixed_effects),
        groups=groups,
        time=time,
        correlation=spec.correlation,
        frame=frame,
        unit=formula.fixed_effects[0] if formula.fixed_effects else unit,
        period=formula.fixed_effects[1] if len(formula.fixed_effects) > 1 else "year",
    )
    return Design(model_data, x_info, z_info, frame)


def _check_finite_design(X: pd.DataFrame, spec: ModelSpec, frame: pd.DataFrame) -> None:
    """A term that evaluates to inf/NaN (``log(x)`` at x = 0, ``1/x``) is a user error.

    Why: the data columns are checked in :func:`model_sample`, but a transformation in the
    formula can still make a non-finite design column, on which the rank check's SVD and
    every likelihood fail with a numerical exception.
    """
    values = X.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = bad[:, column]
    row, where = _first_row(frame, rows)
    raise EstimationError(
        f"model {spec.name!r}: the term {X.columns[column]!r} is not finite (inf or NaN) in "
        f"{int(rows.sum())} row(s) of the sample (first at {where})",
        file=frame.attrs.get("file") if row is not None else spec.source,
        row=row,
        column="formula",
        fix="transform so the term stays finite (e.g. log1p(x) instead of log(x) for "
        "counts with zeros), or exclude those rows with a sample filter",
    )


def _check_rank(X: pd.DataFrame, spec: ModelSpec) -> None:
    constant = [c for c in X.columns if c != "Intercept" and X[c].nunique() <= 1]
    if constant:
        raise EstimationError(
            f"model {spec.name!r}: term(s) {', '.join(constant)} do not vary in the sample",
            file=spec.source,
            column="formula",
            fix="remove them or widen the sample",
        )
    values = X.to_numpy(dtype=float)
    try:
        rank = matrix_rank(values)
    except np.linalg.LinAlgError as exc:  # an SVD that does not converge: say so, per model
        raise EstimationError(
            f"model {spec.name!r}: the rank of the design matrix cannot be computed ({exc})",
            file=spec.source,
            column="formula",
            fix="rescale very large regressors, or simplify the formula",
        ) from exc
    if rank < values.shape[1]:
        dependent = collinear_columns(values, eps_factor=1e4, pivots_only=True)
        collinear = [X.columns[j] for j in dependent]
        raise EstimationError(
            f"model {spec.name!r}: the design matrix is singular (rank {rank} of "
            f"{values.shape[1]}); collinear term(s): {', '.join(collinear) or 'see formula'}",
            file=spec.source,
            column="formula",
            fix="drop one of the collinear terms (or rescale a regressor whose values are "
            "extremely large or small: the rank is judged relative to the largest column)",
        )


def estimate(spec: ModelSpec, design: Design) -> CoreFit:
    """Run the family's estimator; numerical failures become EstimationErrors.

    A fit whose model-based variance is not finite (a Hessian that could not be inverted,
    see ``families._inv``) is returned with :data:`SINGULAR_HESSIAN` among its warnings:
    its coefficients stand, its standard errors are NaN, and a reader is told why.
    """
    try:
        core = get_family(spec.family).fit_function()(design.data)
    except (EstimationError, SpecError) as exc:  # name the model and its file, keep the type
        raise type(exc)(
            f"model {spec.name!r}: {exc.problem}",
            file=exc.file or spec.source,
            column=exc.column,
            fix=exc.fix,
        ) from exc
    except (
        np.linalg.LinAlgError,
        ValueError,
        FloatingPointError,
        ZeroDivisionError,
        OverflowError,
    ) as exc:
        raise EstimationError(
            f"model {spec.name!r}: estimation failed: {exc}",
            file=spec.source,
            fix="simplify the model or check the sample",
        ) from exc
    if not np.isfinite(core.params).all():
        raise EstimationError(
            f"model {spec.name!r}: estimation failed: the estimates are not finite "
            "(the likelihood diverges in this sample)",
            file=spec.source,
            fix="simplify the model (fewer terms, a simpler family) or check the sample",
        )
    bread_diag = np.diag(np.asarray(core.bread, dtype=float))
    if not np.isfinite(bread_diag).all() and SINGULAR_HESSIAN not in core.warnings:
        core.warnings.append(SINGULAR_HESSIAN)
    return core


def quasi_variance(spec: ModelSpec, core: CoreFit, design: Design) -> Vcov:
    """Quasi-Poisson variance (the registry's ``quasi`` estimator), for existing callers."""
    return VARIANCES["quasi"].compute(VarianceRequest(spec, core, design, design.frame))


def variance(spec: ModelSpec, core: CoreFit, design: Design, frame: pd.DataFrame) -> Vcov:
    """The variance the spec asks for, from the registry's estimator of that name.

    A family that brings its own variance (GEE, linearmodels) uses it for every se type
    but ``quasi``, which is a property of the Poisson likelihood and checked as such.
    """
    estimator = VARIANCES[spec.se_type]
    if core.vcov is not None and estimator.name != "quasi":
        estimator = VARIANCES["model"]
    return estimator.compute(VarianceRequest(spec, core, design, frame))


def fit(
    model: str | Path | ModelSpec,
    data: Panel | pd.DataFrame | None = None,
    *,
    family: str = "poisson",
    cluster: str | list[str] | None = None,
    se: str | None = None,
    sample: str | None = None,
    name: str | None = None,
    level: str | None = None,
    study: object | None = None,
    inflation: str | None = None,
    exposure: str | None = None,
    offset: str | None = None,
    correlation: str | None = None,
    bootstrap_reps: int | None = None,
    seed: int | None = None,
) -> FitResult:
    """Fit a count model.

    ``model`` is a formula (``"contacts ~ ruling * C(fh_status) | year"``), a
    :class:`ModelSpec` or a path to a one-model TOML file.  ``data`` is a
    :class:`Panel` or a DataFrame; with a spec and no data, pass ``study=`` and
    the spec's panel is built.  Keyword arguments mirror the specification
    keys (see the README) and apply when ``model`` is a formula.
    """
    default_level = data.level if isinstance(data, Panel) else "custom"
    spec = _as_spec(
        model,
        name=name,
        level=level or default_level,
        family=family,
        cluster=cluster,
        se=se,
        sample=sample,
        inflation=inflation,
        exposure=exposure,
        offset=offset,
        correlation=correlation,
        bootstrap_reps=bootstrap_reps,
        seed=seed,
    )
    frame, simulated, study_name, unit = _resolve_data(spec, data, study)
    formula = parse_formula(spec.formula, frame.columns, file=spec.source)
    inflation_f = _inflation_formula(spec, formula, frame.columns)
    for column in spec.cluster:
        if column not in frame.columns:
            raise SpecError(
                f"model {spec.name!r}: unknown cluster variable {column!r}",
                file=spec.source,
                column="cluster",
                fix="cluster by a panel column such as iso3",
            )
    extra = [v for v in (spec.exposure, spec.offset) if v]
    for column in extra:
        if column not in frame.columns:
            raise SpecError(
                f"model {spec.name!r}: unknown variable {column!r}",
                file=spec.source,
                column="exposure",
                fix="name a panel column",
            )
    if inflation_f is not None:
        extra += list(inflation_f.variables)
    rows_in = len(frame)
    sample_frame, dropped = model_sample(spec, formula, frame, extra)
    _check_cluster_levels(spec, sample_frame, "in the estimation sample")
    design = build_design(spec, formula, sample_frame, inflation_f, unit)
    core = estimate(spec, design)
    used = sample_frame if core.keep is None else sample_frame[core.keep]
    for reason, count in core.dropped.items():
        dropped[reason] = dropped.get(reason, 0) + count
    account = StageAccount(f"model {spec.name}: estimation sample", rows_in, len(used), dropped)
    vc = variance(spec, core, design, used)
    return _result(spec, formula, core, vc, account, used, simulated, study_name, design)


def _result(
    spec: ModelSpec,
    formula: Formula,
    core: CoreFit,
    vc: Vcov,
    account: StageAccount,
    used: pd.DataFrame,
    simulated: bool,
    study_name: str,
    design: Design,
) -> FitResult:
    p = len(core.params)
    names = list(core.names)
    full = pd.Series(core.params, index=names)
    matrix = vc.matrix[:p, :p]
    hidden_prefixes = tuple(f"C({fe})[" for fe in formula.fixed_effects)
    shown = [n for n in names if not n.startswith(hidden_prefixes)]
    if formula.fixed_effects:
        shown = [n for n in shown if n != "Intercept"]
    vcov = pd.DataFrame(matrix, index=names, columns=names)
    stds = pd.Series(np.sqrt(np.clip(np.diag(matrix), 0, None)), index=names)
    warnings = [_plain(w) for w in core.warnings]
    log_scale = get_family(spec.family).count_outcome
    huge = [n for n in shown if abs(full[n]) > DIVERGING and log_scale]
    if huge:
        warnings.append(
            f"coefficient(s) {', '.join(huge)} exceed {DIVERGING:g} in absolute value "
            "on the log/logit scale: (quasi-)separation or a boundary; do not "
            "interpret them"
        )
    if not np.isfinite(stds[shown]).all() or (stds[shown] == 0).any():
        warnings.append(
            "some standard errors are not finite or zero: the model is not "
            "identified in this sample"
        )
    nobs = len(used)
    df_model = core.k_dof + core.n_extra
    return FitResult(
        name=spec.name,
        family=spec.family,
        level=spec.level,
        formula=spec.formula,
        params=full[shown],
        std_errors=stds[shown],
        vcov=vcov.loc[shown, shown],
        nobs=nobs,
        loglik=core.loglik,
        df_model=df_model,
        se_type=vc.se_type,
        se_description=vc.description,
        n_clusters=vc.n_clusters,
        alpha=core.alpha,
        alpha_se=core.alpha_se,
        fixed_effects=list(formula.fixed_effects),
        converged=core.converged,
        warnings=warnings,
        sample=account,
        simulated=simulated,
        study=study_name,
        df_resid=nobs - df_model,
        extra={
            "family_label": family_label(spec.family),
            "title": spec.title,
            "inflation": spec.inflation,
            "exposure": spec.exposure,
            "offset": spec.offset,
            **core.extra,
        },
        core=core,
        design=design,
        full_vcov=vc.matrix,
        spec=spec,
    )
