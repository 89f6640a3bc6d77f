"""REIGN regime types (``gwf_regimetype``) as a country-year table keyed by ISO3.

The layout read is REIGN's country-year file as distributed by the
democracyData R package: ``reign_cowcode, reign_country, gwf_casename,
gwf_regimetype, year``.  In a year of regime change REIGN has one row per
regime of that year, so a country-year can have two or three rows; exactly
one rule, stated in `read_reign`, chooses one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source

SOURCE = "reign"
DROP_NO_REGIME = "no regime type"
DROP_EARLIER_REGIME = "earlier regime of a year of change (end-of-year rule)"

# REIGN abbreviates two names that coco cannot read; the codes are REIGN's
# own (cowcode 482 and 484), stated here instead of guessed.
REIGN_OVERRIDES: dict[str, str] = {"Cen African Rep": "CAF", "Congo-Brz": "COG"}

LAYOUT = ab.Layout(
    source=SOURCE,
    description=(
        "the REIGN (OEF Research) country-year regime layout as distributed by the "
        "democracyData R package (download_reign())"
    ),
    required=("reign_country", "year", "gwf_regimetype"),
    fix=(
        "export the data with democracyData::download_reign() (columns reign_country, year, "
        "gwf_regimetype; gwf_casename and a month column are used when present)"
    ),
)


def read_reign(
    path: str | Path,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> ab.AdapterResult:
    """Read REIGN: ``iso3, year, regime_type`` (one row per country-year).

    End-of-year rule.  When a country-year has several rows, the regime in
    place at the end of the year is kept:

    1. with a ``month`` column, the row of the latest month;
    2. otherwise the row whose regime (``gwf_casename``) is still in place the
       next year, i.e. appears again for that country in year + 1; if several
       do (an inconsistency of the file), the one also listed in year - 1,
       since a regime spell that covers the years before and after covers the
       whole year;
    3. otherwise (the file's last year, or no ``gwf_casename``) the last row of
       the year in file order.

    democracyData's file has no month column; within one REIGN country its
    rows are in order of regime start, so steps 2 and 3 agree there.  Step 2
    matters where two REIGN units map to one ISO3 in a year of state change
    (Germany 1990 is listed under cowcode 255 before cowcode 260; Yugoslavia
    and Serbia 1991; USSR and Russia 1991; Czechoslovakia and Czech Republic
    1992): the unit that continues wins, so one rule handles regime changes
    and successions alike.  The second half of step 2 catches rows such as
    Chad 2020, where the file lists the military regime that began on 23
    April 2021 (case "Chad4232021") also in 2020.  The number of country-years
    the rule resolved, and how many were decided against file order, are in
    ``notes``.
    """
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    table = _regimes(src)
    src.harmonise(
        table,
        name="reign_country",
        rules=({**ab.SUCCESSOR_OVERRIDES, **REIGN_OVERRIDES}, ab.NOT_A_STATE),
    )
    src.filter_years(table["year"])
    src.tracker.drop(table["regime_type"].isna(), DROP_NO_REGIME)
    has_month, has_case = "month" in src.raw.columns, "gwf_casename" in src.raw.columns
    stats = _end_of_year(table, src.tracker, use_month=has_month, use_case=has_case)
    rule = _rule_text(has_month=has_month, has_case=has_case)
    notes = [
        f"end-of-year rule ({rule}) resolved {stats['resolved']} country-year(s) with several "
        f"rows ({stats['across_units']} of them across two REIGN units of one ISO3, "
        f"{stats['by_continuation_not_file_order']} decided against file order by continuation; "
        f"{stats['several_regimes_continue']} with several regimes listed the next year)",
        "predecessor states mapped to their continuator as in V-Dem (SUCCESSOR_OVERRIDES); "
        "REIGN abbreviations mapped by REIGN_OVERRIDES",
    ]
    out = src.alive(table)[["iso3", "year", "regime_type"]]
    account_notes = src.account_notes(end_of_year_rule={"rule": rule, **stats})
    return src.finish(out, notes, account_notes)


def _regimes(src: Source) -> pd.DataFrame:
    """REIGN's rows with their regime, case, month, file position and unit (code and name)."""
    raw = src.raw
    table = pd.DataFrame(
        {
            "reign_country": raw["reign_country"],
            "year": src.year(),
            "regime_type": src.text("gwf_regimetype"),
        }
    )
    table["regime_type"] = table["regime_type"].mask(table["regime_type"] == "")
    has_case = "gwf_casename" in raw.columns
    table["case"] = raw["gwf_casename"].astype("string") if has_case else pd.NA
    has_month = "month" in raw.columns
    table["month"] = src.number("month", low=1, high=12) if has_month else np.nan
    table["_pos"] = np.arange(len(table))
    # A REIGN unit is a country code and name: Germany 1990 has two codes (255, 260).
    unit = table["reign_country"].astype("string")
    if "reign_cowcode" in raw.columns:
        unit = raw["reign_cowcode"].astype("string").fillna("") + " " + unit
    table["unit"] = unit
    return table


def _rule_text(*, has_month: bool, has_case: bool) -> str:
    """Which step of the end-of-year rule the file's columns allow, for notes and account."""
    if has_month:
        return "latest month"
    if has_case:
        return (
            "regime still in place the next year (gwf_casename; tie: also the year before), "
            "else last row in file order"
        )
    return "last row of the year in file order"


def _end_of_year(
    table: pd.DataFrame, tracker: ab.RowTracker, *, use_month: bool, use_case: bool
) -> dict[str, int]:
    """Keep one row per (iso3, year) by the end-of-year rule; count what it did."""
    tracker.dropped.setdefault(DROP_EARLIER_REGIME, 0)
    alive = table[tracker.alive.to_numpy()].copy()
    size = alive.groupby(["iso3", "year"])["_pos"].transform("size")
    multi = alive[size > 1].copy()
    if multi.empty:
        return {
            "resolved": 0,
            "across_units": 0,
            "by_continuation_not_file_order": 0,
            "several_regimes_continue": 0,
        }
    if use_case:
        # Regimes seen per ISO3 and year over the whole file (before any drop).
        seen = set(zip(table["iso3"], table["year"], table["case"], strict=True))
        keys = list(zip(multi["iso3"], multi["year"], multi["case"], strict=True))
        multi["_continues"] = [(i, y + 1, c) in seen for i, y, c in keys]
        multi["_throughout"] = [(i, y - 1, c) in seen and (i, y + 1, c) in seen for i, y, c in keys]
    else:
        multi["_continues"] = multi["_throughout"] = False
    order = ["_continues", "_throughout", "_pos"]
    if use_month:
        order = ["month", *order]
    ranked = multi.sort_values(order, na_position="first", kind="mergesort")
    earlier = ranked.duplicated(["iso3", "year"], keep="last")
    kept = ranked[~earlier]
    several = int((multi.groupby(["iso3", "year"])["_continues"].sum() > 1).sum())
    last_in_file = multi.groupby(["iso3", "year"])["_pos"].max()
    kept_pos = kept.set_index(["iso3", "year"])["_pos"].reindex(last_in_file.index)
    against = int((kept_pos != last_in_file).sum())
    units = multi.groupby(["iso3", "year"])["unit"].nunique()
    tracker.drop(table.index.isin(ranked.index[earlier.to_numpy()]), DROP_EARLIER_REGIME)
    return {
        "resolved": len(kept),
        "across_units": int((units > 1).sum()),
        "by_continuation_not_file_order": against,
        "several_regimes_continue": several,
    }
