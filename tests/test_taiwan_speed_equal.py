"""The fast wild-bootstrap algebra equals the old dense computation it replaced.

Why: `cpcstats.methods.wild_bootstrap` once formed the dense design ``F = [1, FE dummies,
X]`` and solved ``F'WF`` by dense GEMMs in every IRLS step and for every block of score
columns (seconds for the Taiwan design's 183 countries); it now keeps the dummies as
group sums (`_DummyDesign`), partials many columns at once through ``C'RF (F'WF)^-1``,
sums by cluster with a sparse product and applies the pseudo-inverse in the eigenbasis.
The reference functions below are the old code, kept short: each new path must agree with
them to 1e-12 on inputs with unequal and singleton clusters, weights, few clusters (6)
and a singular score variance, and the bootstrap and randomisation p-values, which count
draws, must be identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cpcstats.methods.randomization as rz
import cpcstats.methods.wild_bootstrap as wb

TOL = 1e-12


# --- the old code (reference) -----------------------------------------------------------


def ref_dummies(codes: list[np.ndarray]) -> np.ndarray:
    cols = [np.ones((len(codes[0]), 1))]
    for c in codes:
        cols.append(np.eye(int(c.max()) + 1)[c][:, 1:])
    return np.column_stack(cols)


def ref_wls(F: np.ndarray, w: np.ndarray, Z: np.ndarray) -> np.ndarray:
    Fw = F * w[:, None]
    A, b = Fw.T @ F, Fw.T @ Z
    try:
        from scipy import linalg

        return linalg.solve(A, b, assume_a="pos")
    except (np.linalg.LinAlgError, ValueError):
        return np.linalg.pinv(A, hermitian=True) @ b


def ref_dense_poisson(y: np.ndarray, F: np.ndarray) -> np.ndarray:
    mu = (y + y.mean()) / 2
    eta, dev_old = np.log(mu), np.inf
    for _ in range(200):
        eta = F @ ref_wls(F, mu, eta + (y - mu) / mu)
        mu = np.exp(np.clip(eta, -700, 700))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < 1e-14:
            return mu
        dev_old = dev
    raise AssertionError("reference IRLS did not converge")


def ref_project_scores(y, mu, X, Z, codes, cluster) -> np.ndarray:
    F = np.column_stack([ref_dummies(codes), X])
    Zt = Z - F @ ref_wls(F, mu, Z)
    summed = np.zeros((int(cluster.max()) + 1, Z.shape[1]))
    np.add.at(summed, cluster, Zt * (y - mu)[:, None])
    return summed


def ref_score_statistics(s: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    w = np.ones((1, s.shape[0])) if w is None else w
    S = w @ s
    if s.shape[1] == 1:
        V = (w**2) @ (s[:, 0] ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(V > 0, S[:, 0] ** 2 / V, 0.0)
    V = np.einsum("bg,gi,gj->bij", w**2, s, s)
    return np.einsum("bi,bij,bj->b", S, np.linalg.pinv(V, rcond=1e-10, hermitian=True), S)


# --- inputs ------------------------------------------------------------------------------


def unbalanced(seed: int, n_units: int = 14, n_periods: int = 9) -> dict:
    """An unbalanced panel: unequal unit sizes, a unit seen once, clusters coarser than
    units (6), positive weights, two regressors and 12 score columns."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, n_periods + 1, n_units)
    sizes[0] = n_periods  # every period seen by unit 0 (no period dummy = a unit dummy)
    sizes[3] = 1  # a singleton unit (and cluster)
    unit = np.repeat(np.arange(n_units), sizes)
    time = np.concatenate([np.sort(rng.choice(n_periods, k, replace=False)) for k in sizes])
    _, time = np.unique(time, return_inverse=True)
    n = len(unit)
    cluster = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 4, 5, 0, 1, 2])[unit]
    order = rng.permutation(n)  # rows in no particular order
    X = rng.normal(size=(n, 2))
    eta = 0.3 + 0.4 * rng.normal(size=n_units)[unit] + 0.2 * X[:, 0]
    y = rng.poisson(np.exp(eta)).astype(float)
    first_rows = np.r_[0, np.cumsum(sizes)[:-1]]
    Z = (rng.uniform(size=(n, 12)) < 0.3) + rng.normal(size=(n, 12))
    y[first_rows] = np.maximum(y[first_rows], 1)  # no unit of zeros (its FE would be -inf)
    return {
        "y": y[order],
        "w": rng.uniform(0.2, 3.0, n)[order],
        "X": X[order],
        "Z": Z[order],
        "codes": [unit[order], time[order]],
        "cluster": cluster[order],
    }


