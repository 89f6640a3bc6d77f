"""Designs are built on fast paths — numeric-only formulas multiplied out directly, text
columns as Categoricals (read through their codes, not cell by cell), patsy given numpy
columns instead of pandas Series: each design must equal the one patsy builds on the pandas
frame exactly, for every shipped specification and for hostile text, and a formula patsy
refuses on Categoricals must fall back to the object columns."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import patsy
import pytest

import cpcstats
import cpcstats.estimation.design as design_module
import cpcstats.estimation.fit as fit_module
from cpcstats.estimation.design import Design, build_design
from cpcstats.estimation.model_view import design_matrices, model_view
from cpcstats.formula import FORMULA_NAMESPACE
from cpcstats.panels import country_year, party_year
from cpcstats.spec import load_specs


class _Built(Exception):
    """Raised by the spy once both designs exist (the fit itself is not needed)."""

    def __init__(self, fast: Design, slow: Design) -> None:
        self.fast, self.slow = fast, slow


def _old_dmatrix(text: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, patsy.DesignInfo]:
    """The design as built before the fast paths: patsy on the whole pandas frame."""
    _, X = patsy.dmatrices(
        text,
        frame,
        return_type="dataframe",
        NA_action="raise",
        eval_env=patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)]),
    )
    return X, X.design_info


def _both_designs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fit`` builds each design twice — as now (numeric fast path, Categoricals, numpy
    columns) and as before (patsy on the pandas frame of object columns) — then stops."""

    def spy(*args: object) -> Design:
        fast = build_design(*args)  # type: ignore[arg-type]
        with monkeypatch.context() as old:
            old.setattr(design_module, "_categorical_text", lambda frame: None)
            old.setattr(design_module, "_numeric_infos", lambda text, frame: None)
            old.setattr(design_module, "_dmatrix", _old_dmatrix)
            slow = build_design(*args)  # type: ignore[arg-type]
        raise _Built(fast, slow)

    monkeypatch.setattr(fit_module, "build_design", spy)


def _designs(spec: object, frame: pd.DataFrame) -> tuple[Design, Design]:
    try:
        cpcstats.fit(spec, frame)
    except _Built as built:
        return built.fast, built.slow
    raise AssertionError("the design was not built")


def _assert_same(fast: Design, slow: Design) -> None:
    assert fast.data.x_names == slow.data.x_names
    np.testing.assert_array_equal(fast.data.X, slow.data.X)
    assert fast.x_info.column_names == slow.x_info.column_names
    for mine, theirs in zip(
        fast.x_info.factor_infos.values(), slow.x_info.factor_infos.values(), strict=True
    ):
        assert mine.type == theirs.type
        assert mine.categories == theirs.categories
    if slow.data.Z is not None:
        assert fast.data.z_names == slow.data.z_names
        np.testing.assert_array_equal(fast.data.Z, slow.data.Z)


@pytest.fixture(scope="module")
def panels() -> dict[str, pd.DataFrame]:
    study = cpcstats.load_study("demo")
    return {"party-year": party_year(study).data, "country-year": country_year(study).data}


def _shipped_specs() -> Iterator[object]:
    yield from load_specs("models")


