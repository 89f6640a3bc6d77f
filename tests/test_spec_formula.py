"""Formulas, sample filters and model specification files: parsed and checked before use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cpcstats
from cpcstats.errors import SpecError
from cpcstats.formula import Formula, check_filter, evaluate_filter, parse_formula
from cpcstats.spec import FILE_LEVELS, KEYS, ModelSpec, find_spec, load_specs, spec_from_dict

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
PANEL_COLUMNS = ["contacts", "ruling", "fh_status", "polyarchy", "party_id", "year", "iso3", "x"]


# --------------------------------------------------------------------------- formulas
def test_parse_formula_splits_response_rhs_and_fixed_effects() -> None:
    f = parse_formula("contacts ~ ruling * C(fh_status) | party_id + year")
    assert isinstance(f, Formula)
    assert f.response == "contacts"
    assert f.rhs == "ruling * C(fh_status)"
    assert f.fixed_effects == ("party_id", "year")
    assert f.variables == ("contacts", "ruling", "fh_status", "party_id", "year")
    assert f.patsy() == "contacts ~ ruling * C(fh_status)"
    assert f.patsy(fe_as_dummies=True) == (
        "contacts ~ ruling * C(fh_status) + C(party_id) + C(year)"
    )


def test_parse_formula_without_fixed_effects() -> None:
    f = parse_formula("contacts ~ ruling + polyarchy", PANEL_COLUMNS)
    assert f.fixed_effects == ()
    assert f.rhs == "ruling + polyarchy"
    assert f.patsy(fe_as_dummies=True) == "contacts ~ ruling + polyarchy"


def test_unknown_variable_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(SpecError) as info:
        parse_formula("contacts ~ rulling + polyarchy", PANEL_COLUMNS)
    err = info.value
    assert "'rulling'" in err.problem
    assert "unknown variable" in err.problem
    assert err.fix is not None and "did you mean" in err.fix and "ruling" in err.fix


def test_unknown_variable_without_a_close_match() -> None:
    with pytest.raises(SpecError) as info:
        parse_formula("contacts ~ zzzzzz", PANEL_COLUMNS)
    assert "did you mean" not in (info.value.fix or "")


def test_unknown_fixed_effect_is_rejected_when_columns_given() -> None:
    with pytest.raises(SpecError, match="'country_id'"):
        parse_formula("contacts ~ ruling | country_id", PANEL_COLUMNS)


@pytest.mark.parametrize(
    "text",
    [
        "contacts ruling",  # no ~
        "contacts ~ ruling ~ year",
        "contacts ~ ruling | year | iso3",
        "contacts ~ (ruling",
        "contacts ~ ruling)",
        "contacts ~",
        "log(contacts) ~ ruling",
        "contacts ~ ruling | C(year)",
        "contacts ~ ruling |",
    ],
)
def test_malformed_formulas_are_rejected(text: str) -> None:
    with pytest.raises(SpecError):
        parse_formula(text, PANEL_COLUMNS)


HOSTILE_FORMULAS = [
    "contacts ~ __import__('os').system('touch PWNED')",
    "contacts ~ os.system('x')",
    "contacts ~ ruling + eval('1')",
    "contacts ~ x[0]",
    "contacts ~ ruling; import os",
    "contacts ~ (lambda: 1)()",
]


@pytest.mark.parametrize("text", HOSTILE_FORMULAS)
def test_hostile_formulas_are_rejected_against_columns(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        parse_formula(text, PANEL_COLUMNS)
    assert info.value.fix  # every rejection says what is allowed
    assert not (tmp_path / "PWNED").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", HOSTILE_FORMULAS)
def test_hostile_formulas_are_rejected_before_any_data(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spec files are checked with no columns; the grammar alone must reject these."""
    monkeypatch.chdir(tmp_path)
    try:
        parse_formula(text)
    except SpecError:
        pass
    else:
        raise AssertionError(f"{text!r} was accepted")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("text", HOSTILE_FORMULAS)