def close(new: np.ndarray, old: np.ndarray) -> None:
    scale = max(1.0, float(np.abs(old).max()))
    np.testing.assert_allclose(new, old, rtol=TOL, atol=TOL * scale)


# --- the pieces --------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "flip"), [(1, False), (2, False), (3, True)])
def test_dummy_design_products_equal_the_dense_design(seed: int, flip: bool) -> None:
    """``flip``: the larger FE (eliminated first in the solve) is the second one."""
    d = unbalanced(seed)
    codes = d["codes"][::-1] if flip else d["codes"]
    F = wb._DummyDesign(codes, d["X"])
    dense = np.column_stack([ref_dummies(codes), d["X"]])
    w, Z = d["w"], d["Z"]
    close(F.gram(w), (dense * w[:, None]).T @ dense)
    close(F.tdot(Z, w), (dense * w[:, None]).T @ Z)
    coef = np.random.default_rng(seed).normal(size=(dense.shape[1], 3))
    close(F.dot(coef), dense @ coef)
    close(F.wls(w, Z), ref_wls(dense, w, Z))
    close(F.wls(w, Z[:, 0]), ref_wls(dense, w, Z[:, 0]))  # a vector stays a vector


def test_collinear_dummies_fall_back_to_the_pseudo_inverse_with_the_same_fit() -> None:
    d = unbalanced(4)
    X = np.column_stack([d["X"], d["codes"][1] == 2])  # a copy of a period dummy
    F = wb._DummyDesign(d["codes"], X)
    dense = np.column_stack([ref_dummies(d["codes"]), X])
    close(F.dot(F.wls(d["w"], d["Z"])), dense @ ref_wls(dense, d["w"], d["Z"]))


def test_codes_with_an_empty_level_give_the_old_fit() -> None:
    """Codes that skip a level (a zero dummy column): the singular cross-product falls back
    to the pseudo-inverse, as the dense solve did, instead of dividing by a zero total."""
    d = unbalanced(10)
    unit = d["codes"][0] + (d["codes"][0] >= 5)  # level 5 has no row
    F = wb._DummyDesign([unit, d["codes"][1]], d["X"])
    dense = np.column_stack([ref_dummies([unit, d["codes"][1]]), d["X"]])
    fitted = F.dot(F.wls(d["w"], d["Z"]))
    assert np.isfinite(fitted).all()
    close(fitted, dense @ ref_wls(dense, d["w"], d["Z"]))


@pytest.mark.parametrize("columns", [3, 12])  # fewer, and more, columns than the 6 clusters
def test_project_scores_equal_the_old_dense_partialling(columns: int) -> None:
    d = unbalanced(5)
    mu = ref_dense_poisson(d["y"], np.column_stack([ref_dummies(d["codes"]), d["X"]]))
    args = (d["y"], mu, d["X"], d["Z"][:, :columns], d["codes"], d["cluster"])
    new, old = wb.project_scores(*args), ref_project_scores(*args)
    assert new.shape == (6, columns)
    close(new, old)


