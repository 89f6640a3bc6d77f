"""The generic structural-break tests (cpcstats.methods.breaks) on data with other names.

Why: the break tests must work on any outcome, time and unit column; the Xi-era design is
only a binding of the study's columns to them, so the generic call on renamed data must
give the design's numbers exactly, and a planted break must be found where it was planted.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.designs import xi_break
from cpcstats.errors import SpecError
from cpcstats.estimation.postestimation import wald_test
from cpcstats.methods import break_critical
from cpcstats.methods.break_profile import fast_profile
from cpcstats.methods.breaks import (
    LEVEL,
    SHIFT_TERMS,
    BootstrapOptions,
    break_interaction_test,
    break_setting,
    fit_break,
    known_break_test,
    sup_wald_test,
)
from tests.reference.xi_break_sim import synthetic_panel, yearly

STUDY_NAMES = {"firm": "iso3", "period": "year", "sales": "contacts"}


def _panel(break_at: int, seed: int = 11, units: int = 40) -> pd.DataFrame:
    """Overdispersed counts of firms by period with firm effects and a level break of 0.6."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0.0, 0.7, units)
    rows = []
    for u in range(units):
        for period in range(1990, 2006):
            mu = math.exp(1.0 + effect[u] + 0.6 * (period >= break_at))
            rows.append({"firm": f"F{u:02d}", "period": period, "sales": mu})
    frame = pd.DataFrame(rows)
    frame["sales"] = rng.poisson(frame["sales"] * rng.gamma(4.0, 1 / 4.0, len(frame)))
    frame["large"] = (frame["firm"].str[1:].astype(int) % 2).astype(int)
    return frame


@pytest.fixture(scope="module")
def firms() -> pd.DataFrame:
    return _panel(1997)


@pytest.mark.parametrize("shift", list(SHIFT_TERMS))
def test_generic_sup_wald_equals_the_design_on_renamed_data(
    firms: pd.DataFrame, shift: str
) -> None:
    generic = sup_wald_test(
        firms, yname="sales", tname="period", idname="firm", se="driscoll-kraay", shift=shift
    )
    design = xi_break.sup_wald(firms.rename(columns=STUDY_NAMES), shift=shift)
    assert generic.statistic == pytest.approx(design.statistic, rel=1e-12)
    assert generic.break_year == design.break_year
    assert generic.confidence_set == design.confidence_set
    assert generic.p_value == design.p_value
    assert generic.bootstrap is not None and design.bootstrap is not None
    assert generic.bootstrap.statistic == pytest.approx(design.bootstrap.statistic, rel=1e-10)
    np.testing.assert_allclose(generic.profile["wald"], design.profile["wald"], rtol=1e-12)


def test_planted_break_is_found_at_its_date(firms: pd.DataFrame) -> None:
    for shift in SHIFT_TERMS:
        result = sup_wald_test(
            firms, yname="sales", tname="period", idname="firm", se="driscoll-kraay", shift=shift
        )
        assert result.break_year == 1997, (shift, result.profile)
        assert result.bootstrap is not None and result.bootstrap.argmax == 1997
        assert result.p_value < 0.05 and result.rejects(0.05)
        assert 1997 in result.confidence_set
        # 2p + 1 periods on each side of the break, inside the 15 % trimming
        p = len(SHIFT_TERMS[shift])
        expected = [
            y
            for y in break_critical.candidate_years(1990, 2005)
            if y - 1990 >= 2 * p + 1 and 2005 - y + 1 >= 2 * p + 1
        ]
        assert result.candidates == tuple(expected)


def test_known_break_on_a_series_with_other_names(firms: pd.DataFrame) -> None:
    series = firms.groupby("period", as_index=False)["sales"].sum()
    generic = known_break_test(series, 1997, yname="sales", tname="period")
    assert generic.kind == "series"
    assert generic.result.se_type == "quasi"
    design = xi_break.known_break(series.rename(columns={"period": "year", "sales": "total"}), 1997)
    assert generic.wald.statistic == pytest.approx(design.wald.statistic, rel=1e-12)
    est = generic.estimates().loc[LEVEL]
    assert est["ci_lower"] <= 0.6 <= est["ci_upper"]


def test_interaction_test_takes_a_moderator_formula(firms: pd.DataFrame) -> None:
    inter = break_interaction_test(
        firms, 1997, yname="sales", tname="period", moderators="large", cluster="firm"
    )
    assert list(inter.wald.terms) == [f"large:{LEVEL}"]
    assert inter.wald.p_value > 0.01  # the planted break is the same for every firm


def test_setting_errors_name_the_fix(firms: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match="'when' column"):
        known_break_test(firms, 1997, yname="sales", tname="when")
    with pytest.raises(SpecError, match="no outcome column"):
        known_break_test(firms, 1997, yname="revenue", tname="period")
    series = firms.groupby("period", as_index=False)["sales"].sum()
    with pytest.raises(SpecError, match="series"):
        known_break_test(series, 1997, yname="sales", tname="period", idname="firm")


