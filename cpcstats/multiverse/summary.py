"""The multiverse table (distribution of estimates, share significant by dimension) and
the leave-one-out shifts.

Why by option: the question a specification curve answers is "which choice matters";
the share of significant estimates and the median within each option of each dimension
answer it in numbers that the figure shows in shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.multiverse.expand import option_base
from cpcstats.multiverse.figures import dimension_columns, significant, usable
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table

__all__ = ["TABLE_HEADERS", "loo_shifts", "summary_frame", "write_summary"]

TABLE_HEADERS = {
    "specifications": "specs",
    "share significant": "sig.",
    "share sig. above null": "sig. > null",
}
"""Short column heads for the table (a portrait page), explained in its note."""


def _stats(group: pd.DataFrame, null: float) -> dict[str, float]:
    ok = group[group["error"] == ""]
    sig = significant(ok)  # a fit without a usable standard error is never significant
    good = usable(ok)
    est = ok["estimate"][good]  # percentiles over fits that are results only
    return {
        "specifications": len(group),
        "failed": int((group["error"] != "").sum()),
        "unusable": int((~good).sum()),
        "median": float(est.median()) if len(est) else np.nan,
        "p5": float(est.quantile(0.05)) if len(est) else np.nan,
        "p95": float(est.quantile(0.95)) if len(est) else np.nan,
        "share significant": float(sig.mean()) if len(ok) else np.nan,
        "share sig. above null": float((sig & (ok["estimate"] > null)).mean())
        if len(ok)
        else np.nan,
    }


def summary_frame(results: pd.DataFrame, null: float) -> pd.DataFrame:
    """One row for all specifications, then one per option of every dimension."""
    rows = {"all specifications": _stats(results, null)}
    for dim in dimension_columns(results):
        base = results[dim].map(option_base)
        for option in dict.fromkeys(base):
            rows[f"{dim[4:]}: {option}"] = _stats(results[base == option], null)
    return pd.DataFrame.from_dict(rows, orient="index")


def loo_shifts(results: pd.DataFrame, firsts: dict[str, str]) -> pd.DataFrame:
    """Estimate minus that of the same specification without the left-out unit or group.

    A leave-one-out option is named ``<option>:<left out>``; its counterpart has the same
    choices in every other dimension and the dimension's first option (``firsts``).
    """
    fitted = results[results["error"] == ""]
    ok = fitted[usable(fitted)]
    dims = dimension_columns(ok)
    out = []
    for dim in dims:
        loo = ok[ok[dim].str.contains(":", regex=False)]
        others = [d for d in dims if d != dim]
        plain = ok[ok[dim] == firsts.get(dim[4:], "")]
        if loo.empty or plain.empty:
            continue
        base = {tuple(r[d] for d in others): r["estimate"] for r in plain.to_dict("records")}
        for r in loo.to_dict("records"):
            key = tuple(r[d] for d in others)
            if key in base:
                out.append((r[dim].split(":", 1)[1], dim[4:], r["estimate"] - base[key]))
    return pd.DataFrame(out, columns=["left_out", "dimension", "shift"])


def write_summary(
    results: pd.DataFrame, out: Path, stem: str, *, null: float, label: str, simulated: bool
) -> list[Path]:
    """The table (``out/tables/<stem>.tex/.md``) through the shared table writer."""
    frame = summary_frame(results, null).rename(columns=TABLE_HEADERS)
    table = stats_table(
        frame,
        title=f"Specification curve: distribution of the {label}",
        label=f"tab:{stem}",
        notes=(
            f"Significant: p < 0.05 (the 95 % interval excludes {null:g}); fits without a usable "
            "standard error count as not significant (sig.: share significant; sig. > null: "
            "significant above the null). Unusable: fitted but not converged or "
            "without a finite standard error (left out of median, p5 and p95: the 5th and "
            "95th percentiles of the estimates over specifications).",
        ),
        digits={"specs": 0, "failed": 0, "unusable": 0, "sig.": 2, "sig. > null": 2},
        simulated=simulated,
    )
    return write_table(table, out, stem)