def test_project_scores_of_the_absorbed_path_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    d = unbalanced(6)
    mu = ref_dense_poisson(d["y"], np.column_stack([ref_dummies(d["codes"]), d["X"]]))
    args = (d["y"], mu, d["X"], d["Z"], d["codes"], d["cluster"])
    monkeypatch.setattr(wb, "DENSE_LEVELS", 0)  # the alternating-projection demeaner
    np.testing.assert_allclose(wb.project_scores(*args), ref_project_scores(*args), atol=1e-8)


@pytest.mark.parametrize("seed", [7, 8])
def test_restricted_fit_equals_the_old_dense_irls(seed: int) -> None:
    d = unbalanced(seed)
    mu, keep, active = wb.restricted_fit(d["y"], d["X"], d["codes"])
    kc = [np.unique(c[keep], return_inverse=True)[1] for c in d["codes"]]
    old = ref_dense_poisson(d["y"][keep], np.column_stack([ref_dummies(kc), d["X"][keep]]))
    assert active == [0, 1]
    np.testing.assert_allclose(mu, old, rtol=TOL)


@pytest.mark.parametrize("q", [1, 3])
def test_score_statistics_equal_the_old_pseudo_inverse(q: int) -> None:
    rng = np.random.default_rng(q)
    s = rng.normal(size=(6, q)) * rng.uniform(0.1, 10, size=(6, 1))
    w = wb.bootstrap_weights(6, 499, "webb", seed=3)
    close(wb.score_statistics(s), ref_score_statistics(s))
    close(wb.score_statistics(s, w), ref_score_statistics(s, w))
    if q == 1:  # the one-column formula is the old one, to the bit
        assert np.array_equal(wb.score_statistics(s, w), ref_score_statistics(s, w))


def test_score_statistics_with_a_singular_variance() -> None:
    """A repeated score column and a zero draw: the pseudo-inverse drops the null
    direction as before, and a draw whose variance is zero gets W* = 0."""
    rng = np.random.default_rng(9)
    s = rng.normal(size=(6, 2))
    s = np.column_stack([s, s[:, 0]])
    w = np.vstack([wb.bootstrap_weights(6, 50, "rademacher", seed=1), np.zeros((1, 6))])
    new = wb.score_statistics(s, w)
    close(new, ref_score_statistics(s, w))
    assert new[-1] == 0.0


def test_pinv_quadratic_equals_numpys_pseudo_inverse() -> None:
    """Batched S' V^+ S: full-rank, rank-1 and zero V, as ``numpy.linalg.pinv``."""
    rng = np.random.default_rng(21)
    A = rng.normal(size=(3, 4, 4))
    V = A @ np.swapaxes(A, 1, 2)
    V[1] = np.outer(A[1, 0], A[1, 0])
    V[2] = 0.0
    S = rng.normal(size=(3, 4))
    want = np.einsum("bi,bij,bj->b", S, np.linalg.pinv(V, rcond=1e-10, hermitian=True), S)
    close(wb.pinv_quadratic(S, V), want)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([10, 9, 10, 2, 9]),  # text order: "10" < "2" < "9"
        pd.Series(["b", "B", "a", "b"], dtype=object),
        pd.Series([1.5, 10.0, 1.5, 0.25]),
        pd.Series(pd.Categorical(["z", "y", "z"], categories=["z", "y", "x"])),
        pd.Series(["x", "1", 1], dtype=object),  # 1 and "1" are one label as text
    ],
)
def test_string_codes_equal_unique_of_the_text(values: pd.Series) -> None:
    labels, codes = wb._string_codes(values)
    want_labels, want_codes = np.unique(values.astype(str).to_numpy(), return_inverse=True)
    assert list(labels) == list(want_labels)
    assert np.array_equal(codes, want_codes)


def test_seeded_weights_are_the_seeds_draw_and_a_fresh_copy_each_call() -> None:
    want = wb.draw_weights(np.random.default_rng(17), 40, 6, "webb")
    first = wb.bootstrap_weights(6, 40, "webb", seed=17)
    assert np.array_equal(first, want)
    first[:] = 0.0  # a caller may write into its copy
    assert np.array_equal(wb.bootstrap_weights(6, 40, "webb", seed=17), want)
    assert not np.array_equal(wb.bootstrap_weights(6, 40, "webb", seed=18), want)
    unseeded = [wb.bootstrap_weights(6, 40, "webb", seed=None) for _ in range(2)]
    assert not np.array_equal(*unseeded)


