"""Few-cluster inference: wild cluster score bootstrap and randomisation inference.

Checked against an independent R implementation (``tests/reference/wild_score_bootstrap.R``:
glm, weighted least-squares projection, same weight matrix), against the package's own
analytic robust score test, by brute-force enumeration of a tiny randomisation
distribution with full refits, and by a reduced null simulation whose rejection rate must
fall in a binomial band.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.estimation.fit import fit
from cpcstats.estimation.score import score_test
from cpcstats.methods.randomization import (
    event_bin_regressors,
    multiset_permutations,
    n_assignments,
    randomization_score_test,
)
from cpcstats.methods.wild_bootstrap import (
    bootstrap_weights,
    score_contributions,
    score_statistics,
    wild_score_test,
)

REF = Path(__file__).parent / "reference"
CASES = {"post": (["post", "x"], ["post"]), "joint": (["post", "x"], ["post", "x"])}


def staggered_panel(
    n_units: int, n_periods: int, first: list[float], effect: float, seed: int, base: float = 0.5
) -> pd.DataFrame:
    """Poisson panel with unit and period effects; units 0..len(first)-1 adopt at ``first``."""
    rng = np.random.default_rng(seed)
    g = np.full(n_units, np.nan)
    g[: len(first)] = first
    alpha = rng.normal(0, 0.5, n_units)
    delta = rng.normal(0, 0.2, n_periods)
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(np.arange(n_periods), n_units)
    post = ((time >= g[unit]) & ~np.isnan(g[unit])).astype(float)
    x = rng.normal(size=len(unit))
    y = rng.poisson(np.exp(base + alpha[unit] + delta[time] + effect * post + 0.2 * x))
    return pd.DataFrame(
        {
            "unit": [f"u{i:02d}" for i in unit],
            "time": time,
            "first": g[unit],
            "post": post,
            "x": x,
            "y": y,
        }
    )


@pytest.fixture(scope="module")
def fixture() -> dict:
    return json.loads((REF / "fixtures" / "wild_score_bootstrap.json").read_text())


@pytest.mark.parametrize("case", list(CASES))
def test_wild_score_bootstrap_matches_r(fixture: dict, case: str) -> None:
    data = pd.read_csv(REF / "data" / "wild_score_panel.csv")
    w = pd.read_csv(REF / "data" / "wild_score_weights.csv").to_numpy()
    xnames, tested = CASES[case]
    ref = fixture[case]
    sc = score_contributions(
        data, yname="y", xnames=xnames, fe=["unit", "time"], cluster="unit", restriction=tested
    )
    scores = np.array(ref["scores"], dtype=float).reshape(sc.scores.shape)
    np.testing.assert_allclose(sc.scores, scores, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(score_statistics(sc.scores, w), ref["draws"], rtol=1e-8)
    r = wild_score_test(
        data,
        yname="y",
        xnames=xnames,
        fe=["unit", "time"],
        cluster="unit",
        restriction=tested,
        weight_matrix=w,
    )
    assert r.statistic == pytest.approx(ref["statistic"], rel=1e-8)
    assert r.p_analytic == pytest.approx(ref["p_analytic"], rel=1e-8)
    assert r.p_bootstrap == pytest.approx(ref["p_bootstrap"], abs=1e-12)
    assert r.weights == "given" and len(w) == r.B


def test_analytic_part_equals_package_score_test() -> None:
    """W (G-1)/G is the CR1 robust score statistic of cpcstats.score_test."""
    data = staggered_panel(30, 12, [3, 3, 5, 5, 7, 7, 9, 9], 0.2, seed=5)
    r = wild_score_test(
        data,
        yname="y",
        xnames=["post", "x"],
        fe=["unit", "time"],
        cluster="unit",
        restriction=["post"],
        B=99,
    )
    restricted = fit("y ~ x | unit + time", data, family="fe-poisson", cluster="unit")
    ref = score_test(restricted, ["post"])
    assert r.statistic * (r.n_clusters - 1) / r.n_clusters == pytest.approx(ref.statistic, rel=1e-8)
    assert r.p_analytic == pytest.approx(ref.p_value, rel=1e-8)


def test_linear_restriction_equals_reparametrised_names() -> None:
    """H0: b_post - b_x = 0 by matrix equals testing 'post' after regressing on post + x."""
    data = staggered_panel(30, 12, [3, 3, 5, 5, 7, 7], 0.3, seed=6)
    data["s"] = data["post"] + data["x"]
    by_matrix = wild_score_test(
        data,
        yname="y",
        xnames=["post", "x"],
        fe=["unit", "time"],
        cluster="unit",
        restriction=np.array([[1.0, -1.0]]),
        B=199,
        seed=2,
    )
    # b_post post + b_x x with b_post = b_x is g (post + x): the restricted model is y ~ s
    by_names = wild_score_test(
        data.assign(d=(data["post"] - data["x"]) / 2),
        yname="y",
        xnames=["d", "s"],
        fe=["unit", "time"],
        cluster="unit",
        restriction=["d"],
        B=199,
        seed=2,
    )
    assert by_matrix.statistic == pytest.approx(by_names.statistic, rel=1e-7)
    assert by_matrix.p_bootstrap == by_names.p_bootstrap


def test_wild_p_value_reproducible_for_a_seed() -> None:
    data = staggered_panel(20, 10, [3, 4, 5, 6, 7], 0.0, seed=8)
    kw = dict(
        yname="y", xnames=["post", "x"], fe=["unit", "time"], cluster="unit", restriction=["post"]
    )
    a = wild_score_test(data, **kw, B=499, seed=11)
    b = wild_score_test(data, **kw, B=499, seed=11)
    c = wild_score_test(data, **kw, B=499, seed=12)
    assert a.p_bootstrap == b.p_bootstrap
    assert a.statistic == c.statistic and a.B == 499 and a.seed == 11
    assert (bootstrap_weights(5, 3, "rademacher", 1) ** 2 == 1).all()
    assert len(np.unique(bootstrap_weights(5, 400, "webb", 1))) == 6


def test_wild_bootstrap_null_rejection_rate_in_band() -> None:
    """150 null draws, 12 clusters of which 5 treated, 5 % level: 2 <= rejections <= 16.

    Binomial(150, 0.05) (mean 7.5) falls outside [2, 16] with probability below 1 %, so a
    test that never rejects or is more than twice oversized fails.  Measured: 14 of 200
    draws with Webb weights (7 %), the analytic CR1 score test 10 of 200.
    """
    rejections = 0
    for seed in range(150):
        data = staggered_panel(12, 8, [2, 3, 4, 5, 6], 0.0, seed=100 + seed, base=1.0)
        r = wild_score_test(
            data,
            yname="y",
            xnames=["post", "x"],
            fe=["unit", "time"],
            cluster="unit",
            restriction=["post"],
            B=199,
            seed=seed,
            weights="webb",
        )
        rejections += r.p_bootstrap < 0.05
    assert 2 <= rejections <= 16


def test_multiset_permutations_counts() -> None:
    values = [1, 1, 2, np.nan]
    perms = list(multiset_permutations(values))
    keys = {tuple("n" if pd.isna(v) else v for v in p) for p in perms}
    assert len(perms) == len(keys) == n_assignments(values) == 12


@pytest.mark.parametrize("scheme", ["treated", "all"])
def test_randomization_exact_p_value_by_enumeration(scheme: str) -> None:
    """Exact RI p-value equals a brute-force enumeration with full refits per assignment."""
    data = staggered_panel(6, 6, [2, 3, 3], 0.4, seed=3, base=1.0)
    ri = randomization_score_test(
        data,
        yname="y",
        idname="unit",
        tname="time",
        gname="first",
        fe=["unit", "time"],
        xnames=["x"],
        scheme=scheme,
        exact=True,
    )
    units = sorted(data["unit"].unique())
    timing = data.groupby("unit")["first"].max().reindex(units).to_numpy()
    movable = list(range(6)) if scheme == "all" else [0, 1, 2]
    restricted = fit("y ~ x | unit + time", data, family="fe-poisson", cluster="unit")
    stats_ = []
    for perm in multiset_permutations(list(timing[movable])):
        g = timing.copy()
        g[movable] = perm
        gm = data["unit"].map(dict(zip(units, g, strict=True)))
        d = data.assign(z=((data["time"] >= gm) & gm.notna()).astype(float))
        stats_.append(score_test(restricted, ["z"], data=d).statistic)
    observed = score_test(restricted, ["z"], data=data.assign(z=data["post"])).statistic
    expected = np.mean(np.array(stats_) >= observed * (1 - 1e-10))
    assert ri.exact and ri.n_assignments == len(stats_) == n_assignments(list(timing[movable]))
    assert ri.p_value == pytest.approx(expected, abs=1e-12)
    G = 6
    assert ri.statistic * (G - 1) / G == pytest.approx(observed, rel=1e-8)


def test_randomization_sampled_is_seeded_and_bins() -> None:
    data = staggered_panel(30, 12, [3, 3, 5, 5, 7, 7, 9, 9], 0.0, seed=9)
    kw = dict(yname="y", idname="unit", tname="time", gname="first", fe=["unit", "time"])
    a = randomization_score_test(data, **kw, B=199, seed=4, regressors=event_bin_regressors(2))
    b = randomization_score_test(data, **kw, B=199, seed=4, regressors=event_bin_regressors(2))
    assert a.p_value == b.p_value and a.names == ("e0", "e1", "e2+")
    assert set(a.per_term) == {"e0", "e1", "e2+"} and 1 / 200 <= a.p_value <= 1
    assert a.n_assignments == 199 and not a.exact


def test_without_fixed_effects_is_a_poisson_with_intercept() -> None:
    """fe=() (a yearly series): the analytic part equals the score test of a plain Poisson
    GLM with an intercept, clustered the same way."""
    data = staggered_panel(20, 10, [3, 4, 5, 6, 7, 8], 0.2, seed=21)
    r = wild_score_test(
        data, yname="y", xnames=["post", "x"], fe=[], cluster="unit", restriction=["post"], B=99
    )
    restricted = fit("y ~ x", data, family="poisson", cluster="unit")
    ref = score_test(restricted, ["post"])
    assert r.statistic * (r.n_clusters - 1) / r.n_clusters == pytest.approx(ref.statistic, rel=1e-7)
    ri = randomization_score_test(
        data, yname="y", idname="unit", tname="time", gname="first", fe=[], B=49, seed=1
    )
    assert 0 < ri.p_value <= 1


def test_dense_and_absorbed_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small FE are solved with dummies (dense IRLS), large ones absorbed (HDFE): same
    scores, so the switch at DENSE_LEVELS changes no result."""
    import cpcstats.methods.wild_bootstrap as wb

    data = staggered_panel(25, 10, [3, 3, 5, 6, 7, 8], 0.2, seed=31)
    kw = dict(yname="y", xnames=["post", "x"], fe=["unit", "time"], cluster="unit")
    dense = wb.score_contributions(data, **kw, restriction=["post"])
    monkeypatch.setattr(wb, "DENSE_LEVELS", 0)
    absorbed = wb.score_contributions(data, **kw, restriction=["post"])
    np.testing.assert_allclose(dense.scores, absorbed.scores, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dense.mu, absorbed.mu, rtol=1e-8)


