"""Central-difference derivatives: the one implementation every estimator uses.

Why one module: the hurdle's truncated part, the zero-inflated bread and the delta-method
gradients of predictions each differentiated numerically with their own loop.  The step
is relative to the point (``rel_step * max(|x_j|, 1)``) and stays a parameter, because
the callers use different steps and a changed step would change reported digits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["central_jacobian", "relative_steps", "symmetric_jacobian"]


def relative_steps(x: np.ndarray, rel_step: float) -> np.ndarray:
    """Per-coordinate steps ``rel_step * max(|x_j|, 1)``."""
    return rel_step * np.maximum(np.abs(x), 1.0)


def central_jacobian(
    fun: Callable[[np.ndarray], np.ndarray | float], x: np.ndarray, *, rel_step: float
) -> np.ndarray:
    """Derivatives of ``fun`` at ``x`` by central differences; the last axis is ``x``'s.

    ``fun`` returning a vector of length m gives an m x k matrix, a scalar a k-vector.
    """
    columns = []
    for j, h in enumerate(relative_steps(x, rel_step)):
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        columns.append((np.asarray(fun(up)) - np.asarray(fun(down))) / (2 * h))
    return np.stack(columns, axis=-1)


def symmetric_jacobian(
    fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, rel_step: float
) -> np.ndarray:
    """Symmetrised Jacobian of an analytic gradient: a numeric Hessian."""
    out = central_jacobian(fun, x, rel_step=rel_step)
    return (out + out.T) / 2
