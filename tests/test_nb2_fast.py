"""The glm.nb-style NB2 fit gives statsmodels' estimates and alpha standard error.

Why: ``fit_negbin`` no longer calls statsmodels' Newton first; the alternation must land
on the same maximum (to 1e-8) and report the same standard error of alpha (the inverse
observed information), and hand over to the general optimiser at the boundary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cpcstats
from cpcstats.estimation import families, nb2
from cpcstats.estimation.base import ModelData


def _data(n: int, alpha: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.binomial(1, 0.4, n)])
    mu = np.exp(X @ np.array([0.3, 0.4, -0.3]))
    off = rng.uniform(-0.2, 0.2, n)
    mu = mu * np.exp(off)
    y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)).astype(float)
    return y, X, off


def _reference(y: np.ndarray, X: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, float]:
    res = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=off).fit(
        method="newton", maxiter=300, disp=0, gtol=1e-12, tol=1e-14
    )
    return np.asarray(res.params), float(np.sqrt(np.diag(res.cov_params()))[-1])


@pytest.mark.parametrize(("n", "alpha", "seed"), [(400, 0.7, 1), (3000, 2.5, 2), (5000, 0.05, 3)])
def test_nb2_alternation_equals_statsmodels(n: int, alpha: float, seed: int) -> None:
    y, X, off = _data(n, alpha, seed)
    ref, ref_se = _reference(y, X, off)
    beta, a, a_se, converged, notes = families._nb2_ml(
        ModelData(y=y, X=X, x_names=["c", "x1", "x2"], offset=off)
    )
    assert converged and not notes
    np.testing.assert_allclose(beta, ref[:-1], atol=1e-8)
    assert a == pytest.approx(ref[-1], abs=1e-8)
    assert a_se == pytest.approx(ref_se, rel=1e-6)
    fast = nb2.fit_nb2_alternating(y, X, off, np.zeros(3))  # used, not declined
    assert fast is not None and fast.alpha == pytest.approx(a, abs=1e-10)


def test_histogram_sums_equal_special_functions() -> None:
    """The digamma sums by histogram equal scipy's digamma/trigamma differences."""
    y, _, _ = _data(800, 1.2, 4)
    sums = nb2._CountSums(y)
    assert sums.integer
    plain = nb2._CountSums(y + 0.0)
    plain.integer = False  # force the special-function route
    for t in (0.3, 2.0, 40.0):
        assert sums.digamma(t) == pytest.approx(plain.digamma(t), rel=1e-12)
        assert sums.trigamma(t) == pytest.approx(plain.trigamma(t), rel=1e-10)


def test_boundary_is_left_to_the_general_optimiser() -> None:
    """Poisson data: theta runs off to infinity, the fast path declines (None)."""
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(2000), rng.normal(size=2000)])
    y = rng.poisson(np.exp(X @ np.array([0.5, 0.3]))).astype(float)
    start = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]
    assert nb2.fit_nb2_alternating(y, X, np.zeros(2000), start) is None
    res = cpcstats.fit("y ~ x", pd.DataFrame({"y": y, "x": X[:, 1]}), family="negbin")
    assert res.core.alpha < 1e-3  # the general optimiser's boundary answer


# ------------------------------------------------------------------ the design fast path
DESIGN_FORMULAS = [
    "y ~ x1 + x2 + x3",
    "y ~ x1 * x2",
    "y ~ x1:x2:x3 + x3",
    "y ~ 0 + x1 + k",
    "y ~ x1 - 1",
    "y ~ k + x2:k",
    "y ~ C(g) + x1",  # categorical: patsy
    "y ~ flag + x1",  # bool: categorical in patsy
    "y ~ I(x1 ** 2) + np.log(x3)",  # transforms: patsy
    "y ~ x1 + g:x2",
]


def _design_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.poisson(2.0, n).astype(float),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n) * 1e3,
            "x3": rng.uniform(0.1, 5.0, n),
            "k": rng.integers(0, 9, n),
            "g": rng.choice(["a", "b", "c"], n).astype(object),
            "flag": rng.random(n) < 0.5,
        },
        index=pd.RangeIndex(100, 100 + n),
    )


