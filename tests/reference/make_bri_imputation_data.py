"""Write ``data/imputation_panel.csv``: the staggered panel of the imputation R reference.

A seeded draw of `tests.sim_staggered.sparse_cohorts` (small: 40 never-treated units, two
large and four sparse cohorts, 2001-2014, so some treated cohort-year cells are all zero)
plus a time-varying covariate ``w`` (N(0, 1), no effect).  Run from the repository root:

    PYTHONPATH=. .venv/bin/python tests/reference/make_bri_imputation_data.py
    Rscript tests/reference/make_bri_imputation.R
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.sim_staggered import sparse_cohorts

OUT = Path(__file__).parent / "data" / "imputation_panel.csv"
COHORTS = (
    (2005, 10, 0.5, 0.6),
    (2007, 10, 0.5, 0.2),
    (2009, 2, -0.3, -1.0),
    (2010, 2, -0.3, -1.0),
    (2011, 2, -0.3, -1.0),
    (2012, 2, -0.3, -1.0),
)


def main() -> None:
    frame, _ = sparse_cohorts(20261201, cohorts=COHORTS, n_never=40, last=2014)
    frame["w"] = np.random.default_rng(7).normal(0.0, 1.0, len(frame))
    cols = ["unit", "t", "g", "d", "y", "x", "w"]
    frame[cols].to_csv(OUT, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
