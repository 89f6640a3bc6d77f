"""``fit``: one call from a formula or a specification to a `FitResult`.

The steps, each in its module: the model sample, with every excluded row
counted by reason (`.sample`; separation is counted by the FE-Poisson
family), the design matrices (`.design`), the family's fit (looked up
in `.registry`) and the variance the spec names (`.vcov`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.design import Design, build_design
from cpcstats.estimation.design import _patsy_frame as _patsy_frame  # re-exported
from cpcstats.estimation.design import patsy_frame as patsy_frame  # re-exported
from cpcstats.estimation.families import SINGULAR_HESSIAN, CoreFit
from cpcstats.estimation.fit_status import fit_problems
from cpcstats.estimation.null_model import null_extra
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.sample import ZERO_GROUPS as ZERO_GROUPS  # re-exported
from cpcstats.estimation.sample import sample_rows
from cpcstats.estimation.vcov import (
    VARIANCES,
    VarianceRequest,
    Vcov,
    check_cluster_levels,
)
from cpcstats.formula import Formula, parse_formula
from cpcstats.panels import Panel
from cpcstats.spec import K_FIXEF, ModelSpec, load_specs, spec_from_dict
from cpcstats.spec_registry import family_label, get_family

DIVERGING = 15.0


def _plain(message: str) -> str:
    """statsmodels' optimiser messages in words a reader of a table understands."""
    if message.startswith("Inverting hessian failed"):
        return "the Hessian is singular at the optimum (a boundary or separation)"
    if message.startswith("Maximum Likelihood optimization failed"):
        return "the likelihood optimiser did not converge"
    return message


