"""Every public function and class of the facade has a numpydoc docstring the API page can use.

Why tests: the API reference (``docs/reference/api.md``) is generated from these docstrings by
mkdocstrings with the numpy style; a docstring without its sections renders as a paragraph, and
nothing else would notice.  Each public function of ``cpcstats.__all__`` must have
``Parameters`` (naming every argument of its signature), ``Returns``, ``Raises`` and
``Examples`` sections, the methods the tutorial calls the same but ``Raises``; each class an
``Examples`` section and, when it takes arguments of its own, ``Parameters``.  Docstrings are
parsed with griffe, the parser the docs use.  The examples are run as doctests, so they stay
true: those of the cheap objects (no model fit) always, the others (model fits on the demo,
~10 s) as ``slow`` tests.
"""

from __future__ import annotations

import dataclasses
import doctest
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from griffe import Docstring, DocstringSectionKind, Parser

import cpcstats
from cpcstats.reporting.tables.model_table import RegressionTable

#: Names whose docstrings are still being written (by the helpers restructuring their modules);
#: they are expected to fail until done.  Empty when every public name is documented.
PENDING: frozenset[str] = frozenset()

#: The methods of the facade's result types that the tutorial uses.
METHODS: dict[str, Callable[..., Any]] = {
    "FitResult.summary": cpcstats.FitResult.summary,
    "FitResult.irr": cpcstats.FitResult.irr,
    "FitResult.conf_int": cpcstats.FitResult.conf_int,
    "Panel.summary": cpcstats.Panel.summary,
    "RegressionTable.to_latex": RegressionTable.to_latex,
    "RegressionTable.to_markdown": RegressionTable.to_markdown,
    "RegressionTable.to_html": RegressionTable.to_html,
    "RegressionTable.to_frame": RegressionTable.to_frame,
}

#: Functions whose failures a user must be able to anticipate.  Every facade function is checked
#: for a Raises section; these are the ones the issue names, kept in the facade by a test.
MUST_RAISE = {"load_study", "fit", "load_specs", "replicate", "table"}

FUNCTIONS = {
    name: obj
    for name in cpcstats.__all__
    if inspect.isfunction(obj := getattr(cpcstats, name, None))
}
CLASSES = {
    name: obj for name in cpcstats.__all__ if inspect.isclass(obj := getattr(cpcstats, name, None))
}

#: Objects whose examples run without fitting a model (seconds at most), run as doctests.
CHEAP_EXAMPLES = (
    "CpcError",
    "SpecError",
    "InputError",
    "EstimationError",
    "load_study",
    "Study",
    "load_specs",
    "ModelSpec",
)


def _sections(obj: object) -> dict[DocstringSectionKind, Any]:
    text = inspect.getdoc(obj) or ""
    parsed = Docstring(text, parser=Parser.numpy).parse()
    return {section.kind: section for section in parsed}


def _arguments(func: Callable[..., Any]) -> list[str]:
    """The signature's parameters a caller passes (not self, not ``*args``/``**kwargs``)."""
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.name not in ("self", "cls") and p.kind not in skip
    ]


def _returns_something(func: Callable[..., Any]) -> bool:
    annotation = inspect.signature(func).return_annotation
    return annotation not in (None, "None", inspect.Signature.empty)


def _missing(name: str, func: Callable[..., Any], *, raises: bool) -> list[str]:
    """What the docstring of a function or method lacks, in words for the failure message."""
    sections = _sections(func)
    missing = []
    arguments = _arguments(func)
    if arguments:
        section = sections.get(DocstringSectionKind.parameters)
        if section is None:
            missing.append("a Parameters section")
        else:
            documented = {p.name for p in section.value}
            undocumented = [a for a in arguments if a not in documented]
            if undocumented:
                missing.append(f"Parameters entries for {', '.join(undocumented)}")
            stray = sorted(documented - set(arguments))
            if stray:
                missing.append(f"no Parameters entries for {', '.join(stray)} (not arguments)")
    if _returns_something(func) and DocstringSectionKind.returns not in sections:
        missing.append("a Returns section")
    if raises and DocstringSectionKind.raises not in sections:
        missing.append("a Raises section (which cpcstats errors, and when)")
    if DocstringSectionKind.examples not in sections:
        missing.append("an Examples section (>>> lines using the demo)")
    return missing


