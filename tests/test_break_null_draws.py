"""The sup-Wald null draws, computed in small in-place blocks, equal the plain formula's.

Why exactly equal: the Xi-era design's p-values and simulated critical values are read
from these draws, and results.json must not change when the computation gets faster.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cpcstats.methods.break_critical import null_draws


def _plain(n_params: int, trim: float, reps: int, steps: int, seed: int) -> np.ndarray:
    """The definition in one block: sup over the trimmed grid of |B(l)|^2 / (l (1 - l))."""
    rng = np.random.default_rng(seed)
    lam = np.arange(1, steps + 1) / steps
    keep = (lam >= trim - 1e-12) & (lam <= 1 - trim + 1e-12)
    inner = lam[keep]
    walk = np.cumsum(rng.standard_normal((reps, steps, n_params)), axis=1) / math.sqrt(steps)
    bridge = walk[:, keep, :] - inner[None, :, None] * walk[:, -1:, :]
    return np.sort(((bridge**2).sum(axis=2) / (inner * (1 - inner))).max(axis=1))


@pytest.mark.parametrize("n_params", [1, 2, 3])
def test_block_draws_equal_the_plain_formula(n_params: int) -> None:
    fast = null_draws.__wrapped__(n_params, 0.15, reps=1_234, steps=200, seed=5)
    assert np.array_equal(fast, _plain(n_params, 0.15, 1_234, 200, 5))
    assert fast.shape == (1_234,) and np.all(np.diff(fast) >= 0) and fast[0] > 0
