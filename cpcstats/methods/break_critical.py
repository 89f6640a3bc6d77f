"""Critical values and p-values of structural-break tests, as data and one simulation.

Why a module of its own: the numbers (Andrews's sup-Wald critical values as corrected in
Andrews 2003, Hansen 2000's confidence-set constant) and the simulated limiting
distribution are facts about the test, not about any data set; `cpcstats.methods.breaks`
and any design read them from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cpcstats.errors import SpecError

__all__ = [
    "ANDREWS_1993_SOURCE",
    "ANDREWS_1993_TABLE_I",
    "ANDREWS_2003_SOURCE",
    "HANSEN_2000_C95",
    "NULL_REPS",
    "NULL_SEED",
    "NULL_STEPS",
    "STORED_NULL_DIMS",
    "STORED_NULL_DRAWS",
    "STORED_NULL_TRIM",
    "andrews_critical_values",
    "candidate_years",
    "critical_values",
    "null_draws",
    "prepare_null_draws",
    "simulate_null_draws",
    "sup_wald_pvalue",
]

#: The test (the statistic and its limiting distribution).
ANDREWS_1993_SOURCE = (
    "Andrews, D. W. K. (1993), 'Tests for Parameter Instability and Structural Change with "
    "Unknown Change Point', Econometrica 61(4), 821-856 (the test; its Table I critical "
    "values were corrected in Andrews 2003)"
)

#: Where the stored critical values come from (the table notes cite it).
ANDREWS_2003_SOURCE = (
    "Andrews, D. W. K. (2003), 'Tests for Parameter Instability and Structural Change with "
    "Unknown Change Point: A Corrigendum', Econometrica 71(1), 395-397, Table 1 (corrected "
    "Table I of Andrews 1993)"
)

#: Asymptotic critical values of the sup-Wald/LM/LR statistics for p restrictions and
#: trimming pi0 (candidate break fractions in [pi0, 1 - pi0]); keys (p, pi0) -> {level:
#: critical value}.  The values are the *corrected* ones of Andrews (2003): the original
#: Andrews (1993) Table I was computed with an error and is larger (p = 1, pi0 = 0.15, 5 %:
#: 8.85 there against 8.68 here -- the pair as an independent public code base quotes
#: both; the 1993 10 % and 1 % entries were not re-checked here).  The same numbers
#: divided by p are Stock and Watson's "QLR critical values with 15% trimming", which cite
#: Andrews (2003) (q = 1: 7.12 / 8.68 / 12.16; q = 2: 5.00 / 5.86 / 7.78).  They are
#: reproduced to within Monte Carlo error by simulating the limiting distribution (`null_draws`; see
#: tests/test_design_xi.py), which is the check that matters.  The name keeps "1993" for
#: existing callers.
ANDREWS_1993_TABLE_I: dict[tuple[int, float], dict[float, float]] = {
    (1, 0.15): {0.10: 7.12, 0.05: 8.68, 0.01: 12.16},
    (2, 0.15): {0.10: 10.00, 0.05: 11.72, 0.01: 15.56},
}

#: Hansen, B. E. (2000), "Sample Splitting and Threshold Estimation", Econometrica 68(3),
#: 575-603: the 95 % critical value of the LR statistic for the break date,
#: c = -2 log(1 - sqrt(0.95)) ~ 7.35.  Derived for a threshold/break in a regression with a
#: shrinking break; used here as an approximation for a fixed-size break in a count model.
HANSEN_2000_C95: float = -2.0 * math.log(1.0 - math.sqrt(0.95))

#: Monte Carlo settings of the simulated limiting distribution (fixed: reruns are identical).
NULL_REPS = 20_000
NULL_STEPS = 1_000
NULL_SEED = 19930701


def candidate_years(first: int, last: int, trim: float = 0.15) -> list[int]:
    """Break dates whose pre-break share of the T periods lies in [trim, 1 - trim].

    A break at period ``first + k`` leaves k pre-break periods (fraction k / T), so
    with T = 16 (2002-2017) and trim 0.15 the candidates are 2005-2015 (at least
    three periods on each side).
    """
    if not 0 < trim < 0.5:
        raise SpecError(f"trim must be in (0, 0.5), not {trim!r}", fix="e.g. trim=0.15")
    n_years = last - first + 1
    k_min = max(1, math.ceil(trim * n_years - 1e-9))
    k_max = min(n_years - 1, math.floor((1 - trim) * n_years + 1e-9))
    return [first + k for k in range(k_min, k_max + 1)]


def andrews_critical_values(n_params: int, trim: float = 0.15) -> dict[float, float]:
    """Andrews's sup-Wald critical values at 10 / 5 / 1 % (asymptotic; Andrews 2003's
    corrected Table 1).

    Only the entries in `ANDREWS_1993_TABLE_I` are stored (p = 1, 2 at trim 0.15);
    other combinations raise ``KeyError``, and the sup-Wald test then uses quantiles of the
    simulated limiting distribution instead (and says so).
    """
    key = (int(n_params), round(float(trim), 6))
    if key not in ANDREWS_1993_TABLE_I:
        raise KeyError(f"Andrews (1993) Table I values are stored only for {ANDREWS_1993_TABLE_I}")
    return dict(ANDREWS_1993_TABLE_I[key])


#: Draws simulated together by `prepare_null_draws` (kept: a second design run in the same
#: process prepares nothing), which `null_draws` returns.
_PREPARED: dict[tuple[int, float, int, int, int], np.ndarray] = {}

#: Walks of the largest dimension simulated per block (400 kB of normals with p = 2, in
#: cache: 0.87 s for p = 1 and 2 against 1.5 s with blocks of 100; the block size does not
#: change the draws, the stream is consumed in order).
_BLOCK = 25


@lru_cache(maxsize=8)
def null_draws(
    n_params: int,
    trim: float,
    reps: int = NULL_REPS,
    steps: int = NULL_STEPS,
    seed: int = NULL_SEED,
) -> np.ndarray:
    """Sorted draws of sup_{l in [trim, 1-trim]} |B(l)|^2 / (l (1 - l)), B a p-dim bridge.

    Why: this is the limiting distribution tabulated by Andrews (1993) and
    approximated by Hansen (1997); simulating it (Brownian motion as scaled
    partial sums of ``steps`` normals) gives p-values for any statistic.  Draws made
    beforehand by `prepare_null_draws`, or shipped (`STORED_NULL_DRAWS`; the same
    numbers), are taken instead.
    """
    prepared = _PREPARED.get((n_params, trim, reps, steps, seed))
    if prepared is None:
        prepared = _stored(n_params, trim, reps, steps, seed)
    if prepared is not None:
        return prepared
    return _simulate((n_params,), trim, reps, steps, seed)[n_params]


def prepare_null_draws(
    n_params: Sequence[int],
    trim: float,
    reps: int = NULL_REPS,
    steps: int = NULL_STEPS,
    seed: int = NULL_SEED,
) -> None:
    """Simulate the null draws of several dimensions at once, for `null_draws` to return.

    Why (issue 17): every dimension starts from the same seed, and the p-dimensional walk
    r is made of the normals r p steps ... (r + 1) p steps - 1 of that one stream, so the
    stream of the largest p holds every smaller one's (when p divides it): the normals,
    which are most of the cost, are drawn once (the Xi-era design needs p = 1 and 2: 40
    million normals instead of 60).  The draws are bit-identical to separate calls.
    """
    wanted = sorted({int(p) for p in n_params})
    todo = [
        p
        for p in wanted
        if (p, trim, reps, steps, seed) not in _PREPARED
        and _stored(p, trim, reps, steps, seed) is None
    ]
    if todo:
        for p, draws in _simulate(tuple(todo), trim, reps, steps, seed).items():
            _PREPARED[(p, trim, reps, steps, seed)] = draws


#: The default draws of p = 1 and 2 at 15 % trimming (rows), as `_simulate` makes them,
#: shipped with the package (`STORED_NULL_DRAWS`; written by
#: ``python replication/make_null_draws.py``, checked against a new simulation by
#: tests/test_null_draws_stored.py).  Why: simulating them is 0.9 s of every replication,
#: and stored they are also the same numbers on every machine.
STORED_NULL_DRAWS = "andrews_null_draws.npy"
STORED_NULL_DIMS = (1, 2)
STORED_NULL_TRIM = 0.15


@lru_cache(maxsize=1)
def _stored_draws() -> np.ndarray | None:
    from importlib.resources import files

    path = files("cpcstats.reference") / STORED_NULL_DRAWS
    try:
        with path.open("rb") as file:
            draws = np.load(file, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if draws.shape != (len(STORED_NULL_DIMS), NULL_REPS) or draws.dtype != np.float64:
        return None
    draws.setflags(write=False)
    return draws


def _stored(n_params: int, trim: float, reps: int, steps: int, seed: int) -> np.ndarray | None:
    """The shipped draws of dimension ``n_params`` when the simulation asked for is theirs."""
    if (reps, steps, seed) != (NULL_REPS, NULL_STEPS, NULL_SEED):
        return None
    if n_params not in STORED_NULL_DIMS or abs(trim - STORED_NULL_TRIM) > 1e-12:
        return None
    draws = _stored_draws()
    return None if draws is None else draws[STORED_NULL_DIMS.index(n_params)]


def simulate_null_draws(
    dims: Sequence[int],
    trim: float,
    reps: int = NULL_REPS,
    steps: int = NULL_STEPS,
    seed: int = NULL_SEED,
) -> dict[int, np.ndarray]:
    """A new simulation of the sorted sup draws of each dimension (never the stored ones):
    what `STORED_NULL_DRAWS` holds and its check compares with."""
    return _simulate(tuple(sorted({int(p) for p in dims})), trim, reps, steps, seed)


def _simulate(
    dims: tuple[int, ...], trim: float, reps: int, steps: int, seed: int
) -> dict[int, np.ndarray]:
    """Sorted sup draws of every dimension in ``dims`` from one normal stream (see
    `prepare_null_draws`); a dimension that does not divide the largest gets its own."""
    top = max(dims)
    out = {p: _simulate((p,), trim, reps, steps, seed)[p] for p in dims if top % p}
    shared = [p for p in dims if not top % p]
    lam = np.arange(1, steps + 1) / steps
    keep = np.flatnonzero((lam >= trim - 1e-12) & (lam <= 1 - trim + 1e-12))
    lo, hi = (int(keep[0]), int(keep[-1]) + 1) if len(keep) else (0, 0)
    sups = {p: np.empty(reps) for p in shared}
    rng = np.random.default_rng(seed)
    buffer = np.empty(min(_BLOCK, reps) * steps * top)  # refilled in place: no page faults
    for start in range(0, reps, _BLOCK):
        normals = buffer[: min(_BLOCK, reps - start) * steps * top]
        rng.standard_normal(out=normals)
        for p in shared:
            first = start * top // p  # walks of dimension p before this block
            m = min(len(normals) // (steps * p), reps - first)
            if m <= 0:
                continue
            sups[p][first : first + m] = _block_sups(normals[: m * steps * p], m, p, lo, hi)
    for p in shared:
        sups[p].sort()
        out[p] = sups[p]
    return out


def _block_sups(normals: np.ndarray, m: int, p: int, lo: int, hi: int) -> np.ndarray:
    """The sup statistic of ``m`` p-dimensional walks made of ``normals`` (walk r: the
    normals r p steps ... (r + 1) p steps - 1, step-major), on the kept steps lo ... hi - 1.

    The same operations per element, in the same order, as the definition (the walk's
    steps divided by sqrt(steps), bridged, squared, summed over the dimensions in order,
    divided by l (1 - l); tests/test_break_null_draws.py and test_break_speed_equal.py
    check equality bit for bit), laid out with the step axis innermost: one dimension's
    steps are contiguous, so every operation runs over long rows (with the dimension
    innermost, numpy looped over rows of p elements).
    """
    steps = len(normals) // (m * p)
    lam = np.arange(1, steps + 1) / steps
    inner, root = lam[lo:hi], math.sqrt(steps)
    if p == 1:
        walk = np.cumsum(normals.reshape(m, 1, steps), axis=2)
    else:
        walk = np.cumsum(normals.reshape(m, steps, p).transpose(0, 2, 1), axis=2)
    # dividing every step by sqrt(steps) and then forming the bridge, on the kept steps
    # and the last one only
    bridge = walk[:, :, lo:hi] / root
    bridge -= (walk[:, :, -1:] / root) * inner
    bridge *= bridge
    squared = bridge[:, 0, :]
    for d in range(1, p):  # in dimension order, as a reduction over a strided axis adds
        squared = squared + bridge[:, d, :]
    squared /= inner * (1 - inner)
    return squared.max(axis=1)


def sup_wald_pvalue(statistic: float, n_params: int, trim: float = 0.15) -> float:
    """Asymptotic p-value of a sup-Wald statistic, simulated from the limiting distribution.

    Not Hansen's (1997) response-surface formula (its coefficient tables are not
    reproduced here) but the distribution both approximate: 20,000 draws on a
    1,000-step grid, Monte Carlo SE about 0.0015 at p = 0.05; the smallest reportable
    value is 1 / 20,001 (shown as < 0.0001).
    """
    draws = null_draws(int(n_params), round(float(trim), 6))
    exceed = len(draws) - np.searchsorted(draws, statistic, side="left")
    return float((exceed + 1) / (len(draws) + 1))


def critical_values(n_params: int, trim: float) -> tuple[dict[float, float], str]:
    """Critical values at 10 / 5 / 1 % and their source: Andrews's table, else simulated."""
    try:
        return (
            andrews_critical_values(n_params, trim),
            "Andrews (2003, Table 1; corrigendum to Andrews 1993), asymptotic",
        )
    except KeyError:
        draws = null_draws(n_params, round(float(trim), 6))
        critical = {a: float(np.quantile(draws, 1 - a)) for a in (0.10, 0.05, 0.01)}
        return critical, "simulated limiting distribution (Andrews 1993), asymptotic"
