"""Average predictions of design 1 against R, and the design's default and option.

Reference values: ``tests/reference/make_average_predictions.R`` (MASS::glm.nb / glm on
``tests/reference/data/panel.csv``, ``predict(type = "response")`` averaged over every
row with the cell's values set, delta-method SEs from ``sandwich::vcovCL(type = "HC1")``)
stored in ``fixtures/average_predictions.json``.  Tolerance: relative 1e-5, as in
test_r_reference.py (the R fits converge to ~1e-9).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import fit
from cpcstats.designs import ruling_regime
from cpcstats.errors import SpecError
from cpcstats.estimation.postestimation import estimation_sample, predict, predict_profiles

REF = Path(__file__).resolve().parent / "reference" / "fixtures" / "average_predictions.json"
CASES = json.loads(REF.read_text())["cases"]
RTOL = 1e-5
GRID = {"x2": [0, 1], "cat": ["A", "B", "C"]}


def _by_cell(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["x2", "cat"])


def _reference(case: str, column: str) -> pd.Series:
    cells = CASES[case]["cells"]
    return pd.Series({(int(c["x2"]), c["cat"]): c[column] for c in cells})


@pytest.fixture(scope="module")
def negbin(panel: pd.DataFrame):  # type: ignore[no-untyped-def]
    return fit("y ~ x2 * C(cat) + x1", panel, family="negbin", cluster="g")


def test_r_reference_gradients_agree() -> None:
    """The R script's analytic gradient matches its own numeric one (a check on the fixture)."""
    for case in CASES.values():
        assert max(c["max_abs_grad_diff"] for c in case["cells"]) < 1e-7


@pytest.mark.parametrize("case", ["negbin", "poisson"])
def test_average_predictions_match_r(panel: pd.DataFrame, negbin, case: str) -> None:  # type: ignore[no-untyped-def]
    model = (
        negbin
        if case == "negbin"
        else fit("y ~ x2 * C(cat) + x1", panel, family="poisson", exposure="expo", cluster="g")
    )
    out = _by_cell(ruling_regime.average_predictions(model, GRID))
    for column, ours in (("average", "predicted"), ("se_average", "std_error")):
        expected = _reference(case, column)
        np.testing.assert_allclose(out.loc[expected.index, ours], expected, rtol=RTOL)
    assert out.attrs["kind"] == "average" and out.attrs["n"] == CASES[case]["nobs"]
    # log-scale interval around the estimate
    half = 1.959963984540054 * out["std_error"] / out["predicted"]
    np.testing.assert_allclose(out["ci_lower"], out["predicted"] * np.exp(-half), rtol=1e-12)
    np.testing.assert_allclose(out["ci_upper"], out["predicted"] * np.exp(half), rtol=1e-12)


def test_at_means_option_matches_r(negbin) -> None:  # type: ignore[no-untyped-def]
    out = _by_cell(predict_profiles(negbin, GRID))
    for column, ours in (("at_means", "predicted"), ("se_at_means", "std_error")):
        expected = _reference("negbin", column)
        np.testing.assert_allclose(out.loc[expected.index, ours], expected, rtol=RTOL)


def test_average_is_the_mean_of_row_predictions(negbin) -> None:  # type: ignore[no-untyped-def]
    """The same average from cpcstats.predict on the modified estimation sample."""
    sample = estimation_sample(negbin)
    sample["x2"], sample["cat"] = 1, "C"
    rows = predict(negbin, sample)["predicted"]
    got = _by_cell(ruling_regime.average_predictions(negbin, GRID)).loc[(1, "C"), "predicted"]
    assert got == pytest.approx(rows.mean(), rel=1e-12)
    # and it differs from the prediction at means (Jensen: x1 enters non-linearly)
    at_means = _by_cell(predict_profiles(negbin, GRID)).loc[(1, "C"), "predicted"]
    assert abs(got - at_means) / at_means > 0.01


def test_bad_arguments(negbin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError):
        ruling_regime.average_predictions(negbin, {})
    with pytest.raises(SpecError):
        ruling_regime.average_predictions(negbin, GRID, level=1.5)
    with pytest.raises(SpecError, match="predictions must be one of"):
        ruling_regime.predicted_contacts(negbin, "at_medians")
