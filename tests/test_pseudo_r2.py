"""McFadden's pseudo-R² and the null log-likelihood ll0 behind it, against R.

Reference values come from ``tests/reference/make_pseudo_r2.R`` (rerun with
``Rscript tests/reference/make_pseudo_r2.R``; it reads the committed data sets of
``tests/reference/data``): ``glm(y ~ 1)``, ``MASS::glm.nb(y ~ 1)``,
``pscl::zeroinfl(y ~ 1 | 1)`` and ``pscl::hurdle(y ~ 1 | 1)``, with and without an offset,
and the full models' log-likelihoods.  Tolerance: relative 1e-6 on ll0 and on
1 - ll/ll0 (the brief's); the optimisations agree to about 1e-12.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import fit
from cpcstats.estimation.null_model import NULL_MODELS, null_loglik
from cpcstats.reporting.tables.gof import pseudo_r2

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "tests" / "reference"
CASES = json.loads((REF / "fixtures" / "pseudo_r2.json").read_text())["cases"]
RTOL = 1e-6

#: fixture case -> (data set, formula, family, keywords) of the same model in cpcstats
MODELS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "poisson": ("panel", "y ~ x1 + x2 + C(cat)", "poisson", {}),
    "poisson_expo": ("panel", "y ~ x1 + x2 + C(cat)", "poisson", {"exposure": "expo"}),
    "negbin": ("panel", "y ~ x1 + x2 + C(cat)", "negbin", {}),
    "negbin_expo": ("panel", "y ~ x1 + x2 + C(cat)", "negbin", {"exposure": "expo"}),
    "fe_poisson": ("panel", "y ~ x1 + x2 | g + t", "fe-poisson", {}),
    "fe_negbin": ("panel", "y ~ x1 + x2 | g", "fe-negbin", {}),
    "zip": ("zeros", "y ~ x1 + x2", "zip", {"inflation": "z1"}),
    "zinb": ("zeros", "y ~ x1 + x2", "zinb", {"inflation": "z1"}),
    "hurdle_poisson": ("hurdle", "y ~ x1 + x2", "hurdle-poisson", {"inflation": "z1"}),
    "hurdle_negbin": ("hurdle", "y ~ x1 + x2", "hurdle-negbin", {"inflation": "z1"}),
    "hurdle_negbin_expo": (
        "panel",
        "y ~ x1 + x2",
        "hurdle-negbin",
        {"inflation": "x1", "exposure": "expo"},
    ),
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(REF / "data" / f"{name}.csv") for name in ("panel", "zeros", "hurdle")
    }


def test_every_case_has_a_model() -> None:
    assert set(MODELS) == set(CASES)


@pytest.mark.parametrize("case", sorted(MODELS))
def test_null_loglik_and_pseudo_r2_match_r(case: str, frames: dict[str, pd.DataFrame]) -> None:
    data, formula, family, kw = MODELS[case]
    ref = CASES[case]
    m = fit(formula, frames[data], family=family, **kw)
    assert not m.flagged, m.flag_reason
    assert m.nobs == ref["nobs"]
    assert m.loglik == pytest.approx(ref["loglik"], rel=1e-8)
    assert m.extra["loglik_null"] == pytest.approx(ref["loglik_null"], rel=RTOL)
    assert m.extra["loglik_null_model"] == NULL_MODELS[family]
    r2 = pseudo_r2(m)
    assert r2 is not None and 0 < r2 < 1
    assert r2 == pytest.approx(ref["pseudo_r2"], rel=RTOL)


@pytest.mark.parametrize(
    ("family", "kw"),
    [
        ("poisson", {}),
        ("negbin", {"exposure": "expo"}),
        ("negbin1", {}),
        ("negbin1", {"exposure": "expo"}),
        ("zip", {"inflation": "1"}),
        ("zinb", {"inflation": "1", "exposure": "expo"}),
        ("hurdle-poisson", {"inflation": "1", "exposure": "expo"}),
        ("hurdle-negbin", {"inflation": "1"}),
    ],
)
def test_null_equals_the_familys_own_intercept_only_fit(
    family: str, kw: dict[str, str], frames: dict[str, pd.DataFrame]
) -> None:
    """ll0 is the maximum of the family's own likelihood with intercepts only (NB1 has no
    R reference: this is its check), so it equals ``fit("y ~ 1", ...)``'s log-likelihood,
    whose pseudo-R² is then 0 (None when that fit is flagged: the ZINB with an exposure
    has its inflation probability at the boundary 0 here, and its ll0 is the NB2 null)."""
    data = frames["zeros"] if family in ("zip", "hurdle-negbin") else frames["panel"]
    null_fit = fit("y ~ 1", data, family=family, **kw)
    assert null_fit.extra["loglik_null"] == pytest.approx(null_fit.loglik, rel=1e-9)
    if null_fit.flagged:
        assert pseudo_r2(null_fit) is None
    else:
        assert pseudo_r2(null_fit) == pytest.approx(0.0, abs=1e-8)


def test_zero_inflation_at_the_boundary_falls_back_to_the_count_null() -> None:
    """With fewer zeros than the truncated count part implies (here none at all) the
    zero-inflated null is the plain count null (pi -> 0), not the hurdle's value."""
    y = np.random.default_rng(7).poisson(2.0, 3000).astype(float)
    y[y == 0] = 1.0
    zip0 = null_loglik("zip", y)
    assert zip0 == pytest.approx(null_loglik("poisson", y), rel=1e-9)
    assert null_loglik("hurdle-poisson", y) > zip0 + 1.0  # the hurdle fits better