# --- whole tests: identical p-values ----------------------------------------------------


def staggered(seed: int, n_units: int = 12, n_periods: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = np.full(n_units, np.nan)
    first[:6] = [2, 3, 3, 5, 6, 6]
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(np.arange(n_periods), n_units)
    post = ((time >= first[unit]) & ~np.isnan(first[unit])).astype(float)
    x = rng.normal(size=len(unit))
    mean = np.exp(0.4 + rng.normal(0, 0.5, n_units)[unit] + 0.3 * post + 0.2 * x)
    frame = pd.DataFrame(
        {
            "unit": [f"u{i:02d}" for i in unit],
            "time": time,
            "first": first[unit],
            "post": post,
            "x": x,
            "y": rng.poisson(mean),
        }
    )
    return frame.drop(index=rng.choice(len(frame), 10, replace=False))  # unbalanced


def old_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the reference functions where the tests call them."""
    monkeypatch.setattr(wb, "score_statistics", ref_score_statistics)
    monkeypatch.setattr(wb, "project_scores", ref_project_scores)
    monkeypatch.setattr(wb, "_DummyDesign", lambda codes, X: _DenseF(codes, X))
    monkeypatch.setattr(rz, "score_statistics", ref_score_statistics)
    monkeypatch.setattr(rz, "project_scores", ref_project_scores)


class _DenseF:
    """The old dense design behind the new design's interface (for the restricted fit)."""

    def __init__(self, codes: list[np.ndarray], X: np.ndarray) -> None:
        self.F = np.column_stack([ref_dummies(codes), X])

    def wls(self, w: np.ndarray, Z: np.ndarray) -> np.ndarray:
        return ref_wls(self.F, w, Z)

    def dot(self, coef: np.ndarray) -> np.ndarray:
        return self.F @ coef


@pytest.mark.parametrize(
    ("restriction", "weights"), [(["post"], "webb"), (["post", "x"], "rademacher")]
)
def test_wild_score_test_p_values_identical_to_the_old_code(
    monkeypatch: pytest.MonkeyPatch, restriction: list[str], weights: str
) -> None:
    data = staggered(11)
    kw = dict(
        yname="y", xnames=["post", "x"], fe=["unit", "time"], cluster="unit",
        restriction=restriction, B=999, weights=weights, seed=5,
    )  # fmt: skip
    new = wb.wild_score_test(data, **kw)
    with monkeypatch.context() as m:
        old_code(m)
        old = wb.wild_score_test(data, **kw)
    assert new.p_bootstrap == old.p_bootstrap
    assert 0 < new.p_bootstrap < 1
    assert new.statistic == pytest.approx(old.statistic, rel=TOL)
    assert new.p_analytic == pytest.approx(old.p_analytic, rel=1e-10)


def test_randomization_p_values_identical_to_the_old_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of many assignments take the ``C'RF (F'WF)^-1`` order, the observed scores
    the direct one: the p-values (ties included) are those of the old code."""
    data = staggered(12)
    names, build = rz.event_bin_regressors(2)
    kw = dict(
        yname="y", idname="unit", tname="time", gname="first", fe=["unit", "time"],
        xnames=["x"], regressors=(names, build), B=300, seed=2,
    )  # fmt: skip
    new = rz.randomization_score_test(data, **kw)
    with monkeypatch.context() as m:
        old_code(m)
        old = rz.randomization_score_test(data, **kw)
    assert new.p_value == old.p_value
    assert {k: p for k, (_, p) in new.per_term.items()} == {
        k: p for k, (_, p) in old.per_term.items()
    }
    close(new.draws, old.draws)
