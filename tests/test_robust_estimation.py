"""Estimation never throws on user data; GEE AR(1) respects time (issue 12).

* A Hessian that cannot be inverted (non-finite, or a decomposition that fails) is a
  flag with NaN standard errors, never a ``LinAlgError`` out of ``fit``.
* The hurdle-NB dispersion that diverges (positives more dispersed than any NB2) stops
  at its bound with finite numbers and a "dispersion at the boundary" flag.
* GEE with ``correlation = "ar1"`` uses rho^|t - s| in calendar time and geepack's
  estimator of rho: checked against ``tests/reference/make_gee_gaps.R`` on a panel whose
  units have gaps, where the row order (the old behaviour) gives different numbers.
* One-level clusters and inf/-inf in the data are user errors (exit 2), not bugs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cpcstats
from cpcstats import fit
from cpcstats.errors import EstimationError, InputError, SpecError
from cpcstats.estimation import families, truncated
from cpcstats.estimation.families import SINGULAR_HESSIAN
from tests.helpers import cli_fails as _fails
from tests.helpers import run_cli as _run

REF = Path(__file__).resolve().parent / "reference"
GAPS = pd.read_csv(REF / "data" / "gee_gaps.csv")
GEE_REF = json.loads((REF / "fixtures" / "gee_gaps.json").read_text())["cases"]
RTOL = 1e-6


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n = 400
    x = rng.normal(size=n)
    g = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "y": rng.poisson(np.exp(0.3 + 0.4 * x)),
            "x": x,
            "z": rng.normal(size=n),
            "g": g,
            "months": rng.integers(1, 13, n).astype(float),
            "one": "A",
        }
    )


# --------------------------------------------------------------------------- singular Hessians
def test_inv_of_a_non_finite_or_undecomposable_matrix_is_nan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The old ``_inv`` (pinv(hermitian=True)) raised LinAlgError on inf/NaN."""
    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(families._inv(good), np.linalg.inv(good))
    for bad in (np.array([[np.inf, 0.0], [0.0, 1.0]]), np.array([[np.nan, 1.0], [1.0, 2.0]])):
        assert np.isnan(families._inv(bad)).all()

    def fails(*args: object, **kw: object) -> np.ndarray:
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(np.linalg, "pinv", fails)
    assert np.isnan(families._inv(good)).all()


