"""Freedom House "Freedom in the World" ratings as a country-year table keyed by ISO3.

The layout read is the one the democracyData R package (xmarquez/democracyData)
distributes: ``fh_country, year, pr, cl, status, fh_total`` plus Gleditsch-Ward
(``GWn``) and Correlates of War (``cown``) codes.  Freedom House rates
territories (Tibet, Crimea, Indian Kashmir ...) next to states; those rows are
excluded with a stated reason (`FH_TERRITORIES`) because the ISO3 code
they would get denotes the state, not the territory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source
from cpcstats.errors import InputError

SOURCE = "freedom_house"
DROP_NO_RATING = "no rating (status, pr and cl all missing)"

LAYOUT = ab.Layout(
    source=SOURCE,
    description=(
        "the Freedom House 'Freedom in the World' country-year layout as distributed by the "
        "democracyData R package (xmarquez/democracyData, download_fh())"
    ),
    required=("fh_country", "year", "pr", "cl", "status"),
    fix=(
        "export the data with democracyData::download_fh() (or rename your file's columns "
        "to fh_country, year, pr, cl, status)"
    ),
)

_TERRITORY = "territory or disputed region Freedom House rates apart from the state"
FH_TERRITORIES: dict[str, str] = {
    name: _TERRITORY
    for name in (
        "Abkhazia",
        "Chechnya",
        "Crimea",
        "Eastern Donbas",
        "Indian Kashmir",
        "Israeli-Occupied Territories",
        "Kurdistan",
        "Nagorno-Karabakh",
        "Northern Cyprus",
        "Northern Ireland",
        "Pakistani Kashmir",
        "Russian-Occupied Territories of Ukraine",
        "South Ossetia",
        "Tibet",
        "Transnistria",
        "West Papua",
    )
}
"""Freedom House's territory spellings; several would otherwise take their state's ISO3."""

_STATUS = {"F": "F", "PF": "PF", "NF": "NF", "FREE": "F", "PARTLY FREE": "PF", "NOT FREE": "NF"}


def read_freedom_house(
    path: str | Path,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> ab.AdapterResult:
    """Read Freedom House ratings: ``iso3, year, fh_status, fh_pr, fh_cl, fh_total``.

    ``fh_total`` is what the file holds; in democracyData it is PR + CL on a
    2-14 scale (lower = freer), *not* Freedom House's 0-100 aggregate score.
    Rows are dropped, each under a reason in ``account``: territories and
    names without an ISO3 code, years outside ``first_year..last_year``, rows
    with no rating at all, and duplicate country-years (rule in
    `cpcstats.adapters.base.resolve_duplicates`; rows the file codes
    with a state-system code, ``GWn`` or ``cown``, win).  ``overrides`` and
    ``exclude`` map or exclude country names and beat the adapter's defaults.
    """
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    table, notes = _ratings(src)
    src.harmonise(
        table,
        name="fh_country",
        rules=(ab.SUCCESSOR_OVERRIDES, {**ab.NOT_A_STATE, **FH_TERRITORIES}),
    )
    src.filter_years(table["year"])
    no_rating = table[["fh_status", "fh_pr", "fh_cl"]].isna().all(axis=1)
    src.tracker.drop(no_rating, DROP_NO_RATING)
    duplicates = src.resolve_duplicates(table, entity="fh_country", prefer=["_state"])
    notes.append(
        "territories and non-state units excluded by name (FH_TERRITORIES, NOT_A_STATE); "
        "predecessor states mapped to their continuator as in V-Dem (SUCCESSOR_OVERRIDES)"
    )
    if duplicates:
        notes.append(
            "duplicate country-years resolved (state-coded row, then the entity in place at "
            f"year end, then the main series, then file order): {duplicates}"
        )
    out = src.alive(table)[["iso3", "year", "fh_status", "fh_pr", "fh_cl", "fh_total"]]
    return src.finish(out, notes, src.account_notes(duplicates=duplicates))


def _status(src: Source) -> pd.Series:
    """F, PF or NF from the status column (long forms accepted); anything else is an error."""
    raw, path = src.raw, src.path
    status_text = ab.blank_missing(raw["status"]).astype("string").str.strip().str.upper()
    status = status_text.map(_STATUS, na_action="ignore")
    bad = status_text.notna() & status.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{int(bad.sum())} status value(s) are not F, PF or NF "
            f"(first: {raw['status'].iloc[first]!r})",
            file=str(path),
            row=ab.spreadsheet_row(first),
            column="status",
            fix="recode them to F, PF or NF (Free, Partly Free, Not Free)",
        )
    return status


def _ratings(src: Source) -> tuple[pd.DataFrame, list[str]]:
    """The file's ratings as typed columns, with a ``_state`` flag, and notes on fh_total."""
    raw = src.raw
    status = _status(src)
    pr = src.number("pr", whole=True, low=1, high=7)
    cl = src.number("cl", whole=True, low=1, high=7)
    notes: list[str] = []
    if "fh_total" in raw.columns:
        total = src.number("fh_total")
    else:
        total = pr + cl
        notes.append("fh_total absent from the file: computed as pr + cl")
    notes.append("fh_total is PR + CL (2-14, lower = freer), not the 0-100 aggregate score")
    table = pd.DataFrame(
        {
            "fh_country": raw["fh_country"],
            "year": src.year(),
            "fh_status": status.astype("string"),
            "fh_pr": pr.astype("Int64"),
            "fh_cl": cl.astype("Int64"),
            "fh_total": total,
        }
    )
    state_cols = [c for c in ("GWn", "cown") if c in raw.columns]
    table["_state"] = raw[state_cols].notna().any(axis=1) if state_cols else False
    return table, notes
