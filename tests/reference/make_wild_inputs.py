"""Inputs of the wild cluster score bootstrap reference (``wild_score_bootstrap.R``).

Writes ``data/wild_score_panel.csv`` (12 clusters x 10 periods, staggered adoption, a
Poisson outcome with unit and period effects, a continuous control ``x``) and
``data/wild_score_weights.csv`` (199 x 12 Webb weights, clusters in sorted label order), so
that R and cpcstats use the same draws.  Seeded numpy; floats with 17 significant digits.
Rerun: ``.venv/bin/python tests/reference/make_wild_inputs.py`` then
``Rscript tests/reference/wild_score_bootstrap.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N_UNITS, N_PERIODS, B = 12, 10, 199
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def panel(seed: int = 4) -> pd.DataFrame:
    """Units u00-u11; u00-u05 adopt in periods 3, 3, 5, 5, 7, 7 (effect 0.3), others never."""
    rng = np.random.default_rng(seed)
    first = [3, 3, 5, 5, 7, 7] + [np.nan] * (N_UNITS - 6)
    alpha = rng.normal(0.0, 0.5, N_UNITS)
    delta = rng.normal(0.0, 0.2, N_PERIODS)
    rows = []
    for i in range(N_UNITS):
        for t in range(N_PERIODS):
            post = float(not np.isnan(first[i]) and t >= first[i])
            x = rng.normal()
            mu = np.exp(0.4 + alpha[i] + delta[t] + 0.3 * post + 0.2 * x)
            rows.append((f"u{i:02d}", t, first[i], post, x, rng.poisson(mu)))
    return pd.DataFrame(rows, columns=["unit", "time", "first", "post", "x", "y"])


def main() -> None:
    data = HERE / "data"
    panel().to_csv(data / "wild_score_panel.csv", index=False, float_format="%.17g")
    rng = np.random.default_rng(7)
    w = pd.DataFrame(
        rng.choice(WEBB, size=(B, N_UNITS)), columns=[f"u{i:02d}" for i in range(N_UNITS)]
    )
    w.to_csv(data / "wild_score_weights.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