def test_a_failed_decomposition_is_a_flag_not_an_exception(
    counts: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every family's bread goes through ``_inv``: when the eigendecomposition fails (as on
    the BLAS builds where the demo's hurdle-NB broke) the fit returns, flagged, SEs NaN."""
    reference = fit("y ~ x", counts, family="poisson", cluster="g")

    def fails(*args: object, **kw: object) -> np.ndarray:
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(np.linalg, "pinv", fails)
    m = fit("y ~ x", counts, family="poisson", cluster="g")
    assert SINGULAR_HESSIAN in m.warnings
    assert np.isnan(m.std_errors).all()
    np.testing.assert_allclose(m.params, reference.params, rtol=1e-10)  # estimates stand


def test_a_non_finite_hurdle_hessian_is_a_flag_not_an_exception(
    counts: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = families.fit_truncated

    def poisoned(*args: object, **kw: object) -> truncated.TruncatedFit:
        out = original(*args, **kw)  # type: ignore[arg-type]
        out.hessian = out.hessian.copy()
        out.hessian[0, 0] = np.inf
        return out

    monkeypatch.setattr(families, "fit_truncated", poisoned)
    m = fit("y ~ x", counts, family="hurdle-negbin", inflation="x", cluster="g")
    assert SINGULAR_HESSIAN in m.warnings
    assert np.isnan(m.std_errors[["Intercept", "x"]]).all()
    assert np.isfinite(m.params).all()


def test_numerical_failures_inside_a_family_are_estimation_errors(
    counts: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def divides(data: object) -> object:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setitem(families.FAMILIES, "poisson", divides)
    with pytest.raises(EstimationError) as info:
        fit("y ~ x", counts, family="poisson", name="broken")
    assert "'broken'" in info.value.problem and info.value.fix


def test_negbin1_on_underdispersed_data_returns_quickly_and_flagged() -> None:
    """statsmodels' Newton stepped the NB1 alpha below zero, where its Hessian took minutes
    per call (polygamma at large negative arguments): a hang on constant counts."""
    import signal

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError("negbin1 fit hangs")

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 1, "x": rng.normal(size=200)})
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    try:
        m = fit("y ~ x", frame, family="negbin1")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert m.alpha is not None and m.alpha < families.ALPHA_BOUNDARY
    assert any("NB1 dispersion at the boundary" in w for w in m.warnings)
    assert not any("NB1 did not converge" in w for w in m.warnings)
    assert abs(m.params["x"]) < 1e-4


def test_zinb_without_overdispersion_or_excess_zeros_returns_flagged() -> None:
    """statsmodels' ZINB steps alpha below zero from every start on equidispersed Poisson
    data ("no starting value led to a finite likelihood"); the simplex fallback returns
    the ZIP-like optimum, said so."""
    rng = np.random.default_rng(0)
    n = 200
    x = rng.normal(size=n)
    frame = pd.DataFrame({"y": rng.poisson(np.exp(0.2 + 0.3 * x)), "x": x, "z": rng.normal(size=n)})
    m = fit("y ~ x", frame, family="zinb", inflation="z")
    zip_ = fit("y ~ x", frame, family="zip", inflation="z")
    assert families.NELDER_MEAD_NOTE in m.warnings
    assert np.isfinite(m.params).all()
    assert abs(m.params["x"] - zip_.params["x"]) < 0.01
    assert m.loglik == pytest.approx(zip_.loglik, abs=0.1)


def test_ols_fe_with_absorbed_regressors_is_an_estimation_error() -> None:
    frame = pd.DataFrame(
        {"y": [1, 2, 0, 3, 1, 2], "u": [1, 1, 2, 2, 3, 3], "year": [1, 2, 1, 2, 1, 2]}
    )
    frame["x"] = frame["u"] * 1.0  # constant within units: absorbed by the unit effects
    with pytest.raises(EstimationError) as info:
        fit("y ~ x | u + year", frame, family="ols-fe", cluster="u")
    assert "absorbed" in info.value.problem


@pytest.mark.parametrize("outcome", ["zeros", "positives"])
def test_hurdle_without_zeros_or_positives_is_an_estimation_error(outcome: str) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"y": 0 if outcome == "zeros" else 2, "x": rng.normal(size=100)})
    with pytest.raises(EstimationError) as info:
        fit("y ~ x", frame, family="hurdle-negbin", inflation="x")
    words = "only 0 positive" if outcome == "zeros" else "no zero outcomes"
    assert words in info.value.problem and info.value.fix


# --------------------------------------------------------------------------- hurdle-NB boundary
def _overdispersed_positives(seed: int = 4) -> pd.DataFrame:
    """Positive counts more dispersed than any NB2 (85% ones, the rest 10-59): the
    truncated-NB2 likelihood keeps rising as alpha -> inf (the logarithmic-series limit)."""
    rng = np.random.default_rng(seed)
    n = 1500
    x = rng.normal(size=n)
    positive = rng.random(n) < 0.4
    y = np.where(positive, np.where(rng.random(n) < 0.85, 1, rng.integers(10, 60, n)), 0)
    return pd.DataFrame({"y": y, "x": x})


def test_diverging_hurdle_dispersion_stops_at_the_bound_with_a_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _overdispersed_positives()
    m = fit("y ~ x", frame, family="hurdle-negbin", inflation="x")
    assert m.alpha == pytest.approx(truncated.ALPHA_MAX)
    assert any("dispersion at the boundary" in w and "upper bound" in w for w in m.warnings)
    assert np.isfinite(m.params).all() and abs(m.params["Intercept"]) < 15
    assert m.alpha_se is not None and np.isnan(m.alpha_se)
    assert np.isfinite(m.std_errors).all() and (m.std_errors > 0).all()
    assert m.converged
    # the bound costs nothing visible: a 100 times larger bound moves the slope < 1e-3
    monkeypatch.setattr(truncated, "ALPHA_MAX", 1e6)
    wider = fit("y ~ x", frame, family="hurdle-negbin", inflation="x")
    assert wider.alpha == pytest.approx(1e6)
    assert abs(wider.params["x"] - m.params["x"]) < 1e-3
    assert abs(wider.std_errors["x"] / m.std_errors["x"] - 1) < 1e-3