def test_randomization_raw_score_statistic_exact() -> None:
    """statistic="score": S = sum_i z_i (y_i - mu0_i) (at the restricted MLE the FE part of
    z is orthogonal to the residuals), so the exact p is a plain count over assignments."""
    data = staggered_panel(6, 6, [2, 3, 3], 0.4, seed=3, base=1.0)
    ri = randomization_score_test(
        data,
        yname="y",
        idname="unit",
        tname="time",
        gname="first",
        fe=["unit", "time"],
        xnames=["x"],
        scheme="all",
        exact=True,
        statistic="score",
    )
    restricted = fit("y ~ x | unit + time", data, family="fe-poisson", cluster="unit")
    resid = data["y"] - restricted.fitted_values.reindex(data.index)
    units = sorted(data["unit"].unique())
    timing = data.groupby("unit")["first"].max().reindex(units).to_numpy()
    sums = []
    for perm in multiset_permutations(list(timing)):
        gm = data["unit"].map(dict(zip(units, perm, strict=True)))
        z = ((data["time"] >= gm) & gm.notna()).astype(float)
        sums.append(float((z * resid).fillna(0).sum()))
    observed = float((data["post"] * resid).fillna(0).sum())
    expected = np.mean(np.array(sums) ** 2 >= observed**2 * (1 - 1e-9))
    assert ri.per_term["post"][0] == pytest.approx(observed**2, rel=1e-6)
    assert ri.p_value == pytest.approx(expected, abs=1e-12)
