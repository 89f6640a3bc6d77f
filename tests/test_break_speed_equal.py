"""The faster break computations (issue 17) give the numbers of the code they replaced.

Why: the Xi-era design's statistics, p-values and records must not change when it gets
faster.  Each test keeps a plain copy of the replaced function (the null draws in blocks
of 100 walks with the dimension innermost; IRLS and the concentrated FE-Poisson Newton
with ``einsum`` and ``bincount``) and compares it with the new one on random inputs: the
null draws bit for bit, the fits to 1e-10 (matrix products add in another order), on a
panel with unbalanced years and candidates at both ends of the trimmed range.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpcstats.methods.break_bootstrap import batch_poisson, break_columns, quasi_wald, spd_solve
from cpcstats.methods.break_critical import candidate_years, null_draws, prepare_null_draws
from cpcstats.methods.break_design import break_arrays, panel_to_series, shared_break_arrays
from cpcstats.methods.break_model import break_setting
from cpcstats.methods.break_profile import fe_poisson_batch
from cpcstats.methods.break_sup_wald import sup_wald_test


# ------------------------------------------------------------------ the replaced code
def _old_null_draws(n_params: int, trim: float, reps: int, steps: int, seed: int) -> np.ndarray:
    """`null_draws` before issue 17: blocks of 100 walks, shape (walks, steps, p)."""
    rng = np.random.default_rng(seed)
    lam = np.arange(1, steps + 1) / steps
    keep = (lam >= trim - 1e-12) & (lam <= 1 - trim + 1e-12)
    inner = lam[keep]
    scale = inner * (1 - inner)
    out = np.empty(reps)
    for start in range(0, reps, 100):
        m = min(100, reps - start)
        walk = np.cumsum(rng.standard_normal((m, steps, n_params)), axis=1)
        walk /= math.sqrt(steps)
        bridge = walk[:, keep, :] - inner[None, :, None] * walk[:, -1:, :]
        bridge *= bridge
        squared = bridge[:, :, 0] if n_params == 1 else bridge.sum(axis=2)
        squared /= scale
        out[start : start + m] = squared.max(axis=1)
    out.sort()
    return out


def _old_batch_poisson(
    X: np.ndarray, Y: np.ndarray, offset: np.ndarray | None, maxiter: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`batch_poisson` before issue 17 (three-operand ``einsum``)."""
    B, K = Y.shape[0], X.shape[0]
    off = np.zeros(Y.shape[1]) if offset is None else offset
    mu = np.broadcast_to(Y[:, None, :] + 0.1, (B, K, Y.shape[1])).copy()
    eta = np.log(mu)
    beta = np.zeros((B, K, X.shape[2]))
    ok = np.zeros((B, K), dtype=bool)
    for _ in range(maxiter):
        z = eta - off + (Y[:, None, :] - mu) / mu
        info = np.einsum("knj,bkn,knl->bkjl", X, mu, X)
        rhs = np.einsum("knj,bkn->bkj", X, mu * z)
        new = np.linalg.solve(info, rhs[..., None])[..., 0]
        step = np.abs(new - beta).max(axis=2)
        beta = new
        eta = np.clip(np.einsum("knj,bkj->bkn", X, beta) + off, -700, 700)
        mu = np.exp(eta)
        ok = np.isfinite(step) & (step < tol * (1 + np.abs(beta).max(axis=2)))
        if ok.all():
            break
    return beta, mu, np.einsum("knj,bkn,knl->bkjl", X, mu, X), ok


