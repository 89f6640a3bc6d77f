"""Write the shipped null draws of the sup-Wald break test (rerun after changing the
simulation in `cpcstats.methods.break_critical`):

    python replication/make_null_draws.py

The file is ``cpcstats/reference/andrews_null_draws.npy``: one row per dimension of
`STORED_NULL_DIMS` (p = 1, 2), the sorted draws of a new simulation at 15 % trimming with
the default replications, steps and seed; ``np.save`` writes the same bytes for the same
numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cpcstats.methods.break_critical import (
    STORED_NULL_DIMS,
    STORED_NULL_DRAWS,
    STORED_NULL_TRIM,
    simulate_null_draws,
)

TARGET = Path(__file__).resolve().parents[1] / "cpcstats" / "reference" / STORED_NULL_DRAWS


def main() -> Path:
    draws = simulate_null_draws(STORED_NULL_DIMS, STORED_NULL_TRIM)
    np.save(TARGET, np.vstack([draws[p] for p in STORED_NULL_DIMS]), allow_pickle=False)
    return TARGET


if __name__ == "__main__":
    print(main())
