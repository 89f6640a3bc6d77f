"""``k_fixef``: how fixed effects enter K of the small-sample factor, as fixest's ssc().

Reference values: ``tests/reference/make_k_fixef.R`` (R's glm / lm with factor dummies,
``sandwich::vcovCL(type = "HC0", cadjust = FALSE)`` and the factors G/(G-1), (n-1)/(n-K)
and n/(n-K) applied by hand with K counted in R from the design).  The data have party
effects nested in the country clusters and year effects crossing them.  Tolerance:
relative 1e-6 (the estimates themselves agree to about 1e-10).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import fit
from cpcstats.errors import SpecError
from cpcstats.estimation.vcov import fixef_k
from cpcstats.spec import ModelSpec, load_specs, spec_from_dict

FIXTURE = Path(__file__).resolve().parent / "reference" / "fixtures" / "k_fixef.json"
REF = json.loads(FIXTURE.read_text())
RTOL = 1e-6
CASES = [(family, case) for family, m in REF["models"].items() for case in m["cases"]]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.DataFrame(REF["data"])


def _spec(family: str, case: dict[str, object]) -> ModelSpec:
    entry: dict[str, object] = {
        "name": "m",
        "level": "custom",
        "family": family,
        "formula": REF["models"]["fe-poisson"]["formula"],
        "se": case["se"],
        "k_fixef": case["k_fixef"],
    }
    if case["cluster"]:
        entry["cluster"] = case["cluster"]
    return spec_from_dict(entry, allow_custom=True)


@pytest.mark.parametrize(("family", "name"), CASES)
def test_standard_errors_equal_r(data: pd.DataFrame, family: str, name: str) -> None:
    model = REF["models"][family]
    case = model["cases"][name]
    result = fit(_spec(family, case), data)
    expected = pd.Series(case["std_errors"])
    np.testing.assert_allclose(result.params[expected.index], pd.Series(model["coef"]), rtol=1e-8)
    np.testing.assert_allclose(result.std_errors[expected.index], expected, rtol=RTOL)
    assert result.core is not None and result.core.k_dof == model["k_full"]


@pytest.mark.parametrize("family", ["fe-poisson", "ols-fe"])
def test_k_is_counted_as_in_r(data: pd.DataFrame, family: str) -> None:
    """K itself, from the rows used: party (45 levels) nested in country, year (8) not."""
    for case in REF["models"][family]["cases"].values():
        clusters = case["cluster"] if case["se"] == "cluster" else []
        k = fixef_k(
            REF["models"][family]["k_full"], data, ["party", "year"], clusters, case["k_fixef"]
        )
        assert k == case["K"], case


def test_nested_sits_between_none_and_full(data: pd.DataFrame) -> None:
    """Fewer parameters counted -> a smaller factor -> smaller SEs, in that order."""
    se = {
        how: fit(
            _spec("fe-poisson", {"se": "cluster", "cluster": ["country"], "k_fixef": how}), data
        ).std_errors["x1"]
        for how in ("full", "nested", "none")
    }
    assert se["none"] < se["nested"] < se["full"]


def test_description_says_which_k(data: pd.DataFrame) -> None:
    case = {"se": "cluster", "cluster": ["country"], "k_fixef": "nested"}
    nested = fit(_spec("fe-poisson", case), data)
    assert "K = 10 (k_fixef = 'nested')" in nested.se_description
    full = fit(_spec("fe-poisson", {**case, "k_fixef": "full"}), data)
    assert "k_fixef" not in full.se_description  # the default reads as before


def test_default_is_full_and_unchanged(data: pd.DataFrame) -> None:
    """No k_fixef given: every FE level counted (R's glm + vcovCL HC1, the old behaviour)."""
    spec = spec_from_dict(
        {
            "name": "m",
            "level": "custom",
            "family": "fe-poisson",
            "formula": "y ~ x1 + x2 | party + year",
            "cluster": "country",
        },
        allow_custom=True,
    )
    assert spec.k_fixef == "full"
    expected = REF["models"]["fe-poisson"]["cases"]["cluster_country_full"]["std_errors"]
    np.testing.assert_allclose(
        fit(spec, data).std_errors[["x1", "x2"]], pd.Series(expected), rtol=RTOL
    )


def test_models_without_fixed_effects_ignore_it(data: pd.DataFrame) -> None:
    base = {
        "name": "m",
        "level": "custom",
        "family": "poisson",
        "formula": "y ~ x1 + x2",
        "cluster": "country",
    }
    full = fit(spec_from_dict(base, allow_custom=True), data)
    nested = fit(spec_from_dict({**base, "k_fixef": "nested"}, allow_custom=True), data)
    assert full.std_errors.equals(nested.std_errors)


def test_dummy_fixed_effects_count_the_same(data: pd.DataFrame) -> None:
    """Poisson with the effects as dummies equals the absorbed FE-Poisson under each K."""
    for how in ("nested", "none"):
        case = {"se": "cluster", "cluster": ["country"], "k_fixef": how}
        absorbed = fit(_spec("fe-poisson", case), data).std_errors[["x1", "x2"]]
        dummies = fit(_spec("poisson", case), data).std_errors[["x1", "x2"]]
        np.testing.assert_allclose(dummies, absorbed, rtol=1e-6)


def test_toml_key_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    text = (
        'name = "m"\nlevel = "party-year"\nfamily = "fe-poisson"\n'
        'formula = "contacts ~ ruling | party_id + year"\ncluster = "iso3"\n'
    )
    path.write_text(text + 'k_fixef = "nested"\n')
    assert load_specs(path)[0].k_fixef == "nested"
    path.write_text(text + 'k_fixef = "nest"\n')
    with pytest.raises(SpecError) as info:
        load_specs(path)
    err = info.value
    assert err.file == str(path) and err.column == "k_fixef"
    assert "'nest'" in err.problem and "nested" in (err.fix or "")
    path.write_text(text + "k_fixef = 1\n")
    with pytest.raises(SpecError, match="k_fixef"):
        load_specs(path)


def test_fit_keyword_matches_the_spec_key(data: pd.DataFrame) -> None:
    """``cpcstats.fit(..., k_fixef=...)`` gives the R reference SEs of that K choice, on a
    formula and on a ModelSpec (where it overrides the spec's key); a bad value is refused."""
    model = REF["models"]["fe-poisson"]
    for case in model["cases"].values():
        if case["se"] != "cluster" or not case["cluster"]:
            continue
        expected = pd.Series(case["std_errors"])
        by_formula = fit(
            model["formula"],
            data,
            family="fe-poisson",
            cluster=case["cluster"],
            k_fixef=case["k_fixef"],
        )
        np.testing.assert_allclose(by_formula.std_errors[expected.index], expected, rtol=RTOL)
        other = "none" if case["k_fixef"] != "none" else "full"
        spec = _spec("fe-poisson", {**case, "k_fixef": other})
        overridden = fit(spec, data, k_fixef=case["k_fixef"])
        np.testing.assert_allclose(overridden.std_errors[expected.index], expected, rtol=RTOL)
    with pytest.raises(SpecError, match="unknown k_fixef 'fixest'"):
        fit(model["formula"], data, family="fe-poisson", k_fixef="fixest")
