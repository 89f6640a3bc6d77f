"""Weighted within-transformations for fixed effects: the numerics behind `hdfe.Demeaner`.

Why a module of its own: the FE-Poisson solver spends almost all of its time here, so the
two algorithms are written for speed and kept apart from the IRLS and sample rules.

- ``SchurSolver``, one large fixed effect plus small ones (party + year, unit + year +
  country): the large FE's normal equations are diagonal, so it is absorbed exactly and
  only the small FEs' reduced (Schur complement) system ``S b = r`` is solved.  ``S`` has
  as many rows as the small FEs have levels together (hundreds).  Building it costs
  ``sum_u nnz_u^2`` (nnz_u: small-FE levels met by unit u), so it is built only when the
  weights are new to it; while the IRLS weights settle, the stored ``S`` is the
  preconditioner of a conjugate-gradient solve with the current weights (a few
  iterations, each a pass over the unit-by-level table, not over the observations).
  The result is the exact projection up to rounding, with no sweep tolerance.
- ``alternating_projections``, any other case (two or more large FEs): weighted
  alternating projections as fixest/pyfixest do, with group means by ``np.bincount``
  into preallocated buffers and an Irons-Tuck extrapolation every third sweep.

Codes must be dense (0..G-1, every level present); ``dense_codes`` makes them so in
O(n) without sorting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import blas, lapack

__all__ = ["SchurSolver", "alternating_projections", "dense_codes"]

#: a conjugate-gradient solve that needs more iterations than this rebuilds ``S``
REBUILD_AFTER = 20
#: a solve slower than this makes the next one rebuild ``S`` (its weights moved on)
SLOW_CG = 6
#: pivots of the Schur complement below this (relative to its largest diagonal) are its
#: null space: the levels the large FE and the other small ones already determine
RANK_TOL = 1e-10
#: relative residual at which the conjugate-gradient solve of the small FEs stops
CG_TOL = 1e-12
#: small FEs are joined into one code of the cells they meet in the data (year x country)
#: while the product of their sizes stays at most this: one pass over the observations
#: per column for all of them instead of one per FE
JOIN_MAX = 1 << 22
#: S is built by dense BLAS (``syrk`` over blocks of the table) instead of a sparse product
#: when ``g1 * g2^2`` is at most this many times the sparse product's ``sum_u nnz_u^2``
#: (a BLAS flop is ~70 times cheaper than a sparse multiply-add here; half of that as margin)
DENSE_SCHUR = 32
#: rows of the table scattered into one dense block (2^21 doubles: 16 MB)
BLOCK_DOUBLES = 1 << 21


def dense_codes(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..G-1 and G, in O(n) without sorting.

    Non-negative integer codes of modest range (what ``pd.factorize`` gives) are
    renumbered by a presence count (returned as they are when already dense); anything
    else is hashed by ``pd.factorize``.
    """
    c = np.asarray(codes)
    if c.dtype.kind in "iu" and len(c) and c.min() >= 0 and c.max() < 4 * len(c) + 1024:
        present = np.bincount(c) > 0
        if present.all():
            return c.astype(np.intp, copy=False), len(present)
        renumber = np.cumsum(present) - 1
        return renumber[c].astype(np.intp, copy=False), int(present.sum())
    dense, uniques = pd.factorize(c, sort=False)
    return dense.astype(np.intp, copy=False), len(uniques)


def _group_sums(codes: np.ndarray, values: np.ndarray, levels: int, out: np.ndarray) -> None:
    """Column sums of ``values`` (n x p, best column-major) by group into ``out``."""
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=levels)


