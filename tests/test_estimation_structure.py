"""The registries live below the specs, and each of their entries points at working code.

Why: ``cpcstats.spec`` checks family and variance names before any data is seen, so the
registries (:mod:`cpcstats.spec_registry`) must import nothing of the estimators; the fit
functions and variance estimators are named by ``"module:attribute"`` paths and resolved
on first use.  A path that no longer resolves (a renamed function, a moved module) would
only fail when that family is fitted, so these tests resolve every one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from cpcstats import spec_registry
from cpcstats.estimation import registry, vcov
from cpcstats.estimation.vcov import VarianceEstimator

SOURCE = Path(spec_registry.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_registries_import_only_the_standard_library() -> None:
    imported = {name.split(".")[0] for name in _imports(SOURCE / "spec_registry.py")}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_specs_and_formulas_import_no_estimation_code() -> None:
    files = [SOURCE / "spec.py", SOURCE / "spec_registry.py", *(SOURCE / "formula").glob("*.py")]
    for path in files:
        upward = sorted(m for m in _imports(path) if m.startswith("cpcstats.estimation"))
        assert not upward, f"{path.name} imports {upward}"


def test_the_old_registry_module_re_exports_the_same_objects() -> None:
    for name in spec_registry.__all__:
        assert getattr(registry, name) is getattr(spec_registry, name)
    with pytest.raises(AttributeError):
        _ = registry.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(spec_registry.FAMILY_REGISTRY))
def test_every_family_path_resolves_to_a_function(name: str) -> None:
    family = spec_registry.get_family(name)
    assert callable(family.fit_function())
    assert family.label


@pytest.mark.parametrize("name", list(spec_registry.VARIANCE_REGISTRY))
def test_every_variance_path_resolves_to_its_estimator(name: str) -> None:
    entry = spec_registry.VARIANCE_REGISTRY[name]
    estimator = vcov.VARIANCES[name]
    assert isinstance(estimator, VarianceEstimator)
    assert estimator.name == name
    assert estimator.selectable == entry.selectable
    assert vcov.VARIANCES[name] is estimator  # built once


def test_selectable_variances_are_the_spec_names() -> None:
    assert vcov.variance_names() == spec_registry.variance_names()
    assert "model" in vcov.VARIANCES and "model" not in spec_registry.variance_names()


def test_the_formula_package_keeps_its_public_names() -> None:
    import cpcstats.formula as formula

    for name in formula.__all__:
        assert hasattr(formula, name)
    parsed = formula.parse_formula("y ~ x * C(g) | u + t")
    assert parsed.fixed_effects == ("u", "t")
    assert parsed.variables == ("y", "x", "g", "u", "t")
