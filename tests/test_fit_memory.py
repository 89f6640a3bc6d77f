"""What a fitted model keeps: its estimation sample as the given frame plus row positions
(not a copy of every column), a payload that can be let go, and the ETWFE mean model's
sums formed without second copies of its dense design -- with the same numbers.

Each test could fail: a sample that differs from the row-by-row filtering, a model that
follows the user's later edits of their frame, a payload kept or lost against the
request, or sums that differ in the last bit from the copy-based arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.accounting import Ledger
from cpcstats.errors import EstimationError
from cpcstats.methods.etwfe import etwfe
from cpcstats.methods.fe_design import cluster_sum
from cpcstats.methods.fe_mean import FEPoissonMean
from cpcstats.panels import Panel
from cpcstats.replicate.stages import ReplicationResult, fit_models
from cpcstats.spec import ModelSpec
from tests.sim_staggered import COLUMNS, sparse_cohorts


def _panel(seed: int = 3, n_units: int = 40, n_years: int = 12) -> pd.DataFrame:
    """A unit-year panel with missing values, an all-zero unit and a text column."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2000, 2000 + n_years), n_units)
    x = rng.normal(size=len(unit))
    y = rng.poisson(np.exp(0.3 + 0.5 * x))
    y[unit == 0] = 0  # an all-zero group: dropped by the FE count families
    frame = pd.DataFrame(
        {
            "unit": [f"u{u:02d}" for u in unit],
            "year": year,
            "x": x,
            "z": rng.normal(size=len(unit)),
            "y": y,
            "label": rng.choice(["a", "b", "c"], size=len(unit)),
        },
        index=pd.RangeIndex(100, 100 + len(unit)),  # labels that are not positions
    )
    frame.loc[frame.index[[3, 17, 50]], "x"] = np.nan
    frame.loc[frame.index[[9]], "z"] = np.nan
    return frame


def _row_by_row(frame: pd.DataFrame, used: list[str], keep_filter: pd.Series) -> pd.DataFrame:
    """The estimation sample as the old code built it: one copy per step."""
    sample = frame[keep_filter.to_numpy()]
    for column in used:
        sample = sample[~sample[column].isna().to_numpy()]
    return sample


def test_the_sample_is_the_given_rows_with_their_labels() -> None:
    frame = _panel()
    m = cpcstats.fit("y ~ x + z", frame, family="poisson", sample="year >= 2002")
    expected = _row_by_row(frame, ["y", "x", "z"], frame["year"] >= 2002)
    pd.testing.assert_frame_equal(m.design.frame, expected)
    assert m.design.rows is not None and len(m.design.rows) == m.nobs == len(expected)
    assert m.design.data.frame is None  # only fe="own" families read it


def test_a_model_that_uses_every_row_keeps_no_copy_of_them() -> None:
    frame = _panel().dropna()
    m = cpcstats.fit("y ~ x", frame, family="poisson")
    assert m.design.rows is None
    pd.testing.assert_frame_equal(m.design.frame, frame)
    # the model's frame shares the user's columns (no copy of their data)
    assert np.shares_memory(m.design.frame["x"].to_numpy(), frame["x"].to_numpy())


@pytest.mark.parametrize("complete", [True, False])
def test_later_edits_of_the_users_frame_do_not_reach_a_fitted_model(complete: bool) -> None:
    """pandas' copy-on-write: the shallow copy the model holds keeps the values of the fit,
    also when it uses every row (no positions, the user's columns shared)."""
    frame = _panel().dropna() if complete else _panel()
    m = cpcstats.fit("y ~ x", frame, family="poisson")
    assert (m.design.rows is None) == complete
    before = m.design.frame.copy()
    fitted_before = m.fitted_values.copy()
    frame["x"] = 0.0
    frame.loc[frame.index[0], "y"] = 99
    del frame["z"]
    pd.testing.assert_frame_equal(m.design.frame, before)
    pd.testing.assert_series_equal(m.fitted_values, fitted_before)


def test_fixed_effect_models_drop_all_zero_groups_and_keep_positions() -> None:
    frame = _panel()
    m = cpcstats.fit("y ~ x | unit", frame, family="fe-poisson", cluster="unit")
    expected = _row_by_row(frame, ["y", "x", "unit"], frame["year"] > 0)
    expected = expected[expected["unit"] != "u00"]
    pd.testing.assert_frame_equal(m.design.frame, expected)
    assert m.sample.dropped["missing x"] == 3
    assert sum(m.sample.dropped.values()) == len(frame) - m.nobs
    residuals = m.residuals()
    assert residuals.index.equals(expected.index)