def test_hostile_formulas_never_reach_evaluation_in_fit(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = pd.DataFrame({"contacts": [0, 1, 2, 3], "ruling": [0, 1, 0, 1], "x": [1.0, 2, 3, 4]})
    with pytest.raises(SpecError):
        cpcstats.fit(text, data, level="country-year")
    assert not (tmp_path / "PWNED").exists()


def test_call_of_a_transform_result_is_rejected() -> None:
    try:
        parse_formula("contacts ~ C(fh_status)(1)", PANEL_COLUMNS)
    except SpecError:
        return
    raise AssertionError("'C(fh_status)(1)' was accepted")


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("contacts ~ np.log1p(polyarchy)", ("contacts", "polyarchy")),
        ("contacts ~ I(polyarchy**2) + polyarchy", ("contacts", "polyarchy")),
        ("contacts ~ C(fh_status, Treatment(reference='F'))", ("contacts", "fh_status")),
        ("contacts ~ ruling:C(fh_status) - 1", ("contacts", "ruling", "fh_status")),
        ("contacts ~ 1", ("contacts",)),
        ("contacts ~ log(x + 1) + standardize(polyarchy)", ("contacts", "x", "polyarchy")),
    ],
)
def test_allowed_transforms_pass(text: str, variables: tuple[str, ...]) -> None:
    f = parse_formula(text, PANEL_COLUMNS)
    assert f.variables == variables


def test_transform_name_is_not_a_variable_unless_called() -> None:
    # `log` without a call is a variable name, so it must be a column
    with pytest.raises(SpecError, match="unknown variable 'log'"):
        parse_formula("contacts ~ log", PANEL_COLUMNS)


def test_allowed_transforms_evaluate_in_fit() -> None:
    data = pd.DataFrame(
        {
            "contacts": [0, 1, 3, 2, 5, 4, 7, 6],
            "polyarchy": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
            "fh_status": ["F", "PF", "NF", "F", "PF", "NF", "F", "PF"],
        }
    )
    result = cpcstats.fit(
        "contacts ~ np.log1p(polyarchy) + C(fh_status, Treatment(reference='NF'))",
        data,
        level="country-year",
    )
    assert result.nobs == 8
    assert "np.log1p(polyarchy)" in result.params.index
    assert any("[T.F]" in name for name in result.params.index)
    assert not any("[T.NF]" in name for name in result.params.index)


# --------------------------------------------------------------------------- sample filters
@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2002, 2004, 2005, 2008, 2012, 2017],
            "fh_status": ["F", "NF", "PF", "NF", "F", "PF"],
            "x": [1.0, -2.0, 3.5, 0.0, 10.0, 7.0],
        },
        index=[10, 11, 12, 13, 14, 15],  # a non-default index must not matter
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("year >= 2005 and fh_status != 'NF'", [False, False, True, False, True, True]),
        ("fh_status in ['F', 'PF']", [True, False, True, False, True, True]),
        ("fh_status not in ('F', 'PF')", [False, True, False, True, False, False]),
        ("not (year < 2005)", [False, False, True, True, True, True]),
        ("year < 2004 or x > 5", [True, False, False, False, True, True]),
        ("2004 <= year < 2012", [False, True, True, True, False, False]),
        ("x == -2", [False, True, False, False, False, False]),
        ("fh_status == 'F' and (year > 2010 or x < 2)", [True, False, False, False, True, False]),
    ],
)
def test_filters_give_the_right_mask(text: str, expected: list[bool], small: pd.DataFrame) -> None:
    mask = evaluate_filter(text, small)
    assert mask.dtype == bool
    assert mask.tolist() == expected
    assert list(mask.index) == list(small.index)


def test_filter_on_missing_values_keeps_nothing_unknown() -> None:
    data = pd.DataFrame({"fh_status": pd.array(["F", None, "NF"], dtype="string")})
    assert evaluate_filter("fh_status == 'F'", data).tolist() == [True, False, False]


