"""E[y] of a fitted FE-Poisson as a function of its coefficients, and the delta method.

Why the fixed effects are re-solved: a slope that is nearly constant within units moves
E[y] one-for-one when the unit effects are frozen, although the estimated unit effects
would absorb that move.  So for every trial vector of coefficients the fixed effects are
updated to satisfy the FE-Poisson score equations (sum of y = sum of E[y] in every level
of every fixed effect; iterative proportional fitting from the estimates).  Their
sampling error beyond this response is ignored: given the slopes, the fixed effects are
treated as known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpcstats.estimation.numdiff import central_jacobian
from cpcstats.estimation.results import FitResult

__all__ = ["FEPoissonMean"]

STEP = 1e-5  # relative step of the numeric gradient


@dataclass
class FEPoissonMean:
    """E[y] of a fitted FE-Poisson on its own estimation rows (see the module docstring)."""

    result: FitResult
    X: np.ndarray  # estimation rows x estimated columns, in the order of core.params
    frame: pd.DataFrame  # estimation rows
    names: list[str]
    theta: np.ndarray
    shown: np.ndarray  # positions of result.params in theta
    y: np.ndarray
    codes: list[np.ndarray]  # fixed-effect level of each estimation row, per FE
    profile: bool = True

    @classmethod
    def of(cls, result: FitResult, profile: bool = True) -> FEPoissonMean:
        # the model view does not expose X, y and the FE codes of the estimation rows
        core, design = result.core, result.design
        keep = np.ones(len(design.data.y), dtype=bool) if core.keep is None else core.keep
        cols = [design.data.x_names.index(n) for n in core.names]
        names = list(core.names)
        shown = np.array([names.index(n) for n in result.params.index], dtype=int)
        codes = [np.unique(c[keep], return_inverse=True)[1] for c in design.data.fe_codes]
        return cls(
            result,
            design.data.X[keep][:, cols],
            design.frame[keep].reset_index(drop=True),
            names,
            np.asarray(core.params, dtype=float),
            shown,
            design.data.y[keep],
            codes,
            profile,
        )

    def column(self, name: str) -> np.ndarray:
        return self.X[:, self.names.index(name)]

    def _fe_shift(self, theta: np.ndarray) -> np.ndarray | None:
        """Change of the fixed-effect part of log E[y] that restores the FE score equations."""
        if not self.profile or not self.codes:
            return None
        mu = np.asarray(self.result.core.mean(theta, self.X), dtype=float)
        shift = np.zeros(len(mu))
        sums = [np.bincount(c, weights=self.y) for c in self.codes]
        for _ in range(1000):
            largest = 0.0
            for c, ysum in zip(self.codes, sums, strict=True):
                step = np.log(ysum / np.bincount(c, weights=mu, minlength=len(ysum)))
                shift += step[c]
                mu *= np.exp(step[c])
                largest = max(largest, float(np.abs(step).max()))
            if largest < 1e-13:
                break
        return shift

    def means(self, theta: np.ndarray, switch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """E[y] as estimated, and with the ``switch`` indicators set to 0 (same FE)."""
        idx = [self.names.index(n) for n in switch]
        off = self.X.copy()
        off[:, idx] = 0.0
        mean = self.result.core.mean
        shift = self._fe_shift(theta)
        return (
            np.asarray(mean(theta, self.X, None, shift), dtype=float),
            np.asarray(mean(theta, off, None, shift), dtype=float),
        )

    def delta(self, func: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Values of ``func(theta)`` and their covariance (numeric gradient, result.vcov).

        The gradient is taken with respect to the shown coefficients only (those with a
        variance in ``result.vcov``).
        """
        value = np.asarray(func(self.theta), dtype=float)

        def of_shown(sub: np.ndarray) -> np.ndarray:
            full = self.theta.copy()
            full[self.shown] = sub
            return np.asarray(func(full))

        jac = central_jacobian(of_shown, self.theta[self.shown], rel_step=STEP)
        jac = jac.reshape(len(value), len(self.shown))
        V = self.result.vcov.to_numpy(dtype=float)
        return value, jac @ V @ jac.T