def test_the_linear_fe_family_still_reads_its_sample_frame() -> None:
    frame = _panel()
    frame["y"] = frame["y"].astype(float)
    m = cpcstats.fit("y ~ x | unit + year", frame, family="ols-fe", cluster="unit")
    assert m.design.data.frame is not None
    pd.testing.assert_frame_equal(m.design.data.frame, m.design.frame)


def test_a_result_without_payload_keeps_its_estimates_and_says_to_refit() -> None:
    m = cpcstats.fit("y ~ x + C(label)", _panel(), family="negbin")
    light = m.without_payload()
    assert light.core is None and light.design is None
    assert m.core is not None  # the original is untouched
    pd.testing.assert_series_equal(light.params, m.params)
    pd.testing.assert_frame_equal(light.vcov, m.vcov)
    assert light.to_record() == m.to_record()
    with pytest.raises(EstimationError, match="refit"):
        light.predict()


def test_fit_models_keeps_the_payload_of_the_named_models_only() -> None:
    frame = _panel()
    panels = {"country-year": Panel(frame, "country-year", "unit")}
    specs = {
        n: ModelSpec(name=n, formula=f, family="poisson", level="country-year")
        for n, f in (("a", "y ~ x"), ("b", "y ~ x + z"))
    }
    result = ReplicationResult(None)  # type: ignore[arg-type]
    fit_models(["a", "b"], specs, panels, Ledger([]), result, lambda _: None, {"b"})
    assert result.fitted["a"].core is None and result.fitted["a"].design is None
    assert result.fitted["b"].core is not None and result.fitted["b"].design is not None
    every = ReplicationResult(None)  # type: ignore[arg-type]
    fit_models(["a", "b"], specs, panels, Ledger([]), every, lambda _: None)
    assert all(m.core is not None for m in every.fitted.values())
    pd.testing.assert_series_equal(every.fitted["a"].params, result.fitted["a"].params)


def test_weighted_cluster_sums_equal_the_sums_of_the_products_exactly() -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.normal(size=(500, 7)), rng.normal(size=500)
    codes = rng.integers(0, 23, size=500)
    np.testing.assert_array_equal(
        cluster_sum(values, codes, 23, weights=weights),
        cluster_sum(values * weights[:, None], codes, 23),
    )


def _copy_based_aggregate(m: FEPoissonMean, switch: list[str], groups: np.ndarray):
    """The aggregation as it was written before: a switched-off copy of the design."""
    off = m.full.copy()
    off[:, [m.names.index(n) for n in switch]] = 0.0
    mu1, mu0 = np.exp(m.full @ m.theta_full), np.exp(off @ m.theta_full)
    Z = np.asarray(groups, dtype=float)
    n, s1, s0 = Z.sum(axis=0), Z.T @ mu1, Z.T @ mu0
    g1, g0 = (Z * mu1[:, None]).T @ m.full, (Z * mu0[:, None]).T @ off
    jac = np.vstack([(g1 - g0) / n[:, None], g1 / s1[:, None] - g0 / s0[:, None]])
    cov = jac @ m.vcov_full @ jac.T
    value = np.concatenate([(s1 - s0) / n, np.log(s1 / s0)])
    return value, np.sqrt(np.clip(np.diag(cov), 0.0, None)), cov, (mu1, mu0)


