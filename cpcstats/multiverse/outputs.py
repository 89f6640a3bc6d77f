"""Everything a multiverse run writes besides the results file: figures and table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpcstats.multiverse.config import Multiverse
from cpcstats.multiverse.figures import curve_figure, influence_figure
from cpcstats.multiverse.summary import loo_shifts, write_summary

__all__ = ["quantity_label", "write_outputs"]


def quantity_label(mv: Multiverse) -> tuple[str, float]:
    """The axis label and the null value of the quantity (1 for an IRR, 0 for a coefficient)."""
    if mv.scale == "irr":
        return f"IRR of {mv.term}", 1.0
    return f"coefficient of {mv.term}", 0.0


def write_outputs(
    mv: Multiverse, results: pd.DataFrame, folder: Path, *, simulated: bool
) -> list[Path]:
    """Curve and influence figures (PDF+PNG) and the summary table (.tex/.md)."""
    label, null = quantity_label(mv)
    paths = [folder / "results.parquet"]
    if not (results["error"] == "").any():
        return paths
    figures = folder / "figures"
    paths += curve_figure(
        results, figures / "specification_curve", null=null, label=label, simulated=simulated
    )
    firsts = {d.name: d.options[0].name for d in mv.dimensions}
    shifts = loo_shifts(results, firsts)
    paths += influence_figure(shifts, figures / "leave_one_out", label=label, simulated=simulated)
    paths += write_summary(
        results, folder, "multiverse_summary", null=null, label=label, simulated=simulated
    )
    return paths
