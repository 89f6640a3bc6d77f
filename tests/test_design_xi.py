"""Design 5, the Xi era: known and unknown structural breaks in contact.

The demo plants a level break of 0.55 (log scale) in 2013 and no trend break;
the tests check that the designs find it, do not find one where there is none,
and report it with the documented critical values.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.designs import breaks
from cpcstats.panels import Panel
from cpcstats.panels.build import yearly_totals
from cpcstats.study import Study
from tests.conftest import compile_latex


@pytest.fixture(scope="module")
def study() -> Study:
    return cpcstats.load_study("demo")


@pytest.fixture(scope="module")
def country(study: Study) -> Panel:
    return cpcstats.country_year(study)


@pytest.fixture(scope="module")
def party(study: Study) -> Panel:
    return cpcstats.party_year(study)


@pytest.fixture(scope="module")
def yearly(study: Study) -> pd.DataFrame:
    return yearly_totals(study)[["year", "total"]]


@pytest.fixture(scope="module", params=["level", "level+trend"])
def demo_sup(request: pytest.FixtureRequest, country: Panel) -> breaks.SupWald:
    return breaks.sup_wald(country, shift=request.param)


# --------------------------------------------------------------------------- critical values
def test_andrews_critical_values_are_table_I() -> None:
    assert breaks.andrews_critical_values(1, 0.15) == {0.10: 7.12, 0.05: 8.68, 0.01: 12.16}
    assert breaks.andrews_critical_values(2, 0.15) == {0.10: 10.00, 0.05: 11.72, 0.01: 15.56}
    with pytest.raises(KeyError):
        breaks.andrews_critical_values(3, 0.15)
    assert abs(breaks.HANSEN_2000_C95 - 7.352) < 1e-3


def test_simulated_limiting_distribution_reproduces_table_I() -> None:
    """The p-values come from a simulation that must match Andrews's quantiles."""
    for p in (1, 2):
        draws = breaks._null_draws(p, 0.15)
        for level, value in breaks.andrews_critical_values(p, 0.15).items():
            assert np.quantile(draws, 1 - level) == pytest.approx(value, rel=0.03)
        assert breaks.sup_wald_pvalue(breaks.ANDREWS_1993_TABLE_I[(p, 0.15)][0.05], p) == (
            pytest.approx(0.05, abs=0.006)
        )


def test_candidate_range_drops_first_and_last_15_percent() -> None:
    assert breaks.candidate_years(2002, 2017) == list(range(2005, 2016))
    assert breaks.candidate_years(2002, 2012) == list(range(2004, 2012))
    # 0.15 * 20 = 3.0000000000000004 in floating point must still give k = 3
    assert breaks.candidate_years(2000, 2019)[0] == 2003


# --------------------------------------------------------------------------- the demo break
def test_sup_wald_finds_2013_and_rejects(demo_sup: breaks.SupWald) -> None:
    assert demo_sup.candidates == tuple(breaks.candidate_years(2002, 2023))
    assert demo_sup.candidates[0] == 2006 and demo_sup.candidates[-1] == 2020
    assert abs(demo_sup.break_year - 2013) <= 1
    assert demo_sup.rejects(0.05)
    assert demo_sup.p_value < 0.05
    assert 2013 in demo_sup.confidence_set
    p = 1 if demo_sup.shift == "level" else 2
    assert demo_sup.critical_values == breaks.ANDREWS_1993_TABLE_I[(p, 0.15)]
    assert demo_sup.profile["wald"].max() == demo_sup.statistic


def test_known_break_at_2013_rejects(country: Panel, yearly: pd.DataFrame) -> None:
    panel = breaks.known_break(country, 2013)
    assert panel.wald.df == 2
    assert panel.wald.p_value < 0.05
    assert panel.result.fixed_effects == ["iso3"]
    assert panel.result.se_type == "cluster"
    series = breaks.known_break(yearly, 2013)
    assert series.result.nobs == 22
    assert series.result.se_type == "quasi"
    assert series.wald.p_value < 0.05


def test_level_shift_covers_the_planted_effect(study: Study, country: Panel) -> None:
    truth = study.truth["party_year_effects"]["xi_era"]
    assert truth == pytest.approx(0.55)
    est = breaks.known_break(country, 2013).estimates().loc[breaks.LEVEL]
    assert est["ci_lower"] <= truth <= est["ci_upper"]
    # no planted trend break: the trend shift's interval covers zero
    trend = breaks.known_break(country, 2013).estimates().loc[breaks.TREND_SHIFT]
    assert trend["ci_lower"] <= 0 <= trend["ci_upper"]


