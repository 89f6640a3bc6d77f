"""Design matrices of one model (patsy), checked for finiteness and rank.

The `Design` keeps the patsy design infos, so post-estimation rebuilds the design
of new rows exactly as in estimation (codings, interactions, stateful transforms).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.families import ModelData
from cpcstats.estimation.linalg import collinear_columns, matrix_rank
from cpcstats.estimation.sample import _first_row
from cpcstats.formula import FORMULA_NAMESPACE, Formula
from cpcstats.spec import ModelSpec
from cpcstats.spec_registry import get_family


@dataclass
class Design:
    """Design matrices of one model and how to rebuild them for new data.

    The estimation sample is ``source`` (the frame the model was given) at ``rows``
    (positions; None: every row), taken on each read of `frame`.  Why not a copy: a
    fitted model kept every column of every row it used, which with wide or large panels
    is far more than its design matrices (a 1e6-row, 40-column panel: 330 MB per model).
    ``source`` is a shallow copy of the user's frame: pandas' copy-on-write keeps it as it
    was at the fit even when the user changes theirs afterwards.
    """

    data: ModelData
    x_info: patsy.DesignInfo
    z_info: patsy.DesignInfo | None
    source: pd.DataFrame
    rows: np.ndarray | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The estimation sample: ``source`` at ``rows``, index labels kept."""
        return self.source if self.rows is None else self.source.take(self.rows)


