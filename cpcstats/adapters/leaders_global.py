"""Leaders Global: the party of the head of state and head of government per country-year.

The layout read is the Leaders Global country-year file (Dataverse
doi:10.7910/DVN/Z6V1ST): ``country_short`` (ISO3-like), ``country``,
``year``, ``vdem_v2exhoshog`` (1 when the head of state is also head of
government), and for the head of state (``HoS_``) and head of government
(``HoG_``) ``name``, ``party_short``, ``party_english``, ``party_id`` (a
Party Facts id) and ``technical`` (set when the "party" is a placeholder:
12 technical -- a monarch, a military ruler --, 8 independent, 10 unknown).

The file already has one leader per office and country-year (Leaders Global
chooses whom to list), so no within-year rule is needed here; the one
duplicate unit in it (Panama, listed under two V-Dem codes with identical
leaders) is resolved by `cpcstats.adapters.base.resolve_duplicates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source

SOURCE = "leaders_global"

LG_EXCLUDE: dict[str, str] = {
    **ab.NOT_A_STATE,
    "Vietnam, South": "Republic of Vietnam (to 1975); its name would map to VNM",
    "Palestine/British Mandate": "British Mandate of Palestine (to 1948); not a state today",
}

LAYOUT = ab.Layout(
    source=SOURCE,
    description="the Leaders Global country-year layout (Dataverse doi:10.7910/DVN/Z6V1ST)",
    required=(
        "country_short",
        "country",
        "year",
        "vdem_v2exhoshog",
        "HoS_name",
        "HoS_party_short",
        "HoS_party_english",
        "HoS_party_id",
        "HoG_name",
        "HoG_party_short",
        "HoG_party_english",
        "HoG_party_id",
    ),
    fix=(
        "use the Leaders Global file unchanged (columns country_short, country, year, "
        "vdem_v2exhoshog, HoS_name, HoS_party_short, HoS_party_english, HoS_party_id, "
        "HoS_technical and the same for HoG_)"
    ),
)

EXECUTIVE_RULES = ("hog", "hos")
"""``hog``: the head of government's party where there is a separate one with a party, else the
head of state's; ``hos``: the head of state's party where it has one, else the head of
government's."""


