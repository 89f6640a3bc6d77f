"""Every string that reaches a table is escaped: nothing a user writes runs as LaTeX,
passes into Markdown as raw HTML, or breaks the compile; non-Latin names compile with
lualatex and the documented preamble; tables note rows dropped for missing values.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.estimation.results import FitResult
from cpcstats.reporting.tables import (
    UNICODE_PREAMBLE,
    clean_text,
    latex_escape,
    needs_unicode_engine,
    stats_table,
    table,
    unicode_preamble,
)
from cpcstats.reporting.tables.text import LATEX_PREAMBLE
from tests.helpers import compile_tex

HOSTILE = [
    r"\input{/etc/passwd}",
    r"}\end{table}\input{evil}",
    r"$x^2$ 100% & #1 _a_ ~",
    "^^5cinput{evil}",
    r"\\ \\[5cm] \def\x{1}",
    "bell\x07 esc\x1b nul\x00 del\x7f c1\x85\x9b rlo\u202e zwsp\u200b",
    "para one\n\npara two\ttab\r",
    "[5cm] starts with a bracket",
    "* starts with a star",
    r"\catcode`\{=12 \csname input\endcsname{evil}",
]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e]")


def _data(seed: int = 7, n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    frame["y"] = rng.poisson(np.exp(0.2 + 0.3 * frame["x"]))
    return frame


@pytest.fixture(scope="module")
def fits() -> tuple[FitResult, FitResult]:
    frame = _data()
    holes = frame.copy()
    holes.loc[[3, 9], "x"] = np.nan
    holes.loc[[20], "z"] = np.nan
    full = cpcstats.fit("y ~ x + z", frame, family="poisson", name="full")
    gaps = cpcstats.fit("y ~ x + z", holes, family="poisson", name="gaps")
    return full, gaps


def _evil_file(folder: Path) -> Path:
    """A file that, if any table ever \\input it, leaves PWNED.txt behind."""
    path = folder / "evil.tex"
    path.write_text(
        "\\newwrite\\pwned\\immediate\\openout\\pwned=PWNED.txt"
        "\\immediate\\write\\pwned{x}\\immediate\\closeout\\pwned\n"
    )
    return path


def _hostile_tables(fits: tuple[FitResult, FitResult]) -> list:
    full, gaps = fits
    named = [replace(full, name=HOSTILE[0]), replace(gaps, name=HOSTILE[1])]
    regression = table(
        named,
        title=" ".join(HOSTILE[:5]),
        label=r"tab:x}\input{evil}",
        notes=HOSTILE,
        coef_map={"x": HOSTILE[7], "z": HOSTILE[8], "Intercept": HOSTILE[9]},
    )
    frame = pd.DataFrame(
        {HOSTILE[2]: [1.5, 2.0, 3.0], "cells": [HOSTILE[3], HOSTILE[4], HOSTILE[5]]},
        index=pd.Index([HOSTILE[8], HOSTILE[7], HOSTILE[6]], name=HOSTILE[0]),
    )
    descriptive = stats_table(frame, title=HOSTILE[6], label="\x00../../x y", notes=HOSTILE[2:])
    return [regression, descriptive]


# --------------------------------------------------------------------------- LaTeX
def test_hostile_strings_are_escaped_in_latex(fits: tuple[FitResult, FitResult]) -> None:
    for tab in _hostile_tables(fits):
        latex = tab.to_latex()
        assert r"\input" not in latex and r"\end{table}\input" not in latex
        assert r"\catcode" not in latex and r"\def" not in latex and "^^" not in latex
        assert not CONTROL.search(latex), "a control character reached the .tex"
        assert "\n\n" not in latex, "a blank line would end the paragraph in \\caption"
        labels = re.findall(r"\\label\{([^}]*)\}", latex)
        assert all(re.fullmatch(r"[A-Za-z0-9:._-]+", lab) for lab in labels), labels
        # no tabular row can start with [ or * (read as \\[..] or \\*)
        body = latex[latex.index(r"\toprule") : latex.index(r"\bottomrule")]
        for line in body.splitlines():
            assert not line.startswith(("[", "*")), line
    regression = _hostile_tables(fits)[0].to_latex()
    assert r"\label{tab:x--input-evil-}" in regression
    assert r"\textbackslash{}input\{/etc/passwd\}" in regression
    assert r"\}\textbackslash{}end\{table\}" in regression
    assert r"\$x\textasciicircum{}2\$ 100\% \& \#1 \_a\_ \textasciitilde{}" in regression


def test_hostile_latex_compiles_with_pdflatex_and_runs_nothing(
    pdflatex: str, tmp_path: Path, fits: tuple[FitResult, FitResult]
) -> None:
    _evil_file(tmp_path)
    for i, tab in enumerate(_hostile_tables(fits)):
        tex = tmp_path / f"hostile_{i}.tex"
        tab.to_latex(tex)
        assert not needs_unicode_engine(tex.read_text())
        pdf, log = compile_tex(tex, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)
        assert "(/etc/passwd" not in log and "evil.tex" not in log
        assert not (tmp_path / "PWNED.txt").exists(), "a table ran \\input{evil}"
        if shutil.which("pdftotext"):
            shown = subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert "input{" in shown  # the command is printed as text
    # the marker works: a file that does \input{evil} does leave PWNED.txt
    probe = tmp_path / "probe.tex"
    probe.write_text("\\input{evil}\nok\n")
    compile_tex(probe, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)
    assert (tmp_path / "PWNED.txt").exists()


def test_latin_names_compile_with_pdflatex_without_a_unicode_header(
    pdflatex: str, tmp_path: Path, fits: tuple[FitResult, FitResult]
) -> None:
    names = ["Parti Québécois", "Partido Socialista Obrero Español"]
    frame = pd.DataFrame(
        {"contacts": [3, 5, 7, 2]},
        index=[
            "Sozialdemokratische Partei Österreichs",
            "Prawo i Sprawiedliwość",
            "Fianna Fáil",
            "Suomen Keskusta (Kesk)",
        ],
    )
    tabs = [
        table(list(fits), model_names=names, title="Façade — naïve", label="tab:latin"),
        stats_table(frame, title="Partis européens", label="tab:latin_shares"),
    ]
    for i, tab in enumerate(tabs):
        tex = tmp_path / f"latin_{i}.tex"
        text = tab.to_latex(tex)
        assert "lualatex" not in text and not needs_unicode_engine(text)
        compile_tex(tex, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)


# --------------------------------------------------------------------------- non-Latin
def _cjk_font() -> str | None:
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    families = sorted(f.split(",")[0].strip() for f in out.splitlines() if f.strip())
    if "WenQuanYi Micro Hei" in families:
        return "WenQuanYi Micro Hei"
    return families[0] if families else None


NON_LATIN = {
    "КПРФ (Коммунистическая партия Российской Федерации)": 12,
    "中国国民党": 30,
    "自由民主党": 9,
    "조선로동당": 41,
    "Ελληνικό Κομμουνιστικό Κόμμα": 4,
}


def test_non_latin_tables_name_lualatex_and_compile_with_the_preamble(
    tmp_path: Path, fits: tuple[FitResult, FitResult]
) -> None:
    lualatex = shutil.which("lualatex")
    font = _cjk_font()
    kpsewhich = shutil.which("kpsewhich")

    def have(sty: str) -> bool:
        if kpsewhich is None:
            return False
        found = subprocess.run([kpsewhich, sty], capture_output=True, text=True)
        return bool(found.stdout.strip())

    if lualatex is None or font is None or not (have("fontspec.sty") and have("luaotfload.sty")):
        pytest.skip(
            "needs lualatex with fontspec/luaotfload and a CJK font "
            "(apt-get install texlive-luatex texlive-latex-recommended fonts-wqy-microhei "
            "fonts-dejavu-core)"
        )
    frame = pd.DataFrame({"contacts": list(NON_LATIN.values())}, index=list(NON_LATIN))
    tabs = [
        stats_table(frame, title="Партии и 政党", label="tab:non_latin", notes=["注: 模拟"]),
        table(list(fits), model_names=["ЕР", "民进党"], title="Модели"),
    ]
    preamble = UNICODE_PREAMBLE if font == "WenQuanYi Micro Hei" else unicode_preamble(font)
    for i, tab in enumerate(tabs):
        tex = tmp_path / f"non_latin_{i}.tex"
        text = tab.to_latex(tex)
        assert needs_unicode_engine(text)
        head = text.split(r"\begin{table}")[0]
        assert "lualatex" in head and all(line.startswith("%") for line in head.splitlines())
        for line in UNICODE_PREAMBLE.splitlines():
            assert f"%   {line}" in head
        compile_tex(tex, tmp_path, lualatex, preamble=preamble)


def test_latin_table_is_byte_identical_and_has_no_header(fits: tuple[FitResult, FitResult]):
    tab = table(list(fits), title="T", label="tab:t")
    assert tab.to_latex() == tab.to_latex()
    first, second = tab.to_latex().splitlines()[:2]
    assert first.startswith("% cpcstats table, placed portrait") and "lualatex" not in first
    assert second == r"\begin{table}[htbp]"


# --------------------------------------------------------------------------- Markdown, HTML
def test_markdown_neutralises_raw_html_links_and_line_breaks(
    fits: tuple[FitResult, FitResult],
) -> None:
    full, gaps = fits
    evil = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "&#60;script&#62;",
        "# heading",
        "row\nbreak | pipe",
    ]
    tab = table(
        [replace(full, name=evil[0]), replace(gaps, name=evil[1])],
        title=evil[2],
        notes=evil,
        coef_map={"x": evil[5], "z": evil[3]},
    )
    md = tab.to_markdown()
    assert not re.search(r"(?<!\\)[<>]", md), "raw HTML reached the Markdown"
    assert not re.search(r"(?<!\\)&#", md) and not re.search(r"(?<!\\)\[", md)
    assert "\n# heading" not in md and "\\# heading" in md
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") for line in rows)
    assert len({line.count("|") - line.count("\\|") for line in rows}) == 1
    html = tab.to_html()
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    frame = pd.DataFrame({"a": ["<b>x</b>\x07"]}, index=["<i>y</i>"])
    st = stats_table(frame, title="\x1b[31mred", label='x" onmouseover="alert(1)')
    md, html = st.to_markdown(), st.to_html()
    assert not re.search(r"(?<!\\)[<>]", md) and "\x07" not in md and "\x1b" not in md
    assert "<b>" not in html and "\x07" not in html and "\x1b" not in html
    assert 'onmouseover="' not in html and 'id="x--onmouseover--alert-1-"' in html


def test_clean_text_strips_controls_and_keeps_letters() -> None:
    assert clean_text("a\x00b\x07c\x1b\x7fd\x85e\u202ef\u200bg") == "abcd efg"
    assert clean_text("line\nnext\ttab") == "line next tab"
    assert clean_text("КПРФ 中国 Québec") == "КПРФ 中国 Québec"
    assert latex_escape("[x]") == "{[}x{]}"
    assert latex_escape("^^5c") == r"\textasciicircum{}\textasciicircum{}5c"


# --------------------------------------------------------------------------- missing rows
def test_table_notes_rows_dropped_for_missing_values(fits: tuple[FitResult, FitResult]) -> None:
    full, gaps = fits
    tab = table([full, gaps])
    texts = [n.text for n in tab.notes]
    assert "Model 2 (gaps): 3 rows dropped for missing values (X: 2, Z: 1)." in texts
    assert not any(t.startswith("Model 1 (full)") and "dropped" in t for t in texts)
    assert "3 rows dropped for missing values (X: 2, Z: 1)" in tab.to_latex()
    assert "3 rows dropped for missing values (X: 2, Z: 1)" in tab.to_html()
    assert gaps.nobs == full.nobs - 3
    assert not any("dropped" in n.text for n in table([full]).notes)
    one = table([replace(gaps, sample=replace(gaps.sample, dropped={"missing x": 1}, rows_in=78))])
    assert "Model 1 (gaps): 1 row dropped for missing values (X: 1)." in [n.text for n in one.notes]


def test_cli_table_from_a_hostile_file_name_is_escaped_and_compiles(
    pdflatex: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cpcstats.cli import main

    frame = _data()
    frame.loc[[1, 2], "z"] = np.nan
    csv = tmp_path / "panel.csv"
    frame.to_csv(csv, index=False)
    models = "".join(
        f'[[model]]\nname = "{n}"\nlevel = "country-year"\nfamily = "poisson"\n'
        f'formula = "y ~ x + z"\ntitle = "\\\\input{{/etc/passwd}}"\n\n'
        for n in ("m1", "m2")
    )
    spec = tmp_path / "a}\\input{evil}$%.toml"
    spec.write_text(models, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["fit", str(spec), "--data", str(csv), "--out", str(out)])
    assert code == 0, capsys.readouterr()
    (tex,) = out.glob("*.tex")
    latex = tex.read_text()
    assert r"\input" not in latex and r"\textbackslash{}input\{evil\}\$\%.toml" in latex
    assert "2 rows dropped for missing values (Z: 2)" in latex
    _evil_file(tmp_path)
    safe = tmp_path / "cli_table.tex"  # TeX cannot \input a file named like the spec
    safe.write_text(latex, encoding="utf-8")
    _, log = compile_tex(safe, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)
    assert not (tmp_path / "PWNED.txt").exists() and "(/etc/passwd" not in log
