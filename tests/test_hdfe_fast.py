"""The fast FE-Poisson demeaning is exact: against dense dummy regressions and pyfixest.

Why these checks: the Schur-complement path (one large FE plus small ones) replaced
iterated projections, and IRLS now demeans loosely while its weights still move.  Each
must leave the answer unchanged, so the projections are compared with a dense weighted
least-squares fit on dummy columns (an independent computation), and the coefficients with
a dense-dummy Poisson fit (IRLS on the dummy design) and with pyfixest at tight
tolerances (when it is installed), to 1e-8, for 2 and 3 fixed effects, with all-zero
groups, a singleton and two disconnected blocks of units and years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.estimation import demean, families, hdfe
from cpcstats.estimation.linalg import collinear_columns


def _panel(seed: int, connected: bool = True) -> pd.DataFrame:
    """Unbalanced units x years with a non-nested country, all-zero units and a singleton."""
    rng = np.random.default_rng(seed)
    n = 900
    unit = rng.integers(0, 70, n)
    year = rng.integers(0, 10, n)
    if not connected:  # units 0-34 only in years 0-4, units 35-69 only in years 5-9
        year = np.where(unit < 35, year % 5, 5 + year % 5)
    country = rng.integers(0, 12, n)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    eta = 0.4 * x1 - 0.3 * x2 + rng.normal(0, 0.5, 70)[unit] + 0.05 * year
    eta += rng.normal(0, 0.4, 12)[country]
    y = rng.poisson(np.exp(eta)).astype(float)
    y[np.isin(unit, [3, 17])] = 0.0  # all-zero groups: dropped before fitting
    frame = pd.DataFrame(
        {"y": y, "x1": x1, "x2": x2, "unit": unit, "year": year, "country": country}
    )
    singleton = frame.iloc[[0]].assign(unit=99, y=2.0)  # a unit seen once
    return pd.concat([frame, singleton], ignore_index=True)


def _dummies(codes: list[np.ndarray]) -> np.ndarray:
    cols = [np.ones((len(codes[0]), 1))]
    for c in codes:
        levels = np.unique(c)
        cols.append((c[:, None] == levels[None, 1:]).astype(float))
    return np.hstack(cols)


@pytest.mark.parametrize("n_fe", [2, 3])
@pytest.mark.parametrize("connected", [True, False])
@pytest.mark.parametrize("exact", [True, False])
def test_demeaning_equals_dense_weighted_least_squares(
    n_fe: int, connected: bool, exact: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _panel(5, connected)
    codes = [frame[c].to_numpy() for c in ("unit", "year", "country")[:n_fe]]
    rng = np.random.default_rng(2)
    M = rng.normal(size=(len(frame), 3))
    w = rng.gamma(2.0, 1.0, len(frame))
    if not exact:
        monkeypatch.setattr(hdfe, "EXACT_TWO_WAY_MAX", 0)
    demeaner = hdfe.Demeaner(codes)
    assert demeaner.exact is exact
    got, _ = demeaner(M, w, tol=1e-14)
    D = _dummies(codes)
    sw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(D * sw, M * sw, rcond=None)[0]
    np.testing.assert_allclose(got, M - D @ coef, atol=1e-9)


def test_schur_conjugate_gradient_with_stale_factor_is_exact() -> None:
    """The second call reuses the first call's Schur factor as a preconditioner."""
    frame = _panel(8)
    codes = [frame[c].to_numpy() for c in ("unit", "year", "country")]
    rng = np.random.default_rng(3)
    M = rng.normal(size=(len(frame), 2))
    demeaner = hdfe.Demeaner(codes)
    demeaner(M, rng.gamma(2.0, 1.0, len(frame)))
    w = rng.gamma(2.0, 1.0, len(frame)) * 1.05
    got, _ = demeaner(M, w)
    fresh, _ = hdfe.Demeaner(codes)(M, w)
    np.testing.assert_allclose(got, fresh, atol=1e-9)


def test_dense_codes_renumbers_without_sorting() -> None:
    codes, levels = demean.dense_codes(np.array([5, 2, 5, 9, 2]))
    assert levels == 3
    assert len(set(codes.tolist())) == 3 and codes.max() == 2
    np.testing.assert_array_equal(codes[[0, 2]], codes[0])
    strings, n = demean.dense_codes(np.array(["b", "a", "b"], dtype=object))
    assert n == 2 and strings[0] == strings[2] != strings[1]


