"""statsmodels and pyfixest results beside cpcstats models in one regression table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import cpcstats
from cpcstats.reporting.tables.foreign import ForeignFit, as_fit_result
from tests.conftest import DEMO_FORMULA

FORMULA = DEMO_FORMULA


@pytest.fixture(scope="module")
def panel(demo_party_year) -> cpcstats.Panel:  # shared with other tests (conftest)
    return demo_party_year


@pytest.fixture(scope="module")
def pois(demo_poisson):  # the conftest fit of FORMULA
    return demo_poisson


@pytest.fixture(scope="module")
def glm(panel):
    return smf.glm(FORMULA, panel.data, family=sm.families.Poisson()).fit()


def test_statsmodels_glm_gives_the_same_coefficient_cells(pois, glm) -> None:
    tab = cpcstats.table([pois, glm], model_names=["cpcstats", "statsmodels"])
    for term in ("Intercept", "ruling", "left_roots"):
        for kind in ("estimate", "se"):
            first, second = tab.find_row(term, kind).cells
            assert first.text() == second.text(), (term, kind)
            assert first.value == pytest.approx(second.value, rel=1e-6)
    for label in ("N", "AIC", "Log-likelihood"):
        first, second = tab.stat_row(label).cells
        assert first.text() == second.text(), label
    md = tab.to_markdown()
    assert "GLM Poisson (statsmodels)" in md


def test_statsmodels_values_and_pvalues_are_the_sources(glm) -> None:
    fit = as_fit_result(glm)
    assert isinstance(fit, ForeignFit)
    pd.testing.assert_series_equal(fit.params, glm.params.astype(float), check_names=False)
    pd.testing.assert_series_equal(fit.pvalues, glm.pvalues.astype(float), check_names=False)
    assert fit.aic == pytest.approx(glm.aic) and fit.nobs == glm.nobs
    ols = smf.ols(
        "contacts ~ ruling",
        pd.DataFrame({"contacts": [1.0, 2, 4, 3, 6], "ruling": [0, 0, 1, 1, 1]}),
    ).fit()
    assert as_fit_result(ols).pvalues["ruling"] == pytest.approx(ols.pvalues["ruling"])  # t, not z


def test_statsmodels_negative_binomial_alpha_is_the_dispersion_row(panel) -> None:
    nb = smf.negativebinomial(FORMULA, panel.data).fit(disp=0)
    fit = as_fit_result(nb)
    assert "alpha" not in fit.params.index
    assert fit.alpha == pytest.approx(nb.params["alpha"])
    tab = cpcstats.table([nb])
    assert tab.stat_row("NB dispersion α").cells[0].value == pytest.approx(nb.params["alpha"])


def test_a_cpcstats_result_passes_through(pois) -> None:
    assert as_fit_result(pois) is pois


def test_unknown_objects_are_refused_naming_the_supported_types(pois) -> None:
    with pytest.raises(TypeError, match=r"statsmodels.*pyfixest"):
        cpcstats.table([pois, {"params": [1.0]}])


class _FakeFepois:
    """The pyfixest surface the adapter reads (so the test runs without pyfixest)."""

    _N = 50
    _method = "fepois"
    _fixef = "iso3+year"
    _vcov_type = "CRV"
    _vcov_type_detail = "CRV1"
    _G = (10, 7)
    _fml = "contacts ~ ruling | iso3 + year"
    _convergence = True
    _loglik = -80.5

    def coef(self) -> pd.Series:
        return pd.Series([0.5, -0.2], index=pd.Index(["ruling", "left_roots"], name="Coefficient"))

    def se(self) -> pd.Series:
        return pd.Series([0.1, 0.2], index=["ruling", "left_roots"])

    def pvalue(self) -> pd.Series:
        return pd.Series([0.0001, 0.3], index=["ruling", "left_roots"])


_FakeFepois.__module__ = "pyfixest.estimation.fepois_"


def test_pyfixest_surface_is_read() -> None:
    fit = as_fit_result(_FakeFepois())
    assert fit.params.tolist() == [0.5, -0.2] and fit.std_errors.tolist() == [0.1, 0.2]
    assert fit.pvalues.tolist() == [0.0001, 0.3]
    assert fit.nobs == 50 and fit.n_clusters == 7 and fit.fixed_effects == ["iso3", "year"]
    assert fit.aic == pytest.approx(-2 * -80.5 + 2 * 2)
    tab = cpcstats.table([_FakeFepois()])
    assert tab.find_row("ruling").cells[0].stars == "***"


def test_real_pyfixest_fepois_in_a_table(panel, pois) -> None:
    pf = pytest.importorskip("pyfixest")
    fe = pf.fepois("contacts ~ ruling + left_roots", data=panel.data)
    tab = cpcstats.table([pois, fe])
    est = tab.find_row("ruling").cells
    assert est[1].value == pytest.approx(float(pois.params["ruling"]), rel=1e-4)
    assert np.isfinite(est[1].value)
