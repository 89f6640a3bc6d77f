"""Designs 1 (ruling x regime) and 5 (ideology) on the demo, whose truth is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cpcstats
from cpcstats.designs import ideology, ruling_regime
from cpcstats.reporting.tables.text import LATEX_PREAMBLE
from tests.conftest import compile_latex

SPECS = {s.name: s for s in cpcstats.load_specs("models/designs.toml")}
RULING = [
    SPECS[n]
    for n in ("design1_nb_ruling_fh", "design1_fe_ruling_fh", "design1_nb_ruling_polyarchy")
]
IDEOLOGY = [SPECS["design5_nb_ideology"], SPECS["design5_fe_ideology"]]


@pytest.fixture(scope="module")
def demo() -> tuple[cpcstats.Study, dict]:
    study = cpcstats.load_study("demo")
    return study, {"party-year": cpcstats.party_year(study)}


@pytest.fixture(scope="module")
def ruling_output(demo: tuple, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    study, panels = demo
    return ruling_regime.run(study, panels, tmp_path_factory.mktemp("d1"), specs=RULING)


def test_ruling_premium_covers_the_planted_irr_in_each_regime(demo: tuple, ruling_output) -> None:  # type: ignore[no-untyped-def]
    study, _ = demo
    t = study.truth["party_year_effects"]
    planted = {
        "F": t["ruling"],
        "PF": t["ruling"] + t["ruling:C(fh_status)[T.PF]"],
        "NF": t["ruling"] + t["ruling:C(fh_status)[T.NF]"],
    }
    nb = ruling_output.record["ruling_premium"]["NB2: ruling × FH status"]
    assert set(ruling_output.record["ruling_premium"]) == {
        "NB2: ruling × FH status",
        "FE Poisson: ruling × FH status",
    }
    for row in nb:
        assert row["ci_lower"] <= np.exp(planted[row["regime"]]) <= row["ci_upper"], row


def test_ruling_premium_is_the_linear_combination(ruling_output) -> None:  # type: ignore[no-untyped-def]
    nb = ruling_output.models[0]
    frame = ruling_regime.ruling_premium(nb).set_index("regime")
    terms = ["ruling", "ruling:C(fh_status)[T.NF]"]
    b = nb.params[terms].sum()
    se = np.sqrt(nb.vcov.loc[terms, terms].to_numpy().sum())
    assert frame.loc["NF", "log_irr"] == pytest.approx(b)
    assert frame.loc["NF", "std_error"] == pytest.approx(se)
    assert frame.loc["F", "log_irr"] == pytest.approx(nb.params["ruling"])


def test_ruling_parties_are_predicted_more_contact(ruling_output) -> None:  # type: ignore[no-untyped-def]
    rows = ruling_output.record["predicted_contacts"]
    by = {(r["ruling"], r["fh_status"]): r for r in rows}
    for regime in ("F", "PF", "NF"):
        assert by[(1, regime)]["predicted"] > by[(0, regime)]["predicted"]
        r = by[(1, regime)]
        assert r["ci_lower"] < r["predicted"] < r["ci_upper"]


def test_predicted_contacts_are_average_predictions_by_default(demo: tuple, ruling_output) -> None:  # type: ignore[no-untyped-def]
    """Default: averages over the observed party-years, labelled so in table and notes."""
    record = ruling_output.record
    assert record["predicted_contacts_kind"] == "average"
    nb = ruling_output.models[0]
    grid = {"ruling": [0, 1], "fh_status": list(ruling_regime.REGIMES)}
    expected = ruling_regime.average_predictions(nb, grid)
    got = {(r["ruling"], r["fh_status"]): r["predicted"] for r in record["predicted_contacts"]}
    for r in expected.itertuples():
        assert got[(r.ruling, r.fh_status)] == pytest.approx(r.predicted, rel=1e-12)
    md = next(p for p in ruling_output.files if p.name.endswith("regime.md")).read_text()
    notes = next(p for p in ruling_output.files if p.name.endswith(".notes.md")).read_text()
    assert "Average predicted contacts per year (NB2)" in md and "| Ruling party, Not Free |" in md
    assert "covariate means" not in md + notes and "sample means" not in md + notes
    assert f"{nb.nobs:,} observed party-years" in notes


def test_at_means_option_is_labelled(demo: tuple, tmp_path: Path) -> None:
    study, panels = demo
    out = ruling_regime.run(study, panels, tmp_path, specs=RULING, predictions="at_means")
    assert out.record["predicted_contacts_kind"] == "at_means"
    md = next(p for p in out.files if p.name.endswith("regime.md")).read_text()
    notes = next(p for p in out.files if p.name.endswith(".notes.md")).read_text()
    assert "Predicted contacts per year at covariate means (NB2)" in md
    assert "| Ruling party, Free |" in md
    assert "Recognises the PRC = " in notes  # the held values, labelled, in the notes file
    with pytest.raises(cpcstats.errors.SpecError, match="predictions must be one of"):
        ruling_regime.run(study, panels, tmp_path, specs=RULING, predictions="medians")


def test_ideology_recovers_left_roots_and_position(demo: tuple, tmp_path: Path) -> None:
    study, panels = demo
    out = ideology.run(study, panels, tmp_path, specs=IDEOLOGY)
    t = study.truth["party_year_effects"]
    for term in ("left_roots", "lr_position"):
        est = out.record["NB2"][term]
        assert abs(est["estimate"] - t[term]) < 3 * est["std_error"], (term, est)  # one draw
    names = {p.name for p in out.files}
    assert out.skipped is None and "design_ideology.notes.md" in names
    assert {"design_ideology.tex", "design_ideology.md", "design_ideology.png"} <= names


def test_ideology_fe_poisson_is_within_country_year(demo: tuple, tmp_path: Path) -> None:
    """The fitted effects and the note agree: country x year by default, as written on request."""
    study, panels = demo
    out = ideology.run(study, panels, tmp_path, specs=IDEOLOGY)
    within = out.models[1]
    assert within.spec is not None and within.spec.formula.endswith("| country_year")
    md = next(p for p in out.files if p.name.endswith(".notes.md")).read_text()
    assert "country x year fixed effects compares parties of the same country" in md
    assert "FE Poisson (country × year)" in out.record
    kept = ideology.run(
        study, panels, tmp_path / "as", specs=IDEOLOGY, fixed_effects="as_specified"
    )
    text = next(p for p in kept.files if p.name.endswith(".notes.md")).read_text()
    assert kept.models[1].spec.formula == IDEOLOGY[1].formula
    assert ideology.fe_note(IDEOLOGY[1]) in text  # the note describes the effects fitted
    if IDEOLOGY[1].formula.replace(" ", "").endswith("|iso3+year"):
        assert "same country in the same year" not in text


def test_designs_skip_without_parties(demo: tuple, tmp_path: Path) -> None:
    study, _ = demo
    for module, specs in ((ruling_regime, RULING), (ideology, IDEOLOGY)):
        out = module.run(study, {}, tmp_path, specs=specs)
        assert out.skipped and "party-year" in out.skipped and not out.files


def test_design_tables_compile(ruling_output, tmp_path: Path, pdflatex: str) -> None:  # type: ignore[no-untyped-def]
    tex = next(p for p in ruling_output.files if p.suffix == ".tex")
    assert "SIMULATED" in tex.read_text()
    compile_latex(tex, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)
