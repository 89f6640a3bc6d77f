"""Regression and descriptive tables, checked against real statsmodels fits."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.discrete.count_model import ZeroInflatedPoisson

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.format import minus_sign
from cpcstats.reporting.tables import (
    SIMULATED_NOTE,
    RegressionTable,
    format_number,
    latex_escape,
    pretty_term,
    stats_table,
    table,
)
from cpcstats.reporting.tables.text import LATEX_PREAMBLE
from tests.conftest import compile_latex

# the wording cpcstats.estimation.vcov produces
CLUSTER_SE = "clustered by country (40 clusters; CR1: G/(G-1)·(n-1)/(n-k))"
FORMULA = "contacts ~ gdp_pc + noise + C(fh_status) + ruling + ruling:C(fh_status)"


def _simulate(n: int = 1200, seed: int = 20240601) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "country": rng.integers(0, 40, n),
            "gdp_pc": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "fh_status": rng.choice(["F", "PF", "NF"], n),
            "ruling": rng.integers(0, 2, n),
        }
    )
    mu = np.exp(0.3 + 0.5 * df.gdp_pc + 0.35 * (df.fh_status == "NF") + 0.2 * df.ruling)
    df["contacts"] = rng.negative_binomial(2, 2 / (2 + mu))
    return df


def _fit_result(res, name: str, family: str, *, drop=(), rename=None, **kw) -> FitResult:
    """A FitResult assembled by hand from a statsmodels result."""
    params = res.params.drop(list(drop))
    bse = res.bse.drop(list(drop))
    vcov = res.cov_params().drop(index=list(drop), columns=list(drop))
    if rename is not None:
        params, bse = params.rename(rename), bse.rename(rename)
        vcov = vcov.rename(index=rename, columns=rename)
    kw.setdefault("se_description", "conventional (model-based)")
    return FitResult(
        name=name,
        family=family,
        level="country-year",
        formula=FORMULA,
        params=params,
        std_errors=bse,
        vcov=vcov,
        nobs=int(res.nobs),
        loglik=float(res.llf),
        df_model=len(res.params),
        se_type="test",
        **kw,
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _simulate()


@pytest.fixture(scope="module")
def poisson(data: pd.DataFrame) -> FitResult:
    res = smf.glm(FORMULA, data, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": data["country"]}
    )
    return _fit_result(
        res,
        "Poisson",
        "Poisson",
        n_clusters=int(data["country"].nunique()),
        se_description=CLUSTER_SE,
    )


@pytest.fixture(scope="module")
def negbin(data: pd.DataFrame) -> FitResult:
    res = smf.negativebinomial(FORMULA, data).fit(disp=0, maxiter=200)
    return _fit_result(
        res,
        "NB main",
        "NB2",
        drop=["alpha"],
        alpha=float(res.params["alpha"]),
        alpha_se=float(res.bse["alpha"]),
        fixed_effects=["year"],
    )


@pytest.fixture(scope="module")
def zip_model(data: pd.DataFrame) -> FitResult:
    y, x = patsy.dmatrices("contacts ~ gdp_pc + ruling", data, return_type="dataframe")
    z = patsy.dmatrix("~ gdp_pc", data, return_type="dataframe")
    res = ZeroInflatedPoisson(y, x, exog_infl=z).fit(disp=0, maxiter=300)
    return _fit_result(res, "ZIP", "ZIP", rename=lambda s: s.replace("inflate_", "inflate:"))


def _expected_stars(p: float) -> str:
    return "*" * sum(p < t for t in (0.10, 0.05, 0.01))


# --------------------------------------------------------------------------- coefficients


def test_stars_follow_pvalues(poisson: FitResult, negbin: FitResult) -> None:
    tab = table([poisson, negbin])
    seen = set()
    for j, m in enumerate([poisson, negbin]):
        for term, p in m.pvalues.items():
            text = tab.find_row(term).cells[j].text()
            stars = re.sub(r"[^*]", "", text)
            assert stars == _expected_stars(p), (term, p, text)
            seen.add(stars)
    # the data make the check bite: strong effects and null effects are both present
    assert "***" in seen and "" in seen
    assert tab.find_row("gdp_pc").cells[0].text().endswith("***")


def test_se_row_is_parenthesised_std_error(poisson: FitResult) -> None:
    tab = table([poisson], digits=4)
    for term, se in poisson.std_errors.items():
        assert tab.find_row(term, "se").cells[0].text() == f"({se:.4f})"
        assert tab.find_row(term).cells[0].text().rstrip("*") == minus_sign(
            format_number(poisson.params[term], 4)
        )


def test_irr_mode_shows_exp_b_and_delta_method_se(negbin: FitResult) -> None:
    log_tab = table([negbin])
    tab = table([negbin], irr=True)
    for term in negbin.params.index:
        b, se = negbin.params[term], negbin.std_errors[term]
        est = tab.find_row(term).cells[0].text()
        assert est.rstrip("*") == f"{math.exp(b):.3f}"
        assert tab.find_row(term, "se").cells[0].text() == f"({math.exp(b) * se:.3f})"
        # stars still test b = 0, so they are the same as on the log scale
        assert re.sub(r"[^*]", "", est) == re.sub(
            r"[^*]", "", log_tab.find_row(term).cells[0].text()
        )
    notes = " ".join(n.text for n in tab.notes)
    assert "delta-method" in notes and "b = 0" in notes
    assert "delta-method" not in " ".join(n.text for n in log_tab.notes)


def test_terms_in_order_of_first_appearance_with_pretty_labels(
    zip_model: FitResult, poisson: FitResult
) -> None:
    tab = table([zip_model, poisson])
    labels = [r.label for r in tab.coef_blocks[0].rows if r.kind == "estimate"]
    assert labels[:3] == ["Constant", "Gdp pc", "Ruling party"]
    # then the Poisson model's new terms, in patsy's order
    assert labels[3:] == [
        "Not Free",
        "Partly Free",
        "Noise",
        "Ruling party × Not Free",
        "Ruling party × Partly Free",
    ]


@pytest.mark.parametrize(
    ("raw", "pretty"),
    [
        ("Intercept", "Constant"),
        ("C(fh_status)[T.NF]", "Not Free"),
        ("ruling:C(fh_status)[T.PF]", "Ruling party × Partly Free"),
        ("C(fh_status, Treatment(reference='F'))[T.NF]", "Not Free"),
        ("inflate:gdp_pc", "Gdp pc"),
        ("np.log(pop)", "log(Pop)"),
        ("region[T.Africa]", "Region: Africa"),
    ],
)
def test_pretty_term(raw: str, pretty: str) -> None:
    """Terms read from the packaged labels (issue 15: no raw names in tables)."""
    assert pretty_term(raw) == pretty


def test_coef_map_orders_relabels_and_drops(poisson: FitResult, negbin: FitResult) -> None:
    cmap = {"ruling": "Ruling party", "gdp_pc": "GDP per capita (log)", "Intercept": "Constant"}
    tab = table([poisson, negbin], coef_map=cmap)
    labels = [r.label for b in tab.coef_blocks for r in b.rows if r.kind == "estimate"]
    assert labels == ["Ruling party", "GDP per capita (log)", "Constant"]
    assert "noise" not in tab.to_markdown()


def test_coef_map_can_merge_differently_named_terms(poisson: FitResult) -> None:
    renamed = replace(
        poisson,
        params=poisson.params.rename({"gdp_pc": "gdp_per_capita"}),
        std_errors=poisson.std_errors.rename({"gdp_pc": "gdp_per_capita"}),
    )
    tab = table([poisson, renamed], coef_map={"gdp_pc": "GDP", "gdp_per_capita": "GDP"})
    (row,) = [r for r in tab.coef_blocks[0].rows if r.kind == "estimate"]
    assert row.cells[0].text() == row.cells[1].text() != ""


def test_prefixed_parts_get_their_own_block(zip_model: FitResult, poisson: FitResult) -> None:
    tab = table([poisson, zip_model])
    assert [b.title for b in tab.coef_blocks] == ["Count model", "Inflation (logit)"]
    inflate_terms = [r.term for r in tab.coef_blocks[1].rows if r.kind == "estimate"]
    assert inflate_terms == ["inflate:Intercept", "inflate:gdp_pc"]
    # the count-part constant and the inflation constant are separate rows
    assert (
        tab.find_row("Intercept").cells[1].text()
        != tab.find_row("inflate:Intercept").cells[1].text()
    )
    latex = tab.to_latex()
    assert re.search(
        r"\\midrule\n\\multicolumn\{3\}\{l\}\{\\textit\{Inflation \(logit\)\}\}", latex
    )

    hurdle = replace(
        zip_model,
        params=zip_model.params.rename(lambda s: s.replace("inflate:", "zero:")),
        std_errors=zip_model.std_errors.rename(lambda s: s.replace("inflate:", "zero:")),
    )
    assert table([hurdle]).coef_blocks[1].title == "Zero hurdle (logit)"
    # a single-part table has no block header at all
    assert table([poisson]).coef_blocks[0].title is None


# --------------------------------------------------------------------------- statistics and notes


def test_statistics_rows(poisson: FitResult, negbin: FitResult) -> None:
    tab = table([poisson, negbin])
    assert [c.text() for c in tab.stat_row("N").cells] == ["1,200", "1,200"]
    assert [c.text() for c in tab.stat_row("Clusters").cells] == ["40", "—"]
    # information criteria with one decimal and separators (per-statistic digits)
    # numbers print with a typographic minus in every format (as the design tables)
    assert tab.stat_row("Log-likelihood").cells[0].text() == minus_sign(f"{poisson.loglik:,.1f}")
    assert tab.stat_row("AIC").cells[1].text() == f"{negbin.aic:,.1f}"
    assert tab.stat_row("BIC").cells[1].text() == f"{negbin.bic:,.1f}"
    alpha = tab.stat_row("NB dispersion α")
    assert [c.text() for c in alpha.cells] == ["—", f"{negbin.alpha:.3f}"]
    alpha_se = tab.stats_block.rows[tab.stats_block.rows.index(alpha) + 1]
    assert alpha_se.cells[1].text() == f"({negbin.alpha_se:.3f})"
    # one Yes/No row per fixed effect, labelled (issue 15), not a text row of raw names
    assert [c.text() for c in tab.stat_row("Year").cells] == ["No", "Yes"]
    assert tab.fe_block is not None and tab.fe_block.title == "Fixed effects"
    assert "3{,}" not in tab.to_latex() and "1,200" in tab.to_latex()


def test_simulated_note_iff_a_model_is_simulated(poisson: FitResult, negbin: FitResult) -> None:
    real = table([poisson, negbin])
    for render in (real.to_latex, real.to_markdown, real.to_html):
        assert "SIMULATED" not in render()
    demo = table([poisson, replace(negbin, simulated=True)])
    assert demo.notes[0].text == SIMULATED_NOTE and demo.notes[0].strong
    assert r"\textbf{SIMULATED DATA" in demo.to_latex()
    assert "**SIMULATED DATA" in demo.to_markdown()
    assert "<strong>SIMULATED DATA" in demo.to_html()


def test_failed_and_warned_models_are_flagged(poisson: FitResult, negbin: FitResult) -> None:
    """A flagged fit (not converged, or a problem) is marked, has no SEs or stars, and one
    note; a warning that leaves the fit usable goes to the details, not under the table."""
    bad = replace(negbin, converged=False, problems=["singular Hessian"])
    warned = replace(poisson, warnings=["3 singleton clusters dropped"])
    tab = table([poisson, bad, warned])
    texts = [n.text for n in tab.notes]
    flag_notes = [t for t in texts if t.startswith("†")]
    assert flag_notes == [
        "† (2) Not a result: the optimiser did not converge; singular Hessian; "
        "no standard errors shown."
    ]
    assert all(n.strong for n in tab.notes if n.text.startswith("†"))
    assert tab.model_names == ("Poisson", "NB main †", "Poisson")
    se_row = tab.find_row("gdp_pc", "se")
    assert [c.text() for c in se_row.cells] == [
        f"({poisson.std_errors['gdp_pc']:.3f})",
        "—",
        f"({poisson.std_errors['gdp_pc']:.3f})",
    ]
    assert tab.find_row("gdp_pc").cells[1].stars == ""
    assert "singleton" not in " ".join(texts)
    assert "(3) Poisson (Poisson): 3 singleton clusters dropped." in tab.details
    assert "Not a result" in tab.to_markdown() and "Not a result" in tab.to_html()
    alpha_se = tab.stats_block.rows[tab.stats_block.rows.index(tab.stat_row("NB dispersion α")) + 1]
    assert alpha_se.cells[1].text() == "" and alpha_se.cells[1].is_empty
    assert all(n.strong is False for n in table([poisson]).notes)


def test_se_and_star_notes(poisson: FitResult, negbin: FitResult) -> None:
    single = table([poisson])
    assert [n.text for n in single.notes] == [
        f"Coefficients on the log scale. Standard errors in parentheses: {CLUSTER_SE}. "
        "* p<0.10, ** p<0.05, *** p<0.01."
    ]
    one = table([poisson, poisson])  # several models: the Clusters row has the counts
    texts = [n.text for n in one.notes]
    assert texts == [
        "Coefficients on the log scale. Standard errors in parentheses: clustered by "
        "country (CR1: G/(G-1)·(n-1)/(n-k)). * p<0.10, ** p<0.05, *** p<0.01."
    ]
    two = table([poisson, negbin], notes=["Source: ID-CPC."])
    texts = [n.text for n in two.notes]
    assert texts[0] == "Source: ID-CPC."
    assert "of the kind in the Std. errors row" in texts[1]
    assert any(CLUSTER_SE in d and d.startswith("(1)") for d in two.details)
    assert any("conventional (model-based)" in d and d.startswith("(2)") for d in two.details)
    custom = table([poisson], stars=(0.05,))
    assert "* p<0.05." in custom.notes[-1].text
    with pytest.raises(ValueError):
        table([poisson], stars=(5,))
    with pytest.raises(ValueError):
        table([poisson], model_names=["a", "b"])


# --------------------------------------------------------------------------- renderers


def test_latex_escapes_labels_and_notes(poisson: FitResult) -> None:
    weird = replace(poisson, name="model_1 & 50% #2")
    raw_names = {
        "variables": {"gdp_pc": "gdp_pc"},
        "levels": {"fh_status": {"NF": "fh_status = NF"}},
    }
    tab = table(
        [weird],
        labels=raw_names,
        titles=[weird.name],
        notes=["x_y {z} ~ ^ $ \\"],
        title="Contacts_by regime",
        label="tab:main_results",
    )
    latex = tab.to_latex()
    assert r"gdp\_pc" in latex and r"fh\_status = NF" in latex
    assert r"model\_1 \&" in latex and r"50\% \#2" in latex
    assert r"x\_y \{z\} \textasciitilde{} \textasciicircum{} \$ \textbackslash{}" in latex
    assert r"Ruling party $\times$ fh\_status" in latex
    assert r"\caption{Contacts\_by regime}" in latex and r"\label{tab:main_results}" in latex
    body = latex.replace(r"\label{tab:main_results}", "")
    body = "\n".join(line for line in body.splitlines() if not line.startswith("%"))
    assert not re.search(r"(?<!\\)_", body), "unescaped underscore"
    assert latex_escape("α") == r"$\alpha$"
    assert re.search(r"\$-\$\d", table([poisson]).to_latex())  # a real minus sign


def test_latex_structure(poisson: FitResult, negbin: FitResult) -> None:
    latex = table([poisson, negbin]).to_latex()
    assert r"\begin{tabular}{lcc}" in latex
    assert latex.index(r"\toprule") < latex.index(r"\midrule") < latex.index(r"\bottomrule")
    assert r"\begin{table}" in latex and r"\caption" not in latex
    assert r"NB dispersion $\alpha$" in latex
    used = set(re.findall(r"\\usepackage", latex))
    assert not used


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d[\d,]*\.\d+|\d[\d,]*", text)


def test_markdown_html_and_latex_show_the_same_numbers(
    poisson: FitResult, negbin: FitResult, zip_model: FitResult
) -> None:
    tab = table([poisson, negbin, zip_model], irr=True)
    latex = tab.to_latex()
    latex_body = latex[latex.index(r"\midrule") : latex.index(r"\bottomrule")]
    latex_body = re.sub(r"\\multicolumn\{\d+\}\{l\}", "", latex_body)
    md_rows = [line for line in tab.to_markdown().splitlines() if line.startswith("|")]
    md_body = "\n".join(md_rows[3:])  # header, alignment and family rows
    html = tab.to_html()
    html_body = html[html.index("</thead>") : html.index("<tfoot>")]
    html_body = re.sub(r'colspan="\d+"', "", html_body)
    expected = _numbers(" ".join(" ".join(r) for r in tab.to_frame().to_numpy().tolist()))
    assert len(expected) > 40
    assert _numbers(latex_body) == expected
    assert _numbers(md_body) == expected
    assert _numbers(html_body) == expected
    # the minus sign is typeset differently but the values agree
    assert "$-$" not in md_body and "-" in md_body.replace("|:---", "")


def test_to_frame_is_the_display_grid(poisson: FitResult, negbin: FitResult) -> None:
    frame = table([poisson, negbin]).to_frame()
    assert list(frame.columns) == [("Poisson", "(1)"), ("NB main", "(2)")]
    assert frame.loc["Gdp pc"].iloc[0].endswith("***")
    assert frame.map(lambda v: isinstance(v, str)).all().all()


def test_output_is_deterministic(poisson: FitResult, negbin: FitResult, zip_model: FitResult):
    def render() -> tuple[str, str, str]:
        tab = table([poisson, negbin, zip_model], title="T", label="tab:t")
        return tab.to_latex(), tab.to_markdown(), tab.to_html()

    assert render() == render()


def test_atomic_write(poisson: FitResult, tmp_path: Path) -> None:
    target = tmp_path / "out" / "table.tex"
    target.parent.mkdir()
    target.write_text("old content")
    tab = table([poisson])
    text = tab.to_latex(target)
    assert target.read_bytes() == text.encode("utf-8")
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.tex"]
    tab.to_markdown(tmp_path / "out" / "table.md")
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.md", "table.tex"]


def test_format_number() -> None:
    assert format_number(-0.0001, 3) == "0.000"
    assert format_number(3658) == "3658"
    assert format_number(3658, thousands=True) == "3,658"
    assert format_number(float("nan")) == "NA"
    assert format_number(-1.23456, 2) == "-1.23"


# --------------------------------------------------------------------------- descriptive tables


def test_stats_table_shares_the_renderers() -> None:
    frame = pd.DataFrame(
        {"share_ruling": [0.61234, 0.25], "contacts": [3658, 12]},
        index=pd.Index(["Free_countries", "Not free"], name="FH status"),
    )
    st = stats_table(frame, title="Shares", label="tab:shares", notes=["n_obs"], digits=2)
    assert r"Free\_countries & 0.61 & 3,658 \\" in st.to_latex()
    assert "| Free\\_countries | 0.61 | 3,658 |" in st.to_markdown()
    assert "<td>Not free</td>" in st.to_html()
    assert list(st.to_frame().columns) == ["share_ruling", "contacts"]
    assert "SIMULATED" not in st.to_markdown()
    assert "SIMULATED" in stats_table(frame, simulated=True).to_markdown()


# --------------------------------------------------------------------------- compile


def test_latex_compiles_with_pdflatex(
    pdflatex: str, tmp_path: Path, poisson: FitResult, negbin: FitResult, zip_model: FitResult
) -> None:
    bad = replace(
        zip_model, converged=False, warnings=["x_1 & 50% #"], simulated=True, name="ZIP_1"
    )
    tab = table(
        [poisson, negbin, bad],
        irr=True,
        title="IRRs & contacts_by {regime}",
        label="tab:irr_main",
        notes=["Source: ID-CPC ~ 2002--2017; $ ^ \\ < >"],
    )
    assert isinstance(tab, RegressionTable)
    tab.to_latex(tmp_path / "table.tex")
    frame = pd.DataFrame({"share_x": [0.5, -0.25]}, index=["a_b", "c"])
    stats_table(frame, title="Shares_1", simulated=True).to_latex(tmp_path / "shares.tex")
    for name in ("table.tex", "shares.tex"):
        pdf = compile_latex(tmp_path / name, tmp_path, pdflatex, preamble=LATEX_PREAMBLE)
        assert pdf.stat().st_size > 0
