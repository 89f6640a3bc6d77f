"""The shipped null draws of the sup-Wald test are what the simulation makes, and the
replication uses them instead of simulating again."""

from __future__ import annotations

import numpy as np
import pytest

import cpcstats.methods.break_critical as bc


def test_the_stored_draws_equal_a_new_simulation() -> None:
    stored = bc._stored_draws()
    assert stored is not None, f"cpcstats/reference/{bc.STORED_NULL_DRAWS} is missing or damaged"
    fresh = bc.simulate_null_draws(bc.STORED_NULL_DIMS, bc.STORED_NULL_TRIM)
    for row, p in enumerate(bc.STORED_NULL_DIMS):
        # the same numbers (exactly, on the machine that wrote them; summation order in
        # another BLAS may move the last bit)
        np.testing.assert_allclose(stored[row], fresh[p], rtol=1e-13, atol=0)
        assert np.all(np.diff(stored[row]) >= 0)


def test_the_default_draws_are_read_not_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("simulated although the draws are stored")

    bc.null_draws.cache_clear()
    monkeypatch.setattr(bc, "_simulate", refuse)
    monkeypatch.setattr(bc, "_PREPARED", {})
    bc.prepare_null_draws([1, 2], 0.15)
    for p in (1, 2):
        draws = bc.null_draws(p, 0.15)
        assert draws.shape == (bc.NULL_REPS,) and not draws.flags.writeable
    # the 5 % critical values of Andrews (2003) within Monte Carlo error
    assert np.quantile(bc.null_draws(1, 0.15), 0.95) == pytest.approx(8.68, abs=0.25)
    assert np.quantile(bc.null_draws(2, 0.15), 0.95) == pytest.approx(11.72, abs=0.3)
    bc.null_draws.cache_clear()


def test_other_simulations_are_not_taken_from_the_file() -> None:
    assert bc._stored(1, 0.10, bc.NULL_REPS, bc.NULL_STEPS, bc.NULL_SEED) is None
    assert bc._stored(3, 0.15, bc.NULL_REPS, bc.NULL_STEPS, bc.NULL_SEED) is None
    assert bc._stored(1, 0.15, 500, bc.NULL_STEPS, bc.NULL_SEED) is None
    small = bc.null_draws(1, 0.15, reps=200, steps=100, seed=3)
    assert small.shape == (200,)
