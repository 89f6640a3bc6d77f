"""Synthetic panels for the size and power of the Xi-era break tests (helper module).

The process deliberately differs from every estimator of `cpcstats.methods.breaks`:
common year shocks (normal on the log scale, SD ``year_sd``; AR(1) with ``rho``), NB2
overdispersion within unit-years (``alpha``), unit heterogeneity in levels and in trends
(SD ``trend_sd`` per year), and optionally a step of ``step`` on the log scale at
``break_year``.  Used by tests/reference/xi_break_size.py and tests/test_design_xi.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_panel(
    seed: int,
    *,
    units: int = 80,
    first: int = 2002,
    last: int = 2019,
    year_sd: float = 0.10,
    rho: float = 0.0,
    alpha: float = 0.3,
    trend: float = 0.04,
    trend_sd: float = 0.01,
    level_sd: float = 0.8,
    base: float = 0.5,
    step: float = 0.0,
    break_year: int = 2013,
) -> pd.DataFrame:
    """Unit-year counts ``y`` with columns ``unit``, ``t``; attrs hold the truth."""
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    shocks = np.empty(len(years))
    shocks[0] = rng.normal(0, year_sd)
    for i in range(1, len(years)):  # stationary AR(1) with marginal SD year_sd
        shocks[i] = rho * shocks[i - 1] + rng.normal(0, year_sd * np.sqrt(1 - rho**2))
    level = rng.normal(base, level_sd, units)
    slope = trend + rng.normal(0, trend_sd, units)
    unit = np.repeat(np.arange(units), len(years))
    t = np.tile(years, units)
    centred = t - years.mean()
    eta = level[unit] + slope[unit] * centred + shocks[t - first] + step * (t >= break_year)
    mu = np.exp(eta)
    lam = mu * rng.gamma(1 / alpha, alpha, size=len(mu)) if alpha > 0 else mu
    frame = pd.DataFrame({"unit": unit, "t": t, "y": rng.poisson(lam)})
    frame.attrs["truth"] = {"step": step, "break_year": break_year, "year_sd": year_sd}
    return frame


def yearly(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel's yearly totals (a series: one row per ``t``)."""
    return frame.groupby("t", as_index=False)["y"].sum()
