"""The ``design_bri`` figure: ETWFE effects by event time, leads and lags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import stats

from cpcstats.methods.etwfe import ETWFEResult
from cpcstats.methods.imputation import ImputationResult
from cpcstats.reporting.style import finish_figure, new_figure, style

__all__ = ["plot_event_time"]

Z95 = float(stats.norm.ppf(0.975))


def plot_event_time(
    et: ETWFEResult,
    *,
    stem: Path,
    simulated: bool,
    planted: float | None = None,
    imputation: ImputationResult | None = None,
) -> list[Path]:
    """Event-time effects on the log scale, leads (leads model) and lags, with the 95 %
    CIs each estimator reports (imputation: t with few-cluster df);
    with ``imputation``, its event-time effects (zero cells kept) beside ETWFE's, shifted
    a little to the right so the intervals do not overlap."""
    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.3", linewidth=1.0, zorder=1)
        ax.axvline(-0.5, color="0.55", linestyle=":", linewidth=1.0, zorder=1)
        series = [("Lags (ETWFE)", et.event_time, "o", "tab:blue", 0.0)]
        if et.leads is not None and not et.leads.empty:
            series.insert(0, ("Leads (leads model)", et.leads, "s", "tab:orange", 0.0))
        if imputation is not None:
            ev = imputation.event_time
            ev = ev[np.isfinite(ev["log_effect"].to_numpy(dtype=float))]
            series.append(("Lags (imputation)", ev, "^", "tab:green", 0.2))
        for label, frame, marker, colour, shift in series:
            ax.errorbar(
                frame["event_time"].to_numpy(dtype=float) + shift,
                frame["log_effect"].to_numpy(dtype=float),
                yerr=_error_bars(frame),
                fmt=marker,
                color=colour,
                capsize=2.5,
                markersize=4.5,
                elinewidth=1.2,
                label=label,
            )
        ax.plot(
            [-1],
            [0.0],
            marker="D",
            color="0.3",
            markerfacecolor="white",
            linestyle="none",
            label="Reference year (e = −1)",
        )
        if planted is not None:
            ax.axhline(
                planted,
                color="tab:red",
                linestyle="--",
                linewidth=1.0,
                label=f"Planted effect ({planted:g}, simulated)",
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Years since BRI signing (e = year − signing year)")
        ax.set_ylabel("Effect on log expected contacts (95% CI)")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        return finish_figure(fig, stem, simulated=simulated)


def _error_bars(frame: pd.DataFrame) -> np.ndarray:
    """Distances to the reported interval (the imputation's is t-based), else 1.96 SE."""
    est = frame["log_effect"].to_numpy(dtype=float)
    if {"log_effect_lower", "log_effect_upper"} <= set(frame.columns):
        low = frame["log_effect_lower"].to_numpy(dtype=float)
        high = frame["log_effect_upper"].to_numpy(dtype=float)
        return np.vstack([est - low, high - est])
    return np.vstack([Z95 * frame["log_effect_se"].to_numpy(dtype=float)] * 2)
