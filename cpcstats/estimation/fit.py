"""``fit``: one call from a formula or a specification to a :class:`FitResult`.

The model sample is built here and accounted for: rows removed by the
sample filter, by missing values (per variable) and, with fixed effects, by
groups whose outcomes are all zero (they carry no information and would push
a group coefficient to minus infinity) are each counted with their reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import patsy

from cpcstats.accounting import StageAccount
from cpcstats.errors import EstimationError, InputError, SpecError
from cpcstats.estimation.families import FAMILIES, FAMILY_LABELS
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.vcov import sandwich
from cpcstats.formula import Formula, evaluate_filter, parse_formula
from cpcstats.panels import Panel
from cpcstats.spec import ModelSpec, load_specs, spec_from_dict


def _as_spec(
    model: str | Path | ModelSpec,
    *,
    family: str,
    cluster: str | list[str] | None,
    se: str | None,
    sample: str | None,
    name: str | None,
    level: str,
) -> ModelSpec:
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
    entry: dict[str, object] = {
        "name": name or text,
        "level": level,
        "family": family,
        "formula": text,
    }
    if cluster:
        entry["cluster"] = cluster
    if se:
        entry["se"] = se
    if sample:
        entry["sample"] = sample
    return spec_from_dict(entry, allow_custom=True)


def _resolve_data(
    spec: ModelSpec, data: Panel | pd.DataFrame | None, study: object
) -> tuple[pd.DataFrame, bool, str]:
    if data is None:
        if study is None:
            raise SpecError(
                f"model {spec.name!r}: give a panel (data=...) or a study=...",
                fix="e.g. cpcstats.fit(spec, study=cpcstats.load_study('demo'))",
            )
        from cpcstats.panels import country_year, party_year

        data = party_year(study) if spec.level == "party-year" else country_year(study)  # type: ignore[arg-type]
    if isinstance(data, Panel):
        if spec.level in ("country-year", "party-year") and data.level != spec.level:
            raise SpecError(
                f"model {spec.name!r} is specified for the {spec.level} panel but "
                f"was given the {data.level} panel",
                file=spec.source,
                column="level",
                fix=f"build the {spec.level} panel for it",
            )
        return data.data, data.simulated, data.study
    return data, bool(data.attrs.get("simulated", False)), str(data.attrs.get("study", ""))


def model_sample(
    spec: ModelSpec, formula: Formula, frame: pd.DataFrame
) -> tuple[pd.DataFrame, StageAccount]:
    """Rows the model uses, with every exclusion counted by reason."""
    dropped: dict[str, int] = {}
    rows_in = len(frame)
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
        dict.fromkeys([formula.response, *formula.variables, *formula.fixed_effects, *spec.cluster])
    )
    for variable in used:
        missing = frame[variable].isna().to_numpy()
        if missing.any():
            dropped[f"missing {variable}"] = int(missing.sum())
            frame = frame[~missing]
    y = pd.to_numeric(frame[formula.response], errors="coerce")
    bad = y.isna() | (y < 0) | (y % 1 != 0)
    if bad.any():
        first = frame.index[np.flatnonzero(bad.to_numpy())[0]]
        raise InputError(
            f"model {spec.name!r}: the outcome {formula.response!r} must be a non-negative "
            f"whole count; {int(bad.sum())} value(s) are not "
            f"(first: {frame[formula.response][first]!r})",
            row=int(first) + 2,
            column=formula.response,
            fix="check the panel file, or choose a count outcome",
        )
    if formula.fixed_effects:
        frame, n_zero = _drop_all_zero_groups(frame, formula)
        dropped["fixed-effect group with only zero outcomes"] = n_zero
    account = StageAccount(
        f"model {spec.name}: estimation sample",
        rows_in,
        len(frame),
        {k: v for k, v in dropped.items()},
    )
    if frame.empty:
        raise EstimationError(
            f"model {spec.name!r}: no observations left ({account.summary()})",
            file=spec.source,
            fix="check the sample filter and missing values",
        )
    return frame, account


def _drop_all_zero_groups(frame: pd.DataFrame, formula: Formula) -> tuple[pd.DataFrame, int]:
    total = 0
    while True:
        keep = np.ones(len(frame), dtype=bool)
        for fe in formula.fixed_effects:
            sums = frame.groupby(fe, observed=True)[formula.response].transform("sum")
            keep &= sums.to_numpy() > 0
        if keep.all():
            return frame, total
        total += int((~keep).sum())
        frame = frame[keep]


def _design(
    formula: Formula, frame: pd.DataFrame, spec: ModelSpec
) -> tuple[np.ndarray, pd.DataFrame]:
    data = frame.copy()
    for column in data.columns:
        dtype = data[column].dtype
        if isinstance(dtype, pd.StringDtype) or dtype is np.dtype(object):
            data[column] = data[column].astype(object)
        elif pd.api.types.is_extension_array_dtype(dtype):
            data[column] = data[column].astype(float)
    try:
        y, X = patsy.dmatrices(
            formula.patsy(fe_as_dummies=True),
            data,
            return_type="dataframe",
            NA_action="raise",
            eval_env=patsy.EvalEnvironment([{"np": np}]),
        )
    except patsy.PatsyError as exc:
        raise SpecError(
            f"model {spec.name!r}: formula {formula.raw!r} cannot be built: "
            f"{str(exc).splitlines()[0]}",
            file=spec.source,
            column="formula",
            fix="check the formula against the panel's variables",
        ) from exc
    _check_rank(X, spec)
    return y.iloc[:, 0].to_numpy(dtype=float), X


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
    rank = np.linalg.matrix_rank(values)
    if rank < values.shape[1]:
        _, r, perm = _qr_pivot(values)
        tol = np.abs(r[0, 0]) * max(values.shape) * np.finfo(float).eps
        diag = np.abs(np.diag(r))
        collinear = [X.columns[perm[i]] for i in range(len(diag)) if diag[i] <= tol * 1e4]
        raise EstimationError(
            f"model {spec.name!r}: the design matrix is singular (rank {rank} of "
            f"{values.shape[1]}); collinear term(s): {', '.join(collinear) or 'see formula'}",
            file=spec.source,
            column="formula",
            fix="drop one of the collinear terms",
        )


def _qr_pivot(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy.linalg import qr

    return qr(a, mode="economic", pivoting=True)  # type: ignore[return-value]


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
) -> FitResult:
    """Fit a count model.

    ``model`` is a formula (``"contacts ~ ruling * C(fh_status) | year"``), a
    :class:`ModelSpec` or a path to a one-model TOML file.  ``data`` is a
    :class:`Panel` or a DataFrame; with a spec and no data, pass ``study=`` and
    the spec's panel is built.
    """
    default_level = data.level if isinstance(data, Panel) else "custom"
    spec = _as_spec(
        model,
        family=family,
        cluster=cluster,
        se=se,
        sample=sample,
        name=name,
        level=level or default_level,
    )
    frame, simulated, study_name = _resolve_data(spec, data, study)
    formula = parse_formula(spec.formula, frame.columns, file=spec.source)
    for column in spec.cluster:
        if column not in frame.columns:
            raise SpecError(
                f"model {spec.name!r}: unknown cluster variable {column!r}",
                file=spec.source,
                column="cluster",
                fix="cluster by a panel column such as iso3",
            )
    sample_frame, account = model_sample(spec, formula, frame)
    y, X = _design(formula, sample_frame, spec)
    core = FAMILIES[spec.family](y, X.to_numpy(dtype=float))
    se_type = spec.se_type
    vc = sandwich(
        X.to_numpy(dtype=float),
        core.resid_score,
        core.info_weights,
        se_type=se_type,
        clusters=sample_frame[list(spec.cluster)] if spec.cluster else None,
        cluster_names=spec.cluster,
    )
    names = list(X.columns)
    params = pd.Series(core.params, index=names)
    vcov = pd.DataFrame(vc.matrix, index=names, columns=names)
    shown = [n for n in names if not any(n.startswith(f"C({fe})[") for fe in formula.fixed_effects)]
    if formula.fixed_effects:
        shown = [n for n in shown if n != "Intercept"]
    stds = pd.Series(np.sqrt(np.clip(np.diag(vc.matrix), 0, None)), index=names)
    return FitResult(
        name=spec.name,
        family=spec.family,
        level=spec.level,
        formula=spec.formula,
        params=params[shown],
        std_errors=stds[shown],
        vcov=vcov.loc[shown, shown],
        nobs=len(y),
        loglik=core.loglik,
        df_model=X.shape[1] + core.n_extra,
        se_type=vc.se_type,
        se_description=vc.description,
        n_clusters=vc.n_clusters,
        alpha=core.alpha,
        alpha_se=core.alpha_se,
        fixed_effects=list(formula.fixed_effects),
        converged=core.converged,
        warnings=list(core.warnings),
        sample=account,
        simulated=simulated,
        study=study_name,
        df_resid=len(y) - X.shape[1],
        extra={"family_label": FAMILY_LABELS.get(spec.family, spec.family), "title": spec.title},
    )