@pytest.mark.parametrize("spec", list(_shipped_specs()), ids=lambda s: s.name)
def test_every_shipped_spec_has_the_object_paths_design(
    spec: object, panels: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_designs(monkeypatch)
    fast, slow = _designs(spec, panels[spec.level])  # type: ignore[attr-defined]
    _assert_same(fast, slow)


def _hostile_frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # capitals before lower case, accents, CJK, a leading space, digits as text
    words = np.array(["b", "B", "a", "Ä", "é", "中国", " z", "10", "9", "Z"])
    frame = pd.DataFrame(
        {
            "y": rng.poisson(2.0, n),
            "x": rng.normal(size=n),
            "word": rng.choice(words, n),
            "pair": rng.choice(["left", "right"], n),
            "code": pd.array(rng.choice(["Free", "Not Free", "Partly Free"], n), dtype="string"),
        }
    )
    frame["mixed"] = pd.Series([1 if i % 3 else "one" for i in range(n)], dtype=object)
    dummies = pd.DataFrame(rng.integers(0, 2, (n, 60)).astype(float)).add_prefix("d")
    return pd.concat([frame, dummies], axis=1)


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + C(word)",
        "y ~ C(word) * pair",
        "y ~ x * C(code, Treatment(reference='Partly Free'))",
        "y ~ C(code) + word:x",
        "y ~ C(mixed) + x",  # numbers stored as objects: never converted
        "y ~ center(x) + standardize(d1) + np.log1p(np.abs(x)) + I(x ** 2)",  # stateful
        "y ~ C(y) + x",  # an integer column made categorical: levels named 0, 1, ...
        "y ~ " + " + ".join(f"d{i}" for i in range(60)),  # a wide event-study formula
        "y ~ C(word):d3 + d1 * d2",
    ],
)
def test_hostile_text_gives_the_object_paths_design(
    formula: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_designs(monkeypatch)
    fast, slow = _designs(formula, _hostile_frame())
    _assert_same(fast, slow)


def test_patsy_reads_a_categorical_with_explicit_levels_as_the_object_column() -> None:
    """cpcstats formulas cannot carry ``levels=[...]`` (no lists), but patsy's own reading
    of a Categorical with levels in another order is the object column's (patsy 1.0)."""
    frame = design_module.patsy_frame(_hostile_frame())
    formula = "y ~ C(code, levels=['Partly Free', 'Free', 'Not Free'])"
    slow = patsy.dmatrices(formula, frame, return_type="dataframe")[1]
    fast = patsy.dmatrices(
        formula, design_module._categorical_text(frame), return_type="dataframe"
    )[1]
    pd.testing.assert_frame_equal(fast, slow)


def test_a_formula_patsy_refuses_on_categoricals_is_built_from_the_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    original = design_module._dmatrix

    def refuse_categoricals(text: str, frame: pd.DataFrame) -> pd.DataFrame:
        categorical = any(isinstance(t, pd.CategoricalDtype) for t in frame.dtypes)
        seen.append(categorical)
        if categorical:
            raise patsy.PatsyError("refused")
        return original(text, frame)

    monkeypatch.setattr(design_module, "_dmatrix", refuse_categoricals)
    fit = cpcstats.fit("y ~ x + C(word)", _hostile_frame())
    assert seen == [True, False]
    assert "C(word)[T.a]" in fit.params.index


def test_post_estimation_rebuilds_new_rows_with_the_learned_levels() -> None:
    frame = _hostile_frame()
    fit = cpcstats.fit("y ~ x + C(word)", frame)
    view = model_view(fit, "predictions")
    new = frame.iloc[:5]
    rebuilt = design_matrices(view, new).X
    np.testing.assert_array_equal(rebuilt, fit.design.data.X[:5])


def test_text_with_missing_values_is_not_converted() -> None:
    frame = pd.DataFrame({"t": ["a", None, "b"], "u": ["a", "b", "c"], "n": [1.0, 2.0, 3.0]})
    converted = design_module._categorical_text(frame.astype({"t": object, "u": object}))
    assert converted is not None
    assert converted["t"].dtype == object  # None kept for patsy's own NA rules
    assert isinstance(converted["u"].dtype, pd.CategoricalDtype)
    assert list(converted["u"].cat.categories) == ["a", "b", "c"]


def _rebuilt_both_ways(
    fit: object, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    """`design_matrices` of ``rows`` as now and with the text left as objects (before)."""
    import cpcstats.estimation.model_view as view_module

    view = model_view(fit, "predictions")  # type: ignore[arg-type]
    fast = design_matrices(view, rows)
    with monkeypatch.context() as old:
        old.setattr(view_module, "coded_text", lambda frame, infos: frame)
        slow = design_matrices(view, rows)
    return fast, slow


@pytest.mark.parametrize("rows", ["all", "one level", "reversed"])
def test_rebuilt_designs_equal_the_object_paths(
    rows: str, panels: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = panels["party-year"].dropna(subset=["fh_status", "polyarchy"])
    fit = cpcstats.fit(
        "contacts ~ ruling * C(fh_status, Treatment(reference='F')) + left_roots",
        frame,
        family="zinb",
        inflation="ruling + C(fh_status)",
    )
    chosen = {
        "all": frame,
        "one level": frame[frame["fh_status"].astype(str) == "NF"],
        "reversed": frame.iloc[::-1],
    }[rows]
    view = model_view(fit, "predictions")
    coded = design_module.coded_text(design_module.patsy_frame(chosen), [view.x_info])
    assert isinstance(coded["fh_status"].dtype, pd.CategoricalDtype)  # the fast path is taken
    fast, slow = _rebuilt_both_ways(fit, chosen, monkeypatch)
    np.testing.assert_array_equal(fast.X, slow.X)
    np.testing.assert_array_equal(fast.Z, slow.Z)
    assert fast.X.shape[0] == len(chosen)


def test_an_unseen_level_keeps_patsys_error(
    panels: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = panels["party-year"].dropna(subset=["fh_status"])
    fit = cpcstats.fit("contacts ~ ruling + C(fh_status)", frame)
    new = frame.iloc[:3].copy()
    new["fh_status"] = new["fh_status"].astype(object)
    new.iloc[1, new.columns.get_loc("fh_status")] = "Semi Free"
    messages = []
    for patched in (False, True):
        with monkeypatch.context() as m:
            if patched:
                import cpcstats.estimation.model_view as view_module

                m.setattr(view_module, "coded_text", lambda frame, infos: frame)
            with pytest.raises(cpcstats.errors.SpecError) as caught:
                design_matrices(model_view(fit, "predictions"), new)
            messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "'Semi Free'" in messages[0] and "'PF'" in messages[0]