def _pending(name: str) -> None:
    if name in PENDING:
        pytest.xfail(f"{name}: docstring pending (see PENDING in this file)")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_public_function_has_numpydoc_sections(name: str) -> None:
    _pending(name)
    missing = _missing(name, FUNCTIONS[name], raises=True)
    assert not missing, f"cpcstats.{name}: the docstring lacks " + "; ".join(missing)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_tutorial_method_has_numpydoc_sections(name: str) -> None:
    _pending(name)
    missing = _missing(name, METHODS[name], raises=False)
    assert not missing, f"{name}: the docstring lacks " + "; ".join(missing)


def _own_arguments(cls: type) -> list[str]:
    """The arguments a class takes that it defines itself (a dataclass's fields, its own
    ``__init__``); an error subclass that inherits CpcError's arguments has none."""
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init]
    if "__init__" in vars(cls):
        return _arguments(vars(cls)["__init__"])
    return []


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_public_class_has_numpydoc_sections(name: str) -> None:
    _pending(name)
    cls = CLASSES[name]
    sections = _sections(cls)
    missing = []
    arguments = _own_arguments(cls)
    if arguments:
        section = sections.get(DocstringSectionKind.parameters)
        if section is None:
            missing.append("a Parameters section")
        else:
            undocumented = [a for a in arguments if a not in {p.name for p in section.value}]
            if undocumented:
                missing.append(f"Parameters entries for {', '.join(undocumented)}")
    if DocstringSectionKind.examples not in sections:
        missing.append("an Examples section (>>> lines using the demo)")
    assert not missing, f"cpcstats.{name}: the docstring lacks " + "; ".join(missing)


def test_the_required_raises_are_among_the_checked_functions() -> None:
    """Every facade function is held to a Raises section; these must never drop out."""
    assert not MUST_RAISE - set(FUNCTIONS), sorted(MUST_RAISE - set(FUNCTIONS))
    known = set(FUNCTIONS) | set(CLASSES) | set(METHODS)
    assert not PENDING - known, f"PENDING names unknown names: {sorted(PENDING - known)}"


def test_the_checker_finds_missing_sections() -> None:
    def bare(study: str) -> int:
        """Only a summary."""
        return 1

    def half(study: str, level: float = 0.5) -> int:
        """A summary.

        Parameters
        ----------
        study : str
            A study.

        Returns
        -------
        int
            One.
        """
        return 1

    assert _missing("bare", bare, raises=True) == [
        "a Parameters section",
        "a Returns section",
        "a Raises section (which cpcstats errors, and when)",
        "an Examples section (>>> lines using the demo)",
    ]
    assert _missing("half", half, raises=False) == [
        "Parameters entries for level",
        "an Examples section (>>> lines using the demo)",
    ]


def _run_examples(name: str, obj: object, globs: dict[str, Any]) -> None:
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(obj, name, globs=globs) if t.examples]
    assert tests, f"{name} has no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: examples do not hold:\n" + "".join(report)


@pytest.mark.parametrize("name", CHEAP_EXAMPLES)
def test_cheap_examples_run(name: str) -> None:
    _run_examples(f"cpcstats.{name}", getattr(cpcstats, name), {"cpcstats": cpcstats})


@pytest.fixture(scope="module")
def example_globals() -> dict[str, Any]:
    """What examples that say "as in predict" or "tab = cpcstats.table([...])" refer to."""
    panel = cpcstats.party_year(cpcstats.load_study("demo"))
    formula = "contacts ~ ruling + left_roots"
    pois = cpcstats.fit(formula, panel, family="poisson")
    nb2 = cpcstats.fit(formula, panel, family="negbin")
    return {
        "cpcstats": cpcstats,
        "tab": cpcstats.table([pois, nb2], model_names=["Poisson", "NB2"]),
        # the model of predict's example, which predict_profiles and marginal_effects reuse
        "nb2": cpcstats.fit(
            "contacts ~ ruling * C(fh_status) + left_roots", panel, family="negbin"
        ),
    }


EXAMPLES = {
    **{f"cpcstats.{n}": o for n, o in {**FUNCTIONS, **CLASSES}.items() if n not in CHEAP_EXAMPLES},
    **METHODS,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_run(name: str, example_globals: dict[str, Any]) -> None:
    """Every other example holds on the demo (examples marked ``+SKIP`` write files)."""
    _run_examples(name, EXAMPLES[name], dict(example_globals))
