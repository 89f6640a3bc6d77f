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
from cpcstats.methods import break_critical
from cpcstats.methods.breaks import (
    LEVEL,
    SHIFT_TERMS,
    break_interaction_test,
    known_break_test,
    sup_wald_test,
)

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
        firms, yname="sales", tname="period", idname="firm", cluster="firm", shift=shift
    )
    design = xi_break.sup_wald(firms.rename(columns=STUDY_NAMES), shift=shift)
    assert generic.statistic == pytest.approx(design.statistic, rel=1e-12)
    assert generic.break_year == design.break_year
    assert generic.confidence_set == design.confidence_set
    assert generic.p_value == design.p_value
    np.testing.assert_allclose(generic.profile["wald"], design.profile["wald"], rtol=1e-12)


def test_planted_break_is_found_at_its_date(firms: pd.DataFrame) -> None:
    for shift in SHIFT_TERMS:
        result = sup_wald_test(
            firms, yname="sales", tname="period", idname="firm", cluster="firm", shift=shift
        )
        assert result.break_year == 1997, (shift, result.profile)
        assert result.rejects(0.05)
        assert 1997 in result.confidence_set
        assert result.candidates == tuple(break_critical.candidate_years(1990, 2005))


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
    assert "Andrews" in break_critical.ANDREWS_1993_SOURCE
    assert "Table I" in break_critical.ANDREWS_1993_SOURCE
    values, source = break_critical.critical_values(1, 0.15)
    assert values == break_critical.ANDREWS_1993_TABLE_I[(1, 0.15)]
    assert source.startswith("Andrews (1993, Table I)")


def test_methods_do_not_name_the_study_columns() -> None:
    root = Path(break_critical.__file__).parent
    text = "".join(p.read_text() for p in sorted(root.glob("break*.py")))
    for column in ("iso3", "party_id", "contacts", "ruling", "fh_status"):
        assert column not in text, column
