"""End to end: `replicate` on the demo writes every promised output, labelled as simulated,
identically on a second run; its LaTeX tables compile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpcstats.replicate import replicate
from tests.conftest import compile_latex

REPO = Path(__file__).resolve().parents[1]


#: the console lines of the module's run (two workers), for the serial run to match
LINES: list[str] = []
#: the module's run's models (``keep_fits`` True, the default)
FITTED: dict = {}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = replicate(
        "demo", out, REPO / "replication" / "replication.toml", progress=LINES.append, workers=2
    )
    assert not result.failed, result.failed
    FITTED.update(result.fitted)
    return out


def test_outputs_exist(run: Path) -> None:
    for name in (
        "results.json",
        "manifest.json",
        "panels/country_year.csv",
        "panels/party_year.csv",
        "tables/table1_party_ruling_regime.tex",
        "tables/table2_country_drivers.tex",
        "tables/table3_irr_main.tex",
        "tables/published_figures.tex",
        "tables/table1_party_ruling_regime.md",
        "figures/yearly_contacts.pdf",
        "figures/yearly_contacts.png",
        "figures/irr_main.pdf",
        "figures/irr_main.png",
    ):
        assert (run / name).stat().st_size > 0, name


def test_results_json_schema(run: Path) -> None:
    results = json.loads((run / "results.json").read_text())
    assert results["simulated"] is True and results["study"]
    assert len(results["models"]) == 14
    families = {r["family"] for r in results["models"]}
    assert {"poisson", "negbin", "zinb", "hurdle-negbin", "fe-poisson", "ols-fe"} <= families
    flagged = {r["name"] for r in results["models"] if r["flagged"]}
    # the demo has no excess zeros: ZINB and the hurdle NB sit at their boundaries
    assert flagged == {"rob_zinb", "rob_hurdle_negbin"}
    assert all(r["problems"] for r in results["models"] if r["flagged"])
    # each model table's companion details (what left the notes under it) are recorded;
    # the flagged models' full reasons are among table4's
    details = results["tables"]["table4_robustness"]["details"]
    assert any("rob_zinb" in d or "ZINB" in d for d in details), details
    assert {
        "design_ruling_regime",
        "design_ideology",
        "design_xi",
        "design_taiwan",
        "design_bri",
    } <= set(results["designs"])
    tests = {d["test"] for d in results["diagnostics"]}
    assert "LR Poisson vs NB2 (boundary-corrected)" in tests
    for record in results["models"]:
        for key in (
            "name",
            "family",
            "level",
            "formula",
            "nobs",
            "n_clusters",
            "loglik",
            "aic",
            "alpha",
            "terms",
        ):
            assert key in record, key
        for term in record["terms"].values():
            assert set(term) == {"estimate", "std_error", "p_value", "irr"}
        nb = record["family"] in ("negbin", "zinb", "hurdle-negbin")
        assert (record["alpha"] is None) == (not nb)
    assert results["true_parameters"]["party-year"]["ruling"] > 0


def test_manifest_records_inputs_versions_and_drops(run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(manifest["inputs"]) == 4
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["study"]["seed"] == 20200603
    assert manifest["environment"]["packages"]["statsmodels"]
    fe = manifest["dropped_rows"]["model country_poisson_fe: estimation sample"]
    assert fe["fixed-effect group with only zero outcomes"] > 0
    for stage in manifest["stages"]:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped"].values())
    outputs = {o["path"].split("/")[-1] for o in manifest["outputs"]}
    assert "results.json" in outputs and "table1_party_ruling_regime.tex" in outputs


def test_robustness_table_states_every_models_se(run: Path) -> None:
    text = (run / "tables" / "table4_robustness.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| Std. errors"))
    # the clusters by their labels: country (iso3) for five models, party for the OLS-FE
    assert row.count("cluster: Country") == 5 and "cluster: Party" in row
    assert "Hurdle NB2" in text
    assert "Not shown: the inflation and zero hurdle equations." in text


def test_everything_says_simulated(run: Path) -> None:
    for tex in (run / "tables").glob("*.tex"):
        assert "SIMULATED" in tex.read_text(), tex.name
    for md in (run / "tables").glob("*.md"):  # the tables and their companion notes
        assert "SIMULATED" in md.read_text(), md.name
    for html in (run / "tables").glob("*.html"):
        assert "SIMULATED" in html.read_text(), html.name
    for panel in (run / "panels").glob("*.csv"):  # exported panels keep the mark
        assert panel.read_text().split("\n", 2)[1].startswith("SIMULATED"), panel.name
    assert json.loads((run / "results.json").read_text())["simulated"] is True
    assert json.loads((run / "manifest.json").read_text())["study"]["simulated"] is True


def test_panel_counts_equal_the_events(run: Path) -> None:
    import pandas as pd

    import cpcstats

    study = cpcstats.load_study("demo")
    cy = pd.read_csv(run / "panels" / "country_year.csv")
    py = pd.read_csv(run / "panels" / "party_year.csv")
    assert cy["contacts"].sum() == len(study.contacts)
    assert py["contacts"].sum() == (study.contacts.counterpart_type == "party").sum()


def test_second_run_gives_identical_bytes(run: Path, tmp_path: Path) -> None:
    """Every file of a second run into another folder — tables, figures (PDF and PNG),
    panels, results.json and manifest.json — is byte-identical to the first run's, and so
    are its console lines: the first ran its designs on two worker processes and kept
    its models' post-estimation payload, this one runs everything in this process
    (``workers=1``) and lets each payload go once read (``keep_fits=False``, as the CLI)."""
    lines: list[str] = []
    config = REPO / "replication" / "replication.toml"
    second_run = replicate("demo", tmp_path, config, lines.append, 1, keep_fits=False)
    assert FITTED and all(m.core is not None and m.design is not None for m in FITTED.values())
    assert set(second_run.fitted) == set(FITTED)
    fits = second_run.all_fits()
    assert len(fits) > len(FITTED)  # the designs' models too
    assert all(m.core is None and m.design is None for m in fits)
    assert [s.replace(str(tmp_path), "OUT") for s in lines] == [
        s.replace(str(run), "OUT") for s in LINES
    ]
    assert any(s.startswith("      design design_taiwan: ") for s in lines)
    first = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    assert len(first) > 40 and "manifest.json" in first
    for name in first:
        assert (run / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_tables_compile_with_pdflatex(run: Path, tmp_path: Path, pdflatex: str) -> None:
    for tex in sorted((run / "tables").glob("*.tex")):
        compile_latex(tex, tmp_path, pdflatex, preamble="\\usepackage[margin=1cm]{geometry}\n")


def test_published_partner_table_from_a_constructed_study(tmp_path: Path) -> None:
    """End to end: a study whose events reproduce Table 1 exactly, with [published]
    enabled, gets a published_partners table saying "match" for all 20 partners; the
    2018 events of the fixture are outside the published period and do not count."""
    repo = Path(__file__).resolve().parents[1]
    fixture = repo / "tests" / "fixtures" / "table1"
    study = tmp_path / "table1.toml"
    study.write_text(
        "[study]\nname = 'Table 1 fixture'\nfirst_year = 2002\nlast_year = 2018\n"
        f"[contacts]\npath = '{(fixture / 'contacts.csv').as_posix()}'\n"
        f"[parties]\npath = '{(fixture / 'parties.csv').as_posix()}'\n"
        f"[published]\npath = '{(repo / 'replication' / 'published.toml').as_posix()}'\n",
        encoding="utf-8",
    )
    config = tmp_path / "replication.toml"
    config.write_text(f"models = '{(repo / 'models').as_posix()}'\n", encoding="utf-8")
    replicate(study, tmp_path / "out", config, progress=lambda _: None)
    md = (tmp_path / "out" / "tables" / "published_partners.md").read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "VNM" in line]
    assert rows and rows[0].split("|")[4].strip() == "121"
    body = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(body) == 20
    assert all(line.rstrip(" |").endswith("match") for line in body), body
    assert (tmp_path / "out" / "tables" / "published_figures.tex").exists()


def test_outputs_do_not_depend_on_where_the_package_is(run: Path) -> None:
    """No output names the folder the package is installed or checked out in, so the same
    replication from another checkout (or a wheel) writes the same bytes."""
    from cpcstats.outputs import PACKAGE_ROOT

    where = str(PACKAGE_ROOT.parent)
    for path in run.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".md", ".tex", ".csv", ".html"}:
            assert where not in path.read_text(encoding="utf-8"), path
