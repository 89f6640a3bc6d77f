"""One registry call adds a family or a variance estimator, end to end.

Why: a family and a variance are each one object (``cpcstats.estimation.registry``,
``cpcstats.estimation.vcov``); specs, ``fit``, the variance step, diagnostics and the
table labels read their traits, so nothing else has to change to add one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import SpecError, fit
from cpcstats.estimation import families, registry, vcov
from cpcstats.estimation.registry import FAMILY_REGISTRY, get_family, register_family
from cpcstats.estimation.vcov import HC0, VARIANCES, register_variance
from cpcstats.reporting.tables import se_label, table
from cpcstats.spec import spec_from_dict


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    g = np.repeat(np.arange(40), n // 40)
    return pd.DataFrame({"y": rng.poisson(np.exp(0.3 + 0.4 * x)), "x": x, "g": g})


@pytest.fixture
def toy_family() -> Iterator[str]:
    """A Poisson copy under a new name, registered with ONE call and removed after."""
    register_family(replace(get_family("poisson"), name="toy", label="Toy Poisson"))
    yield "toy"
    registry.unregister_family("toy")


class HC0Copy(HC0):
    name = "hc0-copy"
    table_text = "HC0 (copy)"


@pytest.fixture
def toy_variance() -> Iterator[str]:
    register_variance(HC0Copy())
    yield "hc0-copy"
    vcov.unregister_variance("hc0-copy")


def test_a_registered_family_fits_end_to_end(counts: pd.DataFrame, toy_family: str) -> None:
    spec = spec_from_dict(
        {"name": "m", "level": "custom", "family": toy_family, "formula": "y ~ x"},
        allow_custom=True,
    )
    assert spec.family == "toy"
    toy = fit("y ~ x", counts, family=toy_family, cluster="g")
    poisson = fit("y ~ x", counts, family="poisson", cluster="g")
    assert toy.family == "toy"
    np.testing.assert_allclose(toy.params, poisson.params)
    np.testing.assert_allclose(toy.std_errors, poisson.std_errors)
    assert toy.se_description == poisson.se_description
    assert se_label(toy) == "cluster: g"
    assert "Toy Poisson" in table([toy]).to_markdown()
    # its traits reach the variance step: it is Poisson-like, so quasi applies
    quasi = fit("y ~ x", counts, family=toy_family, se="quasi")
    assert quasi.se_type == "quasi"


def test_a_removed_family_is_unknown_again(counts: pd.DataFrame) -> None:
    assert "toy" not in FAMILY_REGISTRY
    with pytest.raises(SpecError, match="unknown family 'toy'"):
        fit("y ~ x", counts, family="toy")


def test_a_registered_variance_is_selectable_and_labelled(
    counts: pd.DataFrame, toy_variance: str
) -> None:
    m = fit("y ~ x", counts, family="poisson", se=toy_variance)
    hc0 = fit("y ~ x", counts, family="poisson", se="hc0")
    np.testing.assert_allclose(m.std_errors, hc0.std_errors)
    assert m.se_type == "hc0-copy"
    assert m.se_description == "heteroskedasticity-robust (HC0)"
    assert se_label(m) == "HC0 (copy)"
    assert toy_variance in vcov.variance_names()


def test_a_removed_variance_is_unknown_again(counts: pd.DataFrame) -> None:
    assert "hc0-copy" not in VARIANCES
    with pytest.raises(SpecError, match="unknown se 'hc0-copy'"):
        fit("y ~ x", counts, family="poisson", se="hc0-copy")


def test_old_names_are_derived_from_the_registries() -> None:
    """Names callers used before the registries still hold, read from the one registry."""
    from cpcstats import diagnostics
    from cpcstats.estimation import score

    assert set(families.FAMILIES) == set(FAMILY_REGISTRY)
    assert vcov.SE_TYPES == (
        "classical",
        "hc0",
        "hc1",
        "cluster",
        "bootstrap",
        "quasi",
        "driscoll-kraay",
    )
    assert vcov.QUASI_FAMILIES == score.POISSON_FAMILIES == ("poisson", "fe-poisson")
    assert {"negbin", "fe-negbin"} == diagnostics.NEGBIN_FAMILIES
    assert set(diagnostics.NO_COUNT_LIKELIHOOD) == {"gee-poisson", "gee-negbin", "ols-fe"}
    assert [p[2] for p in diagnostics.VUONG_PAIRS] == [
        "zero inflation",
        "zero inflation",
        "hurdle",
        "hurdle",
        "zero process",
        "zero process",
    ]


def _module_imports(path: Path) -> set[str]:
    """Top-level modules imported when ``path`` is imported (not under TYPE_CHECKING,
    not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_registries_import_no_fitting_machinery() -> None:
    """Specs read family traits and variance names without statsmodels, patsy, scipy or
    linearmodels: the registries import only these modules when loaded."""
    folder = Path(registry.__file__).parent
    assert _module_imports(folder / "registry.py") <= {
        "__future__",
        "importlib",
        "collections.abc",
        "dataclasses",
        "typing",
    }
    assert _module_imports(folder / "vcov.py") <= {
        "__future__",
        "collections.abc",
        "dataclasses",
        "typing",
        "numpy",
        "pandas",
        "cpcstats.errors",
        "cpcstats.estimation.registry",
    }