def patsy_frame(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Columns patsy can read (text as objects, nullable numbers as floats); only
    ``columns`` when given, so wide panels are not converted column by column.

    Public because post-estimation rebuilds design matrices of new rows the same way.
    """
    keep = [c for c in dict.fromkeys(columns or frame.columns) if c in frame.columns]
    data = frame[keep].copy()
    for column, dtype in frame.dtypes[keep].items():  # dtypes, not a Series per column
        if isinstance(dtype, pd.StringDtype) or dtype is np.dtype(object):
            data[column] = data[column].astype(object)
        elif pd.api.types.is_extension_array_dtype(dtype):
            data[column] = data[column].astype(float)
    return data


_patsy_frame = patsy_frame  # old private name, kept for existing callers


#: design infos of formulas whose every factor is a plain numeric column, by formula text
#: and the frame's column dtypes (None: the formula needs patsy on the whole frame)
_NUMERIC_INFOS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple | None] = {}
#: formulas remembered at most (a multiverse fits a few hundred distinct ones)
_INFOS_MAX = 512
#: rows patsy sees to learn a numeric-only formula's terms and column names
_HEAD_ROWS = 8


def _numeric_infos(text: str, frame: pd.DataFrame) -> tuple | None:
    """The (response, regressor) design infos when every factor is a numeric column.

    Why: for such formulas the design info depends only on the formula and the columns'
    dtypes (numerical factors have no levels or state), so patsy learns it from a few
    rows, once per formula, and the columns are multiplied out directly.
    """
    key = (text, tuple((str(c), str(t)) for c, t in frame.dtypes.items()))
    if key in _NUMERIC_INFOS:
        return _NUMERIC_INFOS[key]
    try:
        Y, X = patsy.dmatrices(
            text,
            _head_columns(frame),
            NA_action="raise",
            eval_env=patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)]),
        )
    except patsy.PatsyError:
        return None  # e.g. missing values in the first rows: patsy on the whole frame says
    infos = (Y.design_info, X.design_info)
    plain = all(
        isinstance(f, patsy.EvalFactor)
        and fi.type == "numerical"
        and fi.num_columns == 1
        and f.code in frame.columns
        and frame[f.code].dtype.kind in "fiu"
        for info in infos
        for f, fi in info.factor_infos.items()
    )
    if len(_NUMERIC_INFOS) >= _INFOS_MAX:
        _NUMERIC_INFOS.clear()
    _NUMERIC_INFOS[key] = infos if plain else None
    return _NUMERIC_INFOS[key]


def _numeric_matrix(frame: pd.DataFrame, info: patsy.DesignInfo) -> np.ndarray | None:
    """Patsy's design matrix of a numeric-only formula, computed as patsy does (a column
    of ones, then each factor multiplied in in the subterm's order); None when a used
    column has a missing value (patsy then raises its own error)."""
    out = np.ones((len(frame), len(info.column_names)))
    for term, cols in info.term_slices.items():
        (subterm,) = info.term_codings[term]
        for factor in subterm.factors:
            values = frame[factor.code].to_numpy(dtype=float)
            if np.isnan(values).any():
                return None
            out[:, cols.start] *= values
    return out


def _categorical_text(frame: pd.DataFrame) -> pd.DataFrame | None:
    """``frame`` with every all-text column as a pandas Categorical of its sorted values,
    or None when it has no such column.

    Why: patsy reads an object column element by element (a Python NA check per cell,
    twice: learning the levels and coding the rows); a Categorical it reads through its
    codes.  The categories are the values patsy itself would have found, in the order it
    would have sorted them (all strings, so both sort by code point); the design equals
    the object path's (tests/test_design_categorical.py), and any formula patsy reads
    differently from a Categorical (``C(x, levels=...)`` in another order) raises and is
    built from the object columns instead (`_matrices`).
    """
    text = [
        c
        for c, dtype in frame.dtypes.items()
        if dtype is np.dtype(object)
        # only strings: no missing values, no numbers stored as objects
        and pd.api.types.infer_dtype(frame[c], skipna=False) == "string"
    ]
    if not text:
        return None
    data = frame.copy()
    for column in text:
        data[column] = pd.Categorical(data[column])
    return data


def _head_columns(frame: pd.DataFrame) -> dict[str, Any]:
    """The first `_HEAD_ROWS` rows for patsy to learn a formula's terms from: floating-point
    columns as numpy arrays, the rest as pandas Series.

    Why: patsy evaluates every factor of a formula on the columns it is given; on pandas
    Series each evaluation goes through pandas' operator and copy machinery (0.6 s for a
    190-term event-study formula, even on 8 rows), on arrays it is numpy's (0.1 s).  Only
    the design info is kept, and only when every factor is a plain numeric column, so
    values computed from the arrays never reach a design (the full designs are built on
    the pandas frame: numpy and pandas may round a mean differently in the last bit).
    """
    head = frame.iloc[:_HEAD_ROWS]
    return {
        str(c): head[c].to_numpy() if t.kind == "f" else head[c] for c, t in head.dtypes.items()
    }


def coded_text(frame: pd.DataFrame, infos: Sequence[patsy.DesignInfo | None]) -> pd.DataFrame:
    """``frame`` (a `patsy_frame`) with each text column that one categorical factor of
    ``infos`` reads as a Categorical of that factor's learned levels.

    Why: rebuilding a fitted design for new rows (predictions, average effects, score
    tests) makes patsy code every text cell in Python; a Categorical with exactly the
    learned levels it reads through its codes, with the same result.  A column is left
    as it is (patsy then decides, and words its own errors) when it has a value outside
    the levels or a missing value, or when factors read it with different levels or
    together with another column.
    """
    levels: dict[str, set[tuple[Any, ...]]] = {}
    for info in infos:
        if info is None:
            continue
        for factor, factor_info in info.factor_infos.items():
            if factor_info.type != "categorical":
                continue
            names = _names(getattr(factor, "code", "")) & set(map(str, frame.columns))
            for name in names:
                levels.setdefault(name, set()).add(
                    tuple(factor_info.categories) if len(names) == 1 else ()
                )
    data = None
    for name, found in levels.items():
        if len(found) != 1 or frame[name].dtype != np.dtype(object):
            continue
        (learned,) = found
        column = frame[name]
        if not learned or pd.api.types.infer_dtype(column, skipna=False) != "string":
            continue
        if not all(isinstance(level, str) for level in learned):
            continue
        if not column.isin(learned).all():
            continue
        data = frame.copy() if data is None else data
        data[name] = pd.Categorical(column, categories=list(learned))
    return frame if data is None else data


def _names(code: str) -> set[str]:
    """The bare names an expression reads (``C(fh_status, Treatment('Free'))``:
    ``C``, ``fh_status``, ``Treatment``)."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _dmatrix(text: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, patsy.DesignInfo]:
    """Patsy's regressor matrix of ``text`` on ``frame`` (missing values raise) and its
    design info."""
    _, X = patsy.dmatrices(
        text,
        frame,
        return_type="dataframe",
        NA_action="raise",
        eval_env=patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)]),
    )
    return X, X.design_info