def read_leaders_global(
    path: str | Path,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    executive: str = "hog",
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> ab.AdapterResult:
    """Read Leaders Global: ``iso3, year, hos_*, hog_*, executive_office, executive_party(_id)``.

    For each office: ``<office>_name``, ``<office>_party`` (short name),
    ``<office>_party_english``, ``<office>_party_id`` (Party Facts id; missing
    when the file marks the party technical -- a monarch, a military or
    non-party ruler -- because that id denotes no party) and
    ``<office>_technical``.

    ``executive_party`` follows ``executive`` (`EXECUTIVE_RULES`); the
    default ``"hog"`` takes the head of government's party when the head of
    state is not also head of government (``vdem_v2exhoshog`` = 0) and the
    head of government has a (non-technical) party, else the head of state's.
    This is the rule that agrees most with the DPI's ``execme``
    (tests/test_adapters_parties.py measures both).  Rows are dropped, each
    under a reason: no ISO3 (territories, former states without a code),
    years outside ``first_year..last_year``, duplicate country-years.
    """
    ab.check_year_range(first_year, last_year)
    if executive not in EXECUTIVE_RULES:
        from cpcstats.errors import SpecError

        raise SpecError(
            f"executive rule {executive!r} is not one of {', '.join(EXECUTIVE_RULES)}",
            column="executive",
            fix="use 'hog' (head of government first) or 'hos' (head of state first)",
        )
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    table, technical_counts = _leaders(src)
    src.harmonise(
        table, name="country", code="country_short", rules=(ab.SUCCESSOR_OVERRIDES, LG_EXCLUDE)
    )
    src.filter_years(table["year"])
    duplicates = src.resolve_duplicates(table, entity="unit")
    _executive_party(table, executive)
    out = src.alive(table)[OUTPUT_COLUMNS].copy()
    out["iso3"] = out["iso3"].astype("string")
    no_exec = int(out["executive_office"].isna().sum())
    notes = [
        f"executive party rule '{executive}': "
        + (
            "head of government's party when a separate head of government has a party, else "
            "the head of state's"
            if executive == "hog"
            else "head of state's party when it has one, else the head of government's"
        )
        + f"; {no_exec} country-year(s) have no executive party (technical or no party)",
        f"technical 'parties' (monarchs, military, non-party rulers) give no party id: "
        f"HoS {technical_counts['hos']}, HoG {technical_counts['hog']} rows of the file",
        "the file lists one head of state and one head of government per country-year; "
        "no within-year choice is made here",
    ]
    if duplicates:
        notes.append(f"duplicate country-years resolved (dropped -> kept unit): {duplicates}")
    account_notes = src.account_notes(
        executive_rule=executive,
        no_executive_party=no_exec,
        technical_hos=technical_counts["hos"],
        technical_hog=technical_counts["hog"],
        duplicates=duplicates,
    )
    return src.finish(out, notes, account_notes)


OUTPUT_COLUMNS: list[str] = [
    "iso3",
    "year",
    "hos_is_hog",
    *(
        f"{p}_{c}"
        for p in ("hos", "hog")
        for c in ("name", "party", "party_english", "party_id", "technical")
    ),
    "executive_office",
    "executive_party",
    "executive_party_id",
]
"""The columns of the returned table, in order."""


def _leaders(src: Source) -> tuple[pd.DataFrame, dict[str, int]]:
    """Country, year, unit and each office's leader and party; count technical parties."""
    raw = src.raw
    table = pd.DataFrame(
        {
            "country_short": raw["country_short"].astype("string").str.strip(),
            "country": raw["country"].astype("string").str.strip(),
            "year": src.year(),
            "unit": (
                raw["vdem_code"].astype("string")
                if "vdem_code" in raw.columns
                else raw["country_short"].astype("string")
            ),
        }
    )
    combined = src.number("vdem_v2exhoshog", whole=True, low=0, high=1)
    table["hos_is_hog"] = combined.eq(1)
    technical_counts: dict[str, int] = {}
    for office, prefix in (("HoS", "hos"), ("HoG", "hog")):
        pid = src.number(f"{office}_party_id", whole=True).astype("Int64")
        tech_col = f"{office}_technical"
        tech = (
            src.number(tech_col, whole=True).astype("Int64")
            if tech_col in raw.columns
            else pd.Series(pd.NA, index=raw.index, dtype="Int64")
        )
        short = src.text(f"{office}_party_short")
        table[f"{prefix}_name"] = ab.blank_missing(raw[f"{office}_name"]).astype("string")
        table[f"{prefix}_party"] = short
        table[f"{prefix}_party_english"] = src.text(f"{office}_party_english")
        table[f"{prefix}_technical"] = tech
        table[f"{prefix}_party_id"] = pid.mask(tech.notna())
        technical_counts[prefix] = int(tech.notna().sum())
    return table, technical_counts


def _executive_party(table: pd.DataFrame, executive: str) -> None:
    """Add ``executive_office``, ``executive_party`` and ``executive_party_id`` by the rule."""
    hog_has = table["hog_name"].notna() & table["hog_technical"].isna() & table["hog_party"].notna()
    hos_has = table["hos_technical"].isna() & table["hos_party"].notna()
    use_hog = (~table["hos_is_hog"] if executive == "hog" else ~hos_has) & hog_has
    use_hos = ~use_hog & hos_has
    table["executive_office"] = pd.Series(
        np.where(use_hog, "HoG", np.where(use_hos, "HoS", None)), index=table.index
    ).astype("string")
    table["executive_party"] = table["hog_party"].where(use_hog, table["hos_party"].where(use_hos))
    table["executive_party_id"] = (
        table["hog_party_id"].where(use_hog, table["hos_party_id"].where(use_hos)).astype("Int64")
    )
