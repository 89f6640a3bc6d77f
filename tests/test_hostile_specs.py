"""Hostile specification files: nothing a user writes is executed, escapes or hangs.

Patsy evaluates formula terms and transform arguments as Python; the formula checker
must bound every construct that would reach that ``eval`` (one test per construct
class).  Each hostile case must be rejected *before evaluation*: the tests replace
patsy's evaluator with one that fails the test, and check the rejection is fast.
Specification files must also have the right TOML types, identifier names and unique
model names.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

import cpcstats
from cpcstats.cli import main
from cpcstats.errors import SpecError
from cpcstats.formula import check_filter, evaluate_filter, parse_formula
from cpcstats.spec import load_specs

COLUMNS = ["y", "x", "z", "year", *"abcdefghijkl"]
DATA = pd.DataFrame(
    {"y": [0, 1, 2, 3, 1, 0], "x": [1.0, 2, 3, 4, 5, 6], "z": [0.5, 1, 1.5, 2, 2.5, 3]}
    | {"year": [2001, 2002, 2003, 2004, 2005, 2006]}
    | {c: [0, 1, 0, 1, 0, 1] for c in "abcdefghijkl"}
)


@pytest.fixture
def no_eval(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """patsy's evaluator, replaced by one that records and refuses every call."""
    import patsy.eval

    calls: list[str] = []

    def refuse(self: object, expr: str, *args: object, **kwargs: object) -> object:
        calls.append(expr)
        raise AssertionError(f"patsy evaluated {expr!r}")

    monkeypatch.setattr(patsy.eval.EvalEnvironment, "eval", refuse)
    return calls


def _rejected(text: str, words: list[str], no_eval: list[str]) -> SpecError:
    """parse_formula and fit() both reject ``text`` quickly and before patsy evaluates."""
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        parse_formula(text)
    with pytest.raises(SpecError):
        cpcstats.fit(text, DATA, level="country-year")
    assert time.perf_counter() - start < 2.0
    assert no_eval == []
    err = info.value
    assert err.column == "formula" and err.fix
    for word in words:
        assert word in err.problem, (word, err.problem)
    return err


# --------------------------------------------------------------------------- one per class
def test_huge_integer_arithmetic_is_rejected(no_eval: list[str]) -> None:
    _rejected("y ~ I(10**400)", ["10**400", "arithmetic between two numbers"], no_eval)
    _rejected("y ~ x + I(x * (2 * 3))", ["2 * 3"], no_eval)


def test_huge_numeric_literals_are_rejected(no_eval: list[str]) -> None:
    _rejected("y ~ I(x * 1e308)", ["1e308", "larger than"], no_eval)
    _rejected("y ~ I(x + " + "9" * 500 + ")", ["larger than"], no_eval)
    _rejected("y ~ I(1e308*10)", ["1e308"], no_eval)


def test_power_towers_and_large_exponents_are_rejected(no_eval: list[str]) -> None:
    _rejected("y ~ I(9**9**9)", ["9**9**9", "exponent"], no_eval)
    _rejected("y ~ I(x**9**9)", ["exponent"], no_eval)
    _rejected("y ~ I(x ** 11)", ["exponent"], no_eval)
    _rejected("y ~ I(x ** z)", ["exponent"], no_eval)
    _rejected("y ~ (x + z) ** 100", ["exponent"], no_eval)
    _rejected("y ~ I(((((x**10)**10)**10)**10)**10)", ["power of a power"], no_eval)


def test_shifts_and_comparisons_never_parse(no_eval: list[str]) -> None:
    for text in ("y ~ I(1 << 100000)", "y ~ I(x > 9**9)", "y ~ I(x == 1)", "y ~ I(x % 7)"):
        _rejected(text, ["formula"], no_eval)


def test_unary_operators_on_literals_and_labels(no_eval: list[str]) -> None:
    _rejected("y ~ I(-'a')", ["quoted label"], no_eval)
    _rejected("y ~ I(--9 ** --9)", ["arithmetic between two numbers"], no_eval)
    # a signed number on a variable is fine
    assert parse_formula("y ~ I(-x) + I(x ** -1)", COLUMNS).variables == ("y", "x")


def test_string_literals_are_short_and_never_operands(no_eval: list[str]) -> None:
    _rejected("y ~ C(x, Treatment('a'*10**9))", ["'a'*10**9", "quoted label"], no_eval)
    _rejected("y ~ C(x, Treatment('" + "a" * 101 + "'))", ["quoted label of 101"], no_eval)
    _rejected("y ~ 'x'", ["quoted label stands as a term"], no_eval)
    # a tuple is an argument, never an operand: (1, 2) * 10**12 would allocate for ever
    _rejected("y ~ I(x + len((1, 2) * 999999999999))", ["formula"], no_eval)
    _rejected("y ~ C(x, levels=('a', 'b') * 999999999999)", ["tuple is used"], no_eval)