@pytest.mark.parametrize("formula", DESIGN_FORMULAS)
def test_design_fast_path_equals_patsy_exactly(formula: str) -> None:
    import patsy

    from cpcstats.estimation import design
    from cpcstats.formula import FORMULA_NAMESPACE

    spec = type("Spec", (), {"name": "m", "source": None})()
    for seed in (1, 2):  # the second build of a formula comes from the cache
        frame = _design_frame(300, seed)
        got, info = design._matrices(formula, frame, spec)
        _, want = patsy.dmatrices(
            formula,
            frame,
            return_type="dataframe",
            NA_action="raise",
            eval_env=patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)]),
        )
        assert list(got.columns) == list(want.columns)
        assert info.column_names == want.design_info.column_names
        assert [t.name() for t in info.terms] == [t.name() for t in want.design_info.terms]
        pd.testing.assert_index_equal(got.index, want.index)
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())  # bit for bit


def test_design_fast_path_is_taken_only_for_numeric_columns() -> None:
    from cpcstats.estimation import design

    frame = _design_frame(50, 3)
    assert design._numeric_infos("y ~ x1 * x2 + k", frame) is not None
    for formula in ("y ~ C(g) + x1", "y ~ flag", "y ~ np.log(x3)", "np.log1p(y) ~ x1"):
        assert design._numeric_infos(formula, frame) is None


@pytest.mark.parametrize("where", [0, 200])  # in the rows patsy sees, and past them
@pytest.mark.parametrize("column", ["y", "x2"])
def test_design_fast_path_missing_values_raise_as_patsy(where: int, column: str) -> None:
    from cpcstats.errors import SpecError
    from cpcstats.estimation import design

    spec = type("Spec", (), {"name": "m", "source": None})()
    frame = _design_frame(300, 4)
    frame.loc[frame.index[where], column] = np.nan
    with pytest.raises(SpecError, match=r"cannot be built: .*missing values"):
        design._matrices("y ~ x1 + x2", frame, spec)


def _zero_heavy(n: int, alpha: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts like the party-year panels': mean about 0.25, alpha about 5, ~90 % zeros."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.binomial(1, 0.2, n), rng.normal(size=n)])
    mu = np.exp(X @ np.array([-1.8, 1.0, 0.3]))
    y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)).astype(float)
    return y, X, np.zeros(n)


@pytest.mark.parametrize(("alpha", "seed"), [(5.0, 11), (12.0, 12), (2.0, 13)])
def test_strong_overdispersion_takes_the_fast_path_to_statsmodels_optimum(
    alpha: float, seed: int
) -> None:
    """Where the log-likelihood is not concave in log theta above its maximum (theta well
    below 1), plain Newton on theta oscillated and the fast path declined every time; the
    bracketed step must converge to statsmodels' optimum."""
    y, X, off = _zero_heavy(20_000, alpha, seed)
    assert (y == 0).mean() > 0.8
    ref, ref_se = _reference(y, X, off)
    start, _, _ = families._poisson_irls(y, X, off, None, tol=1e-8)
    fast = nb2.fit_nb2_alternating(y, X, off, start)
    assert fast is not None, "declined: the caller would fall back to statsmodels"
    np.testing.assert_allclose(fast.beta, ref[:-1], atol=1e-8)
    assert fast.alpha == pytest.approx(ref[-1], rel=1e-8)
    assert fast.alpha_se == pytest.approx(ref_se, rel=1e-6)


def test_theta_step_reaches_the_profile_maximum_from_far_above() -> None:
    y, X, off = _zero_heavy(20_000, 5.0, 14)
    start, _, _ = families._poisson_irls(y, X, off, None, tol=1e-8)
    mu = np.exp(X @ start)
    sums = nb2._CountSums(y)
    for t0 in (1.0, 50.0, 0.01):
        t = nb2._theta_step(sums, y, mu, t0)
        score, hess = nb2._theta_derivatives(sums, y, mu, t)
        assert abs(score) < 1e-6 * len(y) and hess < 0, (t0, t, score)
