"""The Xi-era break design's figure: the yearly series with its fitted break, and the
sup-Wald profiles over candidate years (drawn with the public `cpcstats.reporting.style`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.methods.breaks import LEVEL, TREND, TREND_SHIFT, KnownBreak, SupWald
from cpcstats.reporting.style import finish_figure, new_figure, style

__all__ = ["xi_figure"]


def _fitted_series(kb: KnownBreak, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted means at ``years`` of the pre-break regime and of the post-break regime.

    Both are evaluated at every year given, so the pre-break curve beyond the
    break is the counterfactual "pre-break trend continued".
    """
    b = kb.result.params
    t = years - kb.break_year
    pre = b.get("Intercept", 0.0) + b[TREND] * t
    return np.exp(pre), np.exp(pre + b[LEVEL] + b[TREND_SHIFT] * t)


def _series_panel(ax: Any, yearly: pd.DataFrame, kb: KnownBreak, years: np.ndarray) -> None:
    fine = np.linspace(years.min(), years.max(), 400)
    ax.plot(years, yearly["contacts"], "o", color="black", markersize=4, label="Contacts")
    by = kb.break_year
    pre_years = fine[fine <= by - 0.5]
    post_years = fine[fine >= by - 0.5]
    ax.plot(pre_years, _fitted_series(kb, pre_years)[0], color="tab:blue", label="Fitted")
    counterfactual, post_fit = _fitted_series(kb, post_years)
    ax.plot(post_years, post_fit, color="tab:blue")
    ax.plot(
        post_years,
        counterfactual,
        color="tab:blue",
        linestyle=":",
        label="Pre-break trend continued",
    )
    ax.axvline(by - 0.5, color="0.35", linestyle="--", linewidth=1.1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Year")
    ax.set_ylabel("Contacts per year")
    ax.set_title(f"Yearly contacts, break at {by} ({kb.result.extra.get('family_label')})")
    ax.legend(frameon=False, fontsize=8, loc="upper left")


def _profile_panel(ax: Any, profiles: dict[str, SupWald]) -> None:
    colours = ("tab:orange", "tab:green", "tab:purple")
    for (label, sw), colour in zip(profiles.items(), colours, strict=False):
        ax.plot(
            sw.profile["year"],
            sw.profile["wald"],
            marker="o",
            markersize=4,
            color=colour,
            label=f"{label} (p = {sw.n_params}; bootstrap p = {sw.p_value:.3f})",
        )
        ax.axhline(
            sw.critical_values[0.05],
            color=colour,
            linestyle="--",
            linewidth=1.0,
            label=f"asymptotic 5% value {sw.critical_values[0.05]:.2f} (reference)",
        )
    ax.set_xlabel("Candidate break year")
    ax.set_ylabel("Wald statistic")
    first = next(iter(profiles.values()))
    ax.set_title(f"sup-Wald profile ({first.kind})")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8, loc="upper left")


def xi_figure(
    yearly: pd.DataFrame,
    kb: KnownBreak,
    profiles: dict[str, SupWald],
    simulated: bool,
    stem: Path,
) -> list[Path]:
    """Left: yearly contacts, fitted regimes and the continued pre-break trend; right: the
    Wald profile of each test in ``profiles`` with its bootstrap p-value (the inference)
    and, for reference only, the asymptotic 5 % critical value (too small with ~20 years
    and year shocks: tests/reference/xi_break_size.md)."""
    years = yearly["year"].to_numpy(dtype=float)
    with style():
        fig = new_figure(10.0, 4.2)
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        _series_panel(left, yearly, kb, years)
        _profile_panel(right, profiles)
        for ax in (left, right):
            ax.xaxis.get_major_locator().set_params(integer=True)
        return finish_figure(fig, stem, simulated=simulated)