def test_colon_inside_a_call_is_python_and_rejected(no_eval: list[str]) -> None:
    _rejected("y ~ I(x := 5)", ["':' inside"], no_eval)
    _rejected("y ~ np.log(x : z)", ["':' inside"], no_eval)
    assert parse_formula("y ~ x:C(z) + (x + z):a", COLUMNS).variables == ("y", "x", "z", "a")


def test_deeply_nested_calls_and_parentheses_are_bounded(no_eval: list[str]) -> None:
    _rejected("y ~ " + "log(" * 25 + "x" + ")" * 25, ["nests parentheses"], no_eval)
    _rejected("y ~ " + "(" * 30 + "x" + ")" * 30, ["nests parentheses"], no_eval)
    # 10,000 deep would exhaust Python's parser: the length bound stops it first
    _rejected("y ~ " + "(" * 10_000 + "x" + ")" * 10_000, ["characters"], no_eval)
    assert parse_formula("y ~ log(log1p(abs(x)))", COLUMNS).variables == ("y", "x")
    # a tuple of labels is an argument, never a term
    assert parse_formula("y ~ C(x, levels=('a', 'b'))", COLUMNS).variables == ("y", "x")
    _rejected("y ~ (x, z)", ["tuple"], no_eval)


def test_formulas_expanding_to_many_terms_are_rejected(no_eval: list[str]) -> None:
    _rejected("y ~ " + "*".join("abcdefghijkl"), ["more than 2000 terms"], no_eval)
    _rejected("y ~ (a+b+c+d+e+f+g+h+i+j+k+l)**10", ["more than 2000 terms"], no_eval)
    _rejected("y ~ " + "+".join(["x"] * 2100), ["more than 2000 terms"], no_eval)
    _rejected("y ~ " + "+".join(["x"] * 2600), ["tokens"], no_eval)
    _rejected("y ~ " + "+".join(["x"] * 11_000), ["characters"], no_eval)
    # one term may not be a chain long enough to exhaust Python's parser
    _rejected("y ~ " + ":".join(["x"] * 400), ["more than 300 tokens"], no_eval)
    _rejected("y ~ I(" + "+".join(["x"] * 400) + ")", ["more than 300 tokens"], no_eval)
    # ordinary interactions still pass
    assert parse_formula("y ~ a*b*c*d + (x + z)**2", COLUMNS).variables[:3] == ("y", "a", "b")


def test_allowed_constructs_still_fit() -> None:
    result = cpcstats.fit("y ~ I(x**2) + I(x / 100) + np.log(z)", DATA, level="country-year")
    assert {"I(x ** 2)", "I(x / 100)", "np.log(z)"} <= set(result.params.index)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("year ** 9**9", "BinOp"),
        ("year >= 10**400", "BinOp"),
        ("year >= " + "9" * 1500, "larger than"),
        ("year >= 1e999", "larger than"),
        ("-" * 1900 + "year", "deep"),
        ("not " * 400 + "year > 1", "deep"),
        ("(" * 10_000 + "year" + ")" * 10_000, "characters"),
        ("(" * 250 + "year > 1" + ")" * 250, "not a valid expression"),
    ],
)
def test_hostile_sample_filters_are_rejected_quickly(text: str, word: str) -> None:
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        check_filter(text)
    with pytest.raises(SpecError):
        evaluate_filter(text, DATA)
    assert time.perf_counter() - start < 2.0
    assert info.value.column == "sample" and info.value.fix
    assert word in info.value.problem


