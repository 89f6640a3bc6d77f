"""The imputation estimator and ETWFE's full-parameter delta method.

Checks against an independent R implementation (glm + predict + sandwich, fixture from
``tests/reference/make_bri_imputation.R``), the exact equivalence with ETWFE when no
cell is dropped, the bias of ETWFE when all-zero cells are dropped and its absence for
the imputation (known truth, seeded simulation), the balanced event-time aggregation and
the binned lead test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cpcstats.errors import EstimationError
from cpcstats.methods.etwfe import etwfe
from cpcstats.methods.fe_mean import FEPoissonMean
from cpcstats.methods.imputation import ImputationResult, imputation
from cpcstats.methods.wild_bootstrap import wild_score_test
from tests.sim_staggered import COLUMNS, sparse_cohorts

REFERENCE = Path(__file__).parent / "reference"
FIXTURE = json.loads((REFERENCE / "fixtures" / "bri_imputation.json").read_text())
ARGS = {"yname": "y", "idname": "unit", "tname": "t", "gname": "g", "dname": "d"}
FIELDS = (
    "sum_mu0",
    "log_effect",
    "log_effect_se",
    "log_effect_se_model",
    "att_count",
    "att_count_se",
)


@pytest.fixture(scope="module")
def reference_panel() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "data" / "imputation_panel.csv")


@pytest.fixture(scope="module")
def reference_etwfe(reference_panel: pd.DataFrame):
    return etwfe(reference_panel, **ARGS, leads=False)


def _by_group(r: ImputationResult) -> dict[tuple[str, int], dict]:
    out = {("overall", 0): r.overall}
    for kind, frame, col in (
        ("cohort", r.cohort, "cohort"),
        ("calendar", r.calendar, "t"),
        ("event_time", r.event_time, "event_time"),
        ("balanced", r.balanced, "event_time"),
    ):
        for rec in frame.to_dict("records"):
            out[(kind, int(rec[col]))] = rec
    return out


def nonzero_cells_log_effect(imputed: pd.DataFrame) -> float:
    cell = imputed.groupby(["cohort", "t"])[["y", "mu0"]].sum()
    kept = cell[cell["y"] > 0]
    return float(np.log(kept["y"].sum() / kept["mu0"].sum()))


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [("imputation", {}), ("imputation_covariates", {"covariates": ("w",), "invariant": ("x",)})],
)
def test_imputation_matches_r(reference_panel: pd.DataFrame, case: str, kwargs: dict) -> None:
    """Every group's estimate and SE equals R's (glm on untreated rows, predict, the
    stacked influence function from sandwich::estfun; the model part by vcovCL).

    Tolerance 1e-6 for both: the same formulas, both fits converged to 1e-13 (measured
    agreement ~1e-13)."""
    r = imputation(reference_panel, **ARGS, lead_bins=None, residual="cell", **kwargs)
    ours = _by_group(r)
    ref = FIXTURE[case]
    assert len(ours) == len(ref["groups"])
    for group in ref["groups"]:
        mine = ours[(group["kind"], int(group["label"]))]
        assert mine["n" if "n" in mine else "n_treated"] == group["n"]
        for f in FIELDS:
            if group[f] is None or not np.isfinite(mine[f]):
                continue
            assert mine[f] == pytest.approx(group[f], rel=1e-6, abs=1e-9), (group["kind"], f)
    assert list(r.balanced_cohorts) == ref["balanced_cohorts"]
    assert r.n_clusters == ref["n_clusters"]


def test_etwfe_full_parameter_delta_matches_r(reference_panel: pd.DataFrame) -> None:
    """ETWFE (all-zero cells removed first, as R cannot drop separated cells): the delta
    method over all coefficients, fixed effects included, equals R's glm + vcovCL."""
    treated = reference_panel["d"] == 1
    cell_y = reference_panel[treated].groupby(["g", "t"])["y"].transform("sum")
    zero = cell_y.index[cell_y.to_numpy() == 0]
    ref = FIXTURE["etwfe_nonzero_cells"]
    assert len(zero) == ref["dropped_zero_cell_rows"] > 0
    e = etwfe(reference_panel.drop(index=zero), **ARGS, leads=False)
    assert e.nobs == ref["nobs"]
    for f in ("log_effect", "att_count"):
        assert e.overall[f] == pytest.approx(ref[f], rel=1e-6)
        assert e.overall[f"{f}_se"] == pytest.approx(ref[f"{f}_se"], rel=1e-6)


