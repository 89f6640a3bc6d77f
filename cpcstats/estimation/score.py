"""Score (Lagrange multiplier) tests of omitted regressors in Poisson / FE-Poisson models.

Why: a Wald test needs the unrestricted model, and in sparse counts that model often
does not exist — an event time whose contacts are all zero is separated, its coefficient
is -inf and the Wald statistic is meaningless (the Hauck-Donner effect makes it shrink
towards zero as the estimate diverges).  The score test needs only the restricted fit:
it asks whether the first-order conditions of the omitted regressors are far from zero
at the restricted estimates.  That is well defined even when the alternative's MLE is
not, which is exactly the situation of pre-trend tests when pre-event contact is rare.

The statistic is the robust LM statistic of Wooldridge (1991) / Boos (1992): with
``Z~`` the added regressors partialled out of the included regressors and fixed effects
in the metric of the restricted Poisson weights ``mu``, the contributions
``s_i = Z~_i (y_i - mu_i)`` are summed by cluster (or taken per row for HC) and
``LM = S' V^-1 S`` with ``V = c * sum_g s_g s_g'`` is chi-squared with as many degrees
of freedom as added columns (``c = G / (G - 1)`` as in the CR1 variance, 1 for HC0).
With ``se = "classical"`` ``V = Z~' diag(mu) Z~`` (the information), which reproduces
the textbook Rao score test of a Poisson GLM (R: ``anova(..., test = "Rao")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.hdfe import Demeaner
from cpcstats.estimation.linalg import matrix_rank
from cpcstats.estimation.model_view import design_matrices, model_view
from cpcstats.estimation.results import FitResult
from cpcstats.spec_registry import FAMILY_REGISTRY, Family

__all__ = ["ScoreTest", "score_test"]


def _poisson_families() -> tuple[str, ...]:
    """Families whose score test is implemented: the plain Poisson models (registry)."""
    return tuple(name for name, f in FAMILY_REGISTRY.items() if f.poisson_like)


#: kept for existing callers; derived from the registry
POISSON_FAMILIES = _poisson_families()


@dataclass(frozen=True)
class ScoreTest:
    """Robust score test that the coefficients of ``terms`` (absent from the fit) are zero."""

    terms: tuple[str, ...]
    statistic: float
    df: int
    p_value: float
    variance: str  # how V was estimated
    n_clusters: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for ``results.json`` or a report."""
        return {
            "test": "score (Lagrange multiplier)",
            "terms": list(self.terms),
            "statistic": float(self.statistic),
            "df": int(self.df),
            "p_value": float(self.p_value),
            "distribution": "chi2",
            "variance": self.variance,
            "n_clusters": self.n_clusters,
        }

    def __str__(self) -> str:
        hypothesis = ", ".join(f"{t} = 0" for t in self.terms)
        return (
            f"Score test of {hypothesis}: chi2({self.df}) = {self.statistic:.4f}, "
            f"p = {self.p_value:.4g} ({self.variance})"
        )


def _added_matrix(
    result: FitResult, frame: pd.DataFrame, terms: Sequence[str], data: pd.DataFrame | None
) -> np.ndarray:
    """The added regressors on the estimation sample's rows, as floats."""
    columns = []
    for term in terms:
        if term in frame.columns:
            column = frame[term]
        elif data is not None and term in data.columns:
            try:
                column = data.loc[frame.index, term]
            except KeyError as exc:
                raise SpecError(
                    f"model {result.name!r}: `data` does not hold every row of the estimation "
                    f"sample, so {term!r} cannot be aligned to it",
                    column=term,
                    fix="pass the data frame the model was fitted on (same index)",
                ) from exc
        else:
            raise SpecError(
                f"model {result.name!r}: the added regressor {term!r} is not a column of the "
                "estimation sample",
                column=term,
                fix="add the column to the data the model was fitted on, or pass data=",
            )
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise SpecError(
                f"model {result.name!r}: the added regressor {term!r} has missing or "
                "non-numeric values in the estimation sample",
                column=term,
                fix="give a numeric value in every row the model used",
            )
        columns.append(values)
    return np.column_stack(columns)


