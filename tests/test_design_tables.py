"""Design tables laid out like regression tables (issue 15, "Design tables and notes").

What is checked: the `DesignTable` type (lettered panels, a tests block with Statistic /
df / p-value columns, counts apart, at most four notes, true minus signs), and the five
designs' outputs on the demo: notes under each table, the companion ``<name>.notes.md``
holding what left the notes (the BRI ETWFE's omitted-term warning among them), the
captions of the designs that model total contacts, and each table compiled in a portrait
A4 page with 2.5 cm margins without an overfull box.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

import cpcstats
from cpcstats.designs import bri, ideology, ruling_regime, taiwan, xi_break
from cpcstats.designs.base import unit_word, write_details
from cpcstats.reporting.format import MINUS
from cpcstats.reporting.labels import default_labels
from cpcstats.reporting.tables.design_table import (
    MAX_NOTES,
    TEST_COLUMNS,
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
    TestRow,
)
from cpcstats.reporting.tables.text import LATEX_PREAMBLE

SPECS = {s.name: s for s in cpcstats.load_specs("models/designs.toml")}
RULING = [
    SPECS[n]
    for n in ("design1_nb_ruling_fh", "design1_fe_ruling_fh", "design1_nb_ruling_polyarchy")
]
IDEOLOGY = [SPECS["design5_nb_ideology"], SPECS["design5_fe_ideology"]]
STEMS = (
    "design_bri",
    "design_bri_imputation",
    "design_taiwan",
    "design_xi",
    "design_ruling_regime",
    "design_ideology",
)
#: words that name a test statistic or a count: never a row label of an estimates panel
TEST_WORDS = re.compile(r"χ²|Wald|score|df\b|^N\b|Countries|Cohorts|dropped", re.IGNORECASE)


def _toy(**kw: object) -> DesignTable:
    base: dict[str, object] = {
        "title": "Toy design and contacts",
        "label": "tab:toy",
        "panels": (
            EstimatePanel("First", (EstimateRow("b", -0.25, 0.1, -0.45, -0.05, 0.012),)),
            EstimatePanel("Second", (EstimateRow("c", 1.5, 0.2, 1.1, 1.9, 0.0001, 0.02),)),
        ),
        "tests": (TestRow("Leads = 0 (score χ²)", 3.25, 4, 0.52, 0.6),),
        "counts": (CountRow("N", 1234), CountRow("Years", "2002–2023")),
        "notes": ("Sample: toy.", "Estimator: toy.", "Standard errors: toy."),
        "simulated": True,
    }
    base.update(kw)
    return DesignTable(**base)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- the type
def test_more_than_four_notes_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 4"):
        _toy(notes=("a", "b", "c", "d"))  # 4 + the simulated banner
    assert len(_toy(notes=("a", "b", "c", "d"), simulated=False).layout().notes) == MAX_NOTES


def test_layout_has_lettered_panels_a_tests_block_and_counts() -> None:
    layout = _toy().layout()
    titles = [b.title for b in layout.blocks]
    assert titles == ["Panel A: First", "Panel B: Second", "Tests", "Statistics"]
    assert layout.header_rows[0] == ("", "Estimate", "SE", "95% CI", "p-value", "Bootstrap p")
    tests = layout.blocks[2]
    head = [c.text() for c in tests.rows[0].cells]
    assert head[: len(TEST_COLUMNS)] == list(TEST_COLUMNS) and head[-1] == "Bootstrap p"
    statistic, df, _, p, boot = (c.text() for c in tests.rows[1].cells)
    assert (statistic, df, p, boot) == ("3.250", "4", "0.520", "0.600")
    # p-values line up: the tests' p-value column is the estimates' p-value column
    assert TEST_COLUMNS.index("p-value") + 1 == layout.header_rows[0].index("p-value")
    assert [r.label for r in layout.blocks[3].rows] == ["N", "Years"]
    assert layout.blocks[3].rows[0].cells[0].text() == "1,234"


def test_no_bootstrap_column_without_bootstrap_p() -> None:
    plain = _toy(
        panels=(EstimatePanel("Only", (EstimateRow("b", 0.5, 0.1, 0.3, 0.7, 0.01),)),),
        tests=(TestRow("Wald", 2.0, 1, 0.15),),
    )
    assert plain.layout().header_rows[0][-1] == "p-value"


def test_negative_numbers_get_a_true_minus_in_every_format() -> None:
    tab = _toy()
    tex, md = tab.to_latex(), tab.to_markdown()
    body = tex[tex.index(r"\toprule") : tex.index(r"\bottomrule")]
    assert "$-$0.250" in body and not re.search(r"(?<![-\w$])-(?=\d)", body)
    assert f"{MINUS}0.250" in md and f"\\[{MINUS}0.450, {MINUS}0.050\\]" in md
    assert "< 0.001" in md  # p-values through reporting.format


def test_write_details_is_byte_stable_markdown(tmp_path: Path) -> None:
    details = ["Warning: term(s) x omitted", "Two\n lines   joined"]
    first = write_details(tmp_path, "design_toy", "Toy", details, simulated=True).read_bytes()
    second = write_details(tmp_path, "design_toy", "Toy", details, simulated=True).read_bytes()
    assert first == second
    text = first.decode()
    assert text.startswith("# Notes: Toy\n") and "SIMULATED" in text
    assert "- Warning: term(s) x omitted\n" in text and "- Two lines joined\n" in text


def test_caption_unit_comes_from_the_study() -> None:
    assert unit_word(SimpleNamespace(config={})) == "contacts"
    assert unit_word(SimpleNamespace(config={"study": {"unit": "engagements"}})) == "engagements"


# ------------------------------------------------------------------- the designs' outputs
@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The five designs on the demo, with small bootstraps (the layout, not the numbers,
    is under test here)."""
    out = tmp_path_factory.mktemp("designs")
    study = cpcstats.load_study("demo")
    panels = {
        "country-year": cpcstats.country_year(study),
        "party-year": cpcstats.party_year(study),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = {
            "design_bri": bri.run(study, panels, out, wild_bootstrap=False),
            "design_taiwan": taiwan.run(study, panels, out, B=49),
            "design_xi": xi_break.run(study, panels, out, bootstrap_reps=49),
            "design_ruling_regime": ruling_regime.run(study, panels, out, specs=RULING),
            "design_ideology": ideology.run(study, panels, out, specs=IDEOLOGY),
        }
    return out, results


def _md_parts(path: Path) -> tuple[list[str], list[str]]:
    """The pipe-table lines and the note paragraphs after the table."""
    paragraphs = path.read_text().strip().split("\n\n")
    table_at = next(i for i, p in enumerate(paragraphs) if p.startswith("|"))
    return paragraphs[table_at].splitlines(), paragraphs[table_at + 1 :]


def _label(line: str) -> str:
    return line.split("|")[1].strip()


@pytest.mark.parametrize("stem", STEMS)
def test_each_design_table_is_laid_out_like_a_regression_table(
    outputs: tuple[Path, dict[str, object]], stem: str
) -> None:
    out, _ = outputs
    lines, notes = _md_parts(out / "tables" / f"{stem}.md")
    assert 1 <= len(notes) <= MAX_NOTES, notes
    assert "SIMULATED" in notes[0]
    letters = [m.group(1) for line in lines if (m := re.search(r"\*\*Panel ([A-Z]):", line))]
    assert letters and letters == [chr(ord("A") + i) for i in range(len(letters))]
    titles = [i for i, line in enumerate(lines) if _label(line).startswith("**")]
    tests_at = next((i for i in titles if _label(lines[i]) == "**Tests**"), None)
    estimates_end = tests_at or next(
        (i for i in titles if _label(lines[i]) == "**Statistics**"), len(lines)
    )
    for line in lines[2:estimates_end]:
        if _label(line).startswith("**"):
            continue  # a panel title
        assert not TEST_WORDS.search(_label(line)), f"{stem}: a statistic among estimates: {line}"
    if tests_at is not None:
        head = [c.strip() for c in lines[tests_at + 1].split("|")[2:-1]]
        assert head[:4] == ["Statistic", "df", "", "p-value"]
    assert len(lines[0].split("|")) - 2 <= 6  # stub + at most 5 columns


@pytest.mark.parametrize("stem", STEMS)
def test_latex_numbers_have_true_minus_signs(
    outputs: tuple[Path, dict[str, object]], stem: str
) -> None:
    out, _ = outputs
    tex = (out / "tables" / f"{stem}.tex").read_text()
    body = tex[tex.index(r"\toprule") : tex.rindex(r"\bottomrule")]
    assert not re.search(r"(?<![-\w$])-(?=\d)", body), stem
    assert "textasciicircum" not in tex and "eta^2" not in tex


def test_notes_files_hold_what_left_the_notes(outputs: tuple[Path, dict[str, object]]) -> None:
    out, results = outputs
    for name, result in results.items():
        notes_md = out / "tables" / f"{name}.notes.md"
        assert notes_md in result.files, name  # type: ignore[attr-defined]
        text = notes_md.read_text()
        details = result.record["details"]  # type: ignore[attr-defined]
        relabel = default_labels().relabel_text  # the file shows labels, the record raw names
        assert details and all(relabel(" ".join(d.split())) in text for d in details), name
    bri_result = results["design_bri"]
    warned = [w for m in bri_result.models[:2] for w in m.warnings]  # type: ignore[attr-defined]
    assert any("omitted" in w for w in warned), "the demo ETWFE omits a separated cell"
    notes_md = (out / "tables" / "design_bri.notes.md").read_text()
    tex = (out / "tables" / "design_bri.tex").read_text()
    for w in warned:
        assert f"Warning: {default_labels().relabel_text(' '.join(w.split()))}" in notes_md
    assert "omitted" not in tex and "Warning" not in tex and "Compound treatment" in notes_md
    xi_notes = (out / "tables" / "design_xi.notes.md").read_text()
    assert "η²" in xi_notes and "eta^2" not in xi_notes
    assert "confidence set (LR)" in xi_notes  # moved out of the table


def test_contact_designs_are_captioned_contacts(outputs: tuple[Path, dict[str, object]]) -> None:
    out, _ = outputs
    for stem in ("design_bri", "design_taiwan"):
        tex = (out / "tables" / f"{stem}.tex").read_text()
        caption = re.search(r"\\caption\{([^}]*)\}", tex)
        assert caption and "contacts" in caption.group(1), stem
        assert "party contact" not in tex, stem


@pytest.mark.parametrize("stem", STEMS)
def test_design_tables_fit_a_portrait_a4_page(
    outputs: tuple[Path, dict[str, object]], stem: str, pdflatex: str, tmp_path: Path
) -> None:
    out, _ = outputs
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage[a4paper,margin=2.5cm]{geometry}\n"
        "\\usepackage[T1]{fontenc}\n"
        + LATEX_PREAMBLE
        + "\\begin{document}\n\\input{"
        + (out / "tables" / f"{stem}.tex").as_posix()
        + "}\n"
        "\\end{document}\n"
    )
    for _ in range(3):  # longtable settles its column widths (and its notes') via the .aux
        proc = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\[hv]box \(([0-9.]+)pt too", log)]
    assert all(w <= 1.0 for w in widths), (stem, widths)



def test_study_file_unit_reaches_the_captions(tmp_path: Path) -> None:
    """``[study] unit`` is a checked study key: the real China Vitae study sets
    "engagements" (its design captions say so); a unit that is not text is refused."""
    import cpcstats
    from cpcstats.errors import SpecError

    repo = Path(__file__).resolve().parents[1]
    bad = tmp_path / "study.toml"
    bad.write_text(
        "[study]\nname = 'x'\nfirst_year = 2002\nlast_year = 2003\nunit = 3\n"
        "[contacts]\npath = 'contacts.csv'\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="unit"):
        cpcstats.load_study(bad)
    if not (repo.parent / "shared" / "data").is_dir():
        pytest.skip("../shared/data is absent")
    elite = repo / "replication" / "studies" / "elite_engagements.toml"
    assert unit_word(cpcstats.load_study(elite)) == "engagements"