def test_boundary_hurdle_through_the_cli_writes_its_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _overdispersed_positives().to_parquet(tmp_path / "p.parquet", index=False)
    spec = tmp_path / "m.toml"
    spec.write_text(
        "name = 'h'\nlevel = 'country-year'\nformula = 'y ~ x'\nfamily = 'hurdle-negbin'\n"
        "inflation = 'x'\n"
    )
    out = tmp_path / "out"
    code, text = _run(
        capsys, "fit", str(spec), "--data", str(tmp_path / "p.parquet"), "--out", str(out)
    )
    assert code == 0, text
    assert "dispersion at the boundary" in text
    record = json.loads((out / "h.json").read_text())["model"]
    assert record["alpha_std_error"] is None and record["converged"] is True
    assert (out / "h.tex").is_file()


def test_hurdle_dispersion_at_the_lower_bound_is_flagged() -> None:
    rng = np.random.default_rng(8)
    n = 800
    x = rng.normal(size=n)
    y = np.where(rng.random(n) < 0.5, rng.integers(2, 4, n), 0)  # underdispersed positives
    m = fit("y ~ x", pd.DataFrame({"y": y, "x": x}), family="hurdle-negbin", inflation="x")
    assert m.alpha == pytest.approx(truncated.ALPHA_MIN)
    assert any("lower bound" in w and "hurdle-poisson" in w for w in m.warnings)
    assert np.isfinite(m.params).all() and np.isfinite(m.std_errors).all()


def test_hurdle_negbin_at_theta_zero_is_finite_and_flagged() -> None:
    """Positive counts more dispersed than any NB (85 % ones, the rest geometric with mean
    60) push the truncated NB's alpha to infinity; the old demo's fam_hurdle_negbin was
    such a case and walked to alpha = 5.6e12 with an intercept of -30 ("did not
    converge").  Now the fit stops at the bound, converged, with finite SEs, and says so."""
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=n)
    positive = rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 0.5 * x)))
    counts = np.where(rng.random(n) < 0.1, 1 + rng.geometric(1 / 60, size=n), 1)
    frame = pd.DataFrame({"y": np.where(positive, counts, 0), "x": x})
    m = cpcstats.fit("y ~ x", frame, family="hurdle-negbin", inflation="x")
    assert m.converged and m.alpha == pytest.approx(truncated.ALPHA_MAX)
    assert any("dispersion at the boundary" in w for w in m.warnings)
    assert any("theta = 1/alpha → 0" in p for p in m.problems)
    assert np.isfinite(m.params).all() and np.isfinite(m.std_errors).all()
    assert abs(m.params["Intercept"]) < 15


# --------------------------------------------------------------------------- GEE AR(1) in time
def _check(ours: pd.Series, ref: dict[str, float], rtol: float = RTOL) -> None:
    expected = pd.Series(ref)[ours.index]
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=rtol)


def _old_row_order_fit(frame: pd.DataFrame) -> Any:
    """What the old code did: statsmodels' Autoregressive(grid=True), row order as time."""
    frame = frame.sort_values(["unit", "year"])
    X = sm.add_constant(frame[["x1", "x2"]].to_numpy(dtype=float))
    model = sm.GEE(
        frame["y"].to_numpy(dtype=float),
        X,
        groups=frame["unit"].to_numpy(),
        time=frame["year"].to_numpy(dtype=float),
        family=sm.families.Poisson(),
        cov_struct=sm.cov_struct.Autoregressive(grid=True),
    )
    return model.fit(maxiter=200, ctol=1e-10, scale="X2", ddof_scale=0)


