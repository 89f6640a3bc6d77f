"""``C`` in formulas (`cpcstats.formula.limits.categorical`): a Categorical without a
contrast or levels reaches patsy bare, so patsy reads its codes instead of checking
every cell; with a contrast or levels, or on other data, it is patsy's own ``C``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import patsy.missing
import pytest
from patsy.categorical import _CategoricalBox

from cpcstats.formula import FORMULA_NAMESPACE
from cpcstats.formula.limits import categorical


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    status = rng.choice(["Free", "Not Free", "Partly Free"], 500)
    return pd.DataFrame({"y": rng.poisson(2, 500), "status": status, "x": rng.normal(size=500)})


def _design(text: str, data: pd.DataFrame) -> pd.DataFrame:
    env = patsy.EvalEnvironment([dict(FORMULA_NAMESPACE)])
    _, X = patsy.dmatrices(text, data, return_type="dataframe", NA_action="raise", eval_env=env)
    return X


def test_only_a_plain_categorical_skips_the_box(frame: pd.DataFrame) -> None:
    codes = frame["status"].astype("category")
    assert categorical(codes) is codes
    assert isinstance(categorical(codes, patsy.Treatment("Free")), _CategoricalBox)
    assert isinstance(
        categorical(codes, levels=["Partly Free", "Free", "Not Free"]), _CategoricalBox
    )
    assert isinstance(categorical(frame["status"]), _CategoricalBox)  # text: patsy's path
    assert isinstance(categorical(frame["x"].round()), _CategoricalBox)  # numbers too


@pytest.mark.parametrize(
    "text",
    [
        "y ~ C(status) + x",
        "y ~ C(status) * x",
        "y ~ C(status, Treatment('Partly Free')) + x",
        "y ~ C(status, levels=['Partly Free', 'Not Free', 'Free'])",
    ],
)
def test_the_design_is_patsys_on_the_text(frame: pd.DataFrame, text: str) -> None:
    as_categorical = frame.assign(status=pd.Categorical(frame["status"]))
    expected = patsy.dmatrices(text, frame.astype({"status": object}), return_type="dataframe")[1]
    pd.testing.assert_frame_equal(_design(text, as_categorical), expected)


def test_a_plain_categorical_is_read_through_its_codes(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = []
    original = patsy.missing.NAAction.is_categorical_NA

    def counting(self: patsy.missing.NAAction, value: object) -> bool:
        checked.append(value)
        return original(self, value)

    monkeypatch.setattr(patsy.missing.NAAction, "is_categorical_NA", counting)
    _design("y ~ C(status) + x", frame.assign(status=pd.Categorical(frame["status"])))
    assert len(checked) < len(frame)  # not once per row, as inside patsy's C box