def _matrices(
    text: str,
    frame: pd.DataFrame,
    spec: ModelSpec,
    categorical_frame: Callable[[], pd.DataFrame | None] | None = None,
) -> tuple[pd.DataFrame, patsy.DesignInfo]:
    """The design of ``text`` on ``frame``: the numeric fast path, else patsy on the
    frame's Categorical copy (``categorical_frame``, made once for a model's formulas and
    only when one needs it), else patsy on the object columns."""
    infos = _numeric_infos(text, frame) if len(frame) else None
    if infos is not None:
        lhs = _numeric_matrix(frame, infos[0])
        values = _numeric_matrix(frame, infos[1]) if lhs is not None else None
        if values is not None:
            return pd.DataFrame(values, index=frame.index, columns=infos[1].column_names), infos[1]
    categorical = _categorical_text(frame) if categorical_frame is None else categorical_frame()
    if categorical is not None:
        try:
            return _dmatrix(text, categorical)
        except patsy.PatsyError:
            pass  # read differently from a Categorical: the object columns decide
    try:
        return _dmatrix(text, frame)
    except patsy.PatsyError as exc:
        raise SpecError(
            f"model {spec.name!r}: formula {text!r} cannot be built: {str(exc).splitlines()[0]}",
            file=spec.source,
            column="formula",
            fix="check the formula against the panel's variables",
        ) from exc


def build_design(
    spec: ModelSpec,
    formula: Formula,
    frame: pd.DataFrame,
    inflation: Formula | None,
    unit: str | None,
    source: pd.DataFrame | None = None,
    rows: np.ndarray | None = None,
) -> Design:
    """The design of ``spec`` on its estimation sample ``frame``, which is ``source`` at
    ``rows`` when given (`cpcstats.estimation.sample.sample_rows`): the model then keeps
    those instead of ``frame``."""
    used = [formula.response, *formula.variables, *formula.fixed_effects]
    if inflation is not None:
        used += [*inflation.variables, *inflation.fixed_effects]
    data = patsy_frame(frame, used)
    family = get_family(spec.family)
    high_dim = not family.fe_in_design
    categorical = functools.cache(lambda: _categorical_text(data))
    X, x_info = _matrices(formula.patsy(fe_as_dummies=not high_dim), data, spec, categorical)
    if high_dim and "Intercept" in X.columns:
        X = X.drop(columns="Intercept")
    _check_finite_design(X, spec, frame)
    _check_rank(X, spec)
    Z = z_info = None
    if inflation is not None:
        Z, z_info = _matrices(inflation.patsy(), data, spec, categorical)
        _check_finite_design(Z, spec, frame)
        _check_rank(Z, spec)
    offset = None
    if spec.exposure:
        offset = np.log(frame[spec.exposure].to_numpy(dtype=float))
    elif spec.offset:
        offset = frame[spec.offset].to_numpy(dtype=float)
    fe_codes = (
        [pd.factorize(frame[fe])[0] for fe in formula.fixed_effects] if family.absorbs_fe else []
    )
    group_var = spec.cluster[0] if spec.cluster else unit
    groups = pd.factorize(frame[group_var])[0] if group_var and family.gee else None
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
        frame=frame if family.fe == "own" else None,  # only those estimators read it
        unit=formula.fixed_effects[0] if formula.fixed_effects else unit,
        period=formula.fixed_effects[1] if len(formula.fixed_effects) > 1 else "year",
    )
    if source is None:
        return Design(model_data, x_info, z_info, frame)
    return Design(model_data, x_info, z_info, source.copy(deep=False), rows)


def _check_finite_design(X: pd.DataFrame, spec: ModelSpec, frame: pd.DataFrame) -> None:
    """A term that evaluates to inf/NaN (``log(x)`` at x = 0, ``1/x``) is a user error.

    Why: the data columns are checked in `sample_rows`, but a transformation in the
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
    values = X.to_numpy(dtype=float)  # finite (`_check_finite_design` ran first)
    same = (values == values[:1]).all(axis=0) if len(values) else np.ones(values.shape[1], bool)
    constant = [c for c, s in zip(X.columns, same, strict=True) if c != "Intercept" and s]
    if constant:
        raise EstimationError(
            f"model {spec.name!r}: term(s) {', '.join(constant)} do not vary in the sample",
            file=spec.source,
            column="formula",
            fix="remove them or widen the sample",
        )
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
