"""The staggered BRI design: TWFE versus Wooldridge's ETWFE Poisson.

Checks that the ETWFE aggregation recovers known effects (the demo's planted effect and
heterogeneous, dynamic cohort effects in a small simulated panel), that TWFE is biased
where theory says it is, that a placebo does not reject, that the delta-method intervals
cover at about the nominal rate, and that ``run`` writes a table that compiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cpcstats
from cpcstats.designs import bri as staggered
from cpcstats.designs.bri import (
    DROP_ALWAYS,
    DROP_EXIT,
    DROP_NO_PRE,
    etwfe_poisson,
    run,
    staggered_cohorts,
    twfe_poisson,
)
from cpcstats.designs.bri_imputation import imputation_poisson, wild_bootstrap_tests
from cpcstats.reporting.tables.text import LATEX_PREAMBLE
from tests.conftest import compile_latex

PLANTED = 0.3  # study.truth["country_year_effects"]["bri_member"] of the demo


# --------------------------------------------------------------------------- data
def simulate_staggered(
    seed: int,
    *,
    n: int = 120,
    first: int = 2001,
    last: int = 2014,
    cohorts: tuple[tuple[int, float], ...] = ((2004, 0.9), (2008, 0.5), (2011, 0.1)),
    growth: float = 0.08,
    never_share: float = 0.2,
    effect: bool = True,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Poisson counts with country and year effects and cohort-specific, growing effects.

    The effect of cohort g in year s is tau_g + growth * (s - g): the early cohort has the
    largest effect and every effect grows with time since signing, the case in which TWFE's
    comparisons with already-treated countries pull its estimate down.  Returns the panel
    and the true aggregated effects (log of summed means and mean count difference over
    the treated rows).
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    n_treated = round(n * (1 - never_share))
    signing = np.full(n, np.nan)
    base = np.zeros(n)
    for j, (g, tau) in enumerate(cohorts):
        part = slice(j * n_treated // len(cohorts), (j + 1) * n_treated // len(cohorts))
        signing[part] = g
        base[part] = tau
    alpha = rng.normal(0.8, 0.6, n)
    lam = 0.05 * (years - first) + rng.normal(0.0, 0.1, len(years))
    frame = pd.DataFrame(
        {"iso3": np.repeat([f"C{i:03d}" for i in range(n)], len(years)), "year": np.tile(years, n)}
    )
    frame["bri_signing_year"] = np.repeat(signing, len(years))
    treated = (frame["year"] >= frame["bri_signing_year"].fillna(np.inf)).to_numpy()
    frame["bri_member"] = treated.astype(int)
    since = (frame["year"] - frame["bri_signing_year"]).fillna(0).to_numpy()
    tau = np.where(treated, np.repeat(base, len(years)) + growth * since, 0.0) if effect else 0.0
    mu0 = np.exp(np.repeat(alpha, len(years)) + np.tile(lam, n))
    mu1 = mu0 * np.exp(tau)
    frame["contacts"] = rng.poisson(mu1)
    truth = {
        "log_effect": float(np.log(mu1[treated].sum() / mu0[treated].sum())),
        "att_count": float((mu1 - mu0)[treated].mean()),
    }
    return frame, truth


@pytest.fixture(scope="module")
def demo() -> tuple[cpcstats.Study, cpcstats.Panel]:
    study = cpcstats.load_study("demo")
    return study, cpcstats.country_year(study)


@pytest.fixture(scope="module")
def demo_etwfe(demo: tuple[cpcstats.Study, cpcstats.Panel]) -> staggered.ETWFEResult:
    return etwfe_poisson(demo[1])


@pytest.fixture(scope="module")
def heterogeneous() -> tuple[pd.DataFrame, dict[str, float]]:
    return simulate_staggered(7)


# --------------------------------------------------------------------------- demo
def test_demo_truth_is_the_planted_effect(demo: tuple[cpcstats.Study, cpcstats.Panel]) -> None:
    study, _ = demo
    assert study.simulated
    assert study.truth["country_year_effects"]["bri_member"] == PLANTED


def test_demo_cohorts_and_treated_rows(demo_etwfe: staggered.ETWFEResult) -> None:
    layout = demo_etwfe.cohorts
    assert layout.cohorts == tuple(range(2014, 2024))
    assert layout.always_treated == 0
    # every treated row of the estimation sample is in exactly one treatment cell
    sample = staggered._MeanModel.of(demo_etwfe.model).frame
    assert demo_etwfe.overall["n_treated"] == int(sample["bri_member"].sum())
    assert demo_etwfe.cells["n"].sum() == demo_etwfe.overall["n_treated"]
    assert demo_etwfe.event_time["event_time"].tolist() == list(range(10))
    # cells without any contact (a cohort without contact, or separated) are reported,
    # not fitted: every one is named in the notes
    omitted = demo_etwfe.omitted_cells
    assert set(omitted) == {*demo_etwfe.no_outcome_cells, *demo_etwfe.separated_cells}
    for term in omitted:
        assert any(term in n for n in demo_etwfe.notes)


def test_demo_etwfe_95_interval_covers_planted_effect(
    demo: tuple[cpcstats.Study, cpcstats.Panel], demo_etwfe: staggered.ETWFEResult
) -> None:
    """The 95 % interval covers the draw's true ATT (the Monte Carlo of helper "demo"
    measures how often: ``tests/reference/design_monte_carlo.md``)."""
    low, high = demo_etwfe.ci("log_effect")
    assert low <= demo_att(demo[0]) <= high


def demo_att(study: cpcstats.Study) -> float:
    """The demo draw's true ATT, log(sum mu1 / sum mu0) over member country-years (the
    planted mean effect when the truth has no ATT)."""
    effects = study.truth.get("true_effects", {}).get("bri", {}).get("country_year", {})
    return float(effects.get("att_log", PLANTED))


def test_demo_etwfe_recovers_planted_effect(
    demo: tuple[cpcstats.Study, cpcstats.Panel], demo_etwfe: staggered.ETWFEResult
) -> None:
    """The 99 % interval covers the draw's true ATT and the effect is detected."""
    o = demo_etwfe.overall
    z99 = stats.norm.ppf(0.995)
    assert abs(o["log_effect"] - demo_att(demo[0])) < z99 * o["log_effect_se"]
    assert o["log_effect"] - 1.645 * o["log_effect_se"] > 0
    assert o["pct_effect"] == pytest.approx(np.expm1(o["log_effect"]))
    assert o["att_count"] > 0 and o["att_count_se"] > 0


