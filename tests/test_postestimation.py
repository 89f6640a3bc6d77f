"""Post-estimation: Wald tests, predictions and marginal effects against statsmodels,
hand computations and simulation; clear errors for user mistakes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
from scipy import special

import cpcstats
from cpcstats import EstimationError, SpecError, fit
from cpcstats.estimation.postestimation import (
    WaldTest,
    estimation_sample,
    marginal_effects,
    predict,
    predict_profiles,
    wald_test,
)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    rng = np.random.default_rng(20240611)
    n = 900
    g = rng.integers(0, 40, n)
    x = rng.normal(size=n)
    w = rng.normal(size=n)
    d = rng.integers(0, 2, n)
    f = rng.choice(["a", "b", "c"], n)
    expo = rng.uniform(0.5, 2.0, n)
    eta = 0.2 + 0.5 * x - 0.2 * w - 0.4 * d + 0.3 * (f == "b") - 0.5 * (f == "c") + 0.3 * x * d
    y = rng.poisson(np.exp(eta + rng.normal(0, 0.3, 40)[g]))
    return pd.DataFrame(
        {"y": y, "x": x, "w": w, "d": d, "f": f, "g": g, "t": rng.integers(0, 6, n), "e": expo}
    )


def _sm_glm(formula: str, df: pd.DataFrame, **kw: object) -> tuple[object, object]:
    y, X = patsy.dmatrices(formula, df, return_type="dataframe")
    return sm.GLM(y, X, family=sm.families.Poisson()).fit(**kw), X.design_info


# --------------------------------------------------------------------------- Wald
def test_wald_one_term_is_squared_z(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + d + C(f)", sim, family="poisson", cluster="g")
    test = wald_test(m, "x")
    assert isinstance(test, WaldTest)
    assert test.terms == ("x",) and test.df == 1
    assert test.statistic == pytest.approx(m.tvalues["x"] ** 2, rel=1e-12)
    assert test.p_value == pytest.approx(m.pvalues["x"], rel=1e-9)


def test_wald_joint_is_hand_computation_and_pattern_selects_terms(sim: pd.DataFrame) -> None:
    m = fit("y ~ x * d + C(f)", sim, family="poisson", cluster="g")
    test = wald_test(m, "C(f)")
    assert test.terms == ("C(f)[T.b]", "C(f)[T.c]") and test.df == 2
    b = m.params[list(test.terms)].to_numpy()
    V = m.vcov.loc[list(test.terms), list(test.terms)].to_numpy()
    assert test.statistic == pytest.approx(b @ np.linalg.inv(V) @ b, rel=1e-10)
    # substring selects main effect and interaction; exact names win over substrings
    assert wald_test(m, "d").terms == ("d",)
    assert wald_test(m, ["x:d", "C(f)[T.c]"]).terms == ("C(f)[T.c]", "x:d")
    both = wald_test(m, ["x", "C(f)"], values={"x": 0.5})
    assert both.values == (0.0, 0.0, 0.5)
    record = both.to_dict()
    assert record["df"] == 3 and record["terms"] == list(both.terms)
    assert "chi2(3)" in str(both) and "x = 0.5" in str(both)


def test_wald_matches_statsmodels_cluster(sim: pd.DataFrame) -> None:
    formula = "y ~ x + w + d + C(f)"
    m = fit(formula, sim, family="poisson", cluster="g")
    ref, _ = _sm_glm(formula, sim, cov_type="cluster", cov_kwds={"groups": sim["g"].to_numpy()})
    np.testing.assert_allclose(m.vcov.to_numpy(), ref.cov_params().to_numpy(), rtol=1e-8)
    names = list(ref.params.index)
    for terms, values in ((["C(f)[T.b]", "C(f)[T.c]"], [0.0, 0.0]), (["x", "w"], [0.5, -0.1])):
        R = np.zeros((len(terms), len(names)))
        for i, t in enumerate(terms):
            R[i, names.index(t)] = 1.0
        expected = ref.wald_test((R, np.array(values)), scalar=True, use_f=False)
        ours = wald_test(m, terms, values=values)
        assert ours.statistic == pytest.approx(float(expected.statistic), rel=1e-8)
        assert ours.p_value == pytest.approx(float(expected.pvalue), rel=1e-6)


def test_wald_unknown_term_lists_available(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + d", sim, family="poisson")
    with pytest.raises(SpecError, match=r"available terms: Intercept, x, d"):
        wald_test(m, ["x", "C(region)"])
    with pytest.raises(SpecError, match="value"):
        wald_test(m, ["x", "d"], values=[1.0])


# --------------------------------------------------------------------------- predictions
@pytest.mark.parametrize("cov", ["nonrobust", "cluster"])
def test_poisson_predictions_match_statsmodels(sim: pd.DataFrame, cov: str) -> None:
    formula = "y ~ x * d + C(f)"
    kw: dict[str, object] = (
        {"cov_type": "cluster", "cov_kwds": {"groups": sim["g"].to_numpy()}}
        if cov == "cluster"
        else {}
    )
    m = fit(formula, sim, family="poisson", cluster="g" if cov == "cluster" else None)
    ref, info = _sm_glm(formula, sim, **kw)
    grid = {"x": [-1.0, 0.0, 1.5], "d": [0, 1], "f": ["a", "b", "c"]}
    ours = predict_profiles(m, grid)
    assert len(ours) == 18 and ours.attrs["held_at"] == {}
    (exog,) = patsy.build_design_matrices([info], ours[["x", "d", "f"]], return_type="dataframe")
    frame = ref.get_prediction(exog).summary_frame()
    np.testing.assert_allclose(ours["predicted"], frame["mean"], rtol=1e-6)
    np.testing.assert_allclose(ours["std_error"], frame["mean_se"], rtol=1e-6)
    np.testing.assert_allclose(ours["ci_lower"], frame["mean_ci_lower"], rtol=1e-6)
    np.testing.assert_allclose(ours["ci_upper"], frame["mean_ci_upper"], rtol=1e-6)
    assert (ours["ci_lower"] < ours["predicted"]).all()


def test_missing_numeric_variable_is_held_at_the_mean(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + w + C(f)", sim, family="negbin")
    held = predict(m, pd.DataFrame({"x": [0.0, 1.0], "f": ["a", "c"]}))
    assert held.attrs["held_at"] == {"w": pytest.approx(sim["w"].mean())}
    assert any("w held at" in note for note in held.attrs["notes"])
    given = predict(m, pd.DataFrame({"x": [0.0, 1.0], "f": ["a", "c"], "w": sim["w"].mean()}))
    np.testing.assert_allclose(held["predicted"], given["predicted"], rtol=1e-12)
    np.testing.assert_allclose(held["std_error"], given["std_error"], rtol=1e-12)


def test_exposure_defaults_to_one_and_is_used_when_given(sim: pd.DataFrame) -> None:
    m = fit("y ~ x", sim, family="poisson", exposure="e")
    one = predict(m, pd.DataFrame({"x": [0.3]}))
    assert one.attrs["held_at"] == {"e": 1.0}
    assert any("per unit exposure" in note for note in one.attrs["notes"])
    two = predict(m, pd.DataFrame({"x": [0.3], "e": [2.0]}))
    assert two["predicted"].iloc[0] == pytest.approx(2 * one["predicted"].iloc[0], rel=1e-12)
    assert np.exp(m.params["Intercept"] + 0.3 * m.params["x"]) == pytest.approx(
        one["predicted"].iloc[0], rel=1e-12
    )


@pytest.mark.parametrize(
    ("family", "formula", "extra"),
    [
        ("poisson", "y ~ x * d + C(f)", {}),
        ("negbin", "y ~ x + d", {}),
        ("negbin1", "y ~ x + d", {}),
        ("zip", "y ~ x + d", {"inflation": "w"}),
        ("hurdle-negbin", "y ~ x + d", {"inflation": "w"}),
        ("fe-poisson", "y ~ x + d | g", {"exposure": "e"}),
        ("poisson", "y ~ x + d | g", {}),
        ("gee-poisson", "y ~ x + d", {"cluster": "g"}),
    ],
)
def test_sample_predictions_reproduce_fitted_values(
    sim: pd.DataFrame, family: str, formula: str, extra: dict[str, str]
) -> None:
    m = fit(formula, sim, family=family, **extra)
    out = predict(m)
    assert len(out) == m.nobs
    np.testing.assert_allclose(out["predicted"], m.core.fitted, rtol=1e-8)
    assert (out["std_error"] > 0).all()
    assert ((out["ci_lower"] < out["predicted"]) & (out["predicted"] < out["ci_upper"])).all()


def _simulated_se(m: cpcstats.FitResult, profile: pd.DataFrame, draws: int = 2000) -> float:
    """SE of E[y] at one profile by drawing the parameters from N(b, V)."""
    design = m.design
    (X,) = patsy.build_design_matrices([design.x_info], profile, return_type="dataframe")
    (Z,) = patsy.build_design_matrices([design.z_info], profile, return_type="dataframe")
    X = X[design.data.x_names].to_numpy()
    Z = Z[design.data.z_names].to_numpy()
    p = len(m.core.params)
    rng = np.random.default_rng(12345)
    theta = rng.multivariate_normal(m.core.params, m.full_vcov[:p, :p], size=draws)
    values = np.array([m.core.mean(t, X, Z, None)[0] for t in theta])
    return float(values.std(ddof=1))


@pytest.fixture(scope="module")
def zero_heavy() -> pd.DataFrame:
    rng = np.random.default_rng(99)
    n = 1500
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    mu = np.exp(0.6 + 0.5 * x)
    structural = rng.random(n) < special.expit(-0.7 + 1.0 * z)
    y = np.where(structural, 0, rng.negative_binomial(2.0, 2.0 / (2.0 + mu)))
    hurdle_pos = rng.random(n) < special.expit(0.3 - 0.8 * z)
    yt = np.zeros(n, dtype=int)
    for i in np.flatnonzero(hurdle_pos):  # zero-truncated Poisson draws
        k = 0
        while k == 0:
            k = rng.poisson(mu[i])
        yt[i] = k
    return pd.DataFrame({"y": y, "yh": yt, "x": x, "z": z})


@pytest.mark.parametrize(
    ("family", "outcome"), [("zinb", "y"), ("zip", "y"), ("hurdle-poisson", "yh")]
)
def test_zero_part_prediction_se_close_to_simulation(
    zero_heavy: pd.DataFrame, family: str, outcome: str
) -> None:
    m = fit(f"{outcome} ~ x", zero_heavy, family=family, inflation="z")
    profile = pd.DataFrame({"x": [0.8], "z": [0.4]})
    out = predict(m, profile)
    kx = len(m.design.data.x_names)
    b, gamma = m.core.params[:kx], m.core.params[kx:]
    mu = np.exp(b[0] + 0.8 * b[1])
    part = special.expit(gamma[0] + 0.4 * gamma[1])
    expected = (1 - part) * mu if family.startswith("z") else part * mu / (1 - np.exp(-mu))
    assert out["predicted"].iloc[0] == pytest.approx(expected, rel=1e-10)
    assert "delta method" in out.attrs["interval"]
    simulated = _simulated_se(m, profile)
    assert out["std_error"].iloc[0] == pytest.approx(simulated, rel=0.10)
    ci = out.iloc[0]
    assert ci["ci_lower"] < ci["predicted"] < ci["ci_upper"]


# --------------------------------------------------------------------------- marginal effects
def test_ame_continuous_matches_statsmodels_margeff(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + w + d", sim, family="poisson")
    ame = marginal_effects(m, ["x", "w"]).set_index("variable")
    mu = m.core.fitted
    assert ame.loc["x", "estimate"] == pytest.approx(mu.mean() * m.params["x"], rel=1e-7)
    assert ame.loc["x", "contrast"] == "dy/dx"
    X = sm.add_constant(sim[["x", "w", "d"]])
    ref = sm.Poisson(sim["y"], X).fit(disp=0, method="newton", tol=1e-12)
    frame = ref.get_margeff(at="overall").summary_frame()
    for v in ("x", "w"):
        assert ame.loc[v, "estimate"] == pytest.approx(frame.loc[v, "dy/dx"], rel=1e-6)
        assert ame.loc[v, "std_error"] == pytest.approx(frame.loc[v, "Std. Err."], rel=1e-5)
    # discrete change of the binary d, also as statsmodels computes it with dummy=True
    dummy = ref.get_margeff(at="overall", dummy=True).summary_frame()
    row = marginal_effects(m, "d").iloc[0]
    assert row["contrast"] == "1 vs 0"
    assert row["estimate"] == pytest.approx(dummy.loc["d", "dy/dx"], rel=1e-6)
    assert row["std_error"] == pytest.approx(dummy.loc["d", "Std. Err."], rel=1e-5)


def test_discrete_changes_are_mean_differences_of_predictions(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + d + C(f)", sim, family="negbin", cluster="g")
    sample = estimation_sample(m)
    effects = marginal_effects(m, ["d", "f"])
    assert list(effects["contrast"]) == ["1 vs 0", "b vs a", "c vs a"]
    mean = predict(m, sample.assign(d=1))["predicted"].mean()
    base = predict(m, sample.assign(d=0))["predicted"].mean()
    assert effects["estimate"].iloc[0] == pytest.approx(mean - base, rel=1e-10)
    for i, level in ((1, "b"), (2, "c")):
        change = (
            predict(m, sample.assign(f=level))["predicted"].mean()
            - predict(m, sample.assign(f="a"))["predicted"].mean()
        )
        assert effects["estimate"].iloc[i] == pytest.approx(change, rel=1e-10)
    assert (effects["std_error"] > 0).all()
    z = effects["estimate"] / effects["std_error"]
    np.testing.assert_allclose(effects["z"], z)
    assert list(effects.columns) == [
        "variable",
        "contrast",
        "estimate",
        "std_error",
        "z",
        "p_value",
        "ci_lower",
        "ci_upper",
    ]


def test_ame_handles_interactions_and_at(sim: pd.DataFrame) -> None:
    m = fit("y ~ x * d", sim, family="poisson")
    b = m.params
    mu = m.core.fitted
    naive = mu.mean() * b["x"]
    correct = np.mean(mu * (b["x"] + b["x:d"] * sim["d"].to_numpy()))
    ame = marginal_effects(m, "x")
    assert ame["estimate"].iloc[0] == pytest.approx(correct, rel=1e-7)
    assert abs(ame["estimate"].iloc[0] - naive) > 0.05 * abs(naive)  # not mean(mu) * b_x
    assert ame.attrs["kind"] == "AME"
    # MER: d set to 1 in every row, averaged over the sample
    mer = marginal_effects(m, "x", at={"d": 1})
    mu1 = np.exp(b["Intercept"] + b["d"] + (b["x"] + b["x:d"]) * sim["x"].to_numpy())
    assert mer["estimate"].iloc[0] == pytest.approx(np.mean(mu1) * (b["x"] + b["x:d"]), rel=1e-7)
    assert mer.attrs["kind"] == "MER" and mer.attrs["at"] == {"d": 1}


def test_ame_rebuilds_transforms(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + I(x**2) + center(w) + np.exp(w)", sim, family="poisson")
    b, mu = m.params, m.core.fitted
    x, w = sim["x"].to_numpy(), sim["w"].to_numpy()
    ame = marginal_effects(m).set_index("variable")["estimate"]
    assert ame["x"] == pytest.approx(np.mean(mu * (b["x"] + 2 * b["I(x ** 2)"] * x)), rel=1e-7)
    expected_w = np.mean(mu * (b["center(w)"] + b["np.exp(w)"] * np.exp(w)))
    assert ame["w"] == pytest.approx(expected_w, rel=1e-7)


def test_bool_and_numeric_categoricals_get_readable_contrasts(sim: pd.DataFrame) -> None:
    df = sim.assign(flag=sim["d"].astype(bool), yr=(sim["t"] + 2000).astype("Int64"))
    m = fit("y ~ x + flag + C(yr) + C(f, Treatment(reference='b'))", df, family="poisson")
    effects = marginal_effects(m, ["flag", "yr", "f"])
    assert list(effects["contrast"]) == ["True vs False"] + [
        f"{y} vs 2000" for y in range(2001, 2006)
    ] + ["a vs b", "c vs b"]
    with pytest.raises(SpecError, match=r"level\(s\) 1999 .*\n.*2000, 2001"):
        predict(m, pd.DataFrame({"x": [0.0], "flag": [True], "yr": [1999], "f": ["a"]}))
    with pytest.raises(SpecError, match="'x' is numeric"):
        predict(m, pd.DataFrame({"x": ["high"], "flag": [True], "yr": [2001], "f": ["a"]}))


def test_zinb_ame_se_close_to_simulation(zero_heavy: pd.DataFrame) -> None:
    m = fit("y ~ x + z", zero_heavy, family="zinb", inflation="z")
    row = marginal_effects(m, "z").iloc[0]  # z enters both parts
    design = m.design
    frame = estimation_sample(m)
    h = 1e-4

    def matrices(shift: float) -> tuple[np.ndarray, np.ndarray]:
        data = frame.assign(z=frame["z"] + shift)
        (X,) = patsy.build_design_matrices([design.x_info], data, return_type="dataframe")
        (Z,) = patsy.build_design_matrices([design.z_info], data, return_type="dataframe")
        return X[design.data.x_names].to_numpy(), Z[design.data.z_names].to_numpy()

    (Xu, Zu), (Xd, Zd) = matrices(h), matrices(-h)

    def ame(theta: np.ndarray) -> float:
        up, down = m.core.mean(theta, Xu, Zu, None), m.core.mean(theta, Xd, Zd, None)
        return float(np.mean(up - down) / (2 * h))

    assert row["estimate"] == pytest.approx(ame(m.core.params), rel=1e-6)
    p = len(m.core.params)
    rng = np.random.default_rng(2024)
    draws = rng.multivariate_normal(m.core.params, m.full_vcov[:p, :p], size=1000)
    simulated = np.std([ame(t) for t in draws], ddof=1)
    assert row["std_error"] == pytest.approx(simulated, rel=0.10)


def test_fe_poisson_ame_equals_dummy_poisson(sim: pd.DataFrame) -> None:
    absorbed = fit("y ~ x + d | g", sim, family="fe-poisson")
    dummies = fit("y ~ x + d | g", sim, family="poisson")
    a = marginal_effects(absorbed)
    b = marginal_effects(dummies)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-6)
    with pytest.raises(EstimationError, match="only on those rows"):
        predict(absorbed, pd.DataFrame({"x": [0.0], "d": [1], "g": [3]}))
    changed = estimation_sample(absorbed).assign(d=1)
    assert len(predict(absorbed, changed)) == absorbed.nobs
    with pytest.raises(EstimationError, match="lack g"):
        predict(dummies, pd.DataFrame({"x": [0.0], "d": [1]}))
    ok = predict(dummies, pd.DataFrame({"x": [0.0], "d": [1], "g": [3]}))
    assert np.isfinite(ok["predicted"]).all()
    with pytest.raises(EstimationError, match="not in the estimation sample"):
        predict(dummies, pd.DataFrame({"x": [0.0], "d": [1], "g": [999]}))


# --------------------------------------------------------------------------- errors
def test_unknown_names_are_spec_errors(sim: pd.DataFrame) -> None:
    m = fit("y ~ x + d + C(f)", sim, family="poisson")
    with pytest.raises(SpecError, match=r"variables: x, d, f"):
        marginal_effects(m, ["x", "income"])
    with pytest.raises(SpecError, match="variables"):
        marginal_effects(m, "x", at={"income": 3})
    with pytest.raises(SpecError, match=r"'a', 'b', 'c'"):
        predict(m, pd.DataFrame({"x": [0.0], "d": [1], "f": ["z"]}))
    with pytest.raises(SpecError, match="categorical"):
        predict(m, pd.DataFrame({"x": [0.0], "d": [1]}))
    with pytest.raises(SpecError, match=r"level.*nope"):
        marginal_effects(m, "x", at={"f": "nope"})


def test_ols_fe_has_no_expected_count() -> None:
    rng = np.random.default_rng(5)
    panel = pd.DataFrame([{"unit": u, "year": t} for u in range(30) for t in range(6)]).assign(
        x=lambda df: rng.normal(size=len(df)), d=lambda df: rng.integers(0, 2, len(df))
    )
    panel["y"] = rng.poisson(np.exp(0.3 + 0.4 * panel["x"]))
    m = fit("y ~ x + d | unit + year", panel, family="ols-fe")
    assert wald_test(m, "x").df == 1  # tests of coefficients are still defined
    with pytest.raises(EstimationError, match="not defined for family 'ols-fe'"):
        predict(m)
    with pytest.raises(EstimationError, match="not defined for family 'ols-fe'"):
        marginal_effects(m)


# --------------------------------------------------------------------------- demo
def test_demo_ruling_parties_get_more_contacts_in_every_regime() -> None:
    study = cpcstats.load_study("demo")
    panel = cpcstats.party_year(study)
    m = fit(
        "contacts ~ ruling * C(fh_status) + left_roots + xi_era",
        panel,
        family="negbin",
        cluster="iso3",
    )
    out = predict_profiles(m, {"ruling": [0, 1], "fh_status": ["F", "PF", "NF"]})
    assert set(out.attrs["held_at"]) == {"left_roots", "xi_era"}
    assert ((out["ci_lower"] < out["predicted"]) & (out["predicted"] < out["ci_upper"])).all()
    table = out.pivot(index="fh_status", columns="ruling", values="predicted")
    assert (table[1] > table[0]).all(), table
    assert m.simulated
