"""FitResult in broom's shapes: tidy, glance, fitted values, residuals, predict, summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.tidy import TIDY_COLUMNS, Summary
from tests.conftest import DEMO_FORMULA

FORMULA = DEMO_FORMULA


@pytest.fixture(scope="module")
def panel(demo_party_year) -> cpcstats.Panel:  # shared with other tests (conftest)
    return demo_party_year


@pytest.fixture(scope="module")
def pois(demo_poisson):  # the conftest fit of FORMULA
    return demo_poisson


@pytest.fixture(scope="module")
def nb2(panel):
    return cpcstats.fit(FORMULA, panel, family="negbin", cluster="party_id")


@pytest.mark.parametrize("which", ["pois", "nb2"])
def test_tidy_equals_the_result(which, request) -> None:
    m = request.getfixturevalue(which)
    out = m.tidy(conf_level=0.90)
    assert tuple(out.columns) == TIDY_COLUMNS
    assert out["term"].tolist() == m.params.index.tolist()
    np.testing.assert_allclose(out["estimate"], m.params.to_numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(out["std.error"], m.std_errors.to_numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(out["statistic"], m.tvalues.to_numpy())
    np.testing.assert_allclose(out["p.value"], m.pvalues.to_numpy())
    ci = m.conf_int(0.90)
    np.testing.assert_allclose(out["conf.low"], ci["lower"].to_numpy())
    np.testing.assert_allclose(out["conf.high"], ci["upper"].to_numpy())


def test_exponentiate_is_the_irr_and_keeps_the_log_scale_se(nb2) -> None:
    out = nb2.tidy(exponentiate=True).set_index("term")
    irr = nb2.irr()
    np.testing.assert_allclose(out["estimate"], irr["irr"])
    np.testing.assert_allclose(out["conf.low"], irr["lower"])
    np.testing.assert_allclose(out["conf.high"], irr["upper"])
    np.testing.assert_allclose(out["std.error"], nb2.std_errors)  # broom: link scale
    np.testing.assert_allclose(out["p.value"], irr["p_value"])


def test_tidy_refuses_a_bad_level(pois) -> None:
    with pytest.raises(SpecError):
        pois.tidy(conf_level=95)


@pytest.mark.parametrize("family", ["zip", "zinb"])
def test_zero_part_has_a_component_column(panel, family) -> None:
    m = cpcstats.fit(FORMULA, panel, family=family, inflation="ruling")
    out = m.tidy()
    assert "component" in out.columns
    zero = out[out["component"] == "zero"]
    count = out[out["component"] == "count"]
    assert count["term"].tolist() == ["Intercept", "ruling", "left_roots"]
    assert zero["term"].tolist() == ["Intercept", "ruling"]
    assert len(out) == len(m.params)
    np.testing.assert_allclose(out["estimate"], m.params.to_numpy())


def test_glance_equals_the_result(pois, nb2) -> None:
    both = pd.concat([pois.glance(), nb2.glance()])
    assert both.index.tolist() == [pois.name, nb2.name]
    p, n = both.iloc[0], both.iloc[1]
    assert p["nobs"] == pois.nobs and n["nobs"] == nb2.nobs
    assert p["logLik"] == pois.loglik and n["logLik"] == nb2.loglik
    assert p["AIC"] == pois.aic and n["AIC"] == nb2.aic
    assert p["BIC"] == pois.bic and n["BIC"] == nb2.bic
    assert np.isnan(p["alpha"]) and n["alpha"] == nb2.alpha
    assert np.isnan(p["n_clusters"]) and n["n_clusters"] == nb2.n_clusters
    assert n["family"] == "negbin" and n["se_type"] == nb2.se_type
    assert bool(p["converged"]) and p["flags"] == 0


def test_fitted_residuals_and_predict_reuse_predict(pois, nb2) -> None:
    fitted = pois.fitted_values
    expected = cpcstats.predict(pois)["predicted"]
    np.testing.assert_allclose(fitted, expected)
    assert len(fitted) == pois.nobs
    resid = pois.residuals()
    assert abs(resid.sum()) < 1e-6  # Poisson score equation of the intercept
    pearson = nb2.residuals("pearson")
    mu = nb2.fitted_values
    y = nb2.residuals() + mu
    np.testing.assert_allclose(pearson, (y - mu) / np.sqrt(mu + nb2.alpha * mu**2))
    new = pd.DataFrame({"ruling": [0, 1], "left_roots": [0, 0]})
    np.testing.assert_allclose(
        pois.predict(new),
        np.exp(pois.params["Intercept"] + np.array([0, 1]) * pois.params["ruling"]),
    )


def test_residual_kinds_are_checked(panel, pois) -> None:
    with pytest.raises(SpecError):
        pois.residuals("deviance")
    zip_ = cpcstats.fit(FORMULA, panel, family="zip", inflation="ruling")
    with pytest.raises(EstimationError):
        zip_.residuals("pearson")


def test_summary_is_the_text_and_renders_in_notebooks(pois) -> None:
    s = pois.summary()
    assert isinstance(s, Summary) and isinstance(s, str)
    assert str(s) == s and repr(s) == str(s)
    assert s.splitlines()[0] == f"{pois.name}: poisson (party-year)"
    html = s._repr_html_()
    assert html.startswith("<pre>") and "ruling" in html
