"""The renderers on hand-built layouts: spanning headers in every format, the page-fit rule
(portrait, landscape, resized, long), decimal alignment, minus signs, the preamble comment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cpcstats.reporting.tables.layout import Block, Cell, HeaderCell, Layout, Note, Row
from cpcstats.reporting.tables.page_fit import (
    TEXT_WIDTH_PT,
    choose_placement,
    text_width,
    wrap_header,
)
from cpcstats.reporting.tables.render import render
from cpcstats.reporting.tables.render_frame import render_frame
from cpcstats.reporting.tables.text import LATEX_PACKAGES, LATEX_PREAMBLE
from cpcstats.reporting.write import DEFAULT_FORMATS, write_table


def _grid(ncol: int, nrow: int, *, header: str = "Model", value: float = -1.2345, **kw) -> Layout:
    """A table of ``ncol`` model columns and ``nrow`` estimate rows, with two notes."""
    head = (("", *(f"{header} {j}" for j in range(1, ncol + 1))),)
    rows = tuple(
        Row(f"Variable {i}", tuple(Cell(value * (j + 1), stars="**") for j in range(ncol)))
        for i in range(nrow)
    )
    notes = (Note("SIMULATED DATA", strong=True), Note("Standard errors in parentheses."))
    return Layout(head, (Block(rows),), notes, "A table", "tab:grid", **kw)


def _spanned() -> Layout:
    head = (
        ("", HeaderCell("Negative binomial", 2), HeaderCell("Poisson", 2)),
        ("", "(1)", "(2)", "(3)", "(4)"),
    )
    rows = (
        Row("Ruling party", (Cell(1.053, stars="***"), Cell(-0.5), Cell(0.99), Cell(None))),
        Row("", (Cell(0.25, paren=True), Cell(0.1, paren=True), Cell(0.31, paren=True), Cell())),
        Row("N", tuple(Cell(18776, thousands=True) for _ in range(4))),
    )
    return Layout(head, (Block(rows),), (Note("A note."),), "Spans", "tab:spans")


# --------------------------------------------------------------------------- layout checks


def test_header_spans_are_validated() -> None:
    with pytest.raises(ValueError, match="span"):
        HeaderCell("x", 0)
    rows = (Block((Row("a", (Cell(1), Cell(2))),)),)
    with pytest.raises(ValueError, match="add up"):
        Layout((("", HeaderCell("both", 3)),), rows, (), None, None)
    with pytest.raises(ValueError, match="same number"):
        Layout((("", "a", "b"), ("", "a")), rows, (), None, None)
    with pytest.raises(ValueError, match="placement"):
        Layout((("", "a", "b"),), rows, (), None, None, placement="sideways")
    assert Layout((("", HeaderCell("both", 2)),), rows, (), None, None).ncol == 3


# --------------------------------------------------------------------------- the rule


def test_width_estimate_follows_computer_modern() -> None:
    assert text_width("0123456789") == pytest.approx(50.0)
    assert text_width("W") > 2 * text_width("i")
    assert text_width(r"\textbf{ab}", raw_latex=True) == pytest.approx(text_width("ab"))


def test_two_columns_stay_portrait_and_twelve_go_landscape_or_resized() -> None:
    small = choose_placement(_grid(2, 10))
    assert small.kind == "portrait" and not small.landscape
    assert small.width_pt < TEXT_WIDTH_PT
    wide = choose_placement(_grid(12, 10, header="Negative binomial"))
    assert wide.width_pt > TEXT_WIDTH_PT
    assert wide.kind in ("landscape", "resize") and wide.landscape
    latex = render(_grid(12, 10, header="Negative binomial"), "tex")
    assert r"\begin{landscape}" in latex
    huge = render(_grid(30, 5, header="A long model name"), "tex")
    assert r"\resizebox{\linewidth}{!}{%" in huge and "placed resize" in huge


def test_eighty_rows_become_a_longtable_with_the_header_repeated() -> None:
    place = choose_placement(_grid(3, 80))
    assert place.kind == "long"
    latex = render(_grid(3, 80), "tex")
    assert r"\begin{longtable}" in latex and r"\begin{table}" not in latex
    assert latex.count("Model 1 & Model 2 & Model 3") == 2  # first head and repeated head
    assert latex.index(r"\endhead") < latex.index("Variable 0 &")
    # notes as wide as the table, after the last row only
    assert (
        latex.index(r"\begin{TableNotes}")
        < latex.index("SIMULATED DATA")
        < latex.index(r"\begin{longtable}")
    )
    assert (
        latex.index(r"\endfoot") < latex.index(r"\insertTableNotes") < latex.index(r"\endlastfoot")
    )
    assert choose_placement(_grid(3, 20)).kind == "portrait"


def test_placement_can_be_forced() -> None:
    assert choose_placement(_grid(2, 5, placement="landscape")).kind == "landscape"
    assert choose_placement(_grid(2, 5, placement="long")).kind == "long"
    assert r"\resizebox" in render(_grid(2, 5, placement="resize"), "tex")
    assert r"\begin{landscape}" not in render(_grid(12, 5, placement="portrait"), "tex")


def test_long_headers_are_wrapped_not_widening_their_column() -> None:
    assert wrap_header("Community of shared future", 70.0) == ("Community of", "shared future")
    assert wrap_header("Tibet", 10.0) == ("Tibet",)
    rows = (Block((Row("2002", (Cell(1), Cell(2))),)),)
    layout = Layout((("Year", "Community of shared future", "Tibet"),), rows, (), None, None)
    latex = render(layout, "tex")
    assert r"\begin{tabular}[b]{@{}c@{}}Community of \\ shared future\end{tabular}" in latex


def _sentences(nrow: int) -> Layout:
    """Numbers beside a column of long sentences (a diagnostics or matching report)."""
    sentence = "the model is not ranked because its information matrix is singular; " * 3
    rows = tuple(Row(f"Test {i}", (Cell(1.5 * i), Cell(sentence.strip()))) for i in range(nrow))
    return Layout((("Test", "Value", "Interpretation"),), (Block(rows),), (), "Text", None)


def test_long_text_columns_are_wrapped_instead_of_resized() -> None:
    place = choose_placement(_sentences(8))
    assert place.kind in ("portrait", "landscape") and [j for j, _ in place.wrap] == [2]
    latex = render(_sentences(8), "tex")
    assert r"\resizebox" not in latex
    assert latex.count(r"\parbox[t]") == 8  # one paragraph per row of the text column
    assert r"\parbox" not in latex.split("Interpretation")[0]  # the numbers are not wrapped
    assert choose_placement(_sentences(60)).kind == "long"


def test_the_stub_wraps_only_without_standard_error_rows() -> None:
    label = "Share of party contacts with governing parties in authoritarian contexts " * 2
    rows = [Row(label, (Cell(0.5), Cell(0.25))), Row("", (Cell(0.1, paren=True),) * 2, kind="se")]
    table = Layout((("", "(1)", "(2)"),), (Block(tuple(rows * 3)),), (), None, None)
    assert 0 not in dict(choose_placement(table).wrap)
    text = Layout(**{**table.__dict__, "blocks": (Block(tuple(rows[:1] * 3)),)})
    assert 0 in dict(choose_placement(text).wrap)
    latex = render(text, "tex")
    assert r"\parbox[t]" in latex and r"\raggedright\strut Share" in latex


# --------------------------------------------------------------------------- LaTeX content


def test_spans_render_multicolumn_with_their_widths_and_cmidrules() -> None:
    latex = render(_spanned(), "tex")
    assert r"\multicolumn{2}{c}{Negative binomial} & \multicolumn{2}{c}{Poisson} \\" in latex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in latex
    assert r"\begin{tabular}{lcccc}" in latex
    assert "(1) & (2) & (3) & (4)" in latex


def test_notes_are_set_to_the_table_width_and_minus_signs_are_real() -> None:
    latex = render(_spanned(), "tex")
    assert latex.index(r"\begin{threeparttable}") < latex.index(r"\begin{tabular}")
    assert r"\begin{tablenotes}[flushleft]" in latex and r"\item A note." in latex
    assert r"$-$0.500" in latex
    text_cell = Layout(
        (("", "a"),), (Block((Row("e = -1", (Cell("-0.25 [-1.0, 0.5]"),)),)),), (), None, None
    )
    body = render(text_cell, "tex")
    assert r"e = $-$1 & $-$0.25 {[}$-$1.0, 0.5{]}" in body
    assert "2002-2017" in render(
        Layout((("", "a"),), (Block((Row("2002-2017", (Cell(1),)),)),), (), None, None), "tex"
    )


def test_every_tex_names_its_preamble_and_is_byte_identical() -> None:
    latex = render(_spanned(), "tex")
    first = latex.splitlines()[0]
    assert first.startswith("%") and all(name in first for name in LATEX_PACKAGES)
    assert r"\usepackage" not in latex  # the table loads nothing itself
    assert render(_spanned(), "tex") == latex


def test_decimal_align_uses_siunitx_columns() -> None:
    layout = Layout(**{**_spanned().__dict__, "decimal_align": True})
    latex = render(layout, "tex")
    specs = re.findall(r"S\[table-format=([-\d.]+)", latex)
    # sign, integer and decimal digits per column (the N row has five integer digits)
    assert specs == ["5.3", "-5.3", "5.3", "5"]
    assert "1.053{***}" in latex and "{(}0.250{)}" in latex
    assert r"\multicolumn{1}{c}{(1)}" in latex  # headers are not parsed as numbers
    assert "group-separator={,}" in latex


def test_raw_latex_labels_are_not_escaped() -> None:
    rows = (Block((Row(r"$\beta_1$", (Cell(r"\textit{yes}"),)),)),)
    notes = (Note("50% & more"),)
    raw = Layout(((r"\textbf{Term}", "a"),), rows, notes, None, None, raw_latex=True)
    latex = render(raw, "tex")
    assert r"$\beta_1$ & \textit{yes}" in latex and r"\textbf{Term}" in latex
    assert r"50\% \& more" in latex  # notes are always escaped
    escaped = render(Layout(**{**raw.__dict__, "raw_latex": False}), "tex")
    assert r"\$\textbackslash{}beta\_1\$" in escaped


def _compile(text: str, tmp_path: Path, pdflatex: str, name: str) -> str:
    tex = tmp_path / f"{name}.tex"
    tex.write_text(text)
    doc = tmp_path / f"{name}_doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage[a4paper,margin=2.5cm]{geometry}\n"
        + LATEX_PREAMBLE
        + f"\\begin{{document}}\n\\input{{{tex.name}}}\n\\end{{document}}\n"
    )
    for _ in range(3):  # longtable settles its column widths through the .aux file
        proc = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout[-2000:]
        log = doc.with_suffix(".log").read_text(errors="replace")
        if "Rerun LaTeX" not in log and "Table widths have changed" not in log:
            break
    return log


@pytest.mark.parametrize(
    "name, layout",
    [
        ("spans_decimal", Layout(**{**_spanned().__dict__, "decimal_align": True})),
        ("wide", _grid(12, 10, header="Negative binomial")),
        ("huge", _grid(30, 5, header="A long model name")),
        ("long", _grid(4, 80)),
        ("long_wide", _grid(9, 80, header="Negative binomial")),
        ("sentences", _sentences(8)),
        ("sentences_long", _sentences(60)),
    ],
)
def test_rule_output_compiles_within_the_page(
    name: str, layout: Layout, tmp_path: Path, pdflatex: str
) -> None:
    log = _compile(render(layout, "tex"), tmp_path, pdflatex, name)
    widths = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide", log)]
    assert max(widths, default=0.0) <= 1.0, f"{name}: {max(widths)} pt too wide"
    assert "Float too large" not in log


# --------------------------------------------------------------------------- other formats


def test_markdown_repeats_a_span_over_its_columns() -> None:
    md = render(_spanned(), "md")
    assert "|  | Negative binomial | Negative binomial | Poisson | Poisson |" in md
    assert "|  | (1) | (2) | (3) | (4) |" in md


def test_html_uses_colspan_and_notes_in_tfoot() -> None:
    html = render(_spanned(), "html")
    assert '<th colspan="2" style="text-align:center">Negative binomial</th>' in html
    assert html.index("<tfoot>") < html.index("A note.") < html.index("</tfoot>")
    evil = Layout(
        (("", HeaderCell("<b>x</b> & y", 1)),),
        (Block((Row("<script>", (Cell("a<b"),)),)),),
        (),
        "</table>",
        None,
    )
    out = render(evil, "html")
    assert "<script>" not in out and "&lt;script&gt;" in out and "<b>" not in out
    assert out.count("</table>") == 1


def test_frame_has_a_multiindex_for_spans() -> None:
    frame = render_frame(_spanned())
    assert list(frame.columns.get_level_values(0)) == ["Negative binomial"] * 2 + ["Poisson"] * 2
    assert list(frame["Poisson"].columns) == ["(3)", "(4)"]
    assert frame.loc["N"].tolist() == ["18,776"] * 4


def test_tables_are_written_as_html_too(tmp_path: Path) -> None:
    class _T:
        def layout(self) -> Layout:
            return _spanned()

    assert DEFAULT_FORMATS == ("tex", "md", "html")
    paths = write_table(_T(), tmp_path, "spans")
    assert [p.name for p in paths] == ["spans.tex", "spans.md", "spans.html"]
    assert paths[2].read_text().startswith('<table class="cpcstats-table" id="tab:spans">')
