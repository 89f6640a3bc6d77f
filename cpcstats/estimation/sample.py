"""The estimation sample of a model, with every excluded row counted by reason.

Rows are removed by the sample filter, by missing values (per variable) and by
fixed-effect groups whose outcomes are all zero (count families); non-finite values and
non-count outcomes are refused with the file, row and column named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError, InputError, SpecError
from cpcstats.estimation.hdfe import ZERO_GROUP, drop_zero_groups
from cpcstats.formula import Formula, evaluate_filter
from cpcstats.spec import ModelSpec
from cpcstats.spec_registry import get_family

ZERO_GROUPS = ZERO_GROUP  # one reason string for the rows every count-FE model drops


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


def sample_rows(
    spec: ModelSpec, formula: Formula, frame: pd.DataFrame, extra: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, dict[str, int]]:
    """Rows the model uses, their positions in ``frame`` (None: every row) and every
    exclusion counted by reason.

    Why the positions: a fitted model keeps its estimation sample as the frame it was
    given plus these positions (`cpcstats.estimation.design.Design.frame`), not as a copy
    of every column of every row it used -- with a 1e6-row panel that copy was hundreds
    of MB per model.

    Rows are numbered as in the data file (row 1 is the header) when the frame carries
    ``attrs["file"]`` (a user-supplied panel read by ``cpcstats fit --data``).
    """
    dropped: dict[str, int] = {}
    data_file = frame.attrs.get("file")
    rows_in = len(frame)
    positions = np.arange(rows_in)
    if spec.sample:
        keep = evaluate_filter(spec.sample, frame, file=spec.source)
        dropped[f"sample filter: {spec.sample}"] = int((~keep).sum())
        chosen = keep.to_numpy()
        frame, positions = frame[chosen], positions[chosen]
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
            frame, positions = frame[~missing], positions[~missing]
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
        keep = _outside_all_zero_groups(frame, formula)
        dropped[ZERO_GROUPS] = int((~keep).sum())
        if not keep.all():
            frame, positions = frame[keep], positions[keep]
    if frame.empty:
        raise EstimationError(
            f"model {spec.name!r}: no observations left ({dropped})",
            file=spec.source,
            fix="check the sample filter and missing values",
        )
    return frame, None if len(positions) == rows_in else positions, dropped


def _outside_all_zero_groups(frame: pd.DataFrame, formula: Formula) -> np.ndarray:
    """Whether each row is outside the fixed-effect groups whose outcomes are all zero.

    One implementation with the FE-Poisson solver (`hdfe.drop_zero_groups`), iterated
    to a fixed point: dropping a group can empty a group of another fixed effect.
    """
    y = pd.to_numeric(frame[formula.response]).to_numpy(dtype=float)
    codes = [pd.factorize(frame[fe])[0] for fe in formula.fixed_effects]
    return drop_zero_groups(y, codes)