def test_demo_imputation_recovers_the_true_att(
    demo: tuple[cpcstats.Study, cpcstats.Panel],
) -> None:
    """The imputation estimator's 99 % interval covers the draw's true ATT (zero cells
    kept); its count ratio is exp of the log ATT."""
    layout = staggered_cohorts(demo[1])
    imp = imputation_poisson(layout)
    o = imp.overall
    assert abs(o["log_effect"] - demo_att(demo[0])) < stats.norm.ppf(0.995) * o["log_effect_se"]
    assert o["ratio"] == pytest.approx(np.exp(o["log_effect"]))
    assert imp.lead_test is not None and imp.lead_test.df == 4


def test_demo_pretrend_does_not_reject(demo_etwfe: staggered.ETWFEResult) -> None:
    """The pooled-lead test (1 df) keeps its size (2 of 60 null redraws reject): no rejection."""
    assert demo_etwfe.lead_average is not None
    assert demo_etwfe.lead_average["p_value"] > 0.05
    assert demo_etwfe.leads is not None
    assert demo_etwfe.leads["event_time"].max() == -2  # g - 1 is the reference year


def test_demo_joint_pretrend_test_does_not_reject(demo_etwfe: staggered.ETWFEResult) -> None:
    """The joint test of all cohort-by-year leads is a clustered score test at the main
    model: the Wald test of the estimated leads rejected in every null redraw of the
    demo process (near-singular clustered variance), the score test in none of 40."""
    test = demo_etwfe.pretrend
    # df is the rank of the clustered score variance: a cohort with k countries supports
    # at most k independent restrictions, fewer than its leads for the small cohorts
    assert test is not None and 90 <= test.df < len(test.terms)
    assert all(t.startswith("bri_lead_") for t in test.terms)
    assert test.p_value > 0.05