def _old_fe_poisson_batch(
    X: np.ndarray, y: np.ndarray, units: np.ndarray, maxiter: int = 100, tol: float = 1e-11
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`fe_poisson_batch` before issue 17 (``bincount`` per design and column)."""
    G = int(units.max()) + 1
    ysum = np.bincount(units, weights=y, minlength=G)
    beta = np.zeros((X.shape[0], X.shape[2]))
    for _ in range(maxiter):
        eta = np.einsum("knj,kj->kn", X, beta)
        eta -= eta.max(axis=1, keepdims=True)
        e = np.exp(eta)
        esum = np.stack([np.bincount(units, weights=row, minlength=G) for row in e])
        mu = e * (ysum[None, :] / esum)[:, units]
        msum = np.stack([np.bincount(units, weights=row, minlength=G) for row in mu])
        sums = [
            np.stack(
                [
                    np.bincount(units, weights=mu[k] * X[k, :, j], minlength=G)
                    for j in range(X.shape[2])
                ],
                axis=1,
            )
            for k in range(X.shape[0])
        ]
        Xt = X - (np.stack(sums) / np.maximum(msum, 1e-300)[..., None])[:, units, :]
        grad = np.einsum("knj,kn->kj", X, y[None, :] - mu)
        H = np.einsum("knj,kn,knl->kjl", Xt, mu, Xt)
        step = np.linalg.solve(H, grad[..., None])[..., 0]
        beta = beta + step
        if np.abs(step).max() < tol * (1 + np.abs(beta).max()):
            break
    return beta, mu, Xt


# ------------------------------------------------------------------ data
def _unbalanced_panel(seed: int = 3) -> pd.DataFrame:
    """40 units over 2000-2021, each observed for its own run of years (entry and exit)."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(40):
        first = int(rng.integers(2000, 2008))
        last = int(rng.integers(2014, 2022))
        level = rng.normal(1.0, 0.8)
        for year in range(first, last + 1):
            mean = math.exp(level + 0.03 * (year - 2000) + 0.4 * (year >= 2013))
            rows.append({"unit": f"u{unit}", "year": year, "y": int(rng.poisson(mean))})
    return pd.DataFrame(rows)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / (1 + np.abs(np.asarray(a)))))


# ------------------------------------------------------------------ null draws
@pytest.mark.parametrize(
    ("dims", "trim", "reps", "steps"),
    [
        ((1, 2), 0.15, 1_234, 200),
        ((1, 2, 3), 0.3, 77, 41),
        ((2, 4), 0.2, 260, 30),
        ((3,), 0.15, 51, 60),
    ],
)
def test_null_draws_prepared_together_equal_the_old_ones_bit_for_bit(
    dims: tuple[int, ...], trim: float, reps: int, steps: int
) -> None:
    seed = 1000 + reps + steps  # a key no other test has put in null_draws' cache
    prepare_null_draws(dims, trim, reps, steps, seed)
    for p in dims:
        old = _old_null_draws(p, trim, reps, steps, seed)
        assert np.array_equal(null_draws(p, trim, reps, steps, seed), old)
        assert np.array_equal(null_draws.__wrapped__(p, trim, reps, steps, seed), old)


def test_null_draws_of_the_design_equal_the_old_ones() -> None:
    """The shipped setting (20,000 draws, 1,000 steps): the Xi-era p-values read these."""
    fresh = null_draws.__wrapped__(2, 0.15)
    assert np.array_equal(fresh, _old_null_draws(2, 0.15, 20_000, 1_000, 19930701))
    # a different seed gives other draws: the comparison could fail
    assert not np.array_equal(fresh, _old_null_draws(2, 0.15, 20_000, 1_000, 1))