def test_etwfe_equals_imputation_unless_cells_are_dropped(
    reference_panel: pd.DataFrame, reference_etwfe
) -> None:
    """Saturated ETWFE Poisson = imputation (Wooldridge 2023) when no cell is dropped; with
    all-zero cells ETWFE equals the imputation aggregated over the non-zero cells only."""
    full = imputation(reference_panel, **ARGS, lead_bins=None)
    assert full.zero_cells > 0
    e = reference_etwfe
    assert e.overall["log_effect"] == pytest.approx(
        nonzero_cells_log_effect(full.imputed), abs=1e-8
    )
    assert e.overall["log_effect"] > full.overall["log_effect"] + 0.01
    dense, _ = sparse_cohorts(3, cohorts=((2005, 12, 1.0, 0.5), (2008, 12, 1.0, 0.2)), n_never=30)
    a = imputation(dense, **COLUMNS, dname="d", lead_bins=None)
    b = etwfe(dense, **COLUMNS, dname="d", leads=False)
    assert a.zero_cells == 0 and not b.omitted_cells
    assert a.overall["log_effect"] == pytest.approx(b.overall["log_effect"], abs=1e-9)
    assert a.overall["att_count"] == pytest.approx(b.overall["att_count"], abs=1e-8)


def test_full_sandwich_slope_block_is_the_fits_clustered_variance(reference_etwfe) -> None:
    """The slope block of the full-parameter sandwich is the fit's CR1 variance without
    its (n - 1) / (n - k) factor (k counting the fixed effects): the fixed effects enter
    the sandwich as the fit's own variance has them."""
    e = reference_etwfe
    m = FEPoissonMean.of(e.model, "unit")
    k, n = len(e.model.params), e.nobs
    ratio = np.diag(m.vcov_full[:k, :k]) / e.model.std_errors.to_numpy() ** 2
    np.testing.assert_allclose(ratio, (n - m.full.shape[1]) / (n - 1), rtol=1e-6)


def test_imputation_recovers_heterogeneous_effect_where_dropping_cells_biases_etwfe() -> None:
    """30 seeded draws with cohort-specific growing effects, year shocks and ~24 all-zero
    treated cells each: the imputation ATT is within 3 % of the truth on average (MC SE
    of the mean ~0.013; over 200 draws the bias is +0.005,
    ``tests/reference/bri_imputation_simulation.md``), ETWFE (= the non-zero cells'
    aggregate, shown exactly equal above) is biased upward by more than 3.5 %."""
    imp, dropped = [], []
    for seed in range(1000, 1030):
        frame, truth = sparse_cohorts(seed)
        r = imputation(frame, **COLUMNS, dname="d", lead_bins=None)
        assert r.zero_cells >= 10
        imp.append(r.overall["log_effect"] - truth["log_effect"])
        dropped.append(nonzero_cells_log_effect(r.imputed) - truth["log_effect"])
    assert abs(np.mean(imp)) < 0.03
    assert np.mean(dropped) > 0.035
    assert np.mean(dropped) > np.mean(imp) + 0.03


def test_balanced_event_time_uses_only_the_balanced_cohorts(reference_panel: pd.DataFrame) -> None:
    r = imputation(reference_panel, **ARGS, lead_bins=None, balanced_window=(0, 3))
    imp = r.imputed
    # a cohort is balanced when it has a treated row at every e in 0..3
    expected = sorted(g for g, e in imp.groupby("cohort")["event_time"] if set(range(4)) <= set(e))
    assert list(r.balanced_cohorts) == expected and len(expected) < imp["cohort"].nunique()
    for rec in r.balanced.to_dict("records"):
        rows = imp[imp["cohort"].isin(expected) & (imp["event_time"] == rec["event_time"])]
        assert rec["n"] == len(rows)
        assert rec["log_effect"] == pytest.approx(np.log(rows["y"].sum() / rows["mu0"].sum()))
    assert r.balanced["event_time"].tolist() == [0, 1, 2, 3]