# --------------------------------------------------------------------------- simulation
def test_etwfe_recovers_heterogeneous_effects_and_twfe_is_biased(
    heterogeneous: tuple[pd.DataFrame, dict[str, float]],
) -> None:
    panel, truth = heterogeneous
    et = etwfe_poisson(panel, controls=(), leads=False)
    o = et.overall
    assert abs(o["log_effect"] - truth["log_effect"]) < 2 * o["log_effect_se"]
    assert abs(o["att_count"] - truth["att_count"]) < 2 * o["att_count_se"]
    twfe = float(twfe_poisson(panel, controls=()).params["bri_member"])
    low, _ = et.ci()
    # comparisons with already-treated countries whose effects keep growing pull TWFE down
    assert twfe < low
    assert abs(twfe - truth["log_effect"]) > 3 * abs(o["log_effect"] - truth["log_effect"])
    # cohort-specific effects in the signing year: 0.9, 0.5, 0.1 (within 3 SE each)
    cells = et.cells.set_index("term")
    for g, tau in ((2004, 0.9), (2008, 0.5), (2011, 0.1)):
        cell = cells.loc[f"bri_g{g}_y{g}"]
        assert abs(cell["log_effect"] - tau) < 3 * cell["log_effect_se"]
    # the dynamic effect: growth of 0.08 per year since signing
    event = et.event_time.set_index("event_time")["log_effect"]
    assert event.loc[9] > event.loc[0] + 0.3


def test_placebo_signing_three_years_earlier_does_not_reject() -> None:
    panel, _ = simulate_staggered(11, effect=False)
    panel["bri_signing_year"] = panel["bri_signing_year"] - 3
    panel["bri_member"] = (panel["year"] >= panel["bri_signing_year"].fillna(np.inf)).astype(int)
    et = etwfe_poisson(panel, controls=())
    # the 2004 cohort now signs in 2001, the first year: always treated, dropped and counted
    assert et.cohorts.cohorts == (2005, 2008)
    assert et.cohorts.dropped_countries == {DROP_ALWAYS: 32}
    o = et.overall
    assert 2 * stats.norm.sf(abs(o["log_effect"]) / o["log_effect_se"]) > 0.05
    assert et.lead_average is not None and et.lead_average["p_value"] > 0.05
    assert et.pretrend is not None and et.pretrend.p_value > 0.05


@pytest.mark.slow
def test_delta_method_intervals_cover_at_about_the_nominal_rate() -> None:
    """25 small panels: the 95 % interval of the log effect should cover about 95 %."""
    hits, errors, ses = 0, [], []
    for seed in range(100, 125):
        panel, truth = simulate_staggered(seed, n=80)
        et = etwfe_poisson(panel, controls=(), leads=False)
        low, high = et.ci()
        hits += low <= truth["log_effect"] <= high
        errors.append(et.overall["log_effect"] - truth["log_effect"])
        ses.append(et.overall["log_effect_se"])
    assert hits >= 21  # P(hits <= 20 | 95 % coverage) < 0.01
    assert 0.7 < np.mean(ses) / np.std(errors) < 1.4
    assert abs(np.mean(errors)) < 2 * np.std(errors) / np.sqrt(len(errors))


