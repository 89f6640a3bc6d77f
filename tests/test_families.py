"""Families beyond the R-referenced ones: bootstrap, linear FE, flags, specification keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cpcstats
from cpcstats import SpecError, fit
from cpcstats.spec import spec_from_dict


@pytest.fixture(scope="module")
def clustered() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    units, periods = 60, 8
    unit = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    x = rng.normal(size=units * periods)
    u = rng.normal(0, 0.4, units)[unit]
    y = rng.poisson(np.exp(0.2 + 0.5 * x + u))
    return pd.DataFrame({"y": y, "x": x, "unit": unit, "t": t, "country": unit // 3})


def test_cluster_bootstrap_is_seeded_and_close_to_the_sandwich(clustered: pd.DataFrame) -> None:
    kw = {"family": "poisson", "cluster": "unit"}
    sandwich = fit("y ~ x", clustered, **kw)
    boot = fit("y ~ x", clustered, se="bootstrap", bootstrap_reps=200, seed=7, **kw)
    again = fit("y ~ x", clustered, se="bootstrap", bootstrap_reps=200, seed=7, **kw)
    other = fit("y ~ x", clustered, se="bootstrap", bootstrap_reps=200, seed=8, **kw)
    assert boot.std_errors.equals(again.std_errors)
    assert not boot.std_errors.equals(other.std_errors)
    ratio = boot.std_errors / sandwich.std_errors
    assert ((ratio > 0.75) & (ratio < 1.25)).all(), ratio
    assert "bootstrap" in boot.se_description and "200 replications" in boot.se_description
    assert boot.params.equals(sandwich.params)


def test_bootstrap_keeps_crossed_fixed_effects(clustered: pd.DataFrame) -> None:
    m = fit(
        "y ~ x | unit + t",
        clustered,
        family="fe-poisson",
        cluster="country",
        se="bootstrap",
        bootstrap_reps=50,
        seed=1,
    )
    s = fit("y ~ x | unit + t", clustered, family="fe-poisson", cluster="country")
    assert 0.6 < float(m.std_errors["x"] / s.std_errors["x"]) < 1.6


def test_ols_fe_equals_dummy_variable_ols(clustered: pd.DataFrame) -> None:
    m = fit("y ~ x | unit + t", clustered, family="ols-fe", cluster="unit")
    X = pd.get_dummies(clustered[["unit", "t"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "x", clustered["x"])
    ref = sm.OLS(np.log1p(clustered["y"]), sm.add_constant(X)).fit()
    assert m.params["x"] == pytest.approx(ref.params["x"], rel=1e-8)
    assert m.n_clusters == 60
    assert list(m.params.index) == ["x"]


def test_diverging_coefficients_are_flagged() -> None:
    rng = np.random.default_rng(2)
    x = np.r_[np.zeros(100), np.ones(100)]
    y = np.r_[rng.poisson(1.0, 100), np.zeros(100)]  # x = 1 predicts zero perfectly
    m = fit("y ~ x", pd.DataFrame({"y": y, "x": x}), family="poisson")
    assert any("separation" in w for w in m.warnings)


def test_fe_poisson_drops_separated_observations() -> None:
    rng = np.random.default_rng(3)
    n = 300
    g = rng.integers(0, 20, n)
    d = (rng.random(n) < 0.2).astype(float)
    x = rng.normal(size=n)
    y = np.where(d == 1, 0, rng.poisson(np.exp(0.3 + 0.4 * x)))
    frame = pd.DataFrame({"y": y, "x": x, "d": d, "g": g})
    m = fit("y ~ x + d | g", frame, family="fe-poisson")
    assert m.sample is not None
    assert m.sample.dropped["separated observations (zero outcome predicted perfectly)"] == int(
        (d == 1).sum()
    )
    assert "d" not in m.params.index
    assert any("omitted" in w for w in m.warnings)
    assert m.params["x"] == pytest.approx(0.4, abs=0.15)
    assert m.sample.rows_in == m.sample.rows_out + sum(m.sample.dropped.values())


@pytest.mark.parametrize(
    ("entry", "column"),
    [
        ({"family": "zinb"}, "inflation"),
        ({"family": "negbin", "inflation": "x"}, "inflation"),
        ({"family": "fe-poisson"}, "formula"),
        ({"family": "gee-poisson", "correlation": "toeplitz"}, "correlation"),
        ({"family": "poisson", "se": "bootstrap"}, "cluster"),
        ({"family": "poisson", "bootstrap_reps": 1}, "bootstrap_reps"),
        ({"family": "poisson", "exposure": "months", "offset": "x"}, "exposure"),
        ({"family": "poisson", "exposure": "log(months)"}, "exposure"),
    ],
)
def test_spec_keys_are_checked(entry: dict, column: str) -> None:
    base = {"name": "m", "level": "party-year", "formula": "contacts ~ x"}
    with pytest.raises(SpecError) as info:
        spec_from_dict({**base, **entry})
    assert info.value.column == column


def test_every_family_runs_on_the_demo() -> None:
    """Acceptance: `cpcstats fit` runs every family on the demo study."""
    study = cpcstats.load_study("demo")
    panels = {
        "party-year": cpcstats.party_year(study),
        "country-year": cpcstats.country_year(study),
    }
    specs = [s for s in cpcstats.load_specs("models/families.toml")]
    families = {s.family for s in specs}
    from cpcstats.estimation.families import FAMILIES

    assert families == set(FAMILIES)
    for spec in specs:
        m = fit(spec, panels[spec.level])
        assert m.nobs > 1000 and np.isfinite(m.params).all(), spec.name
        record = m.to_record()
        assert record["family"] == spec.family and record["terms"]


def test_negbin_on_underdispersed_series_is_flagged_not_an_error() -> None:
    rng = np.random.default_rng(5)
    years = np.arange(2002, 2013)
    frame = pd.DataFrame(
        {
            "y": 180 + rng.integers(-5, 6, len(years)),
            "trend": years - 2010,
            "post": (years >= 2010).astype(int),
        }
    )
    m = fit("y ~ trend + post", frame, family="negbin", se="hc1")
    assert m.alpha is not None and m.alpha < 1e-4
    assert any("boundary" in w for w in m.warnings)


def test_fe_poisson_omits_terms_made_collinear_by_separation() -> None:
    rng = np.random.default_rng(9)
    n = 400
    g = rng.integers(0, 20, n)
    x = rng.normal(size=n)
    a = (rng.random(n) < 0.15).astype(float)
    b = rng.integers(0, 2, n).astype(float)
    y = np.where(a == 1, 0, rng.poisson(np.exp(0.2 + 0.4 * x + 0.3 * b)))
    c = np.where(a == 1, rng.normal(size=n), b)  # equals b except where a = 1
    frame = pd.DataFrame({"y": y, "x": x, "a": a, "b": b, "c": c, "g": g})
    # a separates (y = 0 whenever a = 1); once those rows go, c == b: collinear
    m = fit("y ~ x + a + b + c | g", frame, family="fe-poisson")
    assert "x" in m.params.index and m.params["x"] == pytest.approx(0.4, abs=0.15)
    assert any("omitted" in w for w in m.warnings)
    assert "a" not in m.params.index
    assert len(m.params) == 2  # x and one of b, c
    assert m.sample is not None and m.sample.dropped[
        "separated observations (zero outcome predicted perfectly)"
    ] == int(a.sum())


@pytest.mark.parametrize("connected", [True, False])
def test_exact_two_way_demeaning_equals_alternating_projections(
    connected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Schur-complement two-way within transformation equals the iterated projections
    (weighted, unbalanced, and with two disconnected groups of units and years)."""
    from cpcstats.estimation import hdfe

    rng = np.random.default_rng(11)
    n = 600
    unit = rng.integers(0, 60, n)
    year = rng.integers(0, 12, n)
    if not connected:  # units 0-29 only in years 0-5, units 30-59 only in years 6-11
        year = np.where(unit < 30, year % 6, 6 + year % 6)
    M = rng.normal(size=(n, 3))
    w = rng.gamma(2.0, 1.0, n)
    exact = hdfe.Demeaner([unit, year])
    assert exact.exact
    monkeypatch.setattr(hdfe, "EXACT_TWO_WAY_MAX", 0)
    iterative = hdfe.Demeaner([unit, year])
    assert not iterative.exact
    r_exact, _ = exact(M, w)
    r_map, _ = iterative(M, w, tol=1e-14)
    np.testing.assert_allclose(r_exact, r_map, atol=1e-9)
    # the residual is orthogonal (in the weighted metric) to every unit and year indicator
    for codes in (unit, year):
        sums = np.zeros((codes.max() + 1, 3))
        np.add.at(sums, codes, r_exact * w[:, None])
        np.testing.assert_allclose(sums, 0.0, atol=1e-9)