# ------------------------------------------------------------------ IRLS
def test_batch_poisson_equals_the_einsum_irls() -> None:
    rng = np.random.default_rng(11)
    time = np.arange(2000, 2021, dtype=float)
    Z = np.column_stack([np.ones_like(time), time - time.min()])
    chosen = candidate_years(2000, 2020, 0.15)
    chosen = [chosen[0], chosen[1], chosen[len(chosen) // 2], chosen[-1]]  # both ends
    X = np.stack([np.column_stack([Z, break_columns(time, c, 2)]) for c in chosen])
    mean = np.exp(3 + 0.04 * (time - 2000) + 0.5 * (time >= 2013))
    Y = rng.poisson(mean * rng.lognormal(0, 0.3, (9, len(time)))).astype(float)
    Y[0, [4, 9]] = 0.0  # zero counts (no separation: one on each side of every break)
    offset = rng.normal(0, 0.2, len(time))
    for off in (None, offset):
        new = batch_poisson(X, Y, offset=off)
        old = _old_batch_poisson(X, Y, off)
        assert np.array_equal(new[3], old[3]) and new[3].all()
        for a, b in zip(new[:3], old[:3], strict=True):
            assert a.shape == b.shape and _rel(b, a) < 1e-10
        wald_new = quasi_wald(Y, *new[:3], [2, 3])
        wald_old = quasi_wald(Y, *old[:3], [2, 3])
        assert _rel(wald_old, wald_new) < 1e-10 and (wald_new > 0).all()


def test_spd_solve_equals_lapack_and_flags_matrices_that_are_not_positive_definite() -> None:
    rng = np.random.default_rng(2)
    M = rng.normal(size=(6, 7, 5, 5))
    A = M @ M.transpose(0, 1, 3, 2) + 0.1 * np.eye(5)
    A[0, 0] *= 1e4  # badly scaled, like a trend column next to an intercept
    b = rng.normal(size=(6, 7, 5, 2))
    assert _rel(np.linalg.solve(A, b), spd_solve(A, b)) < 1e-10
    assert _rel(np.linalg.inv(A), spd_solve(A, np.broadcast_to(np.eye(5), A.shape))) < 1e-10
    A[1, 2] = -np.eye(5)  # negative definite: NaN, not an exception
    x = spd_solve(A, b)
    assert np.isnan(x[1, 2]).all() and np.isfinite(np.delete(x.reshape(42, 5, 2), 9, 0)).all()


# ------------------------------------------------------------------ FE-Poisson batch
def test_fe_poisson_batch_equals_the_bincount_newton_on_an_unbalanced_panel() -> None:
    frame = _unbalanced_panel()
    assert frame.groupby("unit")["year"].agg(["min", "max"]).nunique().min() > 1  # unbalanced
    _, units = np.unique(frame["unit"], return_inverse=True)
    time = frame["year"].to_numpy(dtype=float)
    y = frame["y"].to_numpy(dtype=float)
    keep = np.bincount(units, weights=y)[units] > 0
    _, units = np.unique(units[keep], return_inverse=True)
    time, y = time[keep], y[keep]
    chosen = candidate_years(int(time.min()), int(time.max()), 0.15)
    for p in (1, 2):
        X = np.stack(
            [np.column_stack([time - time.min(), break_columns(time, c, p)]) for c in chosen]
        )
        new = fe_poisson_batch(X, y, units)
        assert new is not None
        old = _old_fe_poisson_batch(X, y, units)
        for a, b in zip(new, old, strict=True):
            assert a.shape == b.shape and _rel(b, a) < 1e-10


# ------------------------------------------------------------------ shared arrays
def test_shared_arrays_give_the_same_tests_and_are_not_kept_after_the_block() -> None:
    frame = _unbalanced_panel(5)
    frame["iso3"] = frame["unit"]
    cols = {"yname": "y", "tname": "year", "idname": "unit", "se": "driscoll-kraay"}
    alone = sup_wald_test(frame, shift="level+trend", **cols)  # type: ignore[arg-type]
    with shared_break_arrays():
        s1 = break_setting(frame, **cols)  # type: ignore[arg-type]
        s2 = break_setting(frame, **cols)  # type: ignore[arg-type]
        assert break_arrays(s1) is break_arrays(s2)
        assert panel_to_series(s1, None) is panel_to_series(s2, None)
        assert panel_to_series(s1, 2013) is not panel_to_series(s1, None)
        first = sup_wald_test(frame, shift="level+trend", **cols)  # type: ignore[arg-type]
        again = sup_wald_test(frame, shift="level+trend", **cols)  # type: ignore[arg-type]
    for shared in (first, again):
        pd.testing.assert_frame_equal(shared.profile, alone.profile, check_exact=True)
        assert shared.to_record() == alone.to_record()
    assert alone.bootstrap is not None and alone.bootstrap.reps > 0
    # outside the block every call builds its own arrays, from the frame as it is now
    assert break_arrays(s1) is not break_arrays(s2)
    changed = frame.assign(y=frame["y"] + 1)
    s3 = break_setting(changed, **cols)  # type: ignore[arg-type]
    arrays = break_arrays(s3)
    assert arrays is not None
    assert np.array_equal(arrays.y, changed["y"].to_numpy(dtype=float))