def test_full_parameter_design_reproduces_the_fit(
    heterogeneous: tuple[pd.DataFrame, dict[str, float]],
) -> None:
    """The delta method runs over slopes and fixed effects: the recovered fixed effects
    reproduce the fitted means and solve the FE score equations (sum y = sum E[y] in
    every country and year)."""
    et = etwfe_poisson(heterogeneous[0], controls=(), leads=False)
    model = staggered._MeanModel.of(et.model, "iso3")
    mu, _ = model.means([])
    np.testing.assert_allclose(mu, et.model.core.mean(model.theta, model.X), rtol=1e-8)
    for codes in model.codes:
        np.testing.assert_allclose(
            np.bincount(codes, weights=mu), np.bincount(codes, weights=model.y), rtol=1e-6
        )
    assert model.vcov_full.shape == (model.full.shape[1],) * 2
    assert model.n_clusters == heterogeneous[0]["iso3"].nunique()


def test_wild_bootstrap_rejects_a_large_effect_and_not_a_null_pretrend(
    heterogeneous: tuple[pd.DataFrame, dict[str, float]],
) -> None:
    """Wild cluster score bootstrap (Kline & Santos 2012) of the design: the TWFE effect
    (planted 0.1-0.9 plus growth) is rejected, the binned leads of a panel without
    pre-trend are not; both report 999 Webb draws."""
    panel = heterogeneous[0]
    imp = imputation_poisson(staggered_cohorts(panel), controls=())
    wild = wild_bootstrap_tests(imp, panel, "contacts", (), "iso3", "bri_member")
    assert wild["twfe"]["p_bootstrap"] < 0.01 and wild["twfe"]["B"] == 999
    assert wild["lead_bins"]["df"] == imp.lead_test.df == 4
    assert wild["lead_bins"]["p_bootstrap"] > 0.05


# --------------------------------------------------------------------------- cohort layout
def test_cohort_layout_drops_exits_and_countries_without_reference_year() -> None:
    years = np.arange(2001, 2011)
    rows = []
    spec = {
        "NEV": (np.nan, years),
        "A05": (2005.0, years),
        "B08": (2008.0, years),
        "OLD": (1999.0, years),  # always treated
        "EXT": (2004.0, years),  # leaves in 2007
        "NEW": (2006.0, years[years >= 2006]),  # exists from its signing year only
    }
    for iso, (g, ys) in spec.items():
        for y in ys:
            member = int(not np.isnan(g) and y >= g and not (iso == "EXT" and y >= 2007))
            rows.append((iso, y, g, member, 1))
    frame = pd.DataFrame(
        rows, columns=["iso3", "year", "bri_signing_year", "bri_member", "contacts"]
    )
    layout = staggered_cohorts(frame)
    assert layout.cohorts == (2005, 2008)
    assert layout.dropped_countries == {DROP_ALWAYS: 1, DROP_EXIT: 1, DROP_NO_PRE: 1}
    assert layout.post["bri_g2005_y2010"] == (2005, 2010)
    assert "bri_lead_g2008_y2007" not in layout.leads  # g - 1 is the reference
    assert layout.leads["bri_lead_g2008_y2006"] == (2008, 2006)
    # without never/not-yet treated countries the last cohort becomes the comparison group
    no_never = frame[frame["iso3"] != "NEV"]
    layout = staggered_cohorts(no_never)
    assert layout.cohorts == (2005,)
    assert layout.last_year == 2007
    assert layout.frame["year"].max() == 2007


