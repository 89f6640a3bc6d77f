"""The Driscoll-Kraay variance against R's sandwich::vcovPL (tests/reference fixture).

Why: the Xi-era panels rest on it (the break terms vary by year only, so the variance must
be robust to shocks common to a year); an independent implementation, rerunnable with
``Rscript tests/reference/make_driscoll_kraay.R``, pins the definition (period sums,
Bartlett weights, the NW1987 lag rule, n/(n-k) with the fixed-effect dummies counted).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.estimation.vcov import register_variance
from cpcstats.estimation.vcov_driscoll_kraay import DriscollKraay, nw1987_lag

FIXTURE = Path(__file__).resolve().parent / "reference" / "fixtures" / "driscoll_kraay.json"
CASES = json.loads(FIXTURE.read_text())
DATA = pd.DataFrame(CASES["data"])
LAGS = {"default": None, "lag0": 0, "lag3": 3}


@pytest.fixture
def lag_variance():
    """Register a Driscoll-Kraay estimator with a fixed lag; restore the default after."""

    def use(lag: int | None) -> None:
        est = DriscollKraay()
        est.lag = lag
        register_variance(est, replace_existing=True)

    yield use
    register_variance(DriscollKraay(), replace_existing=True)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
@pytest.mark.parametrize("key", list(LAGS))
def test_driscoll_kraay_equals_r_vcovpl(case: dict, key: str, lag_variance) -> None:
    lag_variance(LAGS[key])
    fe = case["name"] == "fe_poisson"
    formula = "y ~ trend + post + x" + (" | unit" if fe else "")
    family = "fe-poisson" if fe else "poisson"
    result = cpcstats.fit(formula, DATA, family=family, se="driscoll-kraay", cluster="year")
    terms = case["terms"]
    np.testing.assert_allclose(result.params[terms].to_numpy(), case["coef"], atol=1e-7)
    ours = result.vcov.loc[terms, terms].to_numpy()
    np.testing.assert_allclose(ours, np.array(case["lag"][key]), atol=1e-6, rtol=1e-5)
    assert result.se_type == "driscoll-kraay"
    assert "Driscoll-Kraay by year (15 periods" in result.se_description


def test_lag_rule_and_needs_a_period_column() -> None:
    assert [nw1987_lag(t) for t in (15, 16, 22, 81)] == [1, 2, 2, 3]
    with pytest.raises(SpecError):
        cpcstats.fit("y ~ trend + post", DATA, se="driscoll-kraay")
