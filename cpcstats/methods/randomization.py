"""Randomisation inference over event dates with a score statistic (FE-Poisson).

Why: with few treated clusters the sampling distribution of any cluster-robust statistic
is poorly approximated by its asymptotic one; under the *sharp* null that the event has
no effect on any unit at any time, the outcomes do not depend on who had the event when,
so re-assigning the event dates and recomputing the statistic gives its exact null
distribution under the stated assignment scheme (Fisher; for staggered adoption e.g.
MacKinnon and Webb 2020, Roth and Sant'Anna 2023).

Cheap because of the score statistic: under the sharp null the model has no event terms,
so the restricted FE-Poisson fit (``yname ~ xnames | fe``) is the same for every
assignment; each assignment only changes the tested regressors ``Z`` (functions of the
event time), which are partialled out of the fixed effects and ``xnames`` in the mu
metric, all assignments at once (`cpcstats.methods.wild_bootstrap.project_scores`).

Schemes (``scheme``):

* ``"treated"``: the units with an event keep having one; their event dates are permuted
  among them (who is treated is taken as given, the timing is random);
* ``"all"``: the vector of event dates (missing = never) is permuted over all units, so
  both who is treated and when are random.

The statistic is the robust score statistic ``W = S' V^-1 S`` (``V = sum_g s_g s_g'``) of
all tested columns jointly, and per column; p-value = share of assignments with
``W >= W_obs``: over every distinct assignment when ``exact`` (the observed one included),
else ``(1 + #{W_b >= W_obs}) / (B + 1)`` over B random assignments from ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from math import factorial, prod
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError, SpecError
from cpcstats.methods.wild_bootstrap import (
    pinv_quadratic,
    project_scores,
    restricted_fit,
    score_statistics,
)

__all__ = [
    "SCHEMES",
    "RandomizationTest",
    "event_bin_regressors",
    "multiset_permutations",
    "n_assignments",
    "randomization_score_test",
]

SCHEMES = ("treated", "all")
STATISTICS = ("studentised", "score")
#: exact enumeration refuses more distinct assignments than this
MAX_EXACT = 200_000
CHUNK_COLUMNS = 512


@dataclass(frozen=True)
class RandomizationTest:
    """Joint and per-column randomisation p-values of the tested event-time regressors."""

    names: tuple[str, ...]
    statistic: float
    p_value: float
    per_term: dict[str, tuple[float, float]]  # name -> (statistic, p-value)
    scheme: str
    n_assignments: int  # assignments evaluated (B, or all distinct ones when exact)
    exact: bool
    seed: int | None
    n_clusters: int
    draws: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (without the draws)."""
        return {
            "names": list(self.names),
            "statistic": float(self.statistic),
            "p_value": float(self.p_value),
            "per_term": {k: {"statistic": s, "p_value": p} for k, (s, p) in self.per_term.items()},
            "scheme": self.scheme,
            "n_assignments": int(self.n_assignments),
            "exact": bool(self.exact),
            "seed": self.seed,
            "n_clusters": int(self.n_clusters),
        }


def event_bin_regressors(lags: int) -> tuple[tuple[str, ...], Callable[[np.ndarray], np.ndarray]]:
    """Names and builder of the post-event indicators e = 0 … lags-1 and e >= lags.

    ``lags=0`` gives one column, "post" (e >= 0).  The builder maps the event time per row
    (NaN for units without an event) to the 0/1 columns.
    """
    if lags == 0:
        return ("post",), lambda e: (np.nan_to_num(e, nan=-1.0) >= 0).astype(float)[:, None]
    names = tuple([f"e{k}" for k in range(lags)] + [f"e{lags}+"])

    def build(e: np.ndarray) -> np.ndarray:
        e = np.nan_to_num(e, nan=-1.0)
        cols = [(e == k) for k in range(lags)] + [e >= lags]
        return np.column_stack(cols).astype(float)

    return names, build


def n_assignments(values: Sequence[Any]) -> int:
    """Number of distinct permutations of ``values`` (a multiset; NaN counted as one value)."""
    keys = ["nan" if pd.isna(v) else v for v in values]
    counts = pd.Series(keys).value_counts().to_numpy()
    return factorial(len(keys)) // prod(factorial(int(c)) for c in counts)


def multiset_permutations(values: Sequence[Any]) -> Iterator[list[Any]]:
    """Every distinct ordering of ``values`` once (lexicographic over the distinct values)."""
    keys = ["nan" if pd.isna(v) else v for v in values]
    distinct = list(dict.fromkeys(keys))
    lookup = {k: (np.nan if k == "nan" else k) for k in distinct}
    counts = {k: keys.count(k) for k in distinct}
    n = len(keys)
    out: list[Any] = []

    def rec() -> Iterator[list[Any]]:
        if len(out) == n:
            yield [lookup[k] for k in out]
            return
        for k in distinct:
            if counts[k]:
                counts[k] -= 1
                out.append(k)
                yield from rec()
                out.pop()
                counts[k] += 1

    yield from rec()


def _assignments(
    timing: np.ndarray, scheme: str, B: int, seed: int | None, exact: bool
) -> tuple[np.ndarray, bool]:
    """Rows = assignments of event dates to units (observed first when exact)."""
    movable = np.arange(len(timing)) if scheme == "all" else np.flatnonzero(~np.isnan(timing))
    if exact:
        count = n_assignments(timing[movable])
        if count > MAX_EXACT:
            raise SpecError(
                f"{count} distinct assignments exceed the exact limit {MAX_EXACT}",
                column="exact",
                fix="use exact=False with B random assignments",
            )
        out = np.tile(timing, (count, 1))
        for i, perm in enumerate(multiset_permutations(list(timing[movable]))):
            out[i, movable] = perm
        return out, True
    rng = np.random.default_rng(seed)
    out = np.tile(timing, (B, 1))
    for b in range(B):
        out[b, movable] = rng.permutation(timing[movable])
    return out, False