def test_lead_bin_test_df_and_power() -> None:
    """Four bins, 4 df; a strong planted pre-trend (0.15 a year) is rejected, the null
    draw of the same seed is not."""
    null, _ = sparse_cohorts(5)
    trend, _ = sparse_cohorts(5, pretrend=0.15)
    a = imputation(null, **COLUMNS, dname="d").lead_test
    b = imputation(trend, **COLUMNS, dname="d").lead_test
    assert a is not None and b is not None
    assert a.df == b.df == 4 and len(b.bins) == 4
    assert b.p_value_wald < 0.001 < 0.05 < a.p_value_wald
    assert b.p_value < 0.05 < a.p_value  # the reported (score) test has less power
    # the far bins move most: the planted trend is linear in e
    far, near = b.bins["log_effect"].iloc[-1], b.bins["log_effect"].iloc[0]
    assert far < near < 0.05


def test_lead_bin_score_test_equals_the_wild_bootstraps_analytic_test() -> None:
    """The robust score version of the binned lead test equals the CR1 score test of the
    independent implementation in `cpcstats.methods.wild_bootstrap` (its ``p_analytic``)."""
    frame, _ = sparse_cohorts(1001, pretrend=0.04)
    lt = imputation(frame, **COLUMNS, dname="d").lead_test
    assert lt is not None and lt.data is not None
    w = wild_score_test(
        lt.data,
        yname="y",
        xnames=list(lt.terms),
        fe=["unit", "t"],
        cluster="unit",
        restriction=list(lt.terms),
        B=99,
        seed=0,
    )
    assert lt.p_value == pytest.approx(w.p_analytic, rel=1e-8)
    assert w.df == lt.df == 4


def test_generic_methods_name_no_study_column() -> None:
    """cpcstats.methods must take column names as arguments."""
    names = ("iso3", "contacts", "bri_member", "bri_signing_year", "recognizes_prc")
    root = Path(__file__).parents[1] / "cpcstats" / "methods"
    for path in sorted(root.glob("*.py")):
        text = path.read_text()
        for name in names:
            assert not re.search(rf"\b{name}\b", text), f"{path.name} names {name}"


def test_leave_out_residuals_count_a_unit_alone_in_its_cohort() -> None:
    """With the cell's own effect ratio a lone unit's treated residuals are exactly zero,
    so its cohort's SE is the untreated-model part alone (the downward bias that left
    the demo's event-time coverage at 84-95 %); the leave-out residuals (default) add
    the unit's own variation (its untreated-period error and outcome noise)."""
    lone = ((2008, 1, 1.5, 0.3), (2010, 1, 1.5, 0.3), (2012, 1, 1.5, 0.3))
    frame, _ = sparse_cohorts(7, cohorts=lone, n_never=40, growth=0.0)
    cell = imputation(frame, **COLUMNS, dname="d", lead_bins=None, residual="cell")
    loo = imputation(frame, **COLUMNS, dname="d", lead_bins=None)
    assert len(cell.cohort) == 3
    for a, b in zip(cell.cohort.to_dict("records"), loo.cohort.to_dict("records"), strict=True):
        assert a["log_effect"] == b["log_effect"]  # the estimate does not change
        assert a["log_effect_se"] == pytest.approx(a["log_effect_se_model"], rel=1e-9)
        assert b["log_effect_se"] > 1.2 * b["log_effect_se_model"]
    with pytest.raises(EstimationError):
        imputation(frame, **COLUMNS, dname="d", lead_bins=None, residual="unit")


def test_intervals_use_t_with_the_aggregations_treated_clusters() -> None:
    """Every group's 95 % interval and p-value are Student t with (clusters with treated
    rows in the group - 1) df, counted here from the imputed rows."""
    frame, _ = sparse_cohorts(3)
    r = imputation(frame, **COLUMNS, dname="d", lead_bins=None)
    for kind, frame in (("event_time", r.event_time), ("cohort", r.cohort)):
        units = r.imputed.groupby(kind)["unit"].nunique()
        for rec in frame.to_dict("records"):
            if not np.isfinite(rec["log_effect"]):
                continue
            df = max(int(units[rec[kind]]) - 1, 1)
            assert rec["t_df"] == df
            half = (rec["log_effect_upper"] - rec["log_effect"]) / rec["log_effect_se"]
            assert half == pytest.approx(stats.t.ppf(0.975, df), rel=1e-10)
            t = rec["log_effect"] / rec["log_effect_se"]
            assert rec["log_effect_p"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)
    assert r.cohort["t_df"].min() <= 2 < r.event_time["t_df"].min()  # small cohorts: few df
    assert r.overall["t_df"] == r.imputed["unit"].nunique() - 1
