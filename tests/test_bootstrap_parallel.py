"""Parallel cluster bootstrap: the same numbers, to the last bit, for any number of workers.

Replication r draws from the r-th child of ``SeedSequence(seed)``, so neither the
number of processes nor the chunking of replications into tasks can change a draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cpcstats.estimation.bootstrap as bootstrap
from cpcstats import fit
from cpcstats.errors import EstimationError


@pytest.fixture(scope="module")
def clustered() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    units, periods = 40, 6
    unit = np.repeat(np.arange(units), periods)
    x = rng.normal(size=units * periods)
    y = rng.poisson(np.exp(0.3 + 0.4 * x + rng.normal(0, 0.4, units)[unit]))
    return pd.DataFrame({"y": y, "x": x, "unit": unit, "t": np.tile(np.arange(periods), units)})


def _boot(frame: pd.DataFrame, reps: int = 60, seed: int = 5, **kw: object):
    return fit(
        "y ~ x",
        frame,
        family="poisson",
        cluster="unit",
        se="bootstrap",
        bootstrap_reps=reps,
        seed=seed,
        **kw,
    )


def test_one_and_two_workers_give_identical_bits(
    clustered: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPCSTATS_WORKERS", "1")
    one = _boot(clustered)
    made: list[object] = []
    original = bootstrap.make_executor

    def record(workers):  # type: ignore[no-untyped-def]
        made.append(original(workers))
        return made[-1]

    monkeypatch.setattr(bootstrap, "make_executor", record)
    monkeypatch.setenv("CPCSTATS_WORKERS", "2")
    small = _boot(clustered)  # 60 quick replications: not worth starting processes
    assert made == [] and np.array_equal(one.vcov.to_numpy(), small.vcov.to_numpy())
    monkeypatch.setattr(bootstrap, "MIN_PARALLEL_SECONDS", 0.0)
    two = _boot(clustered)
    assert type(made[-1]).__name__ == "ProcessExecutor" and made[-1].workers == 2
    assert np.array_equal(one.vcov.to_numpy(), two.vcov.to_numpy())
    assert one.se_description == two.se_description
    assert np.all(np.isfinite(one.std_errors)) and np.all(one.std_errors > 0)


def test_chunking_does_not_change_the_draws(
    clustered: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPCSTATS_WORKERS", raising=False)
    reference = _boot(clustered, reps=53)
    for chunk in (1, 7, 100):
        monkeypatch.setattr(bootstrap, "CHUNK", chunk)
        again = _boot(clustered, reps=53)
        assert np.array_equal(reference.vcov.to_numpy(), again.vcov.to_numpy()), chunk


def test_each_replication_uses_its_own_child_seed(
    clustered: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first 30 of 60 replications are the 30 of a 30-replication run: a draw depends
    on its position only, so the two covariance estimates are of nested samples."""
    monkeypatch.delenv("CPCSTATS_WORKERS", raising=False)
    seen: list[np.ndarray] = []
    original = bootstrap._replicate

    def spy(item, shared):  # type: ignore[no-untyped-def]
        out = original(item, shared)
        seen.append(out)
        return out

    monkeypatch.setattr(bootstrap, "_replicate", spy)
    _boot(clustered, reps=60)
    long_run = np.vstack(seen)
    seen.clear()
    _boot(clustered, reps=30)
    short_run = np.vstack(seen)
    assert np.array_equal(long_run[:30], short_run)
    assert not np.array_equal(long_run[30:], short_run)


def test_seeds_differ_and_the_bootstrap_tracks_the_sandwich(
    clustered: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPCSTATS_WORKERS", raising=False)
    a, b = _boot(clustered, reps=300, seed=1), _boot(clustered, reps=300, seed=2)
    assert not np.array_equal(a.vcov.to_numpy(), b.vcov.to_numpy())
    sandwich = fit("y ~ x", clustered, family="poisson", cluster="unit")
    ratio = a.std_errors / sandwich.std_errors
    assert ((ratio > 0.75) & (ratio < 1.3)).all(), ratio


def test_a_bad_worker_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPCSTATS_WORKERS", "two")
    with pytest.raises(EstimationError, match="CPCSTATS_WORKERS"):
        bootstrap.bootstrap_workers()
    assert bootstrap.bootstrap_workers(3) == 3
