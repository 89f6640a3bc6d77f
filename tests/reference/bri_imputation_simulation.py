"""Coverage of the imputation SEs and size/power of the binned lead test (helper "bri").

Why: the imputation estimator's SE (stacked influence function, untreated model
included) and the binned lead test must be checked against known truth.  Draws from
`tests.sim_staggered.sparse_cohorts` (cohort-heterogeneous growing effects, year shocks,
sparse cohorts with all-zero cells); for every draw: the imputation log ATT, its SE, the
ETWFE-with-dropped-cells value (the imputation over the non-zero cells, which equals
ETWFE exactly: `tests/test_methods_imputation.py`), the binned lead test's p-value
without and with a planted pre-trend.  Run from the repository root:

    PYTHONPATH=. .venv/bin/python tests/reference/bri_imputation_simulation.py 200
    PYTHONPATH=. .venv/bin/python tests/reference/bri_imputation_simulation.py --wild 100

Writes ``tests/reference/bri_imputation_simulation.md``; with ``--wild N`` the size of the
wild cluster score bootstrap p-value of the binned lead test (Webb weights, 399 draws, null
draws only: one FE-Poisson refit each) goes to ``bri_imputation_simulation_wild.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.methods.imputation import imputation
from cpcstats.methods.wild_bootstrap import wild_score_test
from tests.sim_staggered import COLUMNS, sparse_cohorts

OUT = Path(__file__).with_suffix(".md")
PRETREND = 0.04


def nonzero_cells_log_effect(imputed: pd.DataFrame) -> float:
    """The aggregate over cells with some outcome: what ETWFE reports when it drops cells."""
    cell = imputed.groupby(["cohort", "t"])[["y", "mu0"]].sum()
    kept = cell[cell["y"] > 0]
    return float(np.log(kept["y"].sum() / kept["mu0"].sum()))


def draw(seed: int) -> dict[str, float]:
    frame, truth = sparse_cohorts(seed)
    r = imputation(frame, **COLUMNS, dname="d")
    o = r.overall
    pre, _ = sparse_cohorts(seed, pretrend=PRETREND)
    lead = imputation(pre, **COLUMNS, dname="d").lead_test
    bal = r.balanced.set_index("event_time")
    return {
        "seed": seed,
        "truth": truth["log_effect"],
        "imputation": o["log_effect"],
        "se": o["log_effect_se"],
        "lower": o["log_effect_lower"],
        "upper": o["log_effect_upper"],
        "se_model": o["log_effect_se_model"],
        "etwfe_dropped": nonzero_cells_log_effect(r.imputed),
        "zero_cells": r.zero_cells,
        "lead_p_null": np.nan if r.lead_test is None else r.lead_test.p_value_wald,
        "lead_df": np.nan if r.lead_test is None else r.lead_test.df,
        "lead_p_trend": np.nan if lead is None else lead.p_value_wald,
        "score_p_null": np.nan if r.lead_test is None else r.lead_test.p_value,
        "score_p_trend": np.nan if lead is None else lead.p_value,
        "bal_e0": bal["log_effect"].iloc[0],
        "bal_e0_se": bal["log_effect_se"].iloc[0],
    }


def main(n: int) -> None:
    start = time.time()
    rows = pd.DataFrame([draw(s) for s in range(1000, 1000 + n)])
    err = rows["imputation"] - rows["truth"]
    # the reported interval: t with (treated clusters - 1) df, leave-out residuals
    cover = ((rows["lower"] <= rows["truth"]) & (rows["truth"] <= rows["upper"])).mean()
    et_err = rows["etwfe_dropped"] - rows["truth"]
    mc = 1.96 * np.sqrt(0.05 * 0.95 / n)
    lines = [
        f"# Imputation estimator: coverage and binned lead test ({n} draws, "
        f"{time.time() - start:.0f} s)",
        "",
        "Process: `tests.sim_staggered.sparse_cohorts` (defaults; pre-trend draws add "
        f"{PRETREND} a year before adoption).",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| mean truth log ATT | {rows['truth'].mean():.4f} |",
        f"| imputation bias (log) | {err.mean():+.4f} (MC SE {err.std() / np.sqrt(n):.4f}) |",
        f"| ETWFE with all-zero cells dropped, bias (log) | {et_err.mean():+.4f} |",
        f"| mean all-zero treated cells per draw | {rows['zero_cells'].mean():.1f} |",
        f"| SD of imputation estimate | {err.std():.4f} |",
        f"| mean SE (full stacked IF) | {rows['se'].mean():.4f} |",
        f"| mean SE, untreated-model part only | {rows['se_model'].mean():.4f} |",
        f"| 95 % CI coverage | {cover:.1%} (MC band ±{mc:.1%}) |",
        f"| binned lead test df | {int(rows['lead_df'].median())} |",
        f"| binned lead Wald test (comparison) size at 5 % | "
        f"{(rows['lead_p_null'] < 0.05).mean():.1%} |",
        f"| binned lead Wald test (comparison) power, pre-trend {PRETREND}/yr | "
        f"{(rows['lead_p_trend'] < 0.05).mean():.1%} |",
        f"| binned lead robust score test (reported p) size at 5 % | "
        f"{(rows['score_p_null'] < 0.05).mean():.1%} |",
        f"| binned lead robust score test (reported p) power, pre-trend {PRETREND}/yr | "
        f"{(rows['score_p_trend'] < 0.05).mean():.1%} |",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def wild_size(n: int) -> None:
    """Size of the binned lead test: analytic Wald p and wild score bootstrap p, null draws."""
    start = time.time()
    rows = []
    for seed in range(1000, 1000 + n):
        frame, _ = sparse_cohorts(seed)
        lead = imputation(frame, **COLUMNS, dname="d").lead_test
        if lead is None or lead.data is None:
            continue
        w = wild_score_test(
            lead.data,
            yname="y",
            xnames=list(lead.terms),
            fe=["unit", "t"],
            cluster="unit",
            restriction=list(lead.terms),
            B=399,
            seed=seed,
        )
        rows.append((lead.p_value_wald, w.p_analytic, w.p_bootstrap))
    p = np.array(rows)
    lines = [
        f"# Binned lead test under the null: wild score bootstrap ({len(p)} draws, "
        f"{time.time() - start:.0f} s)",
        "",
        "| p-value | rejects at 5 % |",
        "|---|---|",
        f"| Wald, chi2(4), clustered | {(p[:, 0] < 0.05).mean():.1%} |",
        f"| robust score, chi2 (CR1) | {(p[:, 1] < 0.05).mean():.1%} |",
        f"| wild score bootstrap (Webb, 399) | {(p[:, 2] < 0.05).mean():.1%} |",
        f"| MC band (±1.96 SE at 5 %) | ±{1.96 * np.sqrt(0.05 * 0.95 / len(p)):.1%} |",
    ]
    Path(__file__).with_name("bri_imputation_simulation_wild.md").write_text(
        "\n".join(lines) + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--wild":
        wild_size(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