def test_etwfe_mean_model_aggregates_as_the_copy_based_arithmetic() -> None:
    frame, _ = sparse_cohorts(1001)
    result = etwfe(frame, **COLUMNS, dname="d", leads=False)
    m = FEPoissonMean.of(result.model, COLUMNS["idname"])
    switch = [n for n in result.cells["term"] if n in m.names][:5]
    assert len(switch) == 5
    on = np.zeros(len(m.y), dtype=bool)
    for name in switch:
        on |= m.column(name) == 1
    groups = np.column_stack([on, on & (np.arange(len(on)) % 2 == 0)])
    value, se, cov = m.aggregate(switch, groups)
    old_value, old_se, old_cov, old_means = _copy_based_aggregate(m, switch, groups)
    np.testing.assert_array_equal(value, old_value)
    np.testing.assert_array_equal(se, old_se)
    np.testing.assert_array_equal(cov, old_cov)
    for new, old in zip(m.means(switch), old_means, strict=True):
        np.testing.assert_array_equal(new, old)
    on_design, off_design = m.designs(switch)
    np.testing.assert_array_equal(np.exp(off_design @ m.theta_full), old_means[1])
    assert on_design is m.full


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + z",
        "y ~ np.log(1 + np.abs(x)) + I(z ** 2)",
        "y ~ center(x) + standardize(z)",
        "y ~ C(label, Treatment('b')) * x",
        "y ~ C(label) + x:z",
        "y ~ log + x",  # a column named like a function of the formula namespace
    ],
)
def test_rebuilt_designs_read_only_their_columns_and_equal_patsys(formula: str) -> None:
    """Predictions rebuild a design from the columns the model reads (`design_columns`):
    the matrix equals patsy's on the whole frame, to the last bit."""
    import patsy

    from cpcstats.estimation.design import patsy_frame
    from cpcstats.estimation.model_view import design_columns, design_matrices, model_view

    frame = _panel().dropna()
    frame["log"] = np.abs(frame["z"])
    m = cpcstats.fit(formula, frame, family="poisson")
    view = model_view(m, "a test")
    used = design_columns(view)
    assert used and set(used) <= {"x", "z", "label", "log"}
    assert "unit" not in used and "year" not in used
    new = frame.iloc[::7]
    (expected,) = patsy.build_design_matrices([view.x_info], patsy_frame(new), NA_action="raise")
    expected = pd.DataFrame(np.asarray(expected), columns=view.x_info.column_names)[view.x_names]
    np.testing.assert_array_equal(design_matrices(view, new).X, expected.to_numpy(dtype=float))


def _dependent_columns_with_q(values: np.ndarray, sine_tol: float = 1e-7) -> list[int]:
    """`linalg.dependent_columns` as it was before it asked for R alone (Q every round)."""
    norms = np.linalg.norm(values, axis=0)
    dependent = [int(j) for j in np.flatnonzero(norms == 0)]
    idx = [int(j) for j in np.flatnonzero(norms > 0)]
    block = values[:, idx] / norms[idx]
    while idx:
        q, r = np.linalg.qr(block)
        low = np.flatnonzero(np.abs(np.diag(r)) < sine_tol)
        if not len(low):
            break
        k = int(low[0])
        dependent.append(idx[k])
        rest = block[:, k + 1 :]
        basis = q[:, :k]
        block = rest - basis @ (basis.T @ rest)
        idx = idx[k + 1 :]
    return sorted(dependent)


@pytest.mark.parametrize("case", ["independent", "dependent", "zero column", "nearly"])
def test_dependent_columns_without_q_decide_as_before(case: str) -> None:
    """The identification check asks for R alone (Q is as large as the design); the
    columns it flags are the same as with Q computed every round."""
    from cpcstats.estimation.linalg import DEPENDENT_SINE, dependent_columns

    rng = np.random.default_rng(7)
    values = rng.normal(size=(300, 12))
    if case == "dependent":
        values[:, 5] = values[:, 1] - 2 * values[:, 3]
        values[:, 9] = values[:, 5] + values[:, 0]
    elif case == "zero column":
        values[:, 4] = 0.0
        values[:, 8] = values[:, 2]
    elif case == "nearly":
        values[:, 6] = values[:, 2] + 1e-12 * rng.normal(size=300)
    got = dependent_columns(values)
    assert got == _dependent_columns_with_q(values, DEPENDENT_SINE)
    expected = {
        "independent": [],
        "dependent": [5, 9],
        "zero column": [4, 8],
        "nearly": [6],
    }
    assert got == expected[case]


def test_etwfe_mean_model_holds_no_second_copy_of_its_slopes_or_frame() -> None:
    """The mean model's slopes are the first columns of its full design (a view), and its
    frame is taken from the fit's on each read; both equal what the model held before:
    the estimation rows of the design's X and of its frame."""
    frame, _ = sparse_cohorts(1001)
    result = etwfe(frame, **COLUMNS, dname="d", leads=False)
    m = FEPoissonMean.of(result.model, COLUMNS["idname"])
    design, core = result.model.design, result.model.core
    keep = np.ones(len(design.data.y), dtype=bool) if core.keep is None else core.keep
    cols = [design.data.x_names.index(n) for n in core.names]
    np.testing.assert_array_equal(m.X, design.data.X[keep][:, cols])
    assert np.shares_memory(m.X, m.full)
    assert not any(isinstance(v, pd.DataFrame) for v in vars(m).values())
    pd.testing.assert_frame_equal(m.frame, design.frame[keep].reset_index(drop=True))
