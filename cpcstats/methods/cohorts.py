"""Staggered-adoption cohorts: who is treated when, and which rows identify the effects.

Why generic: Wooldridge's extended TWFE needs, for any absorbing binary treatment
``dname`` with adoption period ``gname``, each treated unit's pre-period (for its fixed
effect) and a comparison group in every treated period; none of that depends on what the
units, periods or treatment are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError
from cpcstats.methods.indicators import as_frame, attach_columns
from cpcstats.panels import Panel

__all__ = [
    "COHORT",
    "DROP_ALWAYS",
    "DROP_EXIT",
    "DROP_NO_PRE",
    "NO_ADOPTION",
    "SAME_PERIOD",
    "Cohorts",
    "comparison_cut_reason",
    "no_variation_reason",
    "staggered_cohorts",
    "variation_problem",
]

COHORT = "_cohort"  # adoption period of a cohort identified in the window, 0 = control
DROP_ALWAYS = "treated in or before the window's first period (always treated)"
DROP_NO_PRE = "no panel row in the period before treatment (no reference period)"
DROP_EXIT = "left treatment within the window (treatment not absorbing)"


@dataclass(frozen=True)
class Cohorts:
    """The staggered-adoption layout of a panel.

    ``frame`` holds the rows kept, with the cohort (adoption period, 0 for not treated in
    the window) and one 0/1 column per treatment cell (``post``) and per pre-treatment cell
    other than the reference period g - 1 (``leads``); each maps a column to (g, s).
    ``comparison_cohort`` is the last cohort when it had to serve as the comparison group
    (no never or not-yet treated units; its treated periods are cut).
    ``dropped_countries``/``dropped_rows`` count the units and rows left out by reason
    (the names are the record's keys; units need not be countries).
    """

    frame: pd.DataFrame
    post: dict[str, tuple[int, int]]
    leads: dict[str, tuple[int, int]]
    cohorts: tuple[int, ...]
    first_year: int
    last_year: int
    dropped_countries: dict[str, int] = field(default_factory=dict)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    comparison_cohort: int | None = None

    @property
    def always_treated(self) -> int:
        return self.dropped_countries.get(DROP_ALWAYS, 0)


def adoption_periods(frame: pd.DataFrame, *, idname: str, gname: str) -> pd.Series:
    """One adoption period per unit (NaN when never treated); it must not vary within units."""
    per_unit = frame.groupby(idname, sort=True)[gname]
    if (per_unit.nunique() > 1).any():
        bad = per_unit.nunique()
        raise EstimationError(
            f"{gname!r} varies within unit: {', '.join(bad[bad > 1].index[:5])}",
            column=gname,
            fix="give one adoption period per unit",
        )
    return pd.to_numeric(per_unit.first(), errors="coerce")


#: why a panel has no staggered variation (codes of `variation_problem`)
NO_ADOPTION = "no adoption inside the window"
SAME_PERIOD = "every unit adopts in the same period"


def variation_problem(
    frame: pd.DataFrame, *, idname: str, tname: str, dname: str, gname: str
) -> str | None:
    """`NO_ADOPTION`, `SAME_PERIOD`, or None when the panel has staggered
    variation (the columns must exist)."""
    first, last = int(frame[tname].min()), int(frame[tname].max())
    adoption = adoption_periods(frame, idname=idname, gname=gname)
    inside = adoption[(adoption > first) & (adoption <= last)]
    if inside.empty:
        return NO_ADOPTION
    if (adoption.isna() | (adoption > last)).sum() == 0 and inside.nunique() < 2:
        return SAME_PERIOD
    return None


def no_variation_reason(
    frame: pd.DataFrame, *, idname: str, tname: str, dname: str, gname: str
) -> str | None:
    """Why a panel cannot identify a staggered effect, or None when it can."""
    missing = [c for c in (idname, tname, dname, gname) if c not in frame.columns]
    if missing:
        return f"the panel has no {', '.join(missing)} column(s)"
    problem = variation_problem(frame, idname=idname, tname=tname, dname=dname, gname=gname)
    if problem == NO_ADOPTION:
        first, last = int(frame[tname].min()), int(frame[tname].max())
        return f"no unit adopted the treatment within {first + 1}-{last}"
    if problem == SAME_PERIOD:
        return "every unit adopts in the same period of the window: no comparison group"
    return None


def comparison_cut_reason(cohort: int) -> str:
    """The ``dropped_rows`` reason of the periods cut when ``cohort`` is the comparison."""
    return f"periods from {cohort} on (no never or not-yet treated units)"


def _dropped_units(
    frame: pd.DataFrame, adoption: pd.Series, *, idname: str, tname: str, dname: str, gname: str
) -> dict[str, list[str]]:
    """Units left out: always treated, without a row in g - 1, or leaving treatment."""
    first, last = int(frame[tname].min()), int(frame[tname].max())
    dropped: dict[str, list[str]] = {DROP_ALWAYS: [], DROP_NO_PRE: [], DROP_EXIT: []}
    adoption_row = pd.to_numeric(frame[gname], errors="coerce").astype(float)
    adopted = adoption_row.notna() & (frame[tname] >= adoption_row.fillna(np.inf))
    exits = frame.loc[adopted & (frame[dname] == 0), idname].unique()
    dropped[DROP_EXIT] = sorted(exits)
    dropped[DROP_ALWAYS] = sorted(adoption[adoption <= first].index.difference(exits))
    rows_by_unit = frame.groupby(idname)[tname].apply(set)
    for unit, g in adoption[(adoption > first) & (adoption <= last)].items():
        if unit not in exits and int(g) - 1 not in rows_by_unit[unit]:
            dropped[DROP_NO_PRE].append(unit)
    return dropped


def _cells(
    frame: pd.DataFrame, cohorts: tuple[int, ...], first: int, last: int, tname: str, prefix: str
) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Cohort-by-period indicators: post cells s >= g and lead cells s < g - 1."""
    post: dict[str, tuple[int, int]] = {}
    leads: dict[str, tuple[int, int]] = {}
    years = frame[tname].to_numpy()
    indicators: dict[str, np.ndarray] = {}
    for g in cohorts:
        in_cohort = frame[COHORT].to_numpy() == g
        for s in range(first, last + 1):
            if s == g - 1:
                continue
            cell = in_cohort & (years == s)
            if not cell.any():
                continue
            name = f"{prefix}_g{g}_y{s}" if s >= g else f"{prefix}_lead_g{g}_y{s}"
            indicators[name] = cell.astype(int)
            (post if s >= g else leads)[name] = (g, s)
    return indicators, post, leads


def staggered_cohorts(
    panel: Panel | pd.DataFrame,
    *,
    idname: str,
    tname: str,
    dname: str,
    gname: str,
    prefix: str = "cell",
) -> Cohorts:
    """Cohorts g = adoption period and the cohort-by-period cells that identify them.

    Units treated in or before the window's first period are always treated (dropped and
    counted), as are units without a row in the period before adoption and units that
    leave treatment within the window.  Units adopting after the window and never-treated
    units are the comparison group; when there are none, the last cohort becomes the
    comparison group and its treated periods are cut.  Cell columns are named
    ``{prefix}_g{g}_y{s}`` (post) and ``{prefix}_lead_g{g}_y{s}`` (leads).
    """
    frame = as_frame(panel)
    reason = no_variation_reason(frame, idname=idname, tname=tname, dname=dname, gname=gname)
    if reason is not None:
        raise EstimationError(f"no staggered variation: {reason}", column=gname)
    first, last = int(frame[tname].min()), int(frame[tname].max())
    adoption = adoption_periods(frame, idname=idname, gname=gname)
    dropped = _dropped_units(frame, adoption, idname=idname, tname=tname, dname=dname, gname=gname)
    removed = {unit for names in dropped.values() for unit in names}
    original = frame
    frame = frame[~frame[idname].isin(removed)].copy()
    cohort = frame[idname].map(adoption).fillna(0.0)
    cohort[(cohort > last) | (cohort <= first)] = 0.0
    frame[COHORT] = cohort.astype(int)
    dropped_rows = {
        reason: int(original[idname].isin(names).sum())
        for reason, names in dropped.items()
        if names
    }
    comparison = None
    if (frame[COHORT] == 0).sum() == 0:
        comparison = int(frame[COHORT].max())
        cut = frame[tname] >= comparison
        dropped_rows[comparison_cut_reason(comparison)] = int(cut.sum())
        frame = frame[~cut].copy()
        frame.loc[frame[COHORT] == comparison, COHORT] = 0
        last = comparison - 1
    cohorts = tuple(sorted(int(g) for g in frame[COHORT].unique() if g > 0))
    if not cohorts:
        raise EstimationError("no cohort is identified in the window", column=gname)
    indicators, post, leads = _cells(frame, cohorts, first, last, tname, prefix)
    return Cohorts(
        frame=attach_columns(frame, indicators),
        post=post,
        leads=leads,
        cohorts=cohorts,
        first_year=first,
        last_year=last,
        dropped_countries={k: len(v) for k, v in dropped.items() if v},
        dropped_rows=dropped_rows,
        comparison_cohort=comparison,
    )
