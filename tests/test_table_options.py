"""The options of the table of many models (issue 15): numbering, titles and spans,
dependent-variable / estimator / fixed-effect rows, keep/drop/order, coef_map, add_rows,
the gof map, digits, stars, what the brackets show, flagged fits; and the same options
read from a ``[[table]]`` of replication.toml, with errors naming the file and key."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.reporting.format import minus_sign
from cpcstats.reporting.tables import table
from cpcstats.reporting.tables.layout import HeaderCell
from cpcstats.reporting.tables.notes import notes_file_text, write_notes_file
from tests.conftest import compile_latex

FORMULA = "contacts ~ ruling * C(fh_status) + left_roots"


@pytest.fixture(scope="module")
def fits(demo_party_year):  # type: ignore[no-untyped-def]
    pois = cpcstats.fit(FORMULA, demo_party_year, family="poisson", cluster="iso3")
    nb2 = cpcstats.fit(FORMULA, demo_party_year, family="negbin", cluster="iso3")
    fe = cpcstats.fit(
        "contacts ~ ruling * C(fh_status) | year", demo_party_year, family="fe-poisson"
    )
    return pois, nb2, fe


def _estimate_labels(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.label for b in tab.coef_blocks for r in b.rows if r.kind == "estimate"]


def test_columns_are_numbered_and_titled_with_info_and_fe_rows(fits) -> None:
    tab = table(list(fits), titles=["A", "B", "C"])
    header = tab.layout().header_rows
    assert header[-1] == ("", "(1)", "(2)", "(3)")
    assert header[0] == ("", "A", "B", "C")
    assert [c.text() for c in tab.stat_row("Dependent variable").cells] == ["Contacts"] * 3
    assert [c.text() for c in tab.stat_row("Estimator").cells] == ["Poisson", "NB2", "FE Poisson"]
    assert [c.text() for c in tab.stat_row("Year").cells] == ["No", "No", "Yes"]
    md = tab.to_markdown()
    assert "| (1) | (2) | (3) |" in md and "Ruling party × Not Free" in md
    no_titles = table(list(fits), titles=False, numbered=True)
    assert no_titles.layout().header_rows == (("", "(1)", "(2)", "(3)"),)


def test_spans_become_a_header_row_of_spanning_cells(fits) -> None:
    tab = table(list(fits), spans=[("Pooled", 2), ("Fixed effects", 1)])
    first = tab.layout().header_rows[0]
    assert first == ("", HeaderCell("Pooled", 2), HeaderCell("Fixed effects", 1))
    with pytest.raises(ValueError, match="cover 2 columns"):
        table(list(fits), spans=[("Pooled", 2)])


def test_keep_drop_and_order_by_pattern(fits) -> None:
    pois, nb2, _ = fits
    kept = table([pois, nb2], keep=["^ruling"])
    assert _estimate_labels(kept) == [
        "Ruling party",
        "Ruling party × Not Free",
        "Ruling party × Partly Free",
    ]
    by_label = table([pois, nb2], keep="Not Free")  # patterns also search the labels
    assert _estimate_labels(by_label) == ["Not Free", "Ruling party × Not Free"]
    dropped = table([pois, nb2], drop=["Intercept", "fh_status"])
    assert _estimate_labels(dropped) == ["Ruling party", "Leftist roots"]
    ordered = table([pois, nb2], order=["left_roots", "^ruling$"])
    assert _estimate_labels(ordered)[:2] == ["Leftist roots", "Ruling party"]
    assert len(_estimate_labels(ordered)) == len(_estimate_labels(table([pois, nb2])))
    for option in ("keep", "drop", "order"):
        with pytest.raises(ValueError, match="matches no term"):
            table([pois], **{option: "no_such_term"})
    with pytest.raises(SpecError):
        table([pois], keep="(a)\\1")  # a back-reference: RE2 refuses it, nothing runs


def test_coef_map_unknown_key_is_an_error_and_known_keys_relabel(fits) -> None:
    pois, nb2, _ = fits
    tab = table([pois, nb2], coef_map={"ruling": "Governing", "left_roots": "Left"})
    assert _estimate_labels(tab) == ["Governing", "Left"]
    with pytest.raises(ValueError, match="'rulling'"):
        table([pois, nb2], coef_map={"rulling": "typo"})


def test_add_rows_sit_above_the_statistics(fits) -> None:
    pois, nb2, _ = fits
    tab = table([pois, nb2], add_rows={"Controls": ["Yes", "No"]})
    assert [c.text() for c in tab.stat_row("Controls").cells] == ["Yes", "No"]
    blocks = tab.layout().blocks
    assert blocks.index(tab.added_block) == len(blocks) - 2
    with pytest.raises(ValueError, match="1 values for 2 models"):
        table([pois, nb2], add_rows=[("Controls", ["Yes"])])


def test_gof_map_selects_orders_relabels_and_sets_digits(fits) -> None:
    pois, nb2, _ = fits
    tab = table([pois, nb2], gof={"aic": {"label": "Akaike", "digits": 0}, "nobs": "Obs."})
    labels = [r.label for r in tab.stats_block.rows]
    assert labels == ["Akaike", "Obs."]
    assert tab.stat_row("Akaike").cells[0].text() == f"{pois.aic:,.0f}"
    assert [r.label for r in table([pois, nb2], gof=["alpha", "nobs"]).stats_block.rows] == [
        "NB dispersion α",
        "",
        "N",
    ]
    with pytest.raises(ValueError, match="unknown fit statistic 'r2'"):
        table([pois], gof=["r2"])


def test_pseudo_r2_is_mcfadden_when_ll0_is_known(fits) -> None:
    pois, nb2, _ = fits
    no_ll0 = replace(nb2, extra={**nb2.extra, "loglik_null": None})
    with_ll0 = replace(pois, extra={**pois.extra, "loglik_null": 2 * pois.loglik})
    tab = table([with_ll0, no_ll0])
    row = tab.stat_row("Pseudo-R² (McFadden)")
    assert row.cells[0].text() == f"{0.5:.3f}" and row.cells[1].text() == "—"
    bare = replace(pois, extra={**pois.extra, "loglik_null": None})
    assert "Pseudo" not in table([bare, no_ll0]).to_markdown()
    # fits carry their own null log-likelihood: the row shows 1 - ll/ll0 of each
    both = table([pois, nb2]).stat_row("Pseudo-R² (McFadden)")
    for cell, m in zip(both.cells, (pois, nb2), strict=True):
        assert cell.text() == f"{1 - m.loglik / m.extra['loglik_null']:.3f}"


def test_digits_stars_off_and_the_bracketed_statistic(fits) -> None:
    pois = fits[0]
    b, se = pois.params["ruling"], pois.std_errors["ruling"]
    one = table([pois], digits=2, stars=False)
    assert one.find_row("ruling").cells[0].text() == f"{b:.2f}"
    assert one.find_row("ruling", "se").cells[0].text() == f"({se:.2f})"
    assert "p<" not in " ".join(n.text for n in one.notes)
    ci = table([pois], statistic="ci")
    lo, hi = pois.conf_int(0.95).loc["ruling", ["lower", "upper"]]
    assert ci.find_row("ruling", "se").cells[0].text() == f"[{lo:.3f}, {hi:.3f}]"
    assert "95% confidence intervals in brackets" in ci.notes[-1].text
    assert r"$-$" in table([pois], statistic="ci", keep="Intercept").to_latex()
    t = table([pois], statistic="t").find_row("ruling", "se").cells[0].text()
    assert t == f"({b / se:.2f})"
    irr_ci = table([pois], statistic="ci", irr=True).find_row("ruling", "se").cells[0].text()
    assert irr_ci == f"[{math.exp(lo):.3f}, {math.exp(hi):.3f}]"
    with pytest.raises(ValueError, match="statistic must be one of"):
        table([pois], statistic="sd")


def test_flagged_fit_shows_no_standard_errors_and_one_note(fits) -> None:
    pois, nb2, _ = fits
    bad = replace(nb2, problems=["singular Hessian: standard errors are not defined"])
    tab = table([pois, bad])
    assert tab.layout().header_rows[0][2].endswith("†")
    assert tab.find_row("ruling", "se").cells[1].text() == "—"
    assert tab.find_row("ruling").cells[1].stars == ""
    flag = [n for n in tab.notes if n.text.startswith("†")]
    assert [n.text for n in flag] == [
        "† (2) Not a result: singular Hessian; no standard errors shown."
    ]
    assert any("standard errors are not defined" in d for d in tab.details)
    assert len(tab.notes) <= 4


def test_notes_file_only_with_details_and_byte_stable(tmp_path: Path) -> None:
    assert write_notes_file((), tmp_path, "t", "Notes") is None
    assert not (tmp_path / "tables").exists()
    path = write_notes_file(("a", "b"), tmp_path, "t", "Notes to T")
    assert path == tmp_path / "tables" / "t.notes.md"
    assert path.read_bytes() == b"# Notes to T\n\n- a\n- b\n"
    assert notes_file_text(["a", "b"], "Notes to T") == path.read_text()


# --------------------------------------------------------------------------- replication.toml


def _config(tmp_path: Path, table_keys: str) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    path = tmp_path / "replication.toml"
    path.write_text(
        'models = "models"\n[[table]]\nname = "t"\nmodels = ["a", "b"]\n' + table_keys,
        encoding="utf-8",
    )
    return path


def test_table_options_are_read_from_the_configuration(tmp_path: Path) -> None:
    from cpcstats.replicate.config import load_replication_config

    keys = (
        'titles = ["First", "Second"]\nspans = [["Both", 2]]\nkeep = ["ruling"]\n'
        'statistic = "ci"\nstars = false\ndigits = 2\ngof = ["nobs", "aic"]\n'
        '[table.coef_map]\nruling = "Ruling"\n[table.labels.variables]\nruling = "Gov"\n'
    )
    cfg = load_replication_config(_config(tmp_path, keys))
    spec = cfg.tables[0]
    assert spec.options == {
        "titles": ["First", "Second"],
        "spans": [("Both", 2)],
        "keep": ["ruling"],
        "statistic": "ci",
        "stars": (),
        "digits": 2,
        "gof": ["nobs", "aic"],
        "coef_map": {"ruling": "Ruling"},
    }
    assert spec.labels == {"variables": {"ruling": "Gov"}}
    assert cfg.labels.name == "labels.toml"  # the packaged labels: none beside the file


@pytest.mark.parametrize(
    ("keys", "column"),
    [
        ('titles = ["only one"]\n', "titles"),
        ('spans = [["x", 3]]\n', "spans"),
        ('keep = ["(a)\\\\1"]\n', "keep"),
        ('gof = ["nobs", "r2"]\n', "gof"),
        ('statistic = "sd"\n', "statistic"),
        ("stars = [5]\n", "stars"),
        ("digits = -1\n", "digits"),
        ("[table.coef_map]\nruling = 1\n", "coef_map"),
        ("[table.labels]\nvaribles = {}\n", "varibles"),
        ('labels = "missing.toml"\n', None),
        ("spam = 1\n", "spam"),
    ],
)
def test_bad_table_options_name_the_file_and_key(
    tmp_path: Path, keys: str, column: str | None
) -> None:
    from cpcstats.replicate.config import load_replication_config

    path = _config(tmp_path, keys)
    with pytest.raises(SpecError) as err:
        load_replication_config(path)
    assert err.value.fix
    if column is not None:
        assert err.value.column == column
        assert err.value.file == str(path.resolve())


def test_labels_beside_the_configuration_are_the_run_labels(tmp_path: Path) -> None:
    from cpcstats.replicate.config import load_replication_config
    from cpcstats.replicate.writers import run_labels

    path = _config(tmp_path, "")
    (tmp_path / "labels.toml").write_text('[models]\na = "Model A"\n', encoding="utf-8")
    cfg = load_replication_config(path)
    assert cfg.labels == (tmp_path / "labels.toml").resolve()
    assert run_labels(cfg).model("a") == "Model A"


def test_dropping_a_whole_model_part_says_so(fits) -> None:
    pois = fits[0]
    extra = {"inflate:ruling": 0.5}
    params = pois.params.copy()
    ses = pois.std_errors.copy()
    for term, value in extra.items():
        params[term], ses[term] = value, 0.1
    zip_like = replace(pois, params=params, std_errors=ses)
    full = table([zip_like])
    assert [b.title for b in full.coef_blocks] == ["Count model", "Inflation (logit)"]
    assert not any("Not shown" in n.text for n in full.notes)
    counts = table([zip_like], drop="^inflate:")
    assert [b.title for b in counts.coef_blocks] == [None]
    assert "Not shown: the inflation equation." in [n.text for n in counts.notes]


def test_fits_named_by_their_formula_get_numbers_not_formula_titles(fits) -> None:
    pois, nb2, _ = fits
    assert "~" in pois.name  # cpcstats.fit names a fit by its formula
    header = table([pois, nb2]).layout().header_rows
    assert header == (("", "(1)", "(2)"),)
    titled = table([replace(pois, name="party_nb_ruling_fh"), nb2]).layout().header_rows
    assert titled[0][1] == "Ruling × FH status"  # the label of a known model


def test_the_same_fit_twice_fills_both_columns(fits) -> None:
    """Columns are filled by position: a fit shown twice (e.g. under two titles) has its
    coefficients in both columns (they were matched by equality, so the second stayed empty)."""
    pois = fits[0]
    tab = table([pois, pois], titles=["A", "B"])
    row = tab.find_row("ruling")
    assert row.cells[0].text() == row.cells[1].text() != ""


def test_intervals_survive_decimal_alignment_and_use_true_minus(fits, tmp_path) -> None:
    """With ``decimal_align`` an interval cell is centred text in its siunitx column (it
    vanished before); every format prints intervals with the estimates' minus sign."""
    pois = fits[0]
    tab = table([pois], statistic="ci", decimal_align=True)
    lo, hi = pois.conf_int().loc["Intercept"]
    shown = f"[{minus_sign(f'{lo:.3f}')}, {minus_sign(f'{hi:.3f}')}]"
    assert shown in tab.to_markdown().replace("\\[", "[").replace("\\]", "]")
    tex = tab.to_latex()
    assert f"$-${abs(lo):.3f}" in tex and "\\multicolumn{1}{c}{{[}" in tex
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "t.tex").write_text(tex, encoding="utf-8")
    compile_latex(tmp_path / "t.tex", tmp_path, pdflatex)


def test_without_a_std_errors_row_the_note_names_each_columns_kind(fits) -> None:
    pois, _, fe = fits
    text = table([pois, fe], gof=["nobs", "aic"]).to_markdown()
    assert "Std. errors row" not in text
    assert "(1) clustered by country" in text and "(2) " in text
    assert "of the kind in the Std. errors row" in table([pois, fe]).to_markdown()