def _checked_request(result: FitResult, terms: Sequence[str]) -> tuple[tuple[str, ...], Family]:
    """The added terms (each once) and the fit's family, after the request is checked."""
    terms = tuple(dict.fromkeys(terms))
    if not terms:
        raise SpecError("score_test needs at least one added regressor", column="terms")
    family = FAMILY_REGISTRY.get(result.family)
    if family is None or not family.poisson_like:
        raise EstimationError(
            f"model {result.name!r}: score tests are implemented for "
            f"{', '.join(_poisson_families())}, not {result.family!r}",
            fix="refit the restricted model with family 'poisson' or 'fe-poisson'",
        )
    clash = [t for t in terms if t in result.params.index]
    if clash:
        raise SpecError(
            f"model {result.name!r}: {', '.join(clash)} already in the model",
            column=clash[0],
            fix="test only regressors the restricted model leaves out",
        )
    return terms, family


def _score_variance(
    result: FitResult,
    frame: pd.DataFrame,
    Z: np.ndarray,
    mu: np.ndarray,
    contributions: np.ndarray,
) -> tuple[np.ndarray, str, int | None]:
    """The variance of the score, its description and the number of clusters, following
    the fit's own SE type (classical information, one-way clustered, or HC0)."""
    spec = result.spec
    n_clusters = None
    if spec.se_type == "classical":
        V = (Z * mu[:, None]).T @ Z
        variance = "model-based information"
    elif spec.cluster:
        if len(spec.cluster) > 1:
            raise EstimationError(
                f"model {result.name!r}: the score test supports one-way clustering only",
                fix="refit with one cluster variable",
            )
        _, dense = np.unique(frame[spec.cluster[0]].astype(str), return_inverse=True)
        n_clusters = int(dense.max()) + 1
        summed = np.zeros((n_clusters, Z.shape[1]))
        np.add.at(summed, dense, contributions)
        V = (n_clusters / (n_clusters - 1)) * summed.T @ summed
        variance = f"clustered by {spec.cluster[0]} (G/(G-1) = {n_clusters}/{n_clusters - 1})"
    else:
        V = contributions.T @ contributions
        variance = "heteroskedasticity-robust (HC0)"
    return V, variance, n_clusters


def score_test(
    result: FitResult, terms: Sequence[str], *, data: pd.DataFrame | None = None
) -> ScoreTest:
    """Robust score test that adding ``terms`` to a Poisson/FE-Poisson fit changes nothing.

    ``terms`` are numeric columns of the data the model was fitted on (or of ``data``,
    aligned by index).  The variance follows the fit's own SE type: clustered by the fit's
    (one-way) cluster variable, HC, or classical.  Added columns that are constant, or
    collinear with the fit's regressors and fixed effects on the estimation sample, carry
    no testable restriction: they are removed from the count of degrees of freedom (the
    pseudo-inverse), and the test says so through ``df``.
    """
    terms, family = _checked_request(result, terms)
    m = model_view(result, "score tests")
    core, design = result.core, result.design
    frame = m.frame
    keep = core.keep
    y = design.data.y if keep is None else design.data.y[keep]
    mu = np.asarray(core.fitted, dtype=float)
    X = design_matrices(m, frame).X[:, [m.x_names.index(n) for n in core.names]]
    Z = _added_matrix(result, frame, terms, data)
    if design.data.fe_codes and family.absorbs_fe:
        codes = [c if keep is None else c[keep] for c in design.data.fe_codes]
        both, _ = Demeaner(codes)(np.column_stack([X, Z]), mu)
        X, Z = both[:, : X.shape[1]], both[:, X.shape[1] :]
    if X.shape[1]:
        wx = X * mu[:, None]
        B = np.linalg.lstsq(wx.T @ X, wx.T @ Z, rcond=None)[0]
        Z = Z - X @ B
    contributions = Z * (y - mu)[:, None]
    total = contributions.sum(axis=0)
    V, variance, n_clusters = _score_variance(result, frame, Z, mu, contributions)
    scale = np.sqrt(np.maximum(np.diag(V), 0.0))
    informative = scale > 1e-10 * max(1.0, float(scale.max(initial=0.0)))
    if not informative.any():
        raise EstimationError(
            f"model {result.name!r}: {', '.join(terms)} carry no information in the "
            "estimation sample (constant, or absorbed by the regressors and fixed effects)",
            fix="test regressors that vary within the fixed effects",
        )
    Vi = V[np.ix_(informative, informative)]
    Si = total[informative]
    rank = matrix_rank(Vi, rel_tol=1e-10)
    statistic = float(Si @ np.linalg.pinv(Vi, rcond=1e-10) @ Si)
    return ScoreTest(
        terms=terms,
        statistic=statistic,
        df=rank,
        p_value=float(stats.chi2.sf(statistic, rank)),
        variance=variance,
        n_clusters=n_clusters,
    )