def test_no_null_model_for_families_without_a_count_likelihood(
    frames: dict[str, pd.DataFrame],
) -> None:
    panel = frames["panel"]
    for family in ("gee-poisson", "ols-fe"):
        formula = "y ~ x1 + x2 | g" if family == "ols-fe" else "y ~ x1 + x2"
        kw = {"cluster": "g"} if family == "gee-poisson" else {}
        m = fit(formula, panel.assign(year=panel["t"]), family=family, **kw)
        assert m.extra["loglik_null"] is None
        assert m.extra["loglik_null_model"] is None
        assert pseudo_r2(m) is None
    assert null_loglik("some-user-family", panel["y"].to_numpy()) is None


def test_flagged_fit_shows_no_pseudo_r2(frames: dict[str, pd.DataFrame]) -> None:
    """A flagged fit keeps its ll0 (a property of the data) but gets no pseudo-R²."""
    m = fit("y ~ x1 + x2 + C(cat)", frames["panel"], family="poisson")
    assert pseudo_r2(m) is not None
    m.problems.append("a boundary, for the test")
    assert m.flagged and m.extra["loglik_null"] is not None
    assert pseudo_r2(m) is None


# --------------------------------------------------------------------------- the demo run


def _row(md: str, label: str) -> list[str]:
    """The cells of the Markdown table row whose stub is ``label``."""
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r} in the table")


def _number(cell: str) -> float | None:
    match = re.fullmatch(r"[−-]?\d+(\.\d+)?", cell.replace(",", ""))
    return None if match is None else float(cell.replace("−", "-").replace(",", ""))


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables 1 and 4 of the demo replication (a configuration with only those two)."""
    from cpcstats.replicate import replicate
    from cpcstats.tomlio import load_toml

    config = load_toml(REPO / "replication" / "replication.toml")
    root = tmp_path_factory.mktemp("pseudo_r2")
    keep = {"table1_party_ruling_regime", "table4_robustness"}
    tables = [t for t in config["table"] if t["name"] in keep]
    lines = [f'models = "{(REPO / "models").as_posix()}"', ""]
    for t in tables:
        lines += [
            "[[table]]",
            f'name = "{t["name"]}"',
            f"title = {json.dumps(t['title'])}",
            f"models = {json.dumps(t['models'])}",
            "irr = false",
            f"drop = {json.dumps(t.get('drop', []))}",
            "",
        ]
    (root / "replication.toml").write_text("\n".join(lines), encoding="utf-8")
    result = replicate("demo", root / "out", root / "replication.toml", progress=lambda _: None)
    assert not result.failed, result.failed
    return root / "out" / "tables"


def test_demo_table1_shows_pseudo_r2_of_every_column(demo_tables: Path) -> None:
    md = (demo_tables / "table1_party_ruling_regime.md").read_text(encoding="utf-8")
    values = [_number(c) for c in _row(md, "Pseudo-R² (McFadden)")]
    estimators = _row(md, "Estimator")
    assert len(values) == len(estimators) == 4
    for value, estimator in zip(values, estimators, strict=True):
        assert estimator in ("Poisson", "NB2")
        assert value is not None and 0 < value < 1, (estimator, value)
    loglik = [_number(c) for c in _row(md, "Log-likelihood")]
    nobs = [c.strip() for c in _row(md, "N")]
    # same sample and family, more terms: a higher log-likelihood, a higher pseudo-R² (the
    # polyarchy column has fewer rows: V-Dem does not code the microstates)
    by_ll = sorted(zip(loglik, values, estimators, nobs, strict=True))
    for n in set(nobs):
        nb = [v for _, v, e, k in by_ll if e == "NB2" and k == n]
        assert nb == sorted(nb), n
    assert len(set(nobs)) >= 1


def test_demo_table4_pseudo_r2_empty_for_ols_fe_and_flagged_fits(demo_tables: Path) -> None:
    md = (demo_tables / "table4_robustness.md").read_text(encoding="utf-8")
    cells = _row(md, "Pseudo-R² (McFadden)")
    estimators = _row(md, "Estimator")
    headers = next(
        [c.strip() for c in line.strip().strip("|").split("|")][1:]
        for line in md.splitlines()
        if line.startswith("|  |") and "(" not in line.split("|")[2]
    )
    for cell, estimator, header in zip(cells, estimators, headers, strict=True):
        value = _number(cell)
        if estimator.startswith("OLS") or "†" in header:  # no likelihood / not a result
            assert value is None, (estimator, header, cell)
        else:
            assert value is not None and 0 < value < 1, (estimator, cell)
    assert any(e.startswith("OLS") for e in estimators)


def test_results_record_carries_ll0_and_pseudo_r2(frames: dict[str, pd.DataFrame]) -> None:
    ref = CASES["negbin"]
    record = fit("y ~ x1 + x2 + C(cat)", frames["panel"], family="negbin").to_record()
    assert record["loglik_null"] == pytest.approx(ref["loglik_null"], rel=RTOL)
    assert record["pseudo_r2"] == pytest.approx(ref["pseudo_r2"], rel=RTOL)
    json.dumps(record, allow_nan=False)  # plain JSON
    gee = fit("y ~ x1 + x2", frames["panel"], family="gee-poisson", cluster="g").to_record()
    assert gee["loglik_null"] is None and gee["pseudo_r2"] is None
