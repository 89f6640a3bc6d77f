"""Rank checks: the one place that decides whether columns are collinear, and which.

Why one module: the design-matrix check (``fit``), the FE-Poisson solver (``hdfe``), the
Wald test and the score test each judged rank on their own.  The tolerances differ on
purpose (a design matrix against demeaned regressors, a variance matrix against a
pseudo-inverse) and stay parameters, so every reported number and message is unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import qr

__all__ = [
    "DEPENDENT_SINE",
    "collinear_columns",
    "dependent_columns",
    "full_column_rank",
    "matrix_rank",
]

#: a column is dependent on the columns before it when the sine of its angle to their span
#: is below this; exactly dependent demeaned columns give 1e-12 or less, identified ones
#: 1e-4 or more, so the decision has a margin of several orders of magnitude either way
DEPENDENT_SINE = 1e-7


def matrix_rank(values: np.ndarray, *, rel_tol: float | None = None) -> int:
    """Numerical rank; ``rel_tol`` is relative to the largest absolute entry (None: numpy's
    SVD default).  Raises ``LinAlgError`` when the SVD does not converge."""
    if rel_tol is None:
        return int(np.linalg.matrix_rank(values))
    return int(np.linalg.matrix_rank(values, tol=rel_tol * float(np.abs(values).max())))


def full_column_rank(values: np.ndarray) -> bool:
    return matrix_rank(values) >= values.shape[1]


def collinear_columns(
    values: np.ndarray, *, eps_factor: float, pivots_only: bool = False
) -> list[int]:
    """Columns a pivoted QR puts last as linearly dependent, in pivot order.

    The numerical rank is the number of pivots with |R_jj| above ``|R_00| * max(shape) *
    eps * eps_factor``; every column after those is dependent, so dropping the returned
    columns leaves a full-rank matrix.  ``pivots_only`` leaves out the columns beyond the
    number of rows (a wide matrix), as the design check's message always has.
    """
    _, r, perm = qr(values, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    if pivots_only:
        tol = diag[0] * max(values.shape) * np.finfo(float).eps * eps_factor
        return [int(perm[i]) for i in range(len(diag)) if diag[i] <= tol]
    tol = diag[0] * max(values.shape) * np.finfo(float).eps * eps_factor if len(diag) else 0.0
    rank = int((diag > tol).sum())
    return [int(j) for j in perm[rank:]]


def dependent_columns(values: np.ndarray, *, sine_tol: float = DEPENDENT_SINE) -> list[int]:
    """Columns that are combinations of the columns before them, in column order.

    Why not a pivoted QR: when two columns of a dependent pair have equal norms (two
    indicators of one unit's two rows, say), which one a pivoted QR puts last is decided
    by rounding -- a different BLAS thread count or row order flips it, and with it the
    reported estimates.  Here the order of the columns decides (the later column of a
    dependent set is dropped, as R's ``lm`` and fixest do), and a column is dependent
    when the sine of its angle to the span of the kept earlier columns (the diagonal of an
    unpivoted QR of the unit-norm columns) is below ``sine_tol``, a margin of orders of
    magnitude from both rounding and identified columns.  A zero column is dependent.
    """
    values = np.asarray(values, dtype=float)
    norms = np.linalg.norm(values, axis=0)
    dependent = [int(j) for j in np.flatnonzero(norms == 0)]
    idx = [int(j) for j in np.flatnonzero(norms > 0)]
    block = values / norms if not dependent else values[:, idx] / norms[idx]
    while idx:
        # R alone first: in the usual case (no dependent column) Q, as large as the
        # design, is never needed; when it is, the same factorisation gives the same R
        sines = np.abs(np.diag(np.linalg.qr(block, mode="r")))
        low = np.flatnonzero(sines < sine_tol)
        if not len(low):
            break
        q = np.linalg.qr(block)[0]
        k = int(low[0])
        dependent.append(idx[k])
        # columns before k are independent; measure the rest against their span
        rest = block[:, k + 1 :]
        basis = q[:, :k]
        block = rest - basis @ (basis.T @ rest)
        idx = idx[k + 1 :]
    return sorted(dependent)