def test_gee_ar1_with_gaps_matches_geepack_with_waves() -> None:
    assert (GAPS.groupby("unit")["year"].diff().dropna() > 1).sum() > 50  # real gaps
    ref = GEE_REF["ar1"]
    m = fit("y ~ x1 + x2", GAPS, family="gee-poisson", cluster="unit", correlation="ar1")
    _check(m.params, ref["coef"])
    _check(m.std_errors, ref["se"])
    assert m.extra["working_correlation"] == pytest.approx(ref["alpha"], rel=RTOL)
    assert "AR(1) in time" in m.se_description
    # the old behaviour (row order as time) is measurably off the correct answer
    old = _old_row_order_fit(GAPS)
    gap = np.max(np.abs(old.params / pd.Series(ref["coef"]).to_numpy() - 1))
    assert gap > 1e-3, gap
    assert abs(old.cov_struct.dep_params - ref["alpha"]) > 0.05


def test_gee_ar1_correlation_matrix_at_a_fixed_rho_matches_geepack() -> None:
    """Whatever the estimator of rho: at rho = 0.5 the working correlation rho^|t - s| gives
    geepack's corstr = "fixed" coefficients and both variances."""

    class Fixed(families.TimeAR1):
        def update(self, params: np.ndarray) -> None:
            self.dep_params = 0.5

    ref = GEE_REF["fixed"]
    X = sm.add_constant(GAPS[["x1", "x2"]].to_numpy(dtype=float))
    res = sm.GEE(
        GAPS["y"].to_numpy(dtype=float),
        X,
        groups=GAPS["unit"].to_numpy(),
        time=GAPS["year"].to_numpy(dtype=float),
        family=sm.families.Poisson(),
        cov_struct=Fixed(),
    ).fit(maxiter=200, ctol=1e-10, scale="X2", ddof_scale=0)
    names = ["Intercept", "x1", "x2"]
    _check(pd.Series(res.params, index=names), ref["coef"])
    _check(pd.Series(np.sqrt(np.diag(res.cov_robust)), index=names), ref["se"])
    _check(pd.Series(np.sqrt(np.diag(res.cov_naive)), index=names), ref["se_model_based"])


def test_gee_ar1_does_not_depend_on_the_row_order() -> None:
    shuffled = GAPS.sample(frac=1.0, random_state=3).reset_index(drop=True)
    kw = {"family": "gee-poisson", "cluster": "unit", "correlation": "ar1"}
    a = fit("y ~ x1 + x2", GAPS, **kw)
    b = fit("y ~ x1 + x2", shuffled, **kw)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-9)


