"""Parameter recovery: 95 % intervals cover the true values at close to the nominal rate.

Each family is fitted to many datasets simulated from its own model with known
parameters (fixed seed).  With R replications and J coefficients, coverage is
judged on the R·J interval checks against a band that a correct estimator
leaves with probability < 0.1 % (binomial, adjusted for the correlation of
coefficients within a replication by using R, not R·J, in the band's width).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cpcstats import fit

pytestmark = pytest.mark.slow
REPS = 120
TRUE = {"Intercept": 0.4, "x1": 0.5, "x2": -0.4}
ZTRUE = {"Intercept": -0.6, "z1": 0.8}
ALPHA = 0.6


def _nb(rng: np.random.Generator, mu: np.ndarray, alpha: float) -> np.ndarray:
    return rng.poisson(rng.gamma(1 / alpha, mu * alpha))


def _design(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.integers(0, 2, n).astype(float),
            "z1": rng.normal(size=n),
        }
    )


def _eta(d: pd.DataFrame) -> np.ndarray:
    return TRUE["Intercept"] + TRUE["x1"] * d["x1"].to_numpy() + TRUE["x2"] * d["x2"].to_numpy()


def _zero_prob(d: pd.DataFrame) -> np.ndarray:
    return 1 / (1 + np.exp(-(ZTRUE["Intercept"] + ZTRUE["z1"] * d["z1"].to_numpy())))


def simulate(family: str, rng: np.random.Generator) -> tuple[pd.DataFrame, dict, dict]:
    n = 400
    d = _design(rng, n)
    mu = np.exp(_eta(d))
    kw: dict = {}
    truth = dict(TRUE)
    if family == "poisson":
        d["y"] = rng.poisson(mu)
    elif family == "negbin":
        d["y"] = _nb(rng, mu, ALPHA)
    elif family == "negbin1":
        d["y"] = rng.poisson(rng.gamma(mu / ALPHA, ALPHA))  # Var = mu (1 + alpha)
    elif family in ("zip", "zinb"):
        base = rng.poisson(mu) if family == "zip" else _nb(rng, mu, ALPHA)
        d["y"] = np.where(rng.random(n) < _zero_prob(d), 0, base)
        kw["inflation"] = "z1"
        truth.update({f"inflate:{k}": v for k, v in ZTRUE.items()})
    elif family in ("hurdle-poisson", "hurdle-negbin"):
        positive = rng.random(n) < 1 - _zero_prob(d)  # P(y > 0) = expit(-(...))
        counts = np.zeros(n)
        for i in np.flatnonzero(positive):
            while counts[i] == 0:  # zero-truncated draw
                counts[i] = (
                    rng.poisson(mu[i])
                    if family == "hurdle-poisson"
                    else _nb(rng, mu[i : i + 1], ALPHA)[0]
                )
        d["y"] = counts
        kw["inflation"] = "z1"
        truth.update({f"zero:{k}": -v for k, v in ZTRUE.items()})
    elif family in ("fe-poisson", "fe-negbin", "gee-poisson"):
        units = 40
        d = d.iloc[: units * 10].copy()
        d["unit"] = np.repeat(np.arange(units), 10)
        d["t"] = np.tile(np.arange(10), units)
        effect = rng.normal(0, 0.5, units)[d["unit"]]
        if family == "gee-poisson":
            effect = effect - 0.125  # E[exp(u)] = 1: population-averaged slopes = truth
        mu = np.exp(_eta(d) + effect)
        d["y"] = rng.poisson(mu) if family != "fe-negbin" else _nb(rng, mu, ALPHA)
        if family == "gee-poisson":
            kw["cluster"] = "unit"
        else:
            truth.pop("Intercept")
    return d, truth, kw


FORMULA = {
    "fe-poisson": "y ~ x1 + x2 | unit",
    "fe-negbin": "y ~ x1 + x2 | unit",
}


@pytest.mark.parametrize(
    "family",
    [
        "poisson",
        "negbin",
        "negbin1",
        "zip",
        "zinb",
        "hurdle-poisson",
        "hurdle-negbin",
        "fe-poisson",
        "fe-negbin",
        "gee-poisson",
    ],
)
def test_intervals_cover_the_truth(family: str) -> None:
    rng = np.random.default_rng(sum(map(ord, family)))
    hits = total = 0
    alphas = []
    for _ in range(REPS):
        data, truth, kw = simulate(family, rng)
        m = fit(FORMULA.get(family, "y ~ x1 + x2"), data, family=family, **kw)
        ci = m.conf_int()
        for term, value in truth.items():
            hits += int(ci.loc[term, "lower"] <= value <= ci.loc[term, "upper"])
            total += 1
        if m.alpha is not None:
            alphas.append(m.alpha)
    coverage = hits / total
    half_width = stats.norm.ppf(0.9995) * np.sqrt(0.95 * 0.05 / REPS)
    assert 0.95 - half_width <= coverage <= min(1.0, 0.95 + half_width), coverage
    if alphas and family in ("negbin", "negbin1", "zinb", "hurdle-negbin"):
        assert abs(np.median(alphas) - ALPHA) < 0.1, np.median(alphas)
    if family == "fe-negbin":
        # Known incidental-parameter bias of the unconditional FE NB dispersion with T = 10
        # (the unit dummies absorb part of the heterogeneity): alpha is underestimated,
        # while the slope intervals above still cover.  Documented in the README.
        assert 0.3 < np.median(alphas) < ALPHA, np.median(alphas)