HOSTILE_FILTERS = [
    "__import__('os').system('x')",
    "year.__class__",
    "open('x')",
    "[c for c in year]",
    "year if True else 1",
    "(lambda: 1)()",
    "year + 1 > 2005",
    "year[0] == 1",
    "{'a': 1}",
]


@pytest.mark.parametrize("text", HOSTILE_FILTERS)
def test_hostile_filters_are_rejected(
    text: str, small: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        check_filter(text)
    assert info.value.column == "sample"
    with pytest.raises(SpecError):
        evaluate_filter(text, small)
    assert list(tmp_path.iterdir()) == []


def test_dunder_name_in_filter_is_rejected() -> None:
    with pytest.raises(SpecError, match="__builtins__"):
        check_filter("__builtins__ == 1")


def test_filter_syntax_error_becomes_spec_error() -> None:
    with pytest.raises(SpecError, match="not a valid expression"):
        check_filter("year >= ")


def test_filter_unknown_variable_with_suggestion(small: pd.DataFrame) -> None:
    with pytest.raises(SpecError) as info:
        evaluate_filter("yaer >= 2005", small)
    assert "'yaer'" in info.value.problem
    assert "year" in (info.value.fix or "")


@pytest.mark.parametrize("text", ["year in 2005", "year > '2005'", "fh_status > 2"])
def test_filter_type_mismatch_is_a_spec_error(text: str, small: pd.DataFrame) -> None:
    with pytest.raises(SpecError):
        evaluate_filter(text, small)


# --------------------------------------------------------------------------- spec files
ONE_MODEL = """
name = "party_ruling"
title = "Ruling status"
level = "party-year"
family = "negbin"
formula = "contacts ~ ruling * C(fh_status)"
cluster = "iso3"
sample = "year >= 2005"
"""

TWO_MODELS = """
[[model]]
name = "a"
level = "country-year"
family = "poisson"
formula = "contacts ~ polyarchy"

[[model]]
name = "b"
level = "party-year"
family = "negbin"
formula = "contacts ~ ruling"
cluster = ["iso3", "year"]
se = "cluster"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_one_model_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "one.toml", ONE_MODEL)
    (spec,) = load_specs(path)
    assert isinstance(spec, ModelSpec)
    assert spec.name == "party_ruling"
    assert spec.level == "party-year"
    assert spec.family == "negbin"
    assert spec.formula == "contacts ~ ruling * C(fh_status)"
    assert spec.cluster == ("iso3",)
    assert spec.se is None and spec.se_type == "cluster"
    assert spec.sample == "year >= 2005"
    assert spec.title == "Ruling status"
    assert spec.source == str(path)


def test_model_array_file_loads(tmp_path: Path) -> None:
    specs = load_specs(write(tmp_path / "two.toml", TWO_MODELS))
    assert [s.name for s in specs] == ["a", "b"]
    assert specs[0].cluster == () and specs[0].se_type == "classical"
    assert specs[1].cluster == ("iso3", "year") and specs[1].se_type == "cluster"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "typo.toml", ONE_MODEL.replace("cluster =", "clutser ="))
    with pytest.raises(SpecError) as info:
        load_specs(path)
    err = info.value
    assert "clutser" in err.problem
    assert err.column == "clutser"
    assert err.file == str(path)
    assert "cluster" in (err.fix or "")


@pytest.mark.parametrize(
    ("old", "new", "column", "allowed"),
    [
        ('family = "negbin"', 'family = "zinbb"', "family", ["poisson", "negbin", "zinb"]),
        ('level = "party-year"', 'level = "party"', "level", list(FILE_LEVELS)),
        ('cluster = "iso3"', 'cluster = "iso3"\nse = "robust"', "se", ["hc1", "cluster"]),
    ],
)
def test_unknown_choice_lists_allowed_values(
    tmp_path: Path, old: str, new: str, column: str, allowed: list[str]
) -> None:
    path = write(tmp_path / "bad.toml", ONE_MODEL.replace(old, new))
    with pytest.raises(SpecError) as info:
        load_specs(path)
    err = info.value
    assert err.column == column
    for value in allowed:
        assert value in (err.fix or "")


def test_cluster_se_without_cluster_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "se.toml", ONE_MODEL.replace('cluster = "iso3"', 'se = "cluster"'))
    with pytest.raises(SpecError) as info:
        load_specs(path)
    assert info.value.column == "cluster"
    assert "cluster" in info.value.problem


def test_three_way_clustering_is_an_error() -> None:
    entry = {
        "name": "m",
        "level": "party-year",
        "family": "poisson",
        "formula": "contacts ~ ruling",
        "cluster": ["iso3", "year", "party_id"],
    }
    with pytest.raises(SpecError, match="two-way"):
        spec_from_dict(entry)


@pytest.mark.parametrize("missing", ["name", "level", "family", "formula"])
def test_missing_required_key(missing: str) -> None:
    entry = {"name": "m", "level": "party-year", "family": "poisson", "formula": "contacts ~ x"}
    del entry[missing]
    with pytest.raises(SpecError) as info:
        spec_from_dict(entry)
    assert info.value.column == missing


@pytest.mark.parametrize("fes", [["party_id", "year"], "party_id"])
def test_fixed_effects_key_merges_into_formula(tmp_path: Path, fes: list[str] | str) -> None:
    value = f'"{fes}"' if isinstance(fes, str) else "[" + ", ".join(f'"{v}"' for v in fes) + "]"
    path = write(tmp_path / "fe.toml", ONE_MODEL + f"fixed_effects = {value}\n")
    (spec,) = load_specs(path)
    expected = ["party_id", "year"] if isinstance(fes, list) else ["party_id"]
    assert spec.formula == "contacts ~ ruling * C(fh_status) | " + " + ".join(expected)
    assert parse_formula(spec.formula).fixed_effects == tuple(expected)


def test_fixed_effects_twice_is_an_error(tmp_path: Path) -> None:
    text = ONE_MODEL.replace("C(fh_status)", "C(fh_status) | year") + 'fixed_effects = "iso3"\n'
    with pytest.raises(SpecError) as info:
        load_specs(write(tmp_path / "fe2.toml", text))
    assert info.value.column == "fixed_effects"


def test_hostile_formula_in_spec_file_is_rejected_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = ONE_MODEL.replace(
        '"contacts ~ ruling * C(fh_status)"',
        "\"contacts ~ __import__('os').system('touch PWNED')\"",
    )
    with pytest.raises(SpecError) as info:
        load_specs(write(tmp_path / "evil.toml", text))
    assert info.value.file == str(tmp_path / "evil.toml")
    assert "formula" in info.value.problem
    assert not (tmp_path / "PWNED").exists()


def test_hostile_sample_in_spec_file_is_rejected_on_load(tmp_path: Path) -> None:
    text = ONE_MODEL.replace('"year >= 2005"', "\"open('x').read() == ''\"")
    with pytest.raises(SpecError) as info:
        load_specs(write(tmp_path / "evil_sample.toml", text))
    assert info.value.column == "sample"


def test_duplicate_names_across_files_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    write(folder / "a.toml", ONE_MODEL)
    write(folder / "b.toml", ONE_MODEL.replace('title = "Ruling status"', 'title = "again"'))
    write(folder / "c.toml", TWO_MODELS)
    with pytest.raises(SpecError) as info:
        load_specs(folder)
    assert "party_ruling" in info.value.problem
    assert "'a'" not in info.value.problem and " a," not in info.value.problem
    assert info.value.file == str(folder)


def test_folder_with_unique_names_loads_in_file_order(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    write(folder / "b.toml", ONE_MODEL)
    write(folder / "a.toml", TWO_MODELS)
    write(folder / "notes.txt", "not a spec")
    assert [s.name for s in load_specs(folder)] == ["a", "b", "party_ruling"]
    assert find_spec("b", folder).family == "negbin"
    with pytest.raises(SpecError, match="no model named 'nope'"):
        find_spec("nope", folder)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        load_specs(write(tmp_path / "broken.toml", 'name = "unterminated\n'))
    with pytest.raises(SpecError, match="does not exist"):
        load_specs(tmp_path / "absent.toml")
    with pytest.raises(SpecError, match="array of tables"):
        load_specs(write(tmp_path / "model_str.toml", 'model = "x"\n'))


def test_top_level_keys_beside_model_array_are_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "shared.toml", 'cluster = "iso3"\n' + TWO_MODELS)
    try:
        specs = load_specs(path)
    except SpecError as exc:
        assert "cluster" in str(exc)
        return
    raise AssertionError(f"top-level `cluster` was ignored: {[s.cluster for s in specs]}")


def test_keys_constant_matches_documented_keys() -> None:
    assert {"name", "level", "family", "formula", "fixed_effects", "cluster", "se"} <= KEYS


# --------------------------------------------------------------------------- shipped models
@pytest.fixture(scope="module")
def demo_panels() -> dict[str, cpcstats.Panel]:
    study = cpcstats.load_study("demo")
    return {"party-year": cpcstats.party_year(study), "country-year": cpcstats.country_year(study)}


def test_shipped_models_load_and_parse_against_demo_panels(
    demo_panels: dict[str, cpcstats.Panel],
) -> None:
    specs = load_specs(MODELS)
    assert len(specs) >= 8
    assert len({s.name for s in specs}) == len(specs)
    assert {s.level for s in specs} == {"party-year", "country-year"}
    assert "party_poisson_ruling_fh" in {s.name for s in specs}
    for spec in specs:
        columns = demo_panels[spec.level].data.columns
        formula = parse_formula(spec.formula, columns)
        assert formula.response == "contacts", spec.name
        assert set(spec.cluster) <= set(columns), spec.name
        if spec.sample:
            check_filter(spec.sample, columns)


# --------------------------------------------------------------------------- fit and filters
TINY = pd.DataFrame({"contacts": [0, 1, 2, 3, 4, 5], "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})


def test_fit_filter_selecting_no_rows_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as info:
        cpcstats.fit("contacts ~ x", TINY, sample="x > 100", level="country-year")
    assert "selects no rows" in info.value.problem
    assert info.value.column == "sample"


def test_fit_filter_is_accounted_for() -> None:
    result = cpcstats.fit("contacts ~ x", TINY, sample="x > 2", level="country-year")
    assert result.nobs == 4
    assert result.sample is not None
    assert result.sample.rows_in == 6 and result.sample.rows_out == 4
    assert result.sample.dropped == {"sample filter: x > 2": 2}


def test_fit_plain_dataframe_without_level() -> None:
    with pytest.raises(SpecError) as info:
        cpcstats.fit("contacts ~ x", TINY, sample="x > 100")
    assert "selects no rows" in info.value.problem
    result = cpcstats.fit("contacts ~ x", TINY)
    assert result.nobs == 6
    assert result.level == "custom"


@pytest.mark.parametrize("name", ["log", "log1p", "exp", "sqrt", "abs"])
def test_every_documented_numeric_transform_is_evaluated(name: str) -> None:
    """The README lists bare transforms (log, sqrt, ...) next to np.*: both must fit, and
    give the same slope as the transformed column computed outside the formula."""
    import numpy as np
    import pandas as pd

    from cpcstats import fit

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.uniform(0.5, 2.0, 300)})
    frame["y"] = rng.poisson(np.exp(0.3 + 0.5 * frame["x"]))
    frame["tx"] = getattr(np, name)(frame["x"])
    reference = fit("y ~ tx", frame, family="poisson").params["tx"]
    bare = fit(f"y ~ {name}(x)", frame, family="poisson").params[f"{name}(x)"]
    with_np = fit(f"y ~ np.{name}(x)", frame, family="poisson").params[f"np.{name}(x)"]
    assert bare == pytest.approx(reference, rel=1e-10)
    assert with_np == pytest.approx(reference, rel=1e-10)
