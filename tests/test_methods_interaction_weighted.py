"""Interaction-weighted event study (Sun and Abraham) for a Poisson mean: known truth.

A seeded staggered panel where early cohorts' effects grow with event time and late
cohorts' effects are flat: the TWFE event study with binned endpoints is biased at e = 0, 1
(the pooled e >= 2 bin leaks through the unit effects), the IW estimator recovers the
cohort-share weighted truth.  Both are asserted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpcstats.errors import EstimationError, SpecError
from cpcstats.methods.event_study import event_study
from cpcstats.methods.interaction_weighted import interaction_weighted

COHORTS = [2, 5, 12, 15]
PER_COHORT = 8


def effect(g: float, e: float) -> float:
    """Early cohorts: 0.15 e (growing); late cohorts: a flat 0.3; nothing before e = 0."""
    if np.isnan(e) or e < 0:
        return 0.0
    return 0.15 * e if g < 8 else 0.3


def panel(seed: int, n_units: int = 80, n_periods: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.full(n_units, np.nan)
    g[: len(COHORTS) * PER_COHORT] = np.repeat(COHORTS, PER_COHORT)
    alpha = rng.normal(0, 0.4, n_units)
    delta = rng.normal(0, 0.15, n_periods)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    tau = np.array([effect(g[u], s - g[u]) for u, s in zip(unit, t, strict=True)])
    y = rng.poisson(np.exp(2.5 + alpha[unit] + delta[t] + tau))
    return pd.DataFrame({"unit": unit, "t": t, "g": g[unit], "y": y})


def truth(e: int) -> float:
    """Cohort-share weighted log effect at e (equal cohort sizes, every cohort observed)."""
    return float(np.mean([effect(g, e) for g in COHORTS]))


@pytest.fixture(scope="module")
def fits() -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    out = []
    for seed in range(3):
        data = panel(seed)
        kw = dict(yname="y", idname="unit", tname="t", gname="g", leads=3, lags=2)
        iw = interaction_weighted(data, **kw)
        tw = event_study(data, **kw)
        out.append((iw.effects.set_index("event_time"), tw.coefficients.set_index("event_time")))
    return out


def test_iw_recovers_heterogeneous_effects_where_twfe_is_biased(fits: list) -> None:
    iw = np.array([[f[0].loc[e, "estimate"] for e in (-3, -2, 0, 1)] for f in fits]).mean(0)
    tw = np.array([[f[1].loc[e, "estimate"] for e in (0, 1)] for f in fits]).mean(0)
    target = np.array([truth(e) for e in (-3, -2, 0, 1)])
    # IW: leads near 0, e = 0, 1 near the truth (0.15, 0.225); 3-draw mean SE about 0.02-0.04
    np.testing.assert_allclose(iw, target, atol=0.06)
    # TWFE: both lags below the truth by more than 0.15 (measured: about -0.2 vs 0.15)
    assert (tw < target[2:] - 0.15).all()


def test_iw_effects_are_share_weighted_cells(fits: list) -> None:
    data = panel(0)
    iw = interaction_weighted(data, yname="y", idname="unit", tname="t", gname="g", leads=3, lags=2)
    cells = iw.cells[iw.cells["status"] == "estimated"]
    for e in (-2, 0, 1, 2):
        c = cells[cells["event_time"] == e]
        w = c["n_units"] / c["n_units"].sum()
        row = iw.effects.set_index("event_time").loc[e]
        assert row["estimate"] == pytest.approx(float(w @ c["estimate"]), rel=1e-12)
        assert row["ratio"] == pytest.approx(float(w @ np.exp(c["estimate"])), rel=1e-12)
        assert row["std_error"] == max(row["std_error_cr1"], row["std_error_model"])
        assert row["lower"] < row["estimate"] < row["upper"]
        assert row["ratio_lower"] < row["ratio"] < row["ratio_upper"]
    assert iw.effects.set_index("event_time").loc[-1, "status"] == "reference"
    assert iw.lead_test["df"] == 2 and 0 <= iw.lead_test["p_value"] <= 1


def test_last_treated_control_and_errors() -> None:
    data = panel(1)
    treated_only = data[data["g"].notna()]
    kw = dict(yname="y", idname="unit", tname="t", gname="g", leads=2, lags=1)
    with pytest.raises(EstimationError, match="never-treated"):
        interaction_weighted(treated_only, **kw)
    last = interaction_weighted(treated_only, control="last", **kw)
    assert 15 not in set(last.cells["cohort"])
    assert last.model.design.frame["t"].max() < 15
    with pytest.raises(SpecError):
        interaction_weighted(data, control="not-yet", **kw)


def test_singleton_cohort_cells_get_the_model_based_se() -> None:
    """One unit per cohort: its cells are fitted exactly by their own indicators, so the
    clustered SE collapses; the reported SE is the quasi-Poisson model-based one."""
    rng = np.random.default_rng(4)
    n, T = 40, 12
    g = np.full(n, np.nan)
    g[:4] = [3, 5, 7, 9]
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(T), n)
    y = rng.poisson(np.exp(1.0 + rng.normal(0, 0.3, n)[unit]))
    data = pd.DataFrame({"unit": unit, "t": t, "g": g[unit], "y": y})
    iw = interaction_weighted(
        data, yname="y", idname="unit", tname="t", gname="g", leads=2, lags=2, reference="pre"
    )
    row = iw.effects.set_index("event_time").loc[0]
    assert row["std_error_cr1"] < 0.5 * row["std_error_model"]
    assert row["std_error"] == row["std_error_model"]
    # model-based: about sqrt(1/sum mu) per cell averaged over 4 cells of ~e^1 counts
    assert 0.1 < row["std_error_model"] < 0.6
