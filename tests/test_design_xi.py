"""Design 5, the Xi era: known and unknown structural breaks in contact.

The demo plants a level break of 0.55 (log scale) in 2013 and no trend break;
the tests check that the designs find it, do not find one where there is none,
and report it with the documented critical values, variance and bootstrap.
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
from cpcstats.methods.breaks import BootstrapOptions, sup_wald_test
from cpcstats.panels import Panel
from cpcstats.panels.build import yearly_totals
from cpcstats.reporting.tables.text import LATEX_PREAMBLE
from cpcstats.study import Study
from tests.conftest import compile_latex
from tests.reference.xi_break_sim import synthetic_panel
from tests.reference.xi_break_sim import yearly as xi_yearly


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
def test_sup_wald_on_the_demo_reports_a_bootstrap(demo_sup: breaks.SupWald) -> None:
    """Structure only: the demo (regenerated with year shocks) is one draw, so whether its
    2013 step is detected is a matter of that draw (power: tests/reference/xi_break_size.md);
    the planted break is found on synthetic panels below."""
    # 15 % trimming, and 2p + 1 years on each side (p = 2: 2007-2019, not 2020)
    first, last = (2006, 2020) if demo_sup.shift == "level" else (2007, 2019)
    assert demo_sup.candidates == tuple(range(first, last + 1))
    assert demo_sup.break_year in demo_sup.candidates
    assert demo_sup.bootstrap is not None and demo_sup.bootstrap.reps == 999
    assert demo_sup.p_value == demo_sup.bootstrap.p_value
    assert 1 / 1000 <= demo_sup.p_value <= 1
    assert demo_sup.rejects(0.05) == (demo_sup.p_value < 0.05)
    assert demo_sup.break_year in demo_sup.confidence_set or demo_sup.lr_break_year in (
        demo_sup.confidence_set
    )
    p = 1 if demo_sup.shift == "level" else 2
    assert demo_sup.critical_values == breaks.ANDREWS_1993_TABLE_I[(p, 0.15)]
    assert demo_sup.profile["wald"].max() == demo_sup.statistic


def test_known_break_at_2013_reports_bootstraps(country: Panel, yearly: pd.DataFrame) -> None:
    panel = breaks.known_break(country, 2013)
    assert panel.wald.df == 2
    assert panel.bootstrap is not None and panel.p_value == panel.bootstrap.p_value
    assert panel.result.fixed_effects == ["iso3"]
    assert panel.result.se_type == "driscoll-kraay"
    # the shift SEs reported are those of the composition-adjusted year totals, whose
    # coefficients are the panel's
    assert panel.aggregate is not None and panel.aggregate.nobs == 22
    shifts = [breaks.LEVEL, breaks.TREND_SHIFT]
    np.testing.assert_allclose(panel.aggregate.params[shifts], panel.result.params[shifts])
    table = panel.estimates()
    assert (table["std_error"] == panel.aggregate.std_errors[table.index]).all()
    series = breaks.known_break(yearly, 2013)
    assert series.result.nobs == 22
    assert series.result.se_type == "quasi"
    # the series bootstrap recomputes the very Wald statistic the table shows
    assert series.bootstrap is not None
    assert series.bootstrap.statistic == pytest.approx(series.wald.statistic, rel=1e-6)


def _shock_projection(shocks: dict[str, float], break_year: int) -> float:
    """The level-shift coefficient the drawn year shocks alone produce (OLS on the year
    design: intercept, trend, level shift, trend shift)."""
    years = np.array(sorted(int(y) for y in shocks))
    e = np.array([shocks[str(y)] for y in years])
    t = years - break_year
    post = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, post, t * post])
    return float(np.linalg.lstsq(X, e, rcond=None)[0][2])


def test_level_shift_estimates_the_planted_effect(study: Study, country: Panel) -> None:
    """Given the demo's drawn year shocks the estimator targets 0.55 plus their projection
    on the level shift; the rest of the error is within-year noise, which the reported
    SE (quasi-Poisson of the year totals; it also carries the year shocks) bounds
    conservatively."""
    truth = study.truth["party_year_effects"]["xi_era"]
    assert truth == pytest.approx(0.55)
    target = truth + _shock_projection(study.truth["year_shocks"], 2013)
    est = breaks.known_break(country, 2013).estimates().loc[breaks.LEVEL]
    assert abs(est["estimate"] - target) <= 2.5 * est["std_error"], (est, target)
    # no planted trend break: the trend shift's interval covers zero
    trend = breaks.known_break(country, 2013).estimates().loc[breaks.TREND_SHIFT]
    assert trend["ci_lower"] <= 0 <= trend["ci_upper"]


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: on the real-universe demo draw the country-year panel's pre-2013 "
    "level sup-Wald rejects (bootstrap p 0.03-0.04): tests on totals reject 7-14 % of no-break "
    "draws when parties with many contacts change status (DEMO_PROCESS_SIZES, README)",
)
def test_placebo_before_the_break_does_not_reject(country: Panel, yearly: pd.DataFrame) -> None:
    """2002-2012 holds no planted break: the sup-Wald must not reject at 5 % -- judged by
    its bootstrap p-value, as the design decides (the asymptotic critical values, shown for
    reference, rejected 57-81 % of no-break draws on the country-year panel in the Monte
    Carlo; this draw's panel exceeds them)."""
    before = replace(country, data=country.data[country.data["year"] <= 2012])
    boot = BootstrapOptions(reps=199, seed=20130101)
    for shift, (first, last) in zip(breaks.SHIFT_TERMS, [(2005, 2010), (2007, 2008)], strict=True):
        result = breaks.sup_wald(before, shift=shift, bootstrap=boot)
        assert result.bootstrap is not None
        # trimming 2004-2011, and 3 (p = 1) or 5 (p = 2) years on each side
        assert result.candidates == tuple(range(first, last + 1))
        assert not result.rejects(0.05), (shift, result.statistic)
    series = yearly[yearly["year"] <= 2012]
    for shift in breaks.SHIFT_TERMS:
        result = breaks.sup_wald(series, shift=shift, bootstrap=boot)
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
    """16 years, no year shocks: the date is found; the p-value is limited by the years.

    A wild bootstrap over 16 year sums cannot give tiny p-values whatever the break size
    (the score statistic is at most T), so rejection is tested on 22-year panels below.
    """
    frame = _simulated_panel(2008)
    for shift in breaks.SHIFT_TERMS:
        result = breaks.sup_wald(frame, shift=shift)
        assert result.break_year == 2008, (shift, result.profile)
        assert result.p_value < 0.10
        assert 2008 in result.confidence_set
        assert len(result.confidence_set) < len(result.candidates)
    # the same process without a break in the window: no rejection
    quiet = _simulated_panel(2030)
    for shift in breaks.SHIFT_TERMS:
        assert not breaks.sup_wald(quiet, shift=shift).rejects(0.05)


def test_planted_break_with_year_shocks_is_found_and_rejected() -> None:
    """Five 22-year panels with year shocks (SD 0.10), NB noise, unit trends and a 0.8 step
    in 2010: the date is found in every draw and the bootstrap rejects in most (power
    about 0.8 here; 3 of 5 is the bar a working test clears with probability ~0.95)."""
    opts = BootstrapOptions(reps=199)
    cols = {"yname": "y", "tname": "t"}
    rejections = {"panel": 0, "series": 0}
    for seed in range(40, 45):
        panel = synthetic_panel(seed, units=40, first=2002, last=2023, step=0.8, break_year=2010)
        for shift in breaks.SHIFT_TERMS:
            sw = sup_wald_test(
                panel, idname="unit", se="driscoll-kraay", shift=shift, bootstrap=opts, **cols
            )
            ss = sup_wald_test(xi_yearly(panel), shift=shift, bootstrap=opts, **cols)
            assert sw.break_year == 2010 and ss.break_year == 2010, (seed, shift)
            assert 2010 in sw.confidence_set
            rejections["panel"] += sw.p_value < 0.05
            rejections["series"] += ss.p_value < 0.05
    assert rejections["panel"] >= 6 and rejections["series"] >= 6, rejections  # of 10


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
def record_details_match(details: list[str], notes_md: str) -> bool:
    """Every detail of the record is a bullet of the notes file (whitespace joined; the file
    names variables by their labels, the record keeps the raw names for programs)."""
    from cpcstats.reporting.labels import default_labels

    relabel = default_labels().relabel_text
    return bool(details) and all(f"- {relabel(' '.join(d.split()))}" in notes_md for d in details)


def test_run_writes_compiling_outputs(
    pdflatex: str, tmp_path: Path, study: Study, country: Panel, party: Panel
) -> None:
    out = breaks.run(study, {"country-year": country, "party-year": party}, tmp_path)
    names = sorted(p.name for p in out.files)
    tables = [n for n in names if n.startswith("design_xi.") and not n.endswith("notes.md")]
    assert {"design_xi.tex", "design_xi.md", "design_xi.pdf", "design_xi.png"} <= set(tables)
    assert names.count("design_xi.notes.md") == 1  # the companion notes file
    assert all(p.exists() and p.stat().st_size > 0 for p in out.files)
    table_md = (tmp_path / "tables" / "design_xi.md").read_text()
    assert "SIMULATED" in table_md and "Details: design\\_xi.notes.md" in table_md
    md = (tmp_path / "tables" / "design_xi.notes.md").read_text()
    assert "SIMULATED" in md and "Andrews (2003" in md and "7.35" in md
    assert record_details_match(out.record["details"], md)
    # the notes file states estimator, variance, critical values, bootstrap and B
    for phrase in (
        "FE-Poisson",
        "Driscoll-Kraay by year",
        "AR(1)",
        "NB2",
        "B = 999 replicates",
        "xi_break_size.md",
        "composition",
        "xi_break_demo_size.md",
    ):
        assert phrase in md, phrase
    record = out.record
    level = record["sup_wald"]["level"]["Country-year"]
    assert level["break_year"] in level["candidates"]
    assert level["p_value"] == level["bootstrap"]["p_value"]
    terms = record["known_break"]["Party-year"]["terms"]["post_break"]
    assert terms["std_error_panel"] > 0 and terms["std_error"] != terms["std_error_panel"]
    boot = record["sup_wald"]["level+trend"]["Party-year"]["bootstrap"]
    assert boot["reps"] == 999 and 0 < boot["p_value"] <= 1
    assert record["interactions"]["joint_wald_post_interactions"]["df"] == 5
    compile_latex(
        tmp_path / "tables" / "design_xi.tex", tmp_path, pdflatex, preamble=LATEX_PREAMBLE
    )


def test_run_without_party_panel_states_why(tmp_path: Path, study: Study, country: Panel) -> None:
    out = breaks.run(study, {"country-year": country}, tmp_path)
    assert out.record["interactions"] is None
    assert "party-year" in out.record["skipped"]
    assert "no party-year panel" in (tmp_path / "tables" / "design_xi.notes.md").read_text()