# --------------------------------------------------------------------------- run
def test_run_writes_table_and_figure_that_compile(
    pdflatex: str,
    tmp_path: Path,
    demo: tuple[cpcstats.Study, cpcstats.Panel],
    demo_etwfe: staggered.ETWFEResult,
) -> None:
    study, panel = demo
    # the wild bootstrap is tested on a small panel below (each refit costs a demo fit)
    output = run(study, {"country-year": panel}, tmp_path, wild_bootstrap=False)
    assert output.skipped is None
    names = {p.name for p in output.files} - {"design_bri.html", "design_bri_imputation.html"}
    assert names == {
        "design_bri.tex",
        "design_bri.md",
        "design_bri.notes.md",
        "design_bri_imputation.tex",
        "design_bri_imputation.md",
        "design_bri.pdf",
        "design_bri.png",
    }
    assert all(p.stat().st_size > 0 for p in output.files)
    record = output.record
    assert record["simulated"] is True and record["planted_log_effect"] == PLANTED
    direct = demo_etwfe
    assert record["etwfe"]["overall"]["log_effect"] == pytest.approx(
        direct.overall["log_effect"], rel=1e-9
    )
    assert record["twfe"]["estimate"] == pytest.approx(
        float(twfe_poisson(panel).params["bri_member"]), rel=1e-9
    )
    assert record["etwfe"]["pretrend_all_leads"]["test"].startswith("score")
    assert [m.name for m in output.models] == [
        "twfe_poisson",
        "etwfe_poisson",
        "etwfe_poisson_leads",
    ]
    markdown = (tmp_path / "tables" / "design_bri.md").read_text()
    details = (tmp_path / "tables" / "design_bri.notes.md").read_text()
    assert "SIMULATED" in markdown and "Pre-trend" in details and "clustered by country" in markdown
    assert "Panel E: Imputation, balanced cohorts" in markdown and "| e = 4 |" in markdown
    imp = record["imputation"]["main"]
    lead = imp["lead_test"]
    assert lead["df"] == 4 and lead["test"].startswith("robust score")
    # the reported p is the score test's (size 4 % on the demo process), the Wald's apart
    assert lead["p_value"] == pytest.approx(float(stats.chi2.sf(lead["statistic"], 4)))
    assert lead["p_value_wald"] == pytest.approx(float(stats.chi2.sf(lead["statistic_wald"], 4)))
    # the tests block: statistic, df, p-value in their own columns
    row = f"| Binned leads = 0 (robust score χ²) | {lead['statistic']:.3f} | 4 |  | "
    assert row + f"{lead['p_value']:.3f} |" in markdown
    assert "Binned leads = 0 (Wald χ², oversized)" in markdown
    # imputation intervals: t with (countries in the aggregation - 1) df
    for rec in imp["event_time"]:
        if rec["log_effect_se"] == rec["log_effect_se"]:  # not NaN
            half = (rec["log_effect_upper"] - rec["log_effect"]) / rec["log_effect_se"]
            assert half == pytest.approx(float(stats.t.ppf(0.975, rec["t_df"])))
            assert rec["t_df"] == max(rec["n_clusters_treated"] - 1, 1)
    assert {"no_control", "main"} <= set(record["imputation"])
    # imputation keeps the cells ETWFE drops: every treated row with an identified
    # counterfactual enters, zero cells included
    assert imp["zero_cells_kept"] >= 0 and imp["overall"]["n_treated"] > 0
    assert record["notes_data"]["etwfe_cells_not_estimated"] == record["etwfe"]["omitted_cells"]
    compile_latex(
        tmp_path / "tables" / "design_bri.tex", tmp_path, pdflatex, preamble=LATEX_PREAMBLE
    )
    compile_latex(
        tmp_path / "tables" / "design_bri_imputation.tex",
        tmp_path,
        pdflatex,
        preamble=LATEX_PREAMBLE,
    )


def test_run_skips_without_bri_variation(
    tmp_path: Path, demo: tuple[cpcstats.Study, cpcstats.Panel]
) -> None:
    study, panel = demo
    frame = panel.data.copy()
    frame["bri_signing_year"] = np.nan
    frame["bri_member"] = 0
    output = run(study, {"country-year": panel.with_data(frame)}, tmp_path)
    assert output.skipped is not None and "no country signed" in output.skipped
    assert output.files == [] and not (tmp_path / "tables").exists()
