"""The Taiwan-switch event study (cpcstats/designs/event_study.py).

Indicator construction is checked on a hand-made panel; estimation, placebo and output on
the SIMULATED demo study, whose country contact rate is multiplied by exp(3.0) from the
year a country ends recognising Beijing (31 December rule), with no pre-trend.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.designs import taiwan as ev
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.postestimation import wald_test

YEARS = list(range(2000, 2013))
EV_TERMS = ["ev_m5", "ev_m4", "ev_m3", "ev_m2", "ev_p0", "ev_p1", "ev_p2", "ev_p3", "ev_p4"]
EV_TERMS += ["ev_p5"]


# --------------------------------------------------------------------------- hand-made panel
def _country(iso3: str, status: list[int], switch: int | None, away: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": iso3,
            "year": YEARS,
            "contacts": 1,
            "recognizes_prc": status,
            "prc_switch_year": pd.array([switch] * len(YEARS), dtype="Int64"),
            "switched_to_roc": away,
        }
    )


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    """2000-2012: SEN switches 2006; FRA always Beijing; PRY always Taipei; KOR switched in
    1992 (before the window); KIR leaves Beijing in 2004; VUT is flagged as leaving but its
    31 December status never changes (Vanuatu 2004)."""
    n = len(YEARS)
    return pd.concat(
        [
            _country("SEN", [0] * 6 + [1] * 7, 2006, 0),
            _country("FRA", [1] * n, None, 0),
            _country("PRY", [0] * n, None, 0),
            _country("KOR", [1] * n, 1992, 0),
            _country("KIR", [1] * 4 + [0] * 9, None, 1),
            _country("VUT", [1] * n, None, 1),
        ],
        ignore_index=True,
    )


def test_indicators_bin_endpoints_and_omit_reference(tiny: pd.DataFrame) -> None:
    d = ev.event_time_dummies(tiny, reference=-1)
    assert list(d.columns) == EV_TERMS  # no ev_m1: the reference period
    sen = d.data[d.data["iso3"] == "SEN"].set_index("year")[list(d.columns)]
    # one indicator per row except the reference year 2005 (e = -1)
    assert sen.sum(axis=1).to_dict() == {y: int(y != 2005) for y in YEARS}
    active = sen.idxmax(axis=1)[sen.sum(axis=1) == 1]
    assert active[2000] == active[2001] == "ev_m5"  # e = -6, -5 binned into <= -5
    assert active[2002] == "ev_m4" and active[2004] == "ev_m2"
    assert active[2006] == "ev_p0" and active[2010] == "ev_p4"
    assert active[2011] == active[2012] == "ev_p5"  # e = 5, 6 binned into >= 5
    assert d.switch_years == {"SEN": 2006}
    assert d.test_columns == ()


def test_pooled_reference_fits_only_post_bins_and_keeps_leads_for_the_test(
    tiny: pd.DataFrame,
) -> None:
    d = ev.event_time_dummies(tiny)  # default: reference="pre"
    assert d.pooled and d.reference == "pre"
    assert list(d.columns) == ["ev_p0", "ev_p1", "ev_p2", "ev_p3", "ev_p4", "ev_p5"]
    assert d.test_columns == ("ev_m5", "ev_m4", "ev_m3", "ev_m2")
    sen = d.data[d.data["iso3"] == "SEN"].set_index("year")
    # every pre-switch year is in the reference; the test columns mark e <= -5 ... -2
    assert (sen.loc[:2005, list(d.columns)] == 0).all().all()
    assert sen.loc[[2000, 2001], "ev_m5"].tolist() == [1, 1]
    assert sen.loc[2005, list(d.test_columns)].sum() == 0  # e = -1: base of the test
    ref = d.bins[d.bins["reference"]]
    assert ref["event_time"].tolist() == [-5, -4, -3, -2, -1]
    assert ref["term"].isna().all()


def test_controls_are_all_zero_and_switches_away_are_reported(tiny: pd.DataFrame) -> None:
    d = ev.event_time_dummies(tiny)
    controls = d.data[d.data["iso3"].isin(["FRA", "PRY", "KOR", "VUT"])]
    assert len(controls) == 4 * len(YEARS)
    assert (controls[list(d.columns)] == 0).all().all()
    assert d.pre_window == ("KOR",)
    assert d.reversed_in_year == ("VUT",)
    # KIR left Beijing inside the window: excluded by default, by name and row count
    assert "KIR" not in set(d.data["iso3"])
    assert d.excluded[["iso3", "country", "rows", "year"]].to_dict("records") == [
        {"iso3": "KIR", "country": "Kiribati", "rows": 13, "year": 2004}
    ]
    assert "Kiribati" in d.excluded_text and "13 rows" in d.excluded_text


def test_separate_away_indicators(tiny: pd.DataFrame) -> None:
    d = ev.event_time_dummies(tiny, away="separate", reference=-1)
    assert d.excluded.empty and d.away_years == {"KIR": 2004}
    assert [c for c in d.columns if c.startswith("away_")] == [
        t.replace("ev_", "away_") for t in EV_TERMS
    ]
    kir = d.data[d.data["iso3"] == "KIR"].set_index("year")
    assert kir.loc[2003, [c for c in d.columns if c.startswith("away_")]].sum() == 0  # e = -1
    assert kir.loc[2000, "away_m4"] == 1 and kir.loc[2004, "away_p0"] == 1
    assert kir.loc[2012, "away_p5"] == 1
    assert (kir[[c for c in d.columns if c.startswith("ev_")]] == 0).all().all()


def test_other_reference_and_invalid_options(tiny: pd.DataFrame) -> None:
    d = ev.event_time_dummies(tiny, leads=3, lags=2, reference=-2)
    assert list(d.columns) == ["ev_m3", "ev_m1", "ev_p0", "ev_p1", "ev_p2"]
    with pytest.raises(SpecError, match="reference"):
        ev.event_time_dummies(tiny, leads=5, reference=-5)  # an endpoint bin
    with pytest.raises(SpecError, match="away"):
        ev.event_time_dummies(tiny, away="drop")


def test_empty_bins_are_reported_not_fitted(tiny: pd.DataFrame) -> None:
    """Bins no switcher with contacts reaches are left out of the formula and reported."""
    data = tiny[tiny["iso3"] != "KIR"].copy()
    rng = np.random.default_rng(7)
    data["contacts"] = rng.poisson(2.0, len(data))
    data = data[(data["iso3"] != "SEN") | (data["year"] <= 2008)]  # SEN seen up to e = 2
    gmb = _country("GMB", [0] * 8 + [1] * 5, 2008, 0).assign(contacts=0)  # up to e = 4
    res = ev.event_study(pd.concat([data, gmb], ignore_index=True), reference=-1)
    coef = res.coefficients.set_index("term")
    assert coef.loc["ev_p3", "status"] == coef.loc["ev_p4", "status"] == ev.NOT_OBSERVED
    assert coef.loc["ev_p5", "status"] == ev.NOT_OBSERVED and coef.loc["ev_p5", "n_rows"] == 0
    assert not {"ev_p3", "ev_p4", "ev_p5"} & set(res.model.params.index)
    assert coef.loc["ev_p0", "status"] == "estimated"
    assert res.n_switchers_sample == 1 and len(res.dummies.switch_years) == 2


# --------------------------------------------------------------------------- demo study
@pytest.fixture(scope="module")
def demo() -> tuple[cpcstats.Study, pd.DataFrame]:
    study = cpcstats.load_study("demo")
    return study, cpcstats.country_year(study).data


@pytest.fixture(scope="module")
def demo_fit(demo: tuple[cpcstats.Study, pd.DataFrame]) -> ev.EventStudyResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation warnings are checked via the result
        return ev.event_study(demo[1])  # pooled pre-switch reference (the default)


DEMO_SWITCHES = {
    "LBR": 2003,
    "DMA": 2004,
    "GRD": 2005,
    "SEN": 2005,
    "TCD": 2006,
    "CRI": 2007,
    "MWI": 2007,
    "GMB": 2016,
    "STP": 2016,
    "PAN": 2017,
    "BFA": 2018,
    "DOM": 2018,
    "SLV": 2018,
    "SLB": 2019,
    "NIC": 2021,
    "HND": 2023,
}


def test_demo_switchers_and_exclusions(demo_fit: ev.EventStudyResult) -> None:
    d = demo_fit.dummies
    assert d.switch_years == DEMO_SWITCHES
    # Kiribati left Beijing in 2003 and came back in 2019: excluded as a country leaving
    assert list(d.excluded["iso3"]) == ["KIR", "LCA", "NRU"]
    assert d.reversed_in_year == ("VUT",)


def test_demo_classic_reference_year_is_not_identified(
    demo: tuple[cpcstats.Study, pd.DataFrame],
) -> None:
    """Why the pooled reference is the default: no switcher has a contact at e = -1, so
    every coefficient relative to that year is +inf; the design says so and points to
    reference="pre" instead of returning numbers."""
    data = demo[1]
    e = data["year"] - data["iso3"].map(DEMO_SWITCHES)
    assert data.loc[e == -1, "contacts"].sum() == 0
    assert data.loc[e < 0, "contacts"].sum() > 0
    with pytest.raises(EstimationError, match="not identified") as info:
        ev.event_study(data, reference=-1)
    assert 'reference="pre"' in (info.value.fix or "")


def test_demo_leads_jointly_insignificant(demo_fit: ev.EventStudyResult) -> None:
    """No pre-trend is planted, so the leads must not reject at 5 %: the clustered score
    test of adding the lead bins e <= -5 ... -2 to the pooled-reference model."""
    test = demo_fit.leads_test
    assert test is not None
    assert test.terms == ("ev_m5", "ev_m4", "ev_m3", "ev_m2")
    assert test.df == 4
    assert test.p_value > 0.05
    assert test.n_clusters == demo_fit.model.n_clusters


def test_demo_detects_a_positive_jump(demo_fit: ev.EventStudyResult) -> None:
    post = demo_fit.post()
    assert (post["status"] == "estimated").all()
    assert (post["estimate"] > 0).all()
    assert wald_test(demo_fit.model, list(post["term"])).p_value < 0.01


@pytest.mark.parametrize("term", ["ev_p0", "ev_p1", "ev_p2", "ev_p3", "ev_p4", "ev_p5"])
def test_demo_post_interval_covers_planted_jump(
    demo: tuple[cpcstats.Study, pd.DataFrame], demo_fit: ev.EventStudyResult, term: str
) -> None:
    """Each post-switch coefficient's 95 % interval covers the planted 3.0.

    Not a lucky draw: over 40 other seeds of the demo process the design was identified
    in all 40 and the intervals covered 3.0 in about 91 % of bins
    (``tests/reference/design_monte_carlo.md``)."""
    planted = demo[0].truth["country_year_effects"]["recognizes_prc"]
    assert planted == 3.0
    row = demo_fit.coefficients.set_index("term").loc[term]
    assert row["status"] == "estimated", f"{term}: {row['status']}"
    assert row["lower"] <= planted <= row["upper"], (term, row["lower"], row["upper"])


def test_placebo_shifted_switch_dates_does_not_reject(
    demo: tuple[cpcstats.Study, pd.DataFrame], demo_fit: ev.EventStudyResult
) -> None:
    """Fake switch dates 4 years before the real ones, on the years before the real switch
    only (so the true effect of the fake switch is 0).  Either the placebo is estimable and
    its post-switch bins are jointly insignificant, or — too few pre-switch contacts — the
    design reports that it is not identified instead of returning numbers."""
    data = demo[1]
    real = demo_fit.dummies.switch_years
    placebo = data[~data["iso3"].isin(demo_fit.dummies.excluded["iso3"])].copy()
    switch = placebo["iso3"].map(real)
    placebo = placebo[switch.isna() | (placebo["year"] < switch)].copy()
    assert (placebo.loc[placebo["iso3"].isin(list(real)), "recognizes_prc"] == 0).all()
    placebo["prc_switch_year"] = placebo["iso3"].map({k: v - 4 for k, v in real.items()})
    placebo["prc_switch_year"] = placebo["prc_switch_year"].astype("Int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ev.event_study(placebo)
    post = [t for t in res.post()["term"] if t in res.model.params.index]
    assert post, "the placebo should have estimable post bins"
    assert wald_test(res.model, post).p_value > 0.05


def test_placebo_on_always_beijing_countries_does_not_reject(
    demo: tuple[cpcstats.Study, pd.DataFrame],
) -> None:
    """A genuine placebo with information: fake switch years for countries whose
    recognition never changes, so the true effect at every event time is 0.

    Fixed rule, set before looking at the result: the countries recognising Beijing
    throughout (no switch, not flagged), in ISO3 order, every second one gets the fake year
    2006 + (i // 2) mod 8; real switchers and countries leaving Beijing are dropped;
    always-Taipei countries and the other half are the never-treated controls.
    """
    data = demo[1]
    by = data.groupby("iso3")
    always = by["recognizes_prc"].min().eq(1) & by["prc_switch_year"].max().isna()
    always &= by["switched_to_roc"].max().eq(0)
    beijing = sorted(always[always].index)
    fake = {iso: 2006 + (i // 2) % 8 for i, iso in enumerate(beijing) if i % 2 == 0}
    taipei = by["recognizes_prc"].max().eq(0)
    placebo = data[data["iso3"].isin(beijing) | data["iso3"].isin(taipei[taipei].index)].copy()
    placebo["prc_switch_year"] = placebo["iso3"].map(fake).astype("Int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ev.event_study(placebo, reference=-1)
        pooled = ev.event_study(placebo)
    assert pooled.leads_test is not None and pooled.leads_test.p_value > 0.05
    pooled_post = list(pooled.post()["term"])
    assert wald_test(pooled.model, pooled_post).p_value > 0.05
    assert res.n_switchers_sample >= 60  # informative: many fake switchers
    assert (res.coefficients["status"].isin(["estimated", "reference"])).all()
    every = [t for t in res.coefficients["term"].dropna()]
    assert res.leads_test is not None and res.leads_test.p_value > 0.05
    assert wald_test(res.model, every).p_value > 0.05
    assert wald_test(res.model, list(res.post()["term"])).p_value > 0.05


# --------------------------------------------------------------------------- run
def test_run_writes_table_and_figure_that_compile(
    demo: tuple[cpcstats.Study, pd.DataFrame], tmp_path: Path, pdflatex: str
) -> None:
    study, data = demo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ev.run(study, {"country-year": data}, tmp_path)
    assert out.skipped is None
    names = sorted(p.relative_to(tmp_path).as_posix() for p in out.files)
    assert names == [
        "figures/design_taiwan.pdf",
        "figures/design_taiwan.png",
        "tables/design_taiwan.md",
        "tables/design_taiwan.tex",
    ]
    assert all(p.stat().st_size > 0 for p in out.files)
    md = (tmp_path / "tables" / "design_taiwan.md").read_text()
    for text in (
        "SIMULATED",
        "Kiribati",
        "clustered by country",
        "e ≤ −5",
        "pooled reference",
        "score",
    ):
        assert text in md, text
    rec = out.record
    assert rec["simulated"] and rec["planted_log_effect"] == 3.0
    assert rec["leads_test"]["p_value"] > 0.05
    assert rec["n_switchers_window"] == 16 and rec["excluded_rows"] == 3 * 22
    assert rec["reference"] == "pre" and rec["leads_test"]["test"].startswith("score")
    assert out.models and out.models[0].family == "fe-poisson"
    (tmp_path / "tables" / "doc.tex").write_text(
        "\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
        "\\input{design_taiwan.tex}\\end{document}\n"
    )
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path / "tables",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Missing character" not in (tmp_path / "tables" / "doc.log").read_text(errors="replace")


def test_run_skips_without_switch_in_window(
    demo: tuple[cpcstats.Study, pd.DataFrame], tmp_path: Path
) -> None:
    study, data = demo
    window = data[data["year"].between(2008, 2015)]  # switches: 2003-2007 and 2016-2023
    out = ev.run(study, {"country-year": window}, tmp_path)
    assert out.skipped is not None and "no switch to Beijing" in out.skipped
    assert out.files == [] and not (tmp_path / "tables").exists()