def test_critical_values_are_data_with_a_source() -> None:
    """The stored values are Andrews's 2003 corrected ones (8.68, not 1993's 8.85)."""
    assert "Corrigendum" in break_critical.ANDREWS_2003_SOURCE
    assert "71(1)" in break_critical.ANDREWS_2003_SOURCE
    values, source = break_critical.critical_values(1, 0.15)
    assert values == break_critical.ANDREWS_1993_TABLE_I[(1, 0.15)]
    assert values[0.05] == 8.68
    assert source.startswith("Andrews (2003, Table 1")


def test_methods_do_not_name_the_study_columns() -> None:
    root = Path(break_critical.__file__).parent
    text = "".join(p.read_text() for p in sorted(root.glob("break*.py")))
    for column in ("iso3", "party_id", "contacts", "ruling", "fh_status"):
        assert column not in text, column


# --------------------------------------------------------------------------- inference
@pytest.mark.parametrize("shift", list(SHIFT_TERMS))
def test_fast_profile_equals_the_fit_path(firms: pd.DataFrame, shift: str) -> None:
    """The array path (design built once) gives `fit`'s Wald and likelihood per candidate."""
    terms = SHIFT_TERMS[shift]
    series = firms.groupby("period", as_index=False)["sales"].sum()
    for data, kw in ((firms, {"idname": "firm", "se": "driscoll-kraay"}), (series, {})):
        s = break_setting(data, yname="sales", tname="period", **kw)  # type: ignore[arg-type]
        chosen = list(range(1995, 2001))
        fast = fast_profile(s, chosen, len(terms))
        assert fast is not None
        for row, year in zip(fast.itertuples(), chosen, strict=True):
            slow = fit_break(s, year, terms, "check")
            assert row.wald == pytest.approx(wald_test(slow, list(terms)).statistic, rel=1e-8)
            assert row.loglik == pytest.approx(float(slow.loglik), rel=1e-10)
    clustered = break_setting(firms, yname="sales", tname="period", idname="firm", cluster="firm")
    assert fast_profile(clustered, [1997], 1) is None  # other variances go through fit


def test_bootstrap_p_values_are_reproducible_for_a_seed(firms: pd.DataFrame) -> None:
    cols = {"yname": "sales", "tname": "period"}
    quiet = _panel(2030, seed=5)  # no break inside the window
    series = quiet.groupby("period", as_index=False)["sales"].sum()
    runs = {}
    for seed in (1, 1, 2):
        opts = BootstrapOptions(reps=199, seed=seed)
        panel = sup_wald_test(quiet, idname="firm", se="driscoll-kraay", bootstrap=opts, **cols)
        yearly = sup_wald_test(series, bootstrap=opts, **cols)
        runs.setdefault(seed, []).append((panel.p_value, yearly.p_value))
        assert panel.bootstrap is not None and panel.bootstrap.reps == 199
        assert "composition offset" in panel.p_value_method
        assert yearly.bootstrap is not None and "AR(1)" in yearly.bootstrap.method
        # a balanced panel's composition is constant: its aggregate bootstrap is the
        # yearly series' one, draw for draw
        assert panel.p_value == yearly.p_value
        assert panel.bootstrap.statistic == pytest.approx(yearly.statistic, rel=1e-8)
        wild = sup_wald_test(
            quiet, idname="firm", se="driscoll-kraay", **cols,
            bootstrap=BootstrapOptions(reps=199, seed=seed, panel="wild"),
        )  # fmt: skip
        assert "wild score bootstrap" in wild.p_value_method
        iid = sup_wald_test(series, bootstrap=BootstrapOptions(reps=199, serial=False), **cols)
        assert iid.bootstrap is not None and "NB2" in iid.bootstrap.method
    assert runs[1][0] == runs[1][1]  # same seed, same p-values
    assert runs[2][0] != runs[1][0]  # another seed, other draws
    none = sup_wald_test(series, bootstrap=BootstrapOptions(reps=0), **cols)
    assert none.bootstrap is None and none.p_value == none.p_value_asymptotic


def test_bootstrap_size_under_year_shocks_is_controlled() -> None:
    """40 null panels with year shocks (SD 0.10), NB noise and unit trends: the bootstrap
    p-values reject at most 20 % at 5 % (a 5 % test rejects > 20 % of 40 with prob. < 1e-4),
    while the Driscoll-Kraay sup-Wald with asymptotic Andrews values is far above it."""
    cols = {"yname": "y", "tname": "t"}
    opts = BootstrapOptions(reps=199)
    boot, asym, series_boot = [], [], []
    for seed in range(40):
        panel = synthetic_panel(300 + seed, units=30, first=2002, last=2017)
        sw = sup_wald_test(panel, idname="unit", se="driscoll-kraay", bootstrap=opts, **cols)
        boot.append(sw.p_value)
        asym.append(sw.p_value_asymptotic)
        series_boot.append(sup_wald_test(yearly(panel), bootstrap=opts, **cols).p_value)
    assert np.mean(np.array(boot) < 0.05) <= 0.20
    assert np.mean(np.array(series_boot) < 0.05) <= 0.20
    assert np.mean(np.array(asym) < 0.05) > 0.30  # the failure the bootstrap repairs
    # and the p-values are spread out, not piled at 1 (a test that never rejects)
    assert 0.25 < float(np.median(boot)) < 0.75