class _PivotedCholesky:
    """Solves ``S b = r`` for a singular positive semi-definite ``S`` and ``r`` in its range.

    Why not a pseudo-inverse: an eigendecomposition of a few hundred rows costs more than
    the rest of a small fit.  The pivoted Cholesky factor (LAPACK ``pstrf``) of the
    independent rows ``I`` gives the solution that is zero outside ``I``, exact because
    ``S = S[:, I] S[I, I]^-1 S[I, :]`` for a positive semi-definite ``S`` of rank ``|I|``.
    """

    def __init__(self, S: np.ndarray) -> None:
        diag = float(np.max(np.diag(S))) if S.size else 0.0
        factor, piv, rank, _ = lapack.dpstrf(S, lower=1, tol=RANK_TOL * max(diag, 1e-300))
        self.index = (piv[:rank] - 1).astype(np.intp)
        self.lower = np.asfortranarray(np.tril(factor[:rank, :rank]))
        self.size = S.shape[0]

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        out = np.zeros((self.size, *rhs.shape[1:]))
        if len(self.index):  # LAPACK potrs directly: both triangular solves, no checks
            out[self.index] = lapack.dpotrs(self.lower, rhs[self.index], lower=1)[0]
        return out


class _Joined:
    """Some small FEs joined into one code: the cells (e.g. year x country) met in the data.

    Why: every per-observation pass of the solver -- the group sums of each column, the
    weights of the small FEs' gram matrix and the subtraction of their effects -- is done
    once over the cells' code, then mapped to the FEs' levels over the (few) cells.
    """

    def __init__(self, codes: list[np.ndarray], sizes: list[int], offsets: list[int]) -> None:
        key = codes[0].astype(np.int64)
        for c, g in zip(codes[1:], sizes[1:], strict=True):
            key = key * g + c
        self.code, self.n = dense_codes(key)
        levels = np.empty((self.n, len(codes)), dtype=np.intp)
        levels[self.code] = np.column_stack(codes)  # every observation of a cell agrees
        self.local = [levels[:, i] for i in range(len(codes))]  # level of each FE by cell
        self.sizes = sizes
        self.offsets = offsets
        self.shifted = levels + np.asarray(offsets, dtype=np.intp)  # rows of b by cell

    def to_levels(self, cell_sums: np.ndarray, out: np.ndarray) -> None:
        """Adds the cells' sums to the sums by level of each joined FE (rows of ``out``)."""
        for loc, g, off in zip(self.local, self.sizes, self.offsets, strict=True):
            out[off : off + g] += np.bincount(loc, weights=cell_sums, minlength=g)

    def gram(self, w_cells: np.ndarray, out: np.ndarray) -> None:
        """Diagonal and crossing blocks of D2'WD2 among the joined FEs, from cell weights."""
        k = len(self.local)
        for i in range(k):
            gi, oi = self.sizes[i], self.offsets[i]
            idx = np.arange(oi, oi + gi)
            out[idx, idx] = np.bincount(self.local[i], weights=w_cells, minlength=gi)
            for j in range(i + 1, k):
                gj, oj = self.sizes[j], self.offsets[j]
                key = self.local[i] * gj + self.local[j]
                block = np.bincount(key, weights=w_cells, minlength=gi * gj).reshape(gi, gj)
                out[oi : oi + gi, oj : oj + gj] = block
                out[oj : oj + gj, oi : oi + gi] = block.T

    def effects(self, b: np.ndarray) -> np.ndarray:
        """The joined FEs' summed effects by cell, one row per column of ``b`` (p x cells)."""
        return np.ascontiguousarray(b[self.shifted].sum(axis=1).T)


def _join(codes: list[np.ndarray], sizes: list[int], offsets: np.ndarray) -> list[_Joined]:
    """Consecutive small FEs joined while the product of their sizes is <= ``JOIN_MAX``."""
    groups: list[list[int]] = []
    product = JOIN_MAX + 1
    for i, g in enumerate(sizes):
        if product * g > JOIN_MAX:
            groups.append([])
            product = 1
        groups[-1].append(i)
        product *= g
    return [
        _Joined([codes[i] for i in grp], [sizes[i] for i in grp], [int(offsets[i]) for i in grp])
        for grp in groups
    ]


