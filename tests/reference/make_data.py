"""Write the small deterministic datasets behind the R reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/make_data.py

Each dataset comes from its own seeded ``numpy.random.Generator`` (PCG64), so the
CSVs are the same on every run with the same numpy.  Floats are written with 17
significant digits, so R and Python read back exactly the same doubles.  The CSVs
are committed: the fixtures in ``fixtures/`` were computed from the committed files,
and ``make_fixtures.R`` records their MD5 sums.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
FLOAT_FORMAT = "%.17g"

PANEL_SEED = 20240601
ZEROS_SEED = 20240602
HURDLE_SEED = 20240603

# Clusters of the panel whose outcome is zero in every period (a unit that is never
# contacted).  Poisson and NB with cluster fixed effects must drop them.
ALL_ZERO_CLUSTERS = ("g07", "g19", "g33")


def _nb2(rng: np.random.Generator, mu: np.ndarray, theta: float) -> np.ndarray:
    """NB2 draws (Var = mu + mu^2/theta) as a gamma-Poisson mixture."""
    return rng.poisson(mu * rng.gamma(shape=theta, scale=1.0 / theta, size=mu.shape))


def _cluster_ids(n_clusters: int, n_rows: int) -> np.ndarray:
    ids = np.array([f"g{j:02d}" for j in range(1, n_clusters + 1)])
    return np.sort(np.resize(ids, n_rows))


def make_panel() -> pd.DataFrame:
    """40 clusters x 10 periods, NB2 outcome with a cluster random effect."""
    rng = np.random.default_rng(PANEL_SEED)
    n_g, n_t = 40, 10
    g = np.repeat([f"g{j:02d}" for j in range(1, n_g + 1)], n_t)
    t = np.tile(np.arange(1, n_t + 1), n_g)
    n = n_g * n_t
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n)
    cat = rng.choice(np.array(["A", "B", "C"]), size=n, p=[0.4, 0.35, 0.25])
    expo = np.where(rng.random(n) < 0.7, 12, rng.integers(1, 12, size=n))
    z1 = rng.normal(size=n)
    u = np.repeat(rng.normal(scale=0.6, size=n_g), n_t)  # cluster random effect
    tau = 0.04 * (t - 5.5)  # mild period trend
    cat_eff = np.select([cat == "B", cat == "C"], [0.3, -0.4], 0.0)
    eta = 0.45 + 0.4 * x1 - 0.5 * x2 + cat_eff + u + tau + np.log(expo / 12)
    y = _nb2(rng, np.exp(eta), theta=1.2)
    y[np.isin(g, ALL_ZERO_CLUSTERS)] = 0
    return pd.DataFrame(
        {"g": g, "t": t, "y": y, "x1": x1, "x2": x2, "cat": cat, "expo": expo, "z1": z1}
    )


def make_zeros() -> pd.DataFrame:
    """800 rows from a ZINB process: logit inflation on z1, NB2 count on x1, x2."""
    rng = np.random.default_rng(ZEROS_SEED)
    n = 800
    g = _cluster_ids(50, n)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, size=n)
    z1 = rng.normal(size=n)
    p_inflate = 1.0 / (1.0 + np.exp(-(-0.8 + 1.0 * z1)))
    mu = np.exp(0.8 + 0.5 * x1 - 0.5 * x2)
    count = _nb2(rng, mu, theta=1.5)
    y = np.where(rng.random(n) < p_inflate, 0, count)
    return pd.DataFrame({"g": g, "y": y, "x1": x1, "x2": x2, "z1": z1})


def make_hurdle() -> pd.DataFrame:
    """800 rows from a hurdle process: logit for y > 0 on z1, zero-truncated NB2 on x1, x2."""
    rng = np.random.default_rng(HURDLE_SEED)
    n = 800
    g = _cluster_ids(50, n)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, size=n)
    z1 = rng.normal(size=n)
    p_positive = 1.0 / (1.0 + np.exp(-(0.3 + 0.8 * z1)))
    mu = np.exp(0.7 + 0.5 * x1 - 0.4 * x2)
    theta = 2.0
    positive = rng.random(n) < p_positive
    y = np.zeros(n, dtype=int)
    for i in np.flatnonzero(positive):  # zero-truncated NB2 by rejection
        draw = 0
        while draw == 0:
            draw = int(_nb2(rng, mu[i : i + 1], theta)[0])
        y[i] = draw
    return pd.DataFrame({"g": g, "y": y, "x1": x1, "x2": x2, "z1": z1})


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("panel", make_panel()),
        ("zeros", make_zeros()),
        ("hurdle", make_hurdle()),
    ):
        path = DATA / f"{name}.csv"
        frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        zero_share = float((frame["y"] == 0).mean())
        print(f"{path.relative_to(HERE.parent.parent)}: {len(frame)} rows, {zero_share:.1%} zeros")


if __name__ == "__main__":
    main()