def test_gee_ar1_needs_a_time_and_one_row_per_unit_and_year() -> None:
    no_time = GAPS.rename(columns={"year": "t"})
    with pytest.raises(SpecError) as info:
        fit("y ~ x1 + x2", no_time, family="gee-poisson", cluster="unit", correlation="ar1")
    assert info.value.column == "correlation" and "year" in info.value.problem
    doubled = GAPS.assign(pair=GAPS["unit"] // 2)  # two units per cluster: years repeat
    with pytest.raises(SpecError) as info:
        fit("y ~ x1 + x2", doubled, family="gee-poisson", cluster="pair", correlation="ar1")
    assert info.value.column == "cluster" and "repeat a (unit, year)" in info.value.problem
    # exchangeable needs no time order and still fits on the same clusters
    ok = fit("y ~ x1 + x2", doubled, family="gee-poisson", cluster="pair")
    assert np.isfinite(ok.std_errors).all()


# --------------------------------------------------------------------------- user errors
def test_one_level_cluster_is_a_spec_error(counts: pd.DataFrame) -> None:
    for kw in (
        {"family": "poisson", "cluster": "one"},
        {"family": "poisson", "cluster": "one", "se": "bootstrap", "bootstrap_reps": 9},
        {"family": "gee-poisson", "cluster": "one"},
    ):
        with pytest.raises(SpecError) as info:
            fit("y ~ x", counts, **kw)
        assert info.value.column == "cluster", kw
        assert "'one' has 1 level" in info.value.problem and "at least 2" in info.value.problem
    # a filter that leaves one cluster
    with pytest.raises(SpecError, match="1 level"):
        fit("y ~ x", counts, family="poisson", cluster="g", sample="g == 3")


@pytest.mark.parametrize("column", ["x", "y", "months"])
def test_infinite_values_in_a_data_frame_are_input_errors(
    counts: pd.DataFrame, column: str
) -> None:
    frame = counts.copy()
    frame[column] = frame[column].astype(float)
    frame.loc[[5, 9], column] = [np.inf, -np.inf]
    with pytest.raises(InputError) as info:
        fit("y ~ x", frame, family="poisson", exposure="months")
    assert info.value.column == column
    assert "2 infinite value(s)" in info.value.problem and "index label 5" in info.value.problem


def test_a_term_that_evaluates_to_inf_is_an_estimation_error(counts: pd.DataFrame) -> None:
    frame = counts.assign(w=np.where(counts.index == 7, 0.0, np.abs(counts["x"]) + 0.1))
    with pytest.raises(EstimationError) as info:
        fit("y ~ np.log(w)", frame, family="poisson")
    assert "np.log(w)" in info.value.problem and "1 row(s)" in info.value.problem
    assert "log1p" in (info.value.fix or "")


def _panel_file(folder: Path, column: str, value: float) -> Path:
    frame = pd.DataFrame(
        {
            "contacts": [0.0, 2, 1, 3, 0, 1, 4, 2],
            "x": [0.1, 0.5, 0.3, 0.9, 0.2, 0.4, 0.8, 0.6],
            "months": [12.0, 12, 6, 12, 12, 3, 12, 12],
            "lag": [0.0, 0.1, 0.2, 0.1, 0.0, 0.3, 0.1, 0.2],
            "iso3": ["NOR"] * 8,
        }
    )
    frame.loc[3, column] = value
    path = folder / "panel.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "key"),
    [("contacts", ""), ("x", ""), ("months", "exposure = 'months'\n"), ("lag", "offset = 'lag'\n")],
)
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_through_the_cli_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, column: str, key: str, value: float
) -> None:
    data = _panel_file(tmp_path, column, value)
    spec = tmp_path / "m.toml"
    spec.write_text(
        "name = 'm'\nlevel = 'country-year'\nformula = 'contacts ~ x'\nfamily = 'poisson'\n" + key
    )
    err = _fails(
        capsys,
        ["panel.parquet", repr(column), "1 infinite value(s)", "inf"],
        "fit",
        str(spec),
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
    )
    assert "first at row" in err


def test_one_level_cluster_through_the_cli_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = _panel_file(tmp_path, "x", 0.7)
    spec = tmp_path / "m.toml"
    spec.write_text(
        "name = 'm'\nlevel = 'country-year'\nformula = 'contacts ~ x'\nfamily = 'poisson'\n"
        "cluster = 'iso3'\n"
    )
    _fails(
        capsys,
        ["'iso3' has 1 level", "'NOR'", "at least 2 clusters"],
        "fit",
        str(spec),
        "--data",
        str(data),
        "--out",
        str(tmp_path / "out"),
    )


def test_infinite_values_in_a_csv_through_the_cli_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Whichever layer refuses them (the typed CSV reader or the model sample), `inf` in a
    CSV is a user error naming the column, exit 2."""
    (tmp_path / "p.csv").write_text(
        "contacts,x\n0,0.1\n2,0.5\n1,inf\n3,0.9\n0,0.2\n1,-inf\n", encoding="utf-8"
    )
    spec = tmp_path / "m.toml"
    spec.write_text(
        "name = 'm'\nlevel = 'country-year'\nformula = 'contacts ~ x'\nfamily = 'poisson'\n"
    )
    _fails(
        capsys,
        ["p.csv", "'x'"],
        "fit",
        str(spec),
        "--data",
        str(tmp_path / "p.csv"),
        "--out",
        str(tmp_path / "out"),
    )
