"""Rank checks: the one place that decides whether columns are collinear, and which.

Why one module: the design-matrix check (``fit``), the FE-Poisson solver (``hdfe``), the
Wald test and the score test each judged rank on their own.  The tolerances differ on
purpose (a design matrix against demeaned regressors, a variance matrix against a
pseudo-inverse) and stay parameters, so every reported number and message is unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import qr

__all__ = ["collinear_columns", "full_column_rank", "matrix_rank"]


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
