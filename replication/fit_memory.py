"""What fitted models keep: five fits on a 10^6-row, 40-column panel, the memory they hold.

Why a script: a fitted model used to keep a copy of every column of every row it used
(its estimation sample), several hundred MB per model on a panel this size; it now keeps
the frame it was given plus row positions (`cpcstats.estimation.design.Design`).  Run it
on two checkouts to compare them (``PYTHONPATH`` picks the one imported):

    python replication/fit_memory.py
    PYTHONPATH=/path/to/other/checkout python replication/fit_memory.py

It prints the panel's size, the resident memory the five fitted models hold once
garbage is collected and freed pages are returned (`release_free_memory`), and the
seconds of the five fits.  The panel is SIMULATED (seeded): 5,000 units, 30 years,
1,000 missing values of ``x``.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import gc  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import cpcstats  # noqa: E402
from cpcstats.execution.memory import release_free_memory  # noqa: E402

ROWS = 1_000_000
FORMULAS = ("y ~ x", "y ~ x + c0", "y ~ x + c0 + c1", "y ~ x | unit + year", "y ~ x + c0 | unit")


def resident_mib() -> float:
    """This process's resident set, MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def panel(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """36 noise columns, unit and year codes, a regressor with missing values, counts."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"c{i}": rng.normal(size=rows) for i in range(36)})
    frame["unit"] = rng.integers(0, 5000, rows)
    frame["year"] = rng.integers(1990, 2020, rows)
    frame["x"] = rng.normal(size=rows)
    frame["y"] = rng.poisson(np.exp(0.2 * frame["x"]))
    frame.loc[rng.choice(rows, 1000, replace=False), "x"] = np.nan
    return frame


def main() -> None:
    frame = panel()
    gc.collect()
    release_free_memory()
    before = resident_mib()
    start = time.perf_counter()
    models = [
        cpcstats.fit(f, frame, family="fe-poisson" if "|" in f else "poisson", cluster="unit")
        for f in FORMULAS
    ]
    seconds = time.perf_counter() - start
    gc.collect()
    release_free_memory()
    held = resident_mib() - before
    size = frame.memory_usage().sum() / 2**20
    print(
        f"panel {ROWS:,} x {frame.shape[1]} ({size:.0f} MiB): {len(models)} fits hold "
        f"{held:.0f} MiB ({seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
