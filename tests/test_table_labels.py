"""Labels (issue 15, "Labels, once, everywhere"): one file maps variables, levels, models
and estimators to reader's labels; terms compose from them; no demo table shows a raw name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.reporting.labels import (
    PACKAGED_LABELS,
    Labels,
    default_labels,
    load_labels,
)

REPO = Path(__file__).resolve().parent.parent
REPO_LABELS = REPO / "models" / "labels.toml"


def test_repository_and_packaged_labels_are_the_same_file() -> None:
    assert REPO_LABELS.read_bytes() == PACKAGED_LABELS.read_bytes()


@pytest.fixture(scope="module")
def demo_panels() -> dict[str, object]:
    study = cpcstats.load_study("demo")
    return {"party-year": cpcstats.party_year(study), "country-year": cpcstats.country_year(study)}


def test_every_demo_panel_column_and_factor_level_has_a_label(demo_panels) -> None:
    labels = default_labels()
    for level, panel in demo_panels.items():
        missing = [c for c in panel.data.columns if not labels.has_variable(c)]
        assert missing == [], f"{level} columns without a label: {missing}"
    for column in ("fh_status", "status"):
        values = demo_panels["party-year"].data[column].dropna().unique()
        unlabelled = [v for v in values if v not in labels.levels.get(column, {})]
        assert unlabelled == [], f"{column} levels without a label: {unlabelled}"


def test_every_model_and_family_of_models_dir_has_a_label() -> None:
    labels = default_labels()
    names, families = [], set()
    for path in sorted((REPO / "models").glob("*.toml")):
        for model in tomllib.loads(path.read_text(encoding="utf-8")).get("model", []):
            names.append(model["name"])
            families.add(model.get("family", "poisson"))
    assert names, "no models found"
    assert [n for n in names if not labels.has_model(n)] == []
    assert sorted(f for f in families if f not in labels.families) == []


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("ruling:C(fh_status)[T.NF]", "Ruling party × Not Free"),
        ("C(fh_status)[T.PF]", "Partly Free"),
        ("C(fh_status, Treatment('F'))[T.NF]", "Not Free"),
        ("inflate:ruling", "Ruling party"),
        ("zero:C(fh_status)[T.NF]:ruling", "Not Free × Ruling party"),
        ("np.log(polyarchy)", "log(Electoral democracy)"),
        ("np.log1p(polyarchy)", "log(1 + Electoral democracy)"),
        ("I(polyarchy ** 2)", "Electoral democracy²"),
        ("Intercept", "Constant"),
        ("C(status)[T.junior]", "Junior partner"),
        ("C(fh_status)[T.XX]", "Freedom House status: XX"),
        ("some_new_var", "Some new var"),
        ("f(x", "f(x"),
        ("", ""),
    ],
)
def test_terms_compose_from_the_labels(raw: str, label: str) -> None:
    assert default_labels().term(raw) == label


def test_raw_labels_keep_every_name() -> None:
    raw = Labels.raw()
    assert raw.term("inflate:ruling:C(fh_status)[T.NF]") == "ruling:C(fh_status)[T.NF]"
    assert raw.model("rob_zinb") == "rob_zinb"
    assert raw.family("negbin") == "negbin"
    assert raw.variable("ruling") == "ruling"


def test_merged_overrides_some_labels_and_keeps_the_rest() -> None:
    base = default_labels()
    merged = base.merged({"variables": {"ruling": "Governing party"}, "models": {"m": "My model"}})
    assert merged.term("ruling:C(fh_status)[T.NF]") == "Governing party × Not Free"
    assert merged.model("m") == "My model"
    assert merged.variable("left_roots") == base.variable("left_roots")
    assert base.variable("ruling") == "Ruling party"  # the base is not changed


def test_model_and_family_fallbacks() -> None:
    labels = default_labels()
    assert labels.model("no_such_model", default="Spec title") == "Spec title"
    assert labels.model("no_such_model") == "no such model"
    assert labels.model("NB main") == "NB main"
    assert labels.family("negbin") == "NB2"
    assert labels.fixed_effect("iso3^year") == "Country × Year"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("[varibles]\nruling = 'x'\n", "varibles"),
        ("[variables]\nruling = 3\n", "variables.ruling"),
        ("variables = 'x'\n", "variables"),
        ("raw_latex = 'yes'\n", "raw_latex"),
        ("[levels]\nfh_status = 'x'\n", "levels.fh_status"),
    ],
)
def test_bad_labels_file_names_file_and_key(tmp_path: Path, text: str, column: str) -> None:
    path = tmp_path / "labels.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_labels(path)
    assert err.value.file == str(path)
    assert err.value.column == column
    assert err.value.fix


def test_missing_labels_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_labels(tmp_path / "nope.toml")


def test_raw_latex_flag_is_read(tmp_path: Path) -> None:
    path = tmp_path / "labels.toml"
    path.write_text('raw_latex = true\n[variables]\nx = "$\\\\eta^2$"\n', encoding="utf-8")
    labels = load_labels(path)
    assert labels.raw_latex is True
    assert labels.variable("x") == "$\\eta^2$"
    assert not re.search(r"\\\\", labels.variable("x"))


# --------------------------------------------------------------------------- the demo run

RAW_TERM_MARKS = ("C(", "[T.", "Intercept")


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tables of one demo replication (run once for this module)."""
    out = tmp_path_factory.mktemp("replicate") / "out"
    cpcstats.replicate("demo", out=out, progress=lambda _line: None)
    return out / "tables"


