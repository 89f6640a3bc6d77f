"""The pure task: one specification and the shared panel in, one small record out.

Why a record of plain numbers (not the FitResult): a result travels back from a worker
process or a Dask worker; a few floats pickle in microseconds, a fit with its design
matrix would cost more than the fit.  Everything a record holds is a function of the
specification and the panel only, so any executor produces the same record.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cpcstats.errors import SpecError
from cpcstats.estimation.fit import fit
from cpcstats.multiverse.expand import BREAK_COLUMN, SpecTask
from cpcstats.panels import Panel
from cpcstats.spec import ModelSpec, spec_from_dict

__all__ = ["RECORD_FIELDS", "failed_record", "fit_task", "model_spec"]

#: the numeric part of a record, in column order
RECORD_FIELDS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "nobs")
Z95 = 1.959963984540054


def _data(task: SpecTask, panel: Panel) -> Panel:
    frame = panel.data
    if task.drop_values:
        frame = frame[~frame[task.drop_column].astype(str).isin(task.drop_values)]
    if task.break_year is not None:
        frame = frame.assign(**{BREAK_COLUMN: (frame["year"] >= task.break_year).astype(int)})
    return panel.with_data(frame) if frame is not panel.data else panel


def model_spec(task: SpecTask, level: str, file: str | None = None) -> ModelSpec:
    """The task as a checked ModelSpec (the same checks as a ``[[model]]`` in models/)."""
    entry: dict[str, Any] = {
        "name": f"mv_{task.spec_id}",
        "level": level,
        "family": task.family,
        "formula": task.formula,
        "seed": task.seed,
    }
    optional = {"cluster": list(task.cluster), "se": task.se, "sample": task.sample}
    optional["inflation"] = task.inflation
    entry.update({k: v for k, v in optional.items() if v})
    return spec_from_dict(entry, file=file)


def fit_task(task: SpecTask, panel: Panel) -> dict[str, Any]:
    """Fit one specification and return its quantity of interest (raises on failure)."""
    result = fit(model_spec(task, panel.level), _data(task, panel))
    if task.term not in result.params.index:
        raise SpecError(
            f"the term {task.term!r} is not among the estimates",
            column="term",
            fix=f"terms of this model: {', '.join(map(str, result.params.index[:12]))}",
        )
    b = float(result.params[task.term])
    se = float(result.std_errors[task.term])
    low, high = b - Z95 * se, b + Z95 * se
    if task.scale == "irr":
        b, low, high = math.exp(b), math.exp(low), math.exp(high)
        se = b * se
    raw_se = float(result.std_errors[task.term])
    flags = sorted(set(result.warnings))
    if not (np.isfinite(raw_se) and raw_se > 0):  # a degenerate variance: no test, flagged
        flags.append(f"standard error of {task.term} is {raw_se:g}: no p-value")
        p = float("nan")
    else:
        p = float(math.erfc(abs(float(result.params[task.term]) / raw_se) / math.sqrt(2)))
    return {
        "estimate": b,
        "std_error": se,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "nobs": int(result.nobs),
        "converged": bool(result.converged),
        "flags": "; ".join(flags)[:500],
        "error": "",
    }


def failed_record(error: str) -> dict[str, Any]:
    """The record of a specification that could not be fitted (kept, and reported)."""
    nan = float("nan")
    return {
        "estimate": nan,
        "std_error": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "nobs": 0,
        "converged": False,
        "flags": "",
        "error": error[:1000],
    }
