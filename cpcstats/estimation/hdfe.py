"""Poisson pseudo-maximum likelihood with high-dimensional fixed effects.

Why not dummies: with hundreds of party effects, a dummy-variable GLM spends
its time inverting a huge matrix.  Here the fixed effects are partialled out
inside IRLS by weighted alternating projections (Correia, Guimarães and
Zylkin 2020, the ppmlhdfe algorithm), so only the few coefficients of
interest enter a linear solve.  The coefficients equal those of a dummy GLM.

Sample rules (stated in the results): observations whose fixed-effect group
has only zero outcomes are dropped first (they identify nothing), then the rows
of a constant-sign regressor whose nonzero rows all have y = 0 (a cell of zero
outcomes: exactly separated, decided by signs and zeros); after convergence,
observations with y = 0 whose fitted mean collapses to zero are *separated*
(a regressor combination predicts zero perfectly, which would push a
coefficient to infinity): they are dropped, counted and the model is
refitted, instead of returning huge coefficients.  Terms collinear once
separated rows are gone are omitted in formula order (the later one), never
by a pivoted QR whose choice between tied columns is rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cpcstats.errors import EstimationError
from cpcstats.estimation.demean import SchurSolver, alternating_projections, dense_codes
from cpcstats.estimation.linalg import dependent_columns

#: a zero-outcome row is separated when its fitted mean is below this (relative to the
#: mean outcome when above 1), ppmlhdfe's ``mu_tol``: separated means fall to 1e-10 or
#: less by convergence, identified ones stay near 1e-3 or above in the studies' panels --
#: a margin of orders of magnitude either way (1e-9 left a factor of 20 to the first)
SEPARATION_MU = 1e-6
ZERO_GROUP = "fixed-effect group with only zero outcomes"
SEPARATED = "separated observations (zero outcome predicted perfectly)"


@dataclass
class PPMLResult:
    beta: np.ndarray
    mu: np.ndarray
    X_demeaned: np.ndarray
    fe_eta: np.ndarray
    keep: np.ndarray
    n_fe_params: int
    converged: bool
    iterations: int
    warnings: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    active: list[int] = field(default_factory=list)  # columns of X that were estimated


#: the fixed effects are partialled out exactly (no sweep tolerance) when all but the
#: largest have at most this many levels together; the dense Schur complement is then at
#: most this size squared
EXACT_TWO_WAY_MAX = 2000
#: demeaning tolerance of the last IRLS iterations and of the final demeaning (the
#: tolerance every earlier release used throughout)
INNER_TOL = 1e-11


class Demeaner:
    """Weighted within-transformation for one or more sets of fixed effects.

    Why two algorithms: one large FE plus small ones (party + year; unit + year + country)
    are solved exactly -- the large one absorbed through its diagonal normal equations,
    the small ones through their Schur complement (`demean.SchurSolver`), at the cost of a
    few passes over the data and no sweep tolerance; two or more large FEs use weighted
    alternating projections with Irons-Tuck acceleration (as fixest does) to a tolerance.
    """

    def __init__(self, codes: list[np.ndarray]) -> None:
        dense = [dense_codes(c) for c in codes]
        self.codes = [d[0] for d in dense]
        self.levels = [d[1] for d in dense]
        small = sum(self.levels) - max(self.levels)
        self.exact = len(codes) > 1 and small <= EXACT_TWO_WAY_MAX
        self._solver = SchurSolver(self.codes, self.levels) if self.exact else None

    def __call__(
        self,
        M: np.ndarray,
        w: np.ndarray,
        tol: float = INNER_TOL,
        maxiter: int = 10_000,
        fe_start: np.ndarray | None = None,
        warm: bool = False,
    ) -> tuple[np.ndarray, int]:
        """``M`` minus its weighted projection on the fixed effects, and the sweeps used.

        ``fe_start`` (a fixed-effect component of ``M`` from an earlier call, e.g. the
        previous IRLS iteration) is subtracted first when iterating: it lies in the span
        of the fixed effects, so the result is the same, but far fewer sweeps are needed
        when the weights changed little.  ``warm`` is the exact path's counterpart: its
        conjugate gradients start from the previous call's small-FE coefficients
        (`demean.SchurSolver`), matched to the trailing columns of ``M``.
        """
        M = np.asarray(M, dtype=float)
        w = np.asarray(w, dtype=float)
        if self._solver is not None:
            return self._solver(M, w, tol * 0.1, warm=warm), 1
        start = M if fe_start is None else M - fe_start
        return alternating_projections(start, w, self.codes, self.levels, tol, maxiter)


def _collinear_columns(M: np.ndarray) -> list[int]:
    """Columns to omit so the rest have full rank: each one dependent on the columns
    before it (formula order), by `linalg.dependent_columns` -- not by a pivoted QR, whose
    choice between equal-norm columns is decided by rounding (BLAS threads, row order)."""
    return dependent_columns(M)


def drop_zero_groups(y: np.ndarray, codes: list[np.ndarray]) -> np.ndarray:
    """Mask of observations outside fixed-effect groups whose outcomes are all zero.

    Iterated to a fixed point (dropping a group can empty a group of another FE); the
    codes are made dense once, each round is one ``bincount`` per FE.
    """
    dense = [dense_codes(c) for c in codes]
    keep = np.ones(len(y), dtype=bool)
    while True:
        new = keep.copy()
        yk = y * keep
        for c, g in dense:
            new &= np.bincount(c, weights=yk, minlength=g)[c] > 0
        if (new == keep).all():
            return keep
        keep = new


def _sign_separated(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Rows where a regressor of constant sign is nonzero, if all of that regressor's
    nonzero rows have a zero outcome (an indicator of zero outcomes only, say).

    Why exact: moving that coefficient towards minus (plus) infinity lowers only those
    rows' means, each with y = 0, so the likelihood rises without bound -- the rows are
    separated whatever the other terms and the fixed effects, a fact of signs and zeros,
    decided before any iteration (the fitted-mean rule after IRLS catches the rest).
    """
    nonzero = X != 0
    one_sign = (X >= 0).all(axis=0) | (X <= 0).all(axis=0)
    outcome_on = (nonzero & (y > 0)[:, None]).any(axis=0)
    separating = one_sign & ~outcome_on & nonzero.any(axis=0)
    if not separating.any():
        return np.zeros(len(y), dtype=bool)
    return nonzero[:, separating].any(axis=1)