def _as_spec(model: str | Path | ModelSpec, **kw: Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        chosen = kw.get("k_fixef")
        if chosen is None:
            return model
        if chosen not in K_FIXEF:
            raise SpecError(
                f"model {model.name!r}: unknown k_fixef {chosen!r}",
                column="k_fixef",
                fix='use k_fixef="full" (every FE level counted), "nested" (as fixest) or "none"',
            )
        return dataclasses.replace(model, k_fixef=chosen)
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


#: kept for callers of the old private name; the check lives with the variances
_check_cluster_levels = check_cluster_levels


def estimate(spec: ModelSpec, design: Design) -> CoreFit:
    """Run the family's estimator; numerical failures become EstimationErrors.

    A fit whose model-based variance is not finite (a Hessian that could not be inverted,
    see ``families._inv``) is returned with `SINGULAR_HESSIAN` among its warnings:
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
    but those marked ``over_family_own`` (``quasi``, a property of the Poisson
    likelihood, checked as such).
    """
    estimator = VARIANCES[spec.se_type]
    if core.vcov is not None and not estimator.over_family_own:
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
    k_fixef: str | None = None,
) -> FitResult:
    """Fit a count model.

    ``model`` is a formula (``"contacts ~ ruling * C(fh_status) | year"``), a
    `ModelSpec` or a path to a one-model TOML file.  ``data`` is a
    `Panel` or a DataFrame; with a spec and no data, pass ``study=`` and
    the spec's panel is built.  Keyword arguments mirror the specification
    keys (see the README) and apply when ``model`` is a formula.
    Long because the docstring documents sixteen arguments; the steps are one call each.

    Parameters
    ----------
    model : str, pathlib.Path or ModelSpec
        A formula ``"y ~ terms | fixed effects"``, a specification, or a ``.toml`` path.
    data : Panel or pandas.DataFrame, optional
        The panel (its level must match the spec's) or any DataFrame (level ``custom``).
    family : str, default "poisson"
        ``poisson``, ``negbin``, ``negbin1``, ``zip``, ``zinb``, ``hurdle-poisson``,
        ``hurdle-negbin``, ``fe-poisson``, ``fe-negbin``, ``gee-poisson``, ``gee-negbin``,
        ``ols-fe``.
    cluster : str or list of str, optional
        Cluster variable(s) of the standard errors (one-way or multiway).
    se : str, optional
        ``classical``, ``hc0``, ``hc1``, ``cluster``, ``bootstrap`` or ``quasi``; default
        ``cluster`` with clusters, else ``classical``.
    sample : str, optional
        A row filter such as ``"year >= 2002"``.
    name : str, optional
        The model's name in tables and records (default: the formula).
    level : str, optional
        The panel level (default: the panel's, or ``custom``).
    study : Study, optional
        Builds the spec's panel when ``data`` is None.
    inflation : str, optional
        Right-hand side of the zero equation (``zip``, ``zinb``, hurdle families; required).
    exposure, offset : str, optional
        A column whose log enters with coefficient 1; a column entering as it is.
    correlation : str, optional
        GEE working correlation: ``exchangeable`` (default), ``ar1``, ``independence``.
    bootstrap_reps, seed : int, optional
        Replications and seed of the cluster bootstrap (``se="bootstrap"``).
    k_fixef : {"full", "nested", "none"}, optional
        How fixed effects enter K of the cluster / HC1 small-sample factor, as fixest's
        ``ssc(fixef.K = ...)``: default ``"full"`` (every FE level, as R's glm +
        ``sandwich::vcovCL``); ``"nested"`` (fixest's default) leaves out FE nested in the
        clusters, which reproduces ``fixest::fepois`` standard errors.

    Returns
    -------
    FitResult
        Estimates, variance, fit statistics, the sample account and the payload that
        `predict`, `marginal_effects` and the diagnostics need.

    Raises
    ------
    SpecError
        An invalid formula, family, se type, filter or keyword; a column the data lack; a
        TOML with more than one model; a panel of another level; no data and no study; a
        cluster variable with one level in the sample.
    InputError
        A used column holds inf, the outcome is not a non-negative whole count, or an
        exposure is not positive.
    EstimationError
        No observations left, a singular design, terms absorbed by the fixed effects, or
        estimates that are not finite.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> m = cpcstats.fit("contacts ~ ruling * C(fh_status) + left_roots", panel,
    ...                  family="negbin", cluster="iso3")
    >>> m.family, m.nobs, m.n_clusters
    ('negbin', 19698, 171)
    >>> list(m.irr().columns)
    ['irr', 'lower', 'upper', 'p_value']
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
        k_fixef=k_fixef,
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
    sample_frame, rows, dropped = sample_rows(spec, formula, frame, extra)
    _check_cluster_levels(spec, sample_frame, "in the estimation sample")
    design = build_design(spec, formula, sample_frame, inflation_f, unit, frame, rows)
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
    matrix = vc.matrix[:p, :p]
    hidden_prefixes = tuple(f"C({fe})[" for fe in formula.fixed_effects)
    # the terms shown, by position: label lookups on a string index cost more than the
    # rest of a small fit's bookkeeping together
    at = [
        i
        for i, n in enumerate(names)
        if not n.startswith(hidden_prefixes) and not (formula.fixed_effects and n == "Intercept")
    ]
    shown = [names[i] for i in at]
    values = np.asarray(core.params, dtype=float)[at]
    std_values = np.sqrt(np.clip(np.diag(matrix), 0, None))[at]
    warnings = [_plain(w) for w in core.warnings]
    log_scale = get_family(spec.family).count_outcome
    huge = [n for n, v in zip(shown, values, strict=True) if abs(v) > DIVERGING and log_scale]
    if huge:
        warnings.append(
            f"coefficient(s) {', '.join(huge)} exceed {DIVERGING:g} in absolute value "
            "on the log/logit scale: (quasi-)separation or a boundary; do not "
            "interpret them"
        )
    if not np.isfinite(std_values).all() or (std_values == 0).any():
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
        params=pd.Series(values, index=shown),
        std_errors=pd.Series(std_values, index=shown),
        vcov=pd.DataFrame(matrix[np.ix_(at, at)], index=shown, columns=shown),
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
        problems=fit_problems(spec.family, core, design.data),
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
            # ll0 of McFadden's pseudo-R² (`cpcstats.estimation.null_model`), on the rows used
            **null_extra(spec.family, design.data.y, design.data.offset, core.keep),
        },
        core=core,
        design=design,
        full_vcov=vc.matrix,
        spec=spec,
    )
