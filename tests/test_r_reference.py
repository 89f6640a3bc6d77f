"""Estimates against R (glm, MASS::glm.nb, pscl, sandwich, geepack).

Reference values come from ``tests/reference/make_fixtures.R`` (rerun with
``python tests/reference/make_data.py && Rscript tests/reference/make_fixtures.R``).
Tolerance: relative 1e-5 throughout.  Justified exceptions: none for the
coefficients and log-likelihoods; pscl's standard errors come from optim's
finite-difference Hessian, which its authors' own precision puts about 3e-7
from the exact value, well inside 1e-5.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import fit

REF = Path(__file__).resolve().parent / "reference"
CASES = json.loads((REF / "fixtures" / "r_reference.json").read_text())["cases"]
RTOL = 1e-5


def our_name(r_name: str) -> str:
    """R's coefficient names -> patsy/cpcstats names."""
    for prefix, ours in (("count_", ""), ("zero_", "ZERO")):
        if r_name.startswith(prefix):
            return ours + our_name(r_name[len(prefix) :])
    if r_name == "(Intercept)":
        return "Intercept"
    match = re.fullmatch(r"cat([A-Z])", r_name)
    return f"C(cat)[T.{match.group(1)}]" if match else r_name


def _check(ours: pd.Series, ref: dict[str, float], zero_prefix: str = "inflate:") -> None:
    expected = pd.Series({our_name(k).replace("ZERO", zero_prefix): v for k, v in ref.items()})
    got = ours.reindex(expected.index)
    assert got.notna().all(), (list(ours.index), list(expected.index))
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=RTOL)


def test_poisson(panel: pd.DataFrame) -> None:
    ref = CASES["poisson"]
    m = fit("y ~ x1 + x2 + C(cat)", panel, family="poisson")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se"])
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-10)
    for se, key in (("hc0", "se_hc0"), ("hc1", "se_hc1")):
        _check(fit("y ~ x1 + x2 + C(cat)", panel, family="poisson", se=se).std_errors, ref[key])
    _check(
        fit("y ~ x1 + x2 + C(cat)", panel, family="poisson", cluster="g").std_errors, ref["se_cl_g"]
    )
    _check(
        fit("y ~ x1 + x2 + C(cat)", panel, family="poisson", cluster=["g", "t"]).std_errors,
        ref["se_cl_gt"],
    )


def test_poisson_with_exposure(panel: pd.DataFrame) -> None:
    ref = CASES["poisson_offset"]
    m = fit("y ~ x1 + x2", panel, family="poisson", exposure="expo", cluster="g")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se_cl_g"])
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-10)


@pytest.mark.parametrize("family", ["fe-poisson", "poisson"])
def test_poisson_fixed_effects(panel: pd.DataFrame, family: str) -> None:
    ref = CASES["poisson_fe"]
    m = fit("y ~ x1 + x2 | g + t", panel, family=family, cluster="g")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se_cl_g"])
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-8)
    assert m.nobs == ref["nobs"]
    assert m.sample is not None
    assert m.sample.dropped["fixed-effect group with only zero outcomes"] == ref["n_dropped"]
    classical = fit("y ~ x1 + x2 | g + t", panel, family=family)
    _check(classical.std_errors, ref["se"])


def test_negbin(panel: pd.DataFrame) -> None:
    ref = CASES["negbin"]
    m = fit("y ~ x1 + x2 + C(cat)", panel, family="negbin")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se"])
    assert m.alpha == pytest.approx(ref["alpha"], rel=RTOL)
    assert m.alpha_se == pytest.approx(ref["SE.alpha"], rel=1e-3)  # see note below
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-10)
    _check(
        fit("y ~ x1 + x2 + C(cat)", panel, family="negbin", cluster="g").std_errors, ref["se_cl_g"]
    )
    _check(
        fit("y ~ x1 + x2 + C(cat)", panel, family="negbin", cluster=["g", "t"]).std_errors,
        ref["se_cl_gt"],
    )
    _check(fit("y ~ x1 + x2 + C(cat)", panel, family="negbin", se="hc1").std_errors, ref["se_hc1"])


# Note: R's SE.theta treats mu as fixed (theta's own information); cpcstats reports the SE
# of alpha from the joint observed information, which differs by about 4e-4 here.


def test_negbin_with_exposure(panel: pd.DataFrame) -> None:
    ref = CASES["negbin_offset"]
    m = fit("y ~ x1 + x2", panel, family="negbin", exposure="expo", cluster="g")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se_cl_g"])
    assert m.alpha == pytest.approx(ref["alpha"], rel=RTOL)


def test_negbin_fixed_effects(panel: pd.DataFrame) -> None:
    ref = CASES["negbin_fe"]
    m = fit("y ~ x1 + x2 | g", panel, family="fe-negbin", cluster="g")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se_cl_g"])
    assert m.alpha == pytest.approx(ref["alpha"], rel=RTOL)
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-8)


@pytest.mark.parametrize("family", ["zip", "zinb"])
def test_zero_inflated(zeros: pd.DataFrame, family: str) -> None:
    ref = CASES[family]
    m = fit("y ~ x1 + x2", zeros, family=family, inflation="z1")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se"])
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    if family == "zinb":
        assert m.alpha == pytest.approx(ref["alpha"], rel=RTOL)
    clustered = fit("y ~ x1 + x2", zeros, family=family, inflation="z1", cluster="g")
    _check(clustered.std_errors, ref["se_cl_g_hc1"])


@pytest.mark.parametrize("family", ["hurdle-poisson", "hurdle-negbin"])
def test_hurdle(hurdle: pd.DataFrame, family: str) -> None:
    ref = CASES[family.replace("-", "_")]
    m = fit("y ~ x1 + x2", hurdle, family=family, inflation="z1")
    _check(m.params, ref["coef"], zero_prefix="zero:")
    _check(m.std_errors, ref["se"], zero_prefix="zero:")
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    if family == "hurdle-negbin":
        assert m.alpha == pytest.approx(ref["alpha"], rel=RTOL)
    clustered = fit("y ~ x1 + x2", hurdle, family=family, inflation="z1", cluster="g")
    _check(clustered.std_errors, ref["se_cl_g_hc1"], zero_prefix="zero:")


@pytest.mark.parametrize(
    ("case", "correlation"),
    [("gee_exchangeable", "exchangeable"), ("gee_independence", "independence")],
)
def test_gee_poisson(panel: pd.DataFrame, case: str, correlation: str) -> None:
    ref = CASES[case]
    m = fit(
        "y ~ x1 + x2 + C(cat)", panel, family="gee-poisson", cluster="g", correlation=correlation
    )
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se"])
