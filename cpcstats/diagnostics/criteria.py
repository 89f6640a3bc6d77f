"""Model choice by AIC/BIC, ranked only among models on the same sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.diagnostics.common import (
    as_named,
    family_label,
    no_count_likelihood,
    sample_difference,
)
from cpcstats.estimation.results import FitResult

__all__ = ["criteria", "information_criteria"]


def information_criteria(
    results: Sequence[FitResult] | Mapping[str, FitResult], *, sort: bool = True
) -> pd.DataFrame:
    """AIC/BIC of several models with differences from the best one.

    Information criteria compare models only on the same observations of the
    same outcome.  The reference sample is the one shared by most models (ties:
    the first listed); ``comparable`` is False for models on another sample and
    their ΔAIC/ΔBIC are NaN, because a difference across samples means nothing.
    A *flagged* model (`cpcstats.FitResult.flagged`: at a boundary, a singular Hessian,
    not converged) keeps its AIC/BIC but is never ranked: ``flagged`` is True, its
    ΔAIC/ΔBIC are NaN, it is not the reference of the differences ("the best"), and the
    note says why.
    Models without a count likelihood (GEE; OLS of log(1 + y)) get NaN and a note.
    ``df`` counts every estimated parameter including the NB dispersion.

    Parameters
    ----------
    results : sequence of FitResult or mapping of str to FitResult
        The models; a mapping's keys are their display names (a sequence uses each
        result's ``name``, made unique with the family label).
    sort : bool, default True
        Order the rows by AIC (models without one last); False keeps the given order.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``name``, ``family``, ``nobs``, ``df``, ``loglik``,
        ``aic``, ``bic``, ``delta_aic``, ``delta_bic``, ``comparable`` (same sample as
        the reference), ``flagged`` (not a result, not ranked), ``note``.

    Raises
    ------
    SpecError
        No model is given, or an item is not a `cpcstats.FitResult`.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> ic = cpcstats.information_criteria({"Poisson": pois, "NB2": nb2})
    >>> ic["name"].tolist()
    ['NB2', 'Poisson']
    """
    return criteria(as_named(results), sort=sort)


def criteria(named: list[tuple[str, Any]], *, sort: bool) -> pd.DataFrame:
    groups: list[list[int]] = []
    for i, (_, r) in enumerate(named):
        for group in groups:
            if sample_difference(named[group[0]][1], r) is None:
                group.append(i)
                break
        else:
            groups.append([i])
    reference = max(groups, key=len)  # max keeps the first of equal-sized groups
    ref_n = named[reference[0]][1].nobs
    records = []
    for i, (name, r) in enumerate(named):
        notes = []
        no_likelihood = no_count_likelihood()
        usable = r.family not in no_likelihood and np.isfinite(r.loglik)
        if not usable:
            notes.append(no_likelihood.get(r.family, "log-likelihood not finite"))
        comparable = i in reference
        if not comparable:
            notes.append(f"different estimation sample (N = {r.nobs}, reference N = {ref_n})")
        if r.flagged:
            notes.append(f"model flagged ({r.flag_summary})")
        records.append(
            {
                "name": name,
                "family": family_label(r),
                "nobs": int(r.nobs),
                "df": int(r.df_model),
                "loglik": float(r.loglik) if usable else np.nan,
                "aic": float(r.aic) if usable else np.nan,
                "bic": float(r.bic) if usable else np.nan,
                "comparable": comparable,
                "flagged": bool(r.flagged),
                "note": "; ".join(notes),
            }
        )
    frame = pd.DataFrame.from_records(records)
    pool = frame["comparable"] & ~frame["flagged"] & frame["aic"].notna()
    for crit in ("aic", "bic"):
        best = frame.loc[pool, crit].min() if pool.any() else np.nan
        frame[f"delta_{crit}"] = np.where(pool, frame[crit] - best, np.nan)
    frame = frame[
        [
            "name",
            "family",
            "nobs",
            "df",
            "loglik",
            "aic",
            "bic",
            "delta_aic",
            "delta_bic",
            "comparable",
            "flagged",
            "note",
        ]
    ]
    if sort:
        frame = frame.sort_values("aic", kind="mergesort", na_position="last")
    return frame.reset_index(drop=True)