# --------------------------------------------------------------------------- spec files
GOOD = """name = "m"
level = "country-year"
family = "poisson"
formula = "contacts ~ ruling"
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_hostile_formula_in_a_file_names_file_model_key_and_piece(tmp_path: Path) -> None:
    path = _write(tmp_path / "evil.toml", GOOD.replace('"contacts ~ ruling"', '"y ~ I(9**9**9)"'))
    with pytest.raises(SpecError) as info:
        load_specs(path)
    err = info.value
    assert err.file == str(path) and err.column == "formula"
    assert "model 'm'" in err.problem and "9**9**9" in err.problem and err.fix
    text = GOOD.replace("poisson", "zip") + 'inflation = "I(x ** 99)"\n'
    with pytest.raises(SpecError) as info:
        load_specs(_write(tmp_path / "infl.toml", text))
    assert info.value.column == "inflation" and "model 'm'" in info.value.problem
    text = GOOD + 'sample = "year ** 9**9"\n'
    with pytest.raises(SpecError) as info:
        load_specs(_write(tmp_path / "sample.toml", text))
    assert info.value.column == "sample" and "model 'm'" in info.value.problem


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("formula = 5", "formula", "a string"),
        ("cluster = 5", "cluster", "a string or an array of strings"),
        ("cluster = [1, 2]", "cluster", "a string or an array of strings"),
        ("seed = 'abc'", "seed", "a whole number"),
        ("bootstrap_reps = 'x'", "bootstrap_reps", "a whole number"),
        ("bootstrap_reps = 2.5", "bootstrap_reps", "a whole number"),
        ("se = 5", "se", "a string"),
        ("sample = 5", "sample", "a string"),
        ("inflation = 5", "inflation", "a string"),
        ("title = { a = 1 }", "title", "a string"),
        ("family = ['poisson']", "family", "a string"),
        ("level = { x = 1 }", "level", "a string"),
        ("fixed_effects = 3", "fixed_effects", "a string or an array of strings"),
        ("exposure = true", "exposure", "a string"),
        ("correlation = 1.5", "correlation", "a string"),
        ("name = 5", "name", "a string"),
    ],
)
def test_wrong_toml_types_name_file_model_key_and_type(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    lines = [ln for ln in GOOD.splitlines() if not ln.startswith(f"{key} =")]
    path = _write(tmp_path / "types.toml", "\n".join([*lines, line]) + "\n")
    with pytest.raises(SpecError) as info:
        load_specs(path)
    err = info.value
    assert err.file == str(path)
    assert err.column == key
    assert expected in err.problem
    assert "model" in err.problem and f"`{key}`" in err.problem
    assert err.fix and key in err.fix


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("model = 5\n", ["array of tables", "int"]),
        ("model = ['a', 'b']\n", ["model 1", "not a table"]),
        ("model = []\n", ["array of tables"]),
        ("[model]\nname = 'm'\n", ["array of tables", "dict"]),
        ("[[model]]\n" + GOOD + "\nmodel = 3\n", []),  # invalid TOML: model defined twice
    ],
)
def test_model_must_be_an_array_of_tables(tmp_path: Path, text: str, words: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        load_specs(_write(tmp_path / "arr.toml", text))
    for word in words:
        assert word in info.value.problem


def test_unknown_key_names_the_closest_valid_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "typo.toml", GOOD + "bootstrap_rep = 99\n")
    with pytest.raises(SpecError) as info:
        load_specs(path)
    assert info.value.column == "bootstrap_rep"
    assert "did you mean `bootstrap_reps`" in (info.value.fix or "")
    assert "model 'm'" in info.value.problem


def test_two_models_with_the_same_name_in_one_file(tmp_path: Path) -> None:
    models = [GOOD.replace('"m"', f'"{n}"') for n in ("a", "b", "c", "b", "e")]
    text = "".join(f"[[model]]\n{m}\n" for m in models)
    with pytest.raises(SpecError) as info:
        load_specs(_write(tmp_path / "dupes.toml", text))
    assert "models 2 and 4" in info.value.problem and "'b'" in info.value.problem
    assert info.value.column == "name" and info.value.fix


def test_duplicates_across_a_folder_name_both_files(tmp_path: Path) -> None:
    _write(tmp_path / "one.toml", GOOD)
    _write(tmp_path / "two.toml", GOOD)
    with pytest.raises(SpecError) as info:
        load_specs(tmp_path)
    assert "one.toml and two.toml" in info.value.problem


@pytest.mark.parametrize("name", ["../x", "/tmp/abs", "a b", "", "x/../../y", "tab}\\input{x}"])
def test_model_names_must_be_identifiers(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / "name.toml", GOOD.replace('"m"', repr(name).replace("\\\\", "\\\\")))
    with pytest.raises(SpecError) as info:
        load_specs(path)
    assert info.value.column == "name"
    assert "letters, digits" in (info.value.fix or "")


def test_seed_and_bootstrap_reps_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="seed"):
        load_specs(_write(tmp_path / "s.toml", GOOD + "seed = -1\n"))
    with pytest.raises(SpecError, match="bootstrap_reps"):
        load_specs(_write(tmp_path / "b.toml", GOOD + "bootstrap_reps = 9223372036854775807\n"))


def test_cluster_names_are_variables(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_specs(_write(tmp_path / "c.toml", GOOD + 'cluster = ["../iso3"]\n'))
    assert info.value.column == "cluster"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_given_as_specification_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        load_specs(fifo)


def test_a_folder_of_specifications_still_loads(tmp_path: Path) -> None:
    _write(tmp_path / "a.toml", GOOD)
    _write(tmp_path / "b.toml", GOOD.replace('"m"', '"m2"'))
    assert [s.name for s in load_specs(tmp_path)] == ["m", "m2"]


def test_cli_fit_with_a_hostile_formula_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "spec.toml", GOOD.replace('"contacts ~ ruling"', '"y ~ I(10**400)"'))
    code = main(["fit", str(path), "--out", str(tmp_path / "out")])
    text = "".join(capsys.readouterr())
    assert code == 2, text
    assert "Traceback" not in text
    assert "spec.toml" in text and "10**400" in text and "fix:" in text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_fit_keyword_arguments_are_typed_too() -> None:
    import numpy as np

    data = DATA.assign(g=[1, 1, 2, 2, 3, 3])
    result = cpcstats.fit("y ~ x", data, cluster=("g",), seed=np.int64(3), name="kw")
    assert result.spec.cluster == ("g",) and result.spec.seed == 3
    with pytest.raises(SpecError) as info:
        cpcstats.fit("y ~ x", data, cluster=5)  # type: ignore[arg-type]
    assert info.value.column == "cluster" and "a string or an array of strings" in str(info.value)