def _cells(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..m-1 of the distinct ``key`` values (0 <= key < span) and those values.

    A presence count when the span is small (unit x year: one cell per observation at
    most), which is several times cheaper than hashing; ``pd.factorize`` otherwise.
    """
    if span <= 4 * len(key) + 1024:
        present = np.bincount(key, minlength=span) > 0
        return (np.cumsum(present) - 1)[key], np.flatnonzero(present)
    codes, uniques = pd.factorize(key, sort=False)
    return codes.astype(np.intp, copy=False), np.asarray(uniques)


class SchurSolver:
    """Exact weighted projection on one large FE plus small ones (see the module doc)."""

    def __init__(self, codes: list[np.ndarray], levels: list[int]) -> None:
        order = sorted(range(len(codes)), key=lambda i: -levels[i])
        self.big, self.g1 = codes[order[0]], levels[order[0]]
        self.small = [codes[i] for i in order[1:]]
        sizes = [levels[i] for i in order[1:]]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        self.g2 = int(self.offsets[-1])
        rows, cols, self.pair_codes, self.n_pairs = [], [], [], []
        for c, g, off in zip(self.small, sizes, self.offsets, strict=False):
            # (large level, small level) cells met in the data: the unit-by-level table
            pair, cells = _cells(self.big.astype(np.int64) * g + c, self.g1 * g)
            self.pair_codes.append(pair)
            self.n_pairs.append(len(cells))
            rows.append(cells // g)
            cols.append(cells % g + off)
        row, col = np.concatenate(rows), np.concatenate(cols)
        # CSR order of the table's cells by scipy's counting sort (the cells are distinct,
        # so the values, their positions, come through unsummed): O(cells), no argsort
        order = sparse.csr_matrix(
            (np.arange(1, len(row) + 1, dtype=float), (row, col)), shape=(self.g1, self.g2)
        )
        self._perm = order.data.astype(np.intp) - 1
        self._indices = order.indices
        self._indptr = order.indptr
        self._row = np.repeat(np.arange(self.g1, dtype=np.intp), np.diff(order.indptr))
        self._csr = order  # its values are replaced by each call's cell weights
        self._joined = _join(self.small, sizes, self.offsets)
        # crossings of two small FEs in different joined groups: by observation
        group_of = [gi for gi, grp in enumerate(self._joined) for _ in grp.local]
        self._cross = [
            (i, j, self.small[i] * sizes[j] + self.small[j])
            for i in range(len(sizes))
            for j in range(i + 1, len(sizes))
            if group_of[i] != group_of[j]
        ]
        self._sizes = sizes
        nnz = np.diff(self._indptr).astype(np.float64)
        self._dense_schur = self.g1 * float(self.g2) ** 2 <= DENSE_SCHUR * float(nnz @ nnz)
        self._precond: _PivotedCholesky | None = None  # factor of an earlier S
        self._last_cg = 0  # iterations the last conjugate-gradient solve needed
        self.coef: np.ndarray | None = None  # small-FE coefficients of the last call

    def _table(self, w: np.ndarray) -> sparse.csr_matrix:
        data = np.concatenate(
            [
                np.bincount(p, weights=w, minlength=k)
                for p, k in zip(self.pair_codes, self.n_pairs, strict=True)
            ]
        )
        table = self._csr
        np.take(data, self._perm, out=table.data)  # same structure: no format checks
        return table

    def _small_gram(self, w: np.ndarray) -> np.ndarray:
        """D2'WD2: weights by level on the diagonal, crossings of two small FEs off it."""
        out = np.zeros((self.g2, self.g2))
        for grp in self._joined:
            grp.gram(np.bincount(grp.code, weights=w, minlength=grp.n), out)
        for i, j, key in self._cross:
            gi, gj = self._sizes[i], self._sizes[j]
            block = np.bincount(key, weights=w, minlength=gi * gj).reshape(gi, gj)
            si, sj = (
                slice(self.offsets[i], self.offsets[i] + gi),
                slice(self.offsets[j], self.offsets[j] + gj),
            )
            out[si, sj] = block
            out[sj, si] = block.T
        return out

    def _schur(self, table: sparse.csr_matrix, d1: np.ndarray, gram: np.ndarray) -> np.ndarray:
        """S = D2'WD2 - C' D1^-1 C (C the unit-by-level table), dense BLAS when cheaper."""
        if not self._dense_schur:
            scaled = table.multiply((1.0 / np.sqrt(d1))[:, None]).tocsr()
            return gram - (scaled.T @ scaled).toarray()
        values = table.data * np.repeat(1.0 / np.sqrt(d1), np.diff(self._indptr))
        rows = max(1, min(self.g1, BLOCK_DOUBLES // max(self.g2, 1)))
        acc = np.zeros((self.g2, self.g2), order="F")
        block = np.empty((self.g2, rows))  # C-order: its .T is Fortran; reused, zeroed
        for start in range(0, self.g1, rows):
            stop = min(self.g1, start + rows)
            lo, hi = self._indptr[start], self._indptr[stop]
            part = block[:, : stop - start]
            part.fill(0.0)
            part[self._indices[lo:hi], self._row[lo:hi] - start] = values[lo:hi]
            acc = blas.dsyrk(1.0, part.T, beta=1.0, c=acc, trans=1, lower=1, overwrite_c=1)
        lower = np.tril(acc)
        return gram - lower - np.tril(lower, -1).T

    def _apply(
        self, v: np.ndarray, table: sparse.csr_matrix, d1: np.ndarray, gram: np.ndarray
    ) -> np.ndarray:
        """S v without forming S: gram v - C'(C v / d1)."""
        return gram @ v - table.T @ ((table @ v) / d1[:, None])

    def _solve(
        self,
        rhs: np.ndarray,
        table: sparse.csr_matrix,
        d1: np.ndarray,
        gram: np.ndarray,
        tol: float,
        start: np.ndarray | None,
    ) -> np.ndarray:
        """Small-FE coefficients: preconditioned CG with an earlier S, else a fresh S.

        ``start`` (the coefficients of an earlier call, e.g. the previous IRLS iteration)
        is where CG begins; without it, the stale factor's solution.  The stopping rule is
        the same either way (relative residual), so the start changes only the iterations.

        Long because: the conjugate-gradient recursion is written out for all right-hand
        sides at once (one column per column of M), with its restart rule.
        """
        if self._precond is not None and self._last_cg <= SLOW_CG:
            P = self._precond
            b = P.solve(rhs) if start is None else start.copy()
            r = rhs - self._apply(b, table, d1, gram)
            z = P.solve(r)
            p = z.copy()
            rz = (r * z).sum(axis=0)
            target = max(tol, CG_TOL) * np.maximum(np.linalg.norm(rhs, axis=0), 1e-300)
            for it in range(REBUILD_AFTER):
                if (np.linalg.norm(r, axis=0) <= target).all():
                    self._last_cg = it
                    return b
                q = self._apply(p, table, d1, gram)
                pq = (p * q).sum(axis=0)
                step = np.divide(rz, pq, out=np.zeros_like(rz), where=pq != 0)
                b += p * step
                r -= q * step
                z = P.solve(r)
                rz_new = (r * z).sum(axis=0)
                ratio = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz != 0)
                p = z + p * ratio
                rz = rz_new
            if (np.linalg.norm(r, axis=0) <= target).all():
                self._last_cg = REBUILD_AFTER
                return b
        self._last_cg = 0
        S = self._schur(table, d1, gram)
        self._precond = _PivotedCholesky(S)
        b = self._precond.solve(rhs)
        # one refinement step: rounding of the factor, not a tolerance
        return b + self._precond.solve(rhs - S @ b)

    def __call__(
        self, M: np.ndarray, w: np.ndarray, tol: float = CG_TOL, warm: bool = False
    ) -> np.ndarray:
        """``M`` minus its weighted least-squares projection on the fixed effects.

        ``tol`` is the relative residual of the small FEs' system when it is solved by
        conjugate gradients (IRLS asks for a loose one while its weights still move).
        ``warm``: start CG from the previous call's small-FE coefficients, matched to the
        trailing columns of ``M`` (IRLS demeans ``[z, X]`` and finally ``X``); near IRLS
        convergence they are almost the answer, so CG needs an iteration or two.
        """
        p = M.shape[1]
        R = np.array(M, dtype=float, order="F", copy=True)  # columns contiguous
        d1 = np.bincount(self.big, weights=w, minlength=self.g1)
        m1 = np.empty((self.g1, p))
        m2 = np.zeros((self.g2, p))
        buf = np.empty(len(w))  # one scratch column: no per-pass allocation
        for j in range(p):
            np.multiply(R[:, j], w, out=buf)
            m1[:, j] = np.bincount(self.big, weights=buf, minlength=self.g1)
            for grp in self._joined:
                grp.to_levels(np.bincount(grp.code, weights=buf, minlength=grp.n), m2[:, j])
        table = self._table(w)
        gram = self._small_gram(w)
        last = self.coef
        start = last[:, last.shape[1] - p :] if warm and last is not None else None
        if start is not None and start.shape[1] != p:
            start = None
        b = self._solve(m2 - table.T @ (m1 / d1[:, None]), table, d1, gram, tol, start)
        self.coef = b
        a = np.ascontiguousarray(((m1 - table @ b) / d1[:, None]).T)
        effects = [grp.effects(b) for grp in self._joined]
        for j in range(p):
            col = R[:, j]
            np.take(a[j], self.big, out=buf)
            col -= buf
            for grp, eff in zip(self._joined, effects, strict=True):
                np.take(eff[j], grp.code, out=buf)
                col -= buf
        return R


def alternating_projections(
    M: np.ndarray,
    w: np.ndarray,
    codes: list[np.ndarray],
    levels: list[int],
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, int]:
    """Weighted alternating projections with Irons-Tuck extrapolation (``M`` is copied).

    Why Irons-Tuck: the sweep is a linear contraction whose slow direction dominates
    after a few sweeps; extrapolating along it (Irons and Tuck 1969, as fixest does)
    typically halves the sweeps.  Every extrapolated point stays ``M`` minus something
    in the span of the fixed effects, so the fixed point -- the projection -- is unchanged.
    """
    R = np.array(M, dtype=float, order="F", copy=True)
    p = R.shape[1]
    totals = [np.bincount(c, weights=w, minlength=g) for c, g in zip(codes, levels, strict=True)]
    means = [np.empty((g, p)) for g in levels]
    wR = np.empty_like(R)
    scale = np.maximum(np.abs(R).max(axis=0), 1.0)

    def sweep(X: np.ndarray) -> float:
        change = 0.0
        for c, g, total, mean in zip(codes, levels, totals, means, strict=True):
            np.multiply(X, w[:, None], out=wR)
            _group_sums(c, wR, g, mean)
            mean /= total[:, None]
            change = max(change, float((np.abs(mean).max(axis=0) / scale).max()))
            X -= mean[c]
        return change

    if len(codes) == 1:
        sweep(R)
        return R, 1
    it = 0
    while it < maxiter:
        x0 = R.copy(order="F")
        it += 1
        if sweep(R) < tol:
            return R, it
        x1 = R.copy(order="F")
        it += 1
        if sweep(R) < tol:
            return R, it
        d2 = R - 2 * x1 + x0  # second difference; R is F(F(x0))
        denom = (d2 * d2).sum(axis=0)
        coef = np.divide(((R - x1) * d2).sum(axis=0), denom, out=np.zeros(p), where=denom > 0)
        R -= (R - x1) * coef
    return R, maxiter
