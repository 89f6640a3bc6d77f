"""Simulated staggered-adoption count panels with known truth (shared by the DiD tests).

Why here: the imputation and ETWFE tests, the coverage simulation and the lead-test
simulation need the same process: unit and year effects (with common year shocks),
cohort-heterogeneous effects that grow with event time, many small sparse cohorts (so
some treated cohort-year cells have no contact at all) and optionally a planted
differential pre-trend of the eventually treated units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = {"yname": "y", "idname": "unit", "tname": "t", "gname": "g"}


#: (adoption year, units, mean log level, effect at adoption) of the default cohorts: two
#: large cohorts and ten small sparse ones whose effect is negative (their cells are often 0)
SPARSE = (
    (2005, 15, 0.5, 0.6),
    (2007, 15, 0.5, 0.2),
    *((g, 2, -0.3, -1.0) for g in range(2008, 2018)),
)


def sparse_cohorts(
    seed: int,
    *,
    cohorts: tuple[tuple[int, int, float, float], ...] = SPARSE,
    n_never: int = 100,
    never_level: float = 0.5,
    first: int = 2001,
    last: int = 2018,
    growth: float = 0.05,
    pretrend: float = 0.0,
    year_sd: float = 0.1,
    unit_sd: float = 0.3,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """A panel and its truth: ``log_effect`` = log(sum mu1 / sum mu0) over treated rows.

    Cohort (g, size, level, tau) has unit effects around ``level`` and the effect
    tau + growth * (s - g) in year s >= g.  With the defaults about 8 % of the treated
    rows' counterfactual mean sits in cohort-year cells that are all zero, the cells
    ETWFE drops.  ``pretrend`` adds pretrend * (t - g) before adoption to the eventually
    treated units (a violated parallel trend).  Columns: unit, t, g (NaN = never), d, y,
    x (time-invariant, unrelated to y), and the expected counts mu0, mu1.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    spec = [(np.nan, n_never, never_level, 0.0), *cohorts]
    g = np.concatenate([np.full(n, c) for c, n, _, _ in spec])
    tau_of = np.concatenate([np.full(n, tau) for _, n, _, tau in spec])
    lvl = np.concatenate([np.full(n, level) for _, n, level, _ in spec])
    n = len(g)
    alpha = lvl + rng.normal(0.0, unit_sd, n)
    lam = 0.03 * (years - first) + rng.normal(0.0, year_sd, len(years))
    frame = pd.DataFrame(
        {"unit": np.repeat([f"U{i:03d}" for i in range(n)], len(years)), "t": np.tile(years, n)}
    )
    frame["g"] = np.repeat(g, len(years))
    frame["x"] = np.repeat(rng.normal(0.0, 1.0, n), len(years))
    since = (frame["t"] - frame["g"]).to_numpy()
    treated = np.nan_to_num(since, nan=-1.0) >= 0
    frame["d"] = treated.astype(int)
    tau = np.where(treated, np.repeat(tau_of, len(years)) + growth * np.nan_to_num(since), 0.0)
    trend = np.where(~treated & ~np.isnan(since), pretrend * np.nan_to_num(since), 0.0)
    mu0 = np.exp(np.repeat(alpha, len(years)) + np.tile(lam, n) + trend)
    mu1 = mu0 * np.exp(tau)
    frame["y"] = rng.poisson(mu1)
    frame["mu0"], frame["mu1"] = mu0, mu1
    truth = {
        "log_effect": float(np.log(mu1[treated].sum() / mu0[treated].sum())),
        "att_count": float((mu1 - mu0)[treated].mean()),
    }
    return frame, truth