def test_placebo_before_the_break_does_not_reject(country: Panel, yearly: pd.DataFrame) -> None:
    """2002-2012 holds no planted break: the sup-Wald must not reject at 5 %."""
    before = replace(country, data=country.data[country.data["year"] <= 2012])
    for shift in breaks.SHIFT_TERMS:
        result = breaks.sup_wald(before, shift=shift)
        assert result.candidates == tuple(range(2004, 2012))
        assert not result.rejects(0.05), (shift, result.statistic)
    series = yearly[yearly["year"] <= 2012]
    for shift in breaks.SHIFT_TERMS:
        result = breaks.sup_wald(series, shift=shift)
        assert np.isfinite(result.statistic)
        assert not result.rejects(0.05), (shift, result.statistic)


def test_series_needs_points_on_both_sides_of_a_trend_break(yearly: pd.DataFrame) -> None:
    """Without the segment rule a two-point regime makes an HC1 'Wald' explode (NB2 series
    use HC1; the Poisson series' quasi-Poisson variance does not collapse)."""
    series = yearly[yearly["year"] <= 2012]
    loose = breaks.sup_wald(series, shift="level+trend", min_segment=1, family="negbin")
    assert loose.statistic > 100  # the degenerate candidate (2011: two points, two params)
    assert np.isfinite(breaks.sup_wald(series, shift="level+trend", min_segment=1).statistic)
    strict = breaks.sup_wald(series, shift="level+trend")
    assert strict.min_segment == 5
    assert min(strict.candidates) - 2002 >= 5 and 2012 - max(strict.candidates) + 1 >= 5


def _simulated_panel(break_year: int, seed: int = 7) -> pd.DataFrame:
    """NB-like country-year counts with unit effects and a level break of 0.5."""
    rng = np.random.default_rng(seed)
    units, years = 80, np.arange(2002, 2018)
    effect = rng.normal(0.0, 0.8, units)
    rows = []
    for u in range(units):
        for year in years:
            mu = math.exp(0.8 + effect[u] + 0.5 * (year >= break_year))
            rows.append({"iso3": f"U{u:02d}", "year": int(year), "contacts": mu})
    frame = pd.DataFrame(rows)
    frame["contacts"] = rng.poisson(frame["contacts"] * rng.gamma(3.0, 1 / 3.0, len(frame)))
    return frame


def test_finds_a_simulated_break_elsewhere() -> None:
    frame = _simulated_panel(2008)
    for shift in breaks.SHIFT_TERMS:
        result = breaks.sup_wald(frame, shift=shift)
        assert abs(result.break_year - 2008) <= 1, (shift, result.profile)
        assert result.rejects(0.05)
        assert 2008 in result.confidence_set
        assert len(result.confidence_set) < len(result.candidates)
    # the same process without a break in the window: no rejection
    quiet = _simulated_panel(2030)
    for shift in breaks.SHIFT_TERMS:
        assert not breaks.sup_wald(quiet, shift=shift).rejects(0.05)


# --------------------------------------------------------------------------- interactions
def test_break_interactions_test_every_post_term(party: Panel) -> None:
    inter = breaks.break_interactions(party, 2013)
    assert inter.result.family == "negbin"
    assert inter.result.n_clusters is not None and inter.result.n_clusters > 100
    assert inter.wald.df == 5
    assert all(breaks.LEVEL in t.split(":") and ":" in t for t in inter.wald.terms)
    # the demo multiplies every rate by the same factor: no change in the pattern
    assert inter.wald.p_value > 0.05


# --------------------------------------------------------------------------- run
def test_run_writes_compiling_outputs(
    pdflatex: str, tmp_path: Path, study: Study, country: Panel, party: Panel
) -> None:
    out = breaks.run(study, {"country-year": country, "party-year": party}, tmp_path)
    suffixes = sorted(p.suffix for p in out.files)
    assert suffixes == [".md", ".pdf", ".png", ".tex"]
    assert all(p.exists() and p.stat().st_size > 0 for p in out.files)
    md = (tmp_path / "tables" / "design_xi.md").read_text()
    assert "SIMULATED" in md and "Andrews (1993" in md and "7.35" in md
    record = out.record
    assert record["sup_wald"]["level"]["Country-year"]["break_year"] == 2013
    assert record["interactions"]["joint_wald_post_interactions"]["df"] == 5
    compile_latex(tmp_path / "tables" / "design_xi.tex", tmp_path, pdflatex)


def test_run_without_party_panel_states_why(tmp_path: Path, study: Study, country: Panel) -> None:
    out = breaks.run(study, {"country-year": country}, tmp_path)
    assert out.record["interactions"] is None
    assert "party-year" in out.record["skipped"]
    assert "no party-year panel" in (tmp_path / "tables" / "design_xi.md").read_text()