def randomization_score_test(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str,
    fe: Sequence[str],
    cluster: str | None = None,
    xnames: Sequence[str] = (),
    regressors: tuple[Sequence[str], Callable[[np.ndarray], np.ndarray]] | None = None,
    scheme: str = "treated",
    B: int = 999,
    seed: int | None = 0,
    exact: bool = False,
    statistic: str = "studentised",
) -> RandomizationTest:
    """Randomisation test of the sharp null "no effect" by re-assigning ``gname`` dates.

    ``gname`` is each unit's event period (missing: never); ``regressors`` = (names,
    builder from the event time per row to an n x q matrix), default
    `event_bin_regressors` (0): one post indicator.  ``cluster`` defaults to ``idname``.
    ``statistic``: ``"studentised"`` (the robust score statistic) or ``"score"`` (the raw
    efficient score S_j squared per column; jointly sum_j S_j^2 / mean over assignments of
    S_j^2) — valid under the sharp null without a variance estimate, and more powerful far
    from H0, where the restricted residuals that studentise the score contain the effect.
    Long because: it validates, fits the shared restricted model once, and evaluates the
    assignments in vectorised chunks.
    """
    if scheme not in SCHEMES:
        raise SpecError(f"scheme={scheme!r} is not one of {', '.join(SCHEMES)}", column="scheme")
    cluster = cluster or idname
    cols = [yname, idname, tname, gname, *fe, *xnames, cluster]
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise SpecError(f"the data have no column(s) {', '.join(missing)}", column=missing[0])
    names, build = regressors or event_bin_regressors(0)
    y = pd.to_numeric(data[yname], errors="coerce").to_numpy(dtype=float)
    X = data[list(xnames)].to_numpy(dtype=float).reshape(len(data), len(xnames))
    codes = [np.unique(data[f].astype(str).to_numpy(), return_inverse=True)[1] for f in fe]
    codes = codes or [np.zeros(len(data), dtype=int)]  # no FE: an intercept
    mu, keep, active = restricted_fit(y, X, codes)
    _, unit_row = np.unique(data[idname].astype(str).to_numpy(), return_inverse=True)
    timing = (
        pd.to_numeric(data[gname], errors="coerce").groupby(unit_row).max().to_numpy(dtype=float)
    )
    assign, exact = _assignments(timing, scheme, B, seed, exact)
    t = pd.to_numeric(data[tname], errors="coerce").to_numpy(dtype=float)[keep]
    ur = unit_row[keep]
    kept_codes = [np.unique(c[keep], return_inverse=True)[1] for c in codes]
    _, cl = np.unique(data[cluster].astype(str).to_numpy()[keep], return_inverse=True)
    Xa = X[keep][:, active]
    q = len(names)
    per_chunk = max(1, CHUNK_COLUMNS // q)
    if statistic not in STATISTICS:
        raise SpecError(f"statistic={statistic!r} is not one of {STATISTICS}", column="statistic")
    joint, single, raw = [], [], []
    observed_scores = project_scores(y[keep], mu, Xa, build(t - timing[ur]), kept_codes, cl)
    n = len(t)
    for start in range(0, len(assign), per_chunk):
        block = assign[start : start + per_chunk]
        nb = len(block)
        Z = build((t[:, None] - block[:, ur].T).ravel()).reshape(n, nb * q)
        s3 = project_scores(y[keep], mu, Xa, Z, kept_codes, cl).reshape(-1, nb, q)
        S = s3.sum(axis=0)
        joint.extend(pinv_quadratic(S, np.einsum("gbi,gbj->bij", s3, s3)))
        single.extend(S**2 / np.maximum((s3**2).sum(axis=0), 1e-300))
        raw.extend(S)
    if not np.any(observed_scores):
        raise EstimationError("the tested regressors carry no score in the estimation sample")
    draws, singles = np.asarray(joint), np.asarray(single)
    obs = float(score_statistics(observed_scores)[0])
    obs_single = observed_scores.sum(0) ** 2 / np.maximum((observed_scores**2).sum(0), 1e-300)
    if statistic == "score":
        S, S_obs = np.asarray(raw), observed_scores.sum(0)
        scale = np.maximum(np.vstack([S**2, S_obs**2]).mean(0), 1e-300)
        singles, obs_single = S**2, S_obs**2
        draws, obs = (S**2 / scale).sum(1), float((S_obs**2 / scale).sum())

    def pval(d: np.ndarray, o: float) -> float:
        hits = int(np.sum(d >= o - 1e-12 * max(1.0, abs(o))))
        return hits / len(d) if exact else (1 + hits) / (len(d) + 1)

    per = {
        n: (float(obs_single[k]), pval(singles[:, k], obs_single[k])) for k, n in enumerate(names)
    }
    return RandomizationTest(
        names=tuple(names),
        statistic=obs,
        p_value=pval(draws, obs),
        per_term=per,
        scheme=scheme,
        n_assignments=len(draws),
        exact=exact,
        seed=None if exact else seed,
        n_clusters=int(cl.max()) + 1,
        draws=draws,
    )
