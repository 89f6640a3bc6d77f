"""Excess zeros: observed against expected zeros, and the frequencies of a hanging
rootogram (drawn by `cpcstats.reporting.rootogram.plot_rootogram`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.diagnostics.common import family_label, outcome, require_core
from cpcstats.errors import SpecError
from cpcstats.estimation.results import FitResult

__all__ = ["rootogram_data", "zero_counts"]


def zero_counts(result: FitResult) -> dict[str, Any]:
    """Observed zeros against the model's expected zeros, sum_i P(y_i = 0).

    A ratio above 1 means the model under-predicts zeros (the usual motive for
    zero-inflated or hurdle models); hurdle models reproduce it exactly when the
    zero part has an intercept.

    Parameters
    ----------
    result : FitResult
        A likelihood-based count model made by `cpcstats.fit` (one with
        per-observation probabilities: not GEE or OLS).

    Returns
    -------
    dict
        ``model`` (name), ``nobs``, ``observed`` (zeros), ``expected`` (the sum of
        the predicted P(y = 0)) and ``ratio`` (observed / expected).

    Raises
    ------
    SpecError
        The model provides no probabilities or carries no design (not made by ``fit``).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> z = cpcstats.zero_counts(nb2)
    >>> z["observed"] <= z["nobs"]
    True
    """
    core = require_core(result, "pmf", "counting expected zeros")
    y = outcome(result)
    expected = float(np.asarray(core.pmf(np.array([0])))[:, 0].sum())
    observed = int((y == 0).sum())
    return {
        "model": result.name,
        "nobs": len(y),
        "observed": observed,
        "expected": expected,
        "ratio": observed / expected if expected > 0 else float("inf"),
    }


def rootogram_data(result: FitResult, max_count: int | None = None) -> pd.DataFrame:
    """Observed and expected count frequencies for a (hanging) rootogram (Kleiber & Zeileis 2016).

    One row for each k = 0..K plus a final pooled row ``"{K+1}+"`` for all counts above K
    (observed: y > K; expected: n minus the expected frequencies over 0..K, so both columns
    sum to n).  The expected frequency of k is the column sum of ``core.pmf`` (sum_i
    P(y_i = k)).  K defaults to the 99th percentile of y (rounded up), so that a long right
    tail does not squeeze the informative low counts.  ``bottom`` = sqrt(expected) -
    sqrt(observed) is where the hanging bar ends: below 0 the model under-predicts that
    count, above 0 it over-predicts it.  ``attrs`` holds the model, family, K and N.

    Parameters
    ----------
    result : FitResult
        A likelihood-based count model made by `cpcstats.fit`.
    max_count : int, optional
        K, the largest count shown on its own; None for the 99th percentile of y.

    Returns
    -------
    pandas.DataFrame
        Index ``count`` (row labels ``"0"`` ... ``"K+1+"``); columns ``k``, ``pooled``,
        ``observed``, ``expected``, ``sqrt_observed``, ``sqrt_expected``, ``bottom``.

    Raises
    ------
    SpecError
        ``max_count`` is not a whole number >= 0, or the model has no probabilities.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> cpcstats.rootogram_data(nb2, max_count=3).index.tolist()
    ['0', '1', '2', '3', '4+']
    """
    core = require_core(result, "pmf", "a rootogram")
    y = np.rint(outcome(result)).astype(np.int64)
    n = len(y)
    if max_count is None:
        top = math.ceil(float(np.quantile(y, 0.99))) if n else 0
    else:
        if isinstance(max_count, bool) or not isinstance(max_count, (int, np.integer)):
            raise SpecError(
                f"max_count must be a whole number, not {max_count!r}",
                fix="pass e.g. max_count=20, or None for the 99th percentile of y",
            )
        top = int(max_count)
        if top < 0:
            raise SpecError(
                f"max_count must be >= 0, not {top}",
                fix="pass e.g. max_count=20, or None for the 99th percentile of y",
            )
    ks = np.arange(top + 1)
    expected = np.asarray(core.pmf(ks), dtype=float).sum(axis=0)
    observed = np.bincount(np.clip(y, 0, top + 1), minlength=top + 2)[: top + 2].astype(float)
    expected = np.append(expected, max(n - float(expected.sum()), 0.0))
    labels = [str(k) for k in ks] + [f"{top + 1}+"]
    frame = pd.DataFrame(
        {
            "k": np.arange(top + 2),
            "pooled": [False] * (top + 1) + [True],
            "observed": observed,
            "expected": expected,
            "sqrt_observed": np.sqrt(observed),
            "sqrt_expected": np.sqrt(expected),
        },
        index=pd.Index(labels, name="count"),
    )
    frame["bottom"] = frame["sqrt_expected"] - frame["sqrt_observed"]
    frame.attrs.update(
        {
            "model": result.name,
            "family": family_label(result),
            "max_count": top,
            "nobs": n,
            "simulated": bool(result.simulated),
        }
    )
    return frame
