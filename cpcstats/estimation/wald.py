"""Joint Wald tests of shown coefficients (chi-squared), with the fit's own variance.

Why a module of its own: a Wald test needs only the coefficients and their variance,
not the model view that predictions and marginal effects rebuild.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.linalg import matrix_rank
from cpcstats.estimation.results import FitResult

__all__ = ["WaldTest", "wald_test"]


@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test that ``terms`` equal ``values`` (chi-squared, ``df`` restrictions).

    Returned by `cpcstats.wald_test`; frozen, and printable as one sentence.

    Parameters
    ----------
    terms : tuple of str
        The tested coefficients, in the model's order.
    statistic : float
        The chi-squared statistic.
    df : int
        Degrees of freedom (the number of terms).
    p_value : float
        P(chi2(df) > statistic).
    values : tuple of float, default ()
        The hypothesised values (empty: all 0).

    Examples
    --------
    >>> from cpcstats.estimation.wald import WaldTest
    >>> print(WaldTest(("ruling",), 4.0, 1, 0.0455, (0.0,)))
    Wald test of ruling = 0: chi2(1) = 4.0000, p = 0.0455
    """

    terms: tuple[str, ...]
    statistic: float
    df: int
    p_value: float
    values: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for ``results.json`` or a report."""
        return {
            "terms": list(self.terms),
            "values": [float(v) for v in self.values],
            "statistic": float(self.statistic),
            "df": int(self.df),
            "p_value": float(self.p_value),
            "distribution": "chi2",
        }

    def __str__(self) -> str:
        values = self.values or (0.0,) * len(self.terms)
        hypothesis = ", ".join(f"{t} = {v:g}" for t, v in zip(self.terms, values, strict=True))
        return (
            f"Wald test of {hypothesis}: chi2({self.df}) = {self.statistic:.4f}, "
            f"p = {self.p_value:.4g}"
        )


def _match_terms(result: FitResult, terms: Sequence[str] | str) -> list[str]:
    """Exact names first; otherwise a literal substring selecting every term containing it."""
    available = list(result.params.index)
    wanted = [terms] if isinstance(terms, str) else list(terms)
    if not wanted:
        raise SpecError(
            "wald_test() needs at least one term",
            fix="available terms: " + ", ".join(available),
        )
    chosen: list[str] = []
    for item in wanted:
        if not isinstance(item, str):
            raise SpecError(
                f"terms must be names (strings), not {item!r}",
                fix="available terms: " + ", ".join(available),
            )
        hits = [item] if item in available else [t for t in available if item in t]
        if not hits:
            raise SpecError(
                f"model {result.name!r}: no term is named or contains {item!r}",
                column="terms",
                fix="available terms: " + ", ".join(available),
            )
        chosen += [h for h in hits if h not in chosen]
    return [t for t in available if t in chosen]  # in the order of the model


def _test_values(
    values: float | Sequence[float] | Mapping[str, float] | None, names: list[str]
) -> np.ndarray:
    if values is None:
        return np.zeros(len(names))
    if isinstance(values, Mapping):
        unknown = [k for k in values if k not in names]
        if unknown:
            raise SpecError(
                f"values given for term(s) not tested: {', '.join(map(str, unknown))}",
                fix="tested terms: " + ", ".join(names),
            )
        return np.array([float(values.get(n, 0.0)) for n in names])
    if np.isscalar(values):
        return np.full(len(names), float(values))  # type: ignore[arg-type]
    out = np.asarray(values, dtype=float).ravel()
    if len(out) != len(names):
        raise SpecError(
            f"{len(out)} value(s) given for {len(names)} tested term(s) ({', '.join(names)})",
            fix="give one value per term, a single number, or a {term: value} mapping",
        )
    return out


def wald_test(
    result: FitResult,
    terms: Sequence[str] | str,
    *,
    values: float | Sequence[float] | Mapping[str, float] | None = None,
) -> WaldTest:
    """Joint Wald test H0: the named shown coefficients equal ``values`` (default 0).

    Why: "does freedom status matter at all?" is a question about several coefficients at once
    (all ``C(fh_status)`` dummies and their interactions), which individual z tests cannot
    answer.

    Term selection: each entry of ``terms`` that is exactly the name of a shown term
    (``result.params.index``) selects that term; otherwise it is a literal, case-sensitive
    substring and selects every shown term containing it, so ``"C(fh_status)"`` selects the
    main effects *and* the interactions, and ``"ruling:C(fh_status)"`` only the interactions.
    Selected terms are tested in the model's order, each once.  The statistic is
    (b - v)' V^-1 (b - v) with V = ``result.vcov`` (the model's variance choice) and is
    chi-squared with as many degrees of freedom as terms.

    Parameters
    ----------
    result : FitResult
        A fitted model.
    terms : str or sequence of str
        Term names or substrings, as above.
    values : float, sequence of float or mapping of str to float, optional
        A number, one value per selected term, or a ``{term: value}`` mapping (missing
        terms 0); default 0 for every term.

    Returns
    -------
    WaldTest
        ``terms``, ``statistic``, ``df``, ``p_value``, ``values``; ``str()`` states the
        hypothesis and result, ``to_dict()`` gives plain JSON types.

    Raises
    ------
    SpecError
        No term given, a term that is not a string or matches no shown term, or values
        of the wrong length or for terms not tested.
    EstimationError
        The variance of the selected terms is singular or not finite (e.g. more terms
        than clusters - 1).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> nb2 = cpcstats.fit("contacts ~ ruling * C(fh_status) + left_roots", panel,
    ...                    family="negbin", cluster="iso3")
    >>> w = cpcstats.wald_test(nb2, "C(fh_status)")
    >>> w.df, w.p_value < 0.05
    (4, True)
    """
    names = _match_terms(result, terms)
    target = _test_values(values, names)
    b = result.params[names].to_numpy(dtype=float)
    V = result.vcov.loc[names, names].to_numpy(dtype=float)
    if not np.isfinite(V).all() or matrix_rank(V) < len(names):
        raise EstimationError(
            f"model {result.name!r}: the variance of {', '.join(names)} is singular or "
            "not finite, so their joint Wald test is not defined",
            fix="test fewer terms (with few clusters a clustered variance has rank "
            "at most the number of clusters - 1)",
        )
    diff = b - target
    statistic = float(diff @ np.linalg.solve(V, diff))
    df = len(names)
    return WaldTest(
        terms=tuple(names),
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)),
        values=tuple(float(v) for v in target),
    )
