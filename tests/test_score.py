"""Score (LM) tests: checked against statsmodels, the explicit sandwich algebra, the
FE/dummy equivalence, and their size under a true null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.score import score_test


def _panel(seed: int, groups: int = 30, years: int = 8, effect: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"g": np.repeat(np.arange(groups), years), "t": np.tile(np.arange(years), groups)}
    )
    df["x"] = rng.normal(size=len(df))
    df["z1"] = rng.normal(size=len(df))
    df["z2"] = (rng.random(len(df)) < 0.2).astype(float)
    unit = rng.normal(size=groups)[df["g"]]
    shock = rng.gamma(2.0, 0.5, size=groups)[df["g"]]  # cluster-level overdispersion
    eta = 0.3 * df["x"] + unit + 0.1 * df["t"] + effect * df["z1"]
    df["y"] = rng.poisson(np.exp(eta) * shock)
    df["gs"] = df["g"].astype(str)
    df["ts"] = df["t"].astype(str)
    return df


def _dummies(df: pd.DataFrame) -> np.ndarray:
    X = pd.get_dummies(df[["x", "gs", "ts"]], columns=["gs", "ts"], drop_first=True, dtype=float)
    return sm.add_constant(X).to_numpy(dtype=float)


def _explicit(df: pd.DataFrame, groups: np.ndarray | None) -> float:
    """LM = a' (R H^-1 Omega H^-1 R')^-1 a over the full parameter vector (no partialling)."""
    X = _dummies(df)
    Z = df[["z1", "z2"]].to_numpy(dtype=float)
    res = sm.GLM(df["y"], X, family=sm.families.Poisson()).fit(tol=1e-12)
    mu = res.fittedvalues.to_numpy()
    u = df["y"].to_numpy() - mu
    W = np.column_stack([X, Z])
    scores = W * u[:, None]
    H = (W * mu[:, None]).T @ W
    M = np.linalg.inv(H)[X.shape[1] :]
    if groups is None:
        omega = scores.T @ scores
    else:
        summed = pd.DataFrame(scores).groupby(groups).sum().to_numpy()
        g = len(summed)
        omega = g / (g - 1) * summed.T @ summed
    a = M @ scores.sum(axis=0)
    return float(a @ np.linalg.solve(M @ omega @ M.T, a))


def test_classical_equals_statsmodels_rao_score_test() -> None:
    df = _panel(1)
    mine = score_test(fit("y ~ x | gs + ts", df, family="fe-poisson", se="classical"), ["z1", "z2"])
    glm = sm.GLM(df["y"], _dummies(df), family=sm.families.Poisson()).fit(tol=1e-12)
    ref = glm.score_test(exog_extra=df[["z1", "z2"]].to_numpy())
    assert mine.df == 2
    assert mine.statistic == pytest.approx(float(np.squeeze(ref.statistic)), rel=1e-6)
    assert mine.p_value == pytest.approx(float(np.squeeze(ref.pvalue)), rel=1e-6)


@pytest.mark.parametrize("se", ["hc0", "cluster"])
def test_robust_equals_the_explicit_sandwich_formula(se: str) -> None:
    df = _panel(2)
    kw = {"cluster": "gs"} if se == "cluster" else {"se": "hc0"}
    mine = score_test(fit("y ~ x | gs + ts", df, family="fe-poisson", **kw), ["z1", "z2"])
    # the FE fit drops groups with only zero outcomes (they carry no information), so the
    # cluster count G of the reference is taken on the same rows
    kept = df[df.groupby("g")["y"].transform("sum") > 0]
    ref = _explicit(kept, kept["g"].to_numpy() if se == "cluster" else None)
    assert mine.statistic == pytest.approx(ref, rel=1e-6)
    assert mine.n_clusters == (kept["g"].nunique() if se == "cluster" else None)


def test_absorbed_fixed_effects_equal_dummies() -> None:
    df = _panel(3)
    absorbed = score_test(fit("y ~ x | gs + ts", df, family="fe-poisson", cluster="gs"), ["z1"])
    dummies = score_test(fit("y ~ x + C(gs) + C(ts)", df, family="poisson", cluster="gs"), ["z1"])
    assert absorbed.statistic == pytest.approx(dummies.statistic, rel=1e-6)


def test_detects_a_real_effect() -> None:
    df = _panel(4, effect=0.4)
    result = score_test(fit("y ~ x | gs + ts", df, family="fe-poisson", cluster="gs"), ["z1"])
    assert result.p_value < 0.01


def test_size_under_the_null_is_close_to_nominal() -> None:
    """Clustered score test of a true null over 200 fixed-seed draws: rejection rate at 5 %
    within the binomial 99 % band [1.8 %, 8.9 %]."""
    rejections = 0
    for seed in range(200):
        df = _panel(100 + seed, groups=40, years=6)
        result = fit("y ~ x | gs + ts", df, family="fe-poisson", cluster="gs")
        rejections += score_test(result, ["z1", "z2"]).p_value < 0.05
    low, high = stats.binom.ppf([0.005, 0.995], 200, 0.05)
    assert low <= rejections <= high


def test_well_defined_when_the_unrestricted_fit_is_separated() -> None:
    """z marks rows whose outcomes are all zero: the Wald test cannot exist (-inf), the
    score test does and is finite."""
    df = _panel(5)
    marked = df["g"].isin([0, 1]) & df["t"].isin([6, 7])
    df.loc[marked, "y"] = 0
    df["sep"] = marked.astype(float)
    result = score_test(fit("y ~ x | gs + ts", df, family="fe-poisson", cluster="gs"), ["sep"])
    assert np.isfinite(result.statistic) and result.df == 1


def test_clear_errors() -> None:
    df = _panel(6)
    res = fit("y ~ x | gs + ts", df, family="fe-poisson", cluster="gs")
    with pytest.raises(SpecError, match="not a column"):
        score_test(res, ["nope"])
    with pytest.raises(SpecError, match="already in the model"):
        score_test(res, ["x"])
    with pytest.raises(EstimationError, match="no information"):
        df2 = df.assign(const=1.0)
        score_test(fit("y ~ x | gs + ts", df2, family="fe-poisson", cluster="gs"), ["const"])
    nb = fit("y ~ x", df, family="negbin")
    with pytest.raises(EstimationError, match="implemented for"):
        score_test(nb, ["z1"])
