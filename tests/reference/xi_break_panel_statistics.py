"""Which panel bootstrap statistic keeps its size under year shocks (LM, Wald, Wald-u)?

Run from the repository root (about 2 minutes per setting):

    .venv/bin/python tests/reference/xi_break_panel_statistics.py 100 0.01
    .venv/bin/python tests/reference/xi_break_panel_statistics.py 100 0.0

100 null panels (`xi_break_sim.synthetic_panel`, 40 units x 22 years, year shocks SD 0.10,
NB2 alpha 0.3, unit-trend SD as the second argument), 199 wild bootstrap replicates; prints
the rejection rates at 5 % of the sup level test, the sup level-and-trend test and the
known-2013 test for each statistic of `cpcstats.methods.break_bootstrap.panel_score_bootstrap`.
Results are in tests/reference/xi_break_panel_statistics.md; they chose the default "lm".
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from xi_break_sim import synthetic_panel

from cpcstats.methods.break_design import BootstrapOptions, bootstrap_test
from cpcstats.methods.break_model import break_setting

STATISTICS = ("lm", "wald", "wald-u")
TESTS = ((list(range(2006, 2021)), 1), (list(range(2007, 2020)), 2), ([2013], 2))


def main(draws: int, trend_sd: float) -> np.ndarray:
    """Rejection rates: rows sup level / sup level+trend / known 2013; columns STATISTICS."""
    rows = []
    for seed in range(draws):
        panel = synthetic_panel(1000 + seed, units=40, first=2002, last=2023, trend_sd=trend_sd)
        s = break_setting(panel, yname="y", tname="t", idname="unit", se="driscoll-kraay")
        rows.append(
            [
                bootstrap_test(s, cands, p, BootstrapOptions(reps=199, statistic=stat)).p_value
                for cands, p in TESTS
                for stat in STATISTICS
            ]
        )
    return (np.array(rows) < 0.05).mean(axis=0).reshape(len(TESTS), len(STATISTICS))


if __name__ == "__main__":
    n, sd = int(sys.argv[1]), float(sys.argv[2])
    print(f"trend_sd {sd}: rows sup level / sup level+trend / known 2013; cols {STATISTICS}")
    print(main(n, sd))