def _dense_glm(frame: pd.DataFrame, fes: list[str]) -> np.ndarray:
    keep = hdfe.drop_zero_groups(frame["y"].to_numpy(), [frame[c].to_numpy() for c in fes])
    sample = frame[keep]
    X = np.hstack(
        [
            sample[["x1", "x2"]].to_numpy(),
            _dummies([sample[c].to_numpy() for c in fes]),
        ]
    )
    # Newton on the dense design with a full rank (pivoted QR drops the redundant dummies)
    cols = [j for j in range(X.shape[1]) if j not in set(collinear_columns(X, eps_factor=1e3))]
    beta, _, converged = families._poisson_irls(
        sample["y"].to_numpy(), X[:, cols], np.zeros(len(sample)), None, tol=1e-15
    )
    assert converged and cols[:2] == [0, 1]
    return beta[:2]


@pytest.mark.parametrize("fes", [["unit", "year"], ["unit", "year", "country"]])
@pytest.mark.parametrize("connected", [True, False])
def test_fe_poisson_equals_dense_dummy_glm(fes: list[str], connected: bool) -> None:
    frame = _panel(11, connected)
    res = cpcstats.fit("y ~ x1 + x2 | " + " + ".join(fes), frame, family="fe-poisson")
    np.testing.assert_allclose(res.params.to_numpy(), _dense_glm(frame, fes), atol=1e-8)


@pytest.mark.parametrize("fes", [["unit", "year"], ["unit", "year", "country"]])
def test_fe_poisson_equals_pyfixest(fes: list[str]) -> None:
    pf = pytest.importorskip("pyfixest")
    frame = _panel(13)
    formula = "y ~ x1 + x2 | " + " + ".join(fes)
    ours = cpcstats.fit(formula, frame, family="fe-poisson").params
    theirs = pf.fepois(
        formula, data=frame, vcov="iid", iwls_tol=1e-12, fixef_tol=1e-12, iwls_maxiter=100
    ).coef()
    np.testing.assert_allclose(ours.to_numpy(), theirs[ours.index].to_numpy(), atol=1e-8)


def test_iterative_path_gives_the_exact_paths_coefficients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Alternating projections with Irons-Tuck (two large FEs) agree with the Schur path."""
    frame = _panel(17)
    formula = "y ~ x1 + x2 | unit + year + country"
    exact = cpcstats.fit(formula, frame, family="fe-poisson").params.to_numpy()
    monkeypatch.setattr(hdfe, "EXACT_TWO_WAY_MAX", 0)
    iterative = cpcstats.fit(formula, frame, family="fe-poisson").params.to_numpy()
    np.testing.assert_allclose(iterative, exact, atol=1e-8)


def _schur_inputs(seed: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    frame = _panel(seed)
    codes = [frame[c].to_numpy() for c in ("unit", "year", "country")]
    rng = np.random.default_rng(seed + 1)
    return codes, rng.normal(size=(len(frame), 3)), rng.gamma(2.0, 1.0, len(frame))


@pytest.mark.parametrize("dense", [True, False])
def test_schur_complement_by_blas_equals_the_sparse_product(
    dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two builds of S (dense syrk over blocks of the table, sparse C'D^-1C) agree,
    also with blocks smaller than the table (several syrk updates)."""
    codes, _, w = _schur_inputs(21)
    monkeypatch.setattr(demean, "BLOCK_DOUBLES", 7 * 23)  # 7 rows per block
    solver = hdfe.Demeaner(codes)._solver
    solver._dense_schur = dense
    table, gram = solver._table(w), solver._small_gram(w)
    d1 = np.bincount(solver.big, weights=w, minlength=solver.g1)
    C = table.toarray()
    want = gram - C.T @ (C / d1[:, None])
    np.testing.assert_allclose(solver._schur(table, d1, gram), want, atol=1e-10)


def test_joined_small_fixed_effects_give_the_same_projection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Year x country joined into one cell code, or each FE on its own (JOIN_MAX = 1)."""
    codes, M, w = _schur_inputs(23)
    joined = hdfe.Demeaner(codes)
    assert len(joined._solver._joined) == 1 and not joined._solver._cross
    monkeypatch.setattr(demean, "JOIN_MAX", 1)
    apart = hdfe.Demeaner(codes)
    assert len(apart._solver._joined) == 2 and len(apart._solver._cross) == 1
    np.testing.assert_allclose(joined(M, w)[0], apart(M, w)[0], atol=1e-10)


def test_warm_started_conjugate_gradients_equal_a_cold_solve() -> None:
    """Warm: CG from the previous call's coefficients (trailing columns when fewer)."""
    codes, M, w = _schur_inputs(25)
    warm = hdfe.Demeaner(codes)
    warm(M, w)
    w2 = w * np.random.default_rng(9).uniform(0.9, 1.1, len(w))
    got, _ = warm(M, w2, warm=True)
    got_tail, _ = warm(M[:, 1:], w2 * 1.01, warm=True)
    np.testing.assert_allclose(got, hdfe.Demeaner(codes)(M, w2)[0], atol=1e-9)
    np.testing.assert_allclose(got_tail, hdfe.Demeaner(codes)(M[:, 1:], w2 * 1.01)[0], atol=1e-9)