def _raw_names(demo_panels) -> list[str]:  # type: ignore[no-untyped-def]
    """Raw names a reader must not see: every panel column with an underscore or a digit
    (``iso3``; plain words such as ``contacts`` are ordinary text) and every model name of
    models/*.toml."""
    columns = {
        c for p in demo_panels.values() for c in p.data.columns if re.search(r"[_0-9]", c)
    }
    models = {
        m["name"]
        for path in (REPO / "models").glob("*.toml")
        for m in tomllib.loads(path.read_text(encoding="utf-8")).get("model", [])
    }
    return sorted(columns | models, key=len, reverse=True)


def _found(text: str, names: list[str]) -> list[str]:
    """Names in ``text`` as whole words, also in their escaped forms (``left\\_roots``)."""
    hits = []
    for name in names:
        for form in (name, name.replace("_", "\\_"), name.replace("_", "&#95;")):
            if re.search(r"(?<![\w\\])" + re.escape(form) + r"(?!\w)", text):
                hits.append(name)
                break
    return hits


def test_the_raw_name_scan_finds_raw_names(demo_panels) -> None:
    names = _raw_names(demo_panels)
    assert sorted(_found("| left\\_roots | rob\\_zinb |", names)) == ["left_roots", "rob_zinb"]
    assert _found("Leftist roots", names) == []


def test_no_demo_table_shows_a_raw_variable_or_model_name(demo_tables, demo_panels) -> None:
    names = _raw_names(demo_panels)
    files = [
        f
        for f in sorted(demo_tables.iterdir())
        if f.suffix in {".md", ".tex", ".html"} and not f.name.endswith(".notes.md")
    ]
    assert {f.suffix for f in files} == {".md", ".tex", ".html"}
    assert any(f.name.startswith("table1_") for f in files)
    offending = {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        hits = _found(text, names) + [m for m in RAW_TERM_MARKS if m in text]
        if hits:
            offending[f.name] = hits
    assert offending == {}


def test_regression_tables_are_numbered_and_labelled(demo_tables) -> None:
    md = (demo_tables / "table1_party_ruling_regime.md").read_text(encoding="utf-8")
    assert "| (1) | (2) | (3) | (4) |" in md
    assert "Ruling party × Not Free" in md and "| Dependent variable |" in md
    tex = (demo_tables / "table4_robustness.tex").read_text(encoding="utf-8")
    assert "Ruling party $\\times$ Not Free" in tex
    html = (demo_tables / "table3_irr_main.html").read_text(encoding="utf-8")
    assert "Party-year" in html and "Recognises the PRC" in html


def test_flagged_demo_fits_have_no_standard_errors_and_a_notes_file(demo_tables) -> None:
    md = (demo_tables / "table4_robustness.md").read_text(encoding="utf-8")
    assert md.count("Not a result") == 2  # the ZINB and the hurdle NB2
    notes = (demo_tables / "table4_robustness.notes.md").read_text(encoding="utf-8")
    assert notes.startswith("# Notes to ") and "rob_zinb" in notes
    assert not (demo_tables / "table1_party_ruling_regime.notes.md").exists()


# --------------------------------------------------------------------------- labels in a table


def test_table_labels_reach_every_format_and_raw_latex_only_when_asked(
    demo_poisson, tmp_path: Path
) -> None:
    path = tmp_path / "labels.toml"
    path.write_text('[variables]\nruling = "Governing_party"\n', encoding="utf-8")
    tab = cpcstats.table([demo_poisson], labels=path)
    assert "Governing\\_party" in tab.to_latex()
    assert "Governing\\_party" in tab.to_markdown()
    assert "Governing_party" in tab.to_html() and "left_roots" not in tab.to_html()
    raw = cpcstats.table([demo_poisson], labels="raw").to_markdown()
    assert "left\\_roots" in raw and "Leftist roots" not in raw
    latex_label = {"variables": {"ruling": r"$\rho$"}}
    escaped = cpcstats.table([demo_poisson], labels=latex_label).to_latex()
    assert "\n\\$\\textbackslash{}rho\\$ & " in escaped
    unescaped = cpcstats.table([demo_poisson], labels={**latex_label, "raw_latex": True})
    assert "\n$\\rho$ & " in unescaped.to_latex()
    with pytest.raises(SpecError):
        cpcstats.table([demo_poisson], labels={"variable": {"ruling": "x"}})


def test_free_text_reads_labels_not_raw_names() -> None:
    """Notes built from standard-error descriptions name clusters by their labels: code-like
    names (underscore or digit) are replaced as whole words, plain words and paths are not."""
    labels = default_labels()
    text = "SEs clustered by iso3 (188 clusters); FE on party_id; see tables/iso3x.md, a.iso3"
    out = labels.relabel_text(text)
    assert out == (
        "SEs clustered by country (188 clusters); FE on party; see tables/iso3x.md, a.iso3"
    )
    assert labels.relabel_text("year and ruling") == "year and ruling"
    assert Labels.raw().relabel_text(text) == text
    assert labels.relabel_text("BRI: bri_member") == "BRI: BRI member"  # an acronym keeps case