def drop_sign_separated(
    y: np.ndarray, X: np.ndarray, codes: list[np.ndarray], keep: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """``keep`` without the rows `_sign_separated` finds and the fixed-effect groups this
    leaves with zero outcomes only, iterated to a fixed point (integer facts only); with
    the numbers of separated rows and of zero-group rows it dropped."""
    keep = keep.copy()
    n_sep = n_zero = 0
    while True:
        rows = np.flatnonzero(keep)
        sep = _sign_separated(y, X) if len(rows) == len(y) else _sign_separated(y[rows], X[rows])
        if not sep.any():
            return keep, n_sep, n_zero
        keep[rows[sep]] = False
        n_sep += int(sep.sum())
        more = drop_zero_groups(y * keep, codes) & keep
        n_zero += int(keep.sum() - more.sum())
        keep = more


def _first_sample(
    y: np.ndarray, X: np.ndarray, codes: list[np.ndarray]
) -> tuple[np.ndarray, dict[str, int]]:
    """Rows kept before the first IRLS and the counts dropped: all-zero fixed-effect
    groups, then the separation that signs and zeros decide (`drop_sign_separated`)."""
    keep = drop_zero_groups(y, codes)
    dropped = {ZERO_GROUP: int((~keep).sum())}
    if X.shape[1]:
        keep, n_sep, n_zero = drop_sign_separated(y, X, codes, keep)
        if n_sep:
            dropped[SEPARATED] = n_sep
            dropped[ZERO_GROUP] += n_zero
    return keep, dropped


def _working(y: np.ndarray, X: np.ndarray, offset: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``[z, X]`` column-major, z the IRLS working outcome at ``mu`` (X copied once)."""
    stacked = np.empty((len(y), X.shape[1] + 1), order="F")
    stacked[:, 1:] = X
    stacked[:, 0] = np.log(mu) - offset + (y - mu) / mu
    return stacked


def _irls(
    y: np.ndarray,
    stacked: np.ndarray,
    first: list[np.ndarray],
    demean: Demeaner,
    offset: np.ndarray,
    mu: np.ndarray,
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, ...]:
    """IRLS from ``mu``; ``stacked`` is ``_working`` at ``mu`` and ``first`` holds its
    demeaning (taken out of the list: the caller then holds no reference to it).

    Why the first demeaning is passed in: it is also the identification check of the
    regressors (`_omit_unidentified`), so it is computed once, tightly, by the caller.
    Why each iteration lets go of the last one's matrices (and the caller of the first)
    before it demeans again: they are as large as the design; a BRI event study's design
    of 190 terms held six such matrices at once, now four (the same arithmetic).
    """
    eta = np.log(mu)
    dev_old = np.inf
    converged = False
    iterations = 0
    p = stacked.shape[1] - 1
    beta = np.zeros(p)
    pos = y > 0
    # deviance = 2 * sum(y log(y / mu) - (y - mu)); the parts free of mu computed once
    dev_const = float(np.sum(y[pos] * np.log(y[pos]))) - float(y.sum())
    both = first.pop()
    fe_part = None if demean.exact else stacked - both  # FE component of [z, X]
    inner = 1e-3  # demeaning tolerance: loose while the weights move (as ppmlhdfe)
    z = stacked[:, 0]  # the working outcome, updated in place (a contiguous column)
    has_offset = bool(offset.any())
    for iterations in range(1, maxiter + 1):
        if iterations > 1:
            np.subtract(y, mu, out=z)
            z /= mu
            z += eta
            if has_offset:
                z -= offset
            both = zt = Xt = None  # the last iteration's demeaning, freed before the next
            both, _ = demean(stacked, mu, tol=inner, fe_start=fe_part, warm=True)
            if fe_part is not None:
                np.subtract(stacked, both, out=fe_part)
        zt, Xt = both[:, 0], both[:, 1:]
        wX = Xt * mu[:, None]
        beta = np.linalg.solve(wX.T @ Xt, wX.T @ zt) if p else beta
        del wX
        eta = Xt @ beta if p else np.zeros(len(y))  # eta = z - (zt - Xt beta) + offset
        eta -= zt
        eta += z
        if has_offset:
            eta += offset
        log_mu = np.clip(eta, -700, 700)
        mu = np.exp(log_mu)
        dev = 2 * (dev_const - float(y @ log_mu) + float(mu.sum()))
        change = abs(dev - dev_old) / (0.1 + abs(dev))
        if change < tol and inner <= INNER_TOL:
            converged = True
            break
        inner = max(INNER_TOL, min(inner, 1e-3 * change))
        dev_old = dev
    return beta, mu, eta, converged, iterations, fe_part


def _omit_unidentified(
    Xt0: np.ndarray,
    Xk: np.ndarray,
    active: list[int],
    names: list[str],
    separated_once: bool,
    warnings: list[str],
) -> list[int] | None:
    """None when every active column is identified once the fixed effects are removed;
    else the active columns without the ones to omit (with a warning).

    Why omit only after separation: a term absorbed by the fixed effects, or collinear
    once they are removed, is the user's error (raised); one that loses its variation
    only because separated observations were dropped is omitted, as ppmlhdfe does.
    """
    norms = np.linalg.norm(Xt0, axis=0) / np.maximum(np.linalg.norm(Xk, axis=0), 1e-300)
    absorbed = [active[i] for i in np.flatnonzero(norms < 1e-9)]
    if absorbed and separated_once:
        # the term varied only among separated observations: it is not identified
        warnings.append(
            f"term(s) {', '.join(names[i] for i in absorbed)} omitted: they "
            "vary only among the separated observations"
        )
        active = [i for i in active if i not in absorbed]
        if not active:
            raise EstimationError(
                "no regressor is left: every term varied only among the separated "
                "observations (their outcomes are all zero)",
                column="formula",
                fix="the effect is not identified in this sample; widen the sample",
            )
        return active
    if absorbed:
        absorbed_names = [names[i] for i in absorbed]
        raise EstimationError(
            f"term(s) {', '.join(absorbed_names)} are absorbed by the fixed effects",
            column="formula",
            fix="remove them, or drop the fixed effect that absorbs them",
        )
    dependent = _collinear_columns(Xt0)
    if dependent:
        collinear = [active[i] for i in dependent]
        if not separated_once:
            raise EstimationError(
                "the regressors are collinear once the fixed effects are removed: "
                + ", ".join(names[i] for i in collinear),
                column="formula",
                fix="drop a collinear term",
            )
        # collinearity created by dropping separated observations (as ppmlhdfe): omit
        warnings.append(
            f"term(s) {', '.join(names[i] for i in collinear)} omitted: collinear with "
            "the other terms and the fixed effects once separated observations are dropped"
        )
        return [i for i in active if i not in collinear]
    return None


def fit_ppml_hdfe(
    y: np.ndarray,
    X: np.ndarray,
    codes: list[np.ndarray],
    *,
    offset: np.ndarray | None = None,
    start: np.ndarray | None = None,
    x_names: list[str] | None = None,
    tol: float = 1e-13,
    maxiter: int = 500,
) -> PPMLResult:
    """PPML of y on X with the fixed effects given by ``codes`` (one array per FE)."""
    if not codes:
        raise EstimationError(
            "family 'fe-poisson' needs fixed effects after '|' in the formula",
            fix='e.g. "contacts ~ ruling | party_id + year"',
        )
    names = x_names or [f"x{i}" for i in range(X.shape[1])]
    n = len(y)
    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    keep, dropped = _first_sample(y, X, codes)
    warnings: list[str] = []
    active, separated_once = list(range(X.shape[1])), SEPARATED in dropped
    for _ in range(10):
        if keep.all():  # the usual case: no copies of the data (all are only read)
            yk, ok, ck = y, offset, codes
            Xk = X if len(active) == X.shape[1] else X[:, active]
        else:
            yk, Xk, ok = y[keep], X[keep][:, active], offset[keep]
            ck = [c[keep] for c in codes]
        demean = Demeaner(ck)
        st = None if start is None else (start[keep] if len(start) == n else None)
        mu0 = (yk + yk.mean()) / 2 if st is None else np.exp(np.clip(st, -50, 50))
        stacked = _working(yk, Xk, ok, mu0)
        first, _ = demean(stacked, mu0)  # tight: it is the identification check too
        reduced = _omit_unidentified(first[:, 1:], Xk, active, names, separated_once, warnings)
        if reduced is not None:
            active = reduced
            continue
        handed = [first]  # _irls frees it once its second iteration replaces it
        del first
        beta, mu, eta, converged, iterations, fe_part = _irls(
            yk, stacked, handed, demean, ok, mu0, tol, maxiter
        )
        del stacked
        separated = (yk == 0) & (mu < SEPARATION_MU * max(1.0, float(yk.mean())))
        if not separated.any():
            break
        idx = np.flatnonzero(keep)[separated]
        keep[idx] = False
        separated_once = True
        dropped[SEPARATED] = dropped.get(SEPARATED, 0) + int(separated.sum())
        more = drop_zero_groups(y * keep, codes) & keep
        dropped[ZERO_GROUP] += int(keep.sum() - more.sum())
        keep = more
    else:  # pragma: no cover - ten rounds of separation is pathological
        warnings.append("separation persisted after 10 rounds of dropping observations")
    if dropped.get(SEPARATED):
        warnings.append(
            f"{dropped[SEPARATED]} separated observation(s) dropped and the model "
            "refitted (their zero outcomes were predicted perfectly)"
        )
    if not converged:
        warnings.append(f"FE-Poisson IRLS did not converge in {maxiter} iterations")
    Xt, _ = demean(Xk, mu, fe_start=None if fe_part is None else fe_part[:, 1:], warm=True)
    fe_eta = eta - ok - Xk @ beta
    n_fe_params = sum(demean.levels) - (len(codes) - 1)
    return PPMLResult(
        beta,
        mu,
        Xt,
        fe_eta,
        keep,
        n_fe_params,
        converged,
        iterations,
        warnings,
        dropped,
        active,
    )
