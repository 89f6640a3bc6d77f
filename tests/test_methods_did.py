"""The generic DiD estimators of cpcstats.methods work on any column names.

A small synthetic panel with its own names (``y``, ``unit``, ``t``, ``first_treated``,
``d``) is fitted by the generic estimators and, renamed to the study's columns, by the
Taiwan and BRI designs: the estimates must be the same numbers, and the planted effect
must be recovered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpcstats.designs import bri, bri_imputation, taiwan
from cpcstats.methods.etwfe import etwfe
from cpcstats.methods.event_study import event_study
from cpcstats.methods.event_time import event_time_indicators
from cpcstats.methods.imputation import imputation

EFFECT = 0.5  # planted effect on the log scale, from the adoption period on
STUDY_NAMES = {"y": "contacts", "unit": "iso3", "t": "year"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """60 units over 2001-2012: cohorts adopting in 2005 and 2008, a third never."""
    rng = np.random.default_rng(3)
    periods = np.arange(2001, 2013)
    rows = []
    for i in range(60):
        g = (2005.0, 2008.0, np.nan)[i % 3]
        level = rng.normal(0.5, 0.4)
        for t in periods:
            d = int(not np.isnan(g) and t >= g)
            mu = np.exp(level + 0.03 * (t - 2001) + EFFECT * d)
            rows.append((f"U{i:02d}", int(t), g, d, int(rng.poisson(mu))))
    return pd.DataFrame(rows, columns=["unit", "t", "first_treated", "d", "y"])


def _as_taiwan(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(
        columns={**STUDY_NAMES, "first_treated": "prc_switch_year", "d": "recognizes_prc"}
    )


def _as_bri(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(
        columns={**STUDY_NAMES, "first_treated": "bri_signing_year", "d": "bri_member"}
    )


def test_event_time_indicators_use_the_given_columns(panel: pd.DataFrame) -> None:
    ind = event_time_indicators(
        panel, idname="unit", tname="t", gname="first_treated", leads=3, lags=3, reference=-1
    )
    assert ind.columns == ("ev_m3", "ev_m2", "ev_p0", "ev_p1", "ev_p2", "ev_p3")
    u00 = ind.data[ind.data["unit"] == "U00"].set_index("t")
    assert u00.loc[2004, list(ind.columns)].sum() == 0  # e = -1, the reference
    assert u00.loc[2001, "ev_m3"] == 1 and u00.loc[2012, "ev_p3"] == 1  # binned ends
    assert len(ind.events["event"]) == 40


@pytest.mark.parametrize("reference", ["pre", -1])
def test_event_study_equals_the_design_path(panel: pd.DataFrame, reference: int | str) -> None:
    generic = event_study(
        panel, yname="y", idname="unit", tname="t", gname="first_treated", reference=reference
    )
    design = taiwan.event_study(_as_taiwan(panel), reference=reference)
    a, b = generic.coefficients, design.coefficients
    assert list(a["term"]) == list(b["term"])
    np.testing.assert_array_equal(a["estimate"].to_numpy(), b["estimate"].to_numpy())
    np.testing.assert_array_equal(a["std_error"].to_numpy(), b["std_error"].to_numpy())
    assert a["n_units"].tolist() == b["n_countries"].tolist()
    test, design_test = generic.lead_tests["event"], design.leads_test
    assert test is not None and design_test is not None
    assert test.statistic == design_test.statistic and test.df == design_test.df
    assert generic.n_treated["event"] == design.n_switchers_sample == 40


def test_event_study_recovers_the_planted_jump(panel: pd.DataFrame) -> None:
    es = event_study(panel, yname="y", idname="unit", tname="t", gname="first_treated")
    post = es.coefficients[es.coefficients["status"] == "estimated"]
    assert len(post) == 6  # e = 0 ... 5 against the pooled pre-period
    assert abs(post["estimate"].mean() - EFFECT) < 0.1
    assert ((post["lower"] < EFFECT) & (post["upper"] > EFFECT)).mean() >= 0.5
    assert es.lead_tests["event"].p_value > 0.01


def test_etwfe_equals_the_design_path_and_recovers_the_effect(panel: pd.DataFrame) -> None:
    generic = etwfe(panel, yname="y", idname="unit", tname="t", gname="first_treated", dname="d")
    design = bri.etwfe_poisson(_as_bri(panel), controls=())
    assert generic.overall == design.overall
    np.testing.assert_array_equal(
        generic.event_time["log_effect"].to_numpy(), design.event_time["log_effect"].to_numpy()
    )
    assert generic.cohorts.cohorts == design.cohorts.cohorts == (2005, 2008)
    assert generic.pretrend is not None and design.pretrend is not None
    assert generic.pretrend.statistic == design.pretrend.statistic
    low, high = generic.ci("log_effect")
    assert low < EFFECT < high
    assert abs(generic.overall["log_effect"] - EFFECT) < 0.1


def test_imputation_equals_the_design_path_and_recovers_the_effect(panel: pd.DataFrame) -> None:
    """The generic imputation estimator and the BRI design's binding give the same numbers;
    with a constant effect and no cell without outcome it equals ETWFE (no controls)."""
    generic = imputation(
        panel, yname="y", idname="unit", tname="t", gname="first_treated", dname="d"
    )
    layout = bri.staggered_cohorts(_as_bri(panel))
    design = bri_imputation.imputation_poisson(layout, controls=())
    assert generic.overall == design.overall
    assert generic.lead_test is not None and design.lead_test is not None
    assert generic.lead_test.statistic == design.lead_test.statistic
    low, high = generic.ci("log_effect")
    assert low < EFFECT < high
    et = etwfe(
        panel, yname="y", idname="unit", tname="t", gname="first_treated", dname="d", leads=False
    )
    assert generic.overall["log_effect"] == pytest.approx(et.overall["log_effect"], abs=1e-9)
