"""Database of Political Institutions (DPI 2020): party-year government status.

The layout read is the DPI's country-year file as the IDB distributes it
(Cruz, Keefer and Scartascini 2021): ``countryname, ifs, year, execme,
gov1me, gov2me, gov3me, govoth, opp1me, opp2me, opp3me, oppoth`` and the
parties' seats (``gov1seat`` ...).  The study coded ruling status from the
DPI disaggregated to the party level; `read_dpi` does that.

Year convention.  The DPI codebook records each year's situation as of
January 1 of that year (elections in the year show from the next year on).
The file bears this out: Japan's August 2009 election, which brought the DPJ
to power, shows in the 2010 row (the 2009 row still has the LDP); Cambodia's
July 2013 election (CNRP) shows in 2014.  `read_dpi` keeps the DPI's
years by default; ``year_end=True`` relabels row *t* as year *t* - 1 (the
status on January 1 of *t* is the status at the end of *t* - 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source

if TYPE_CHECKING:
    from cpcstats.party_names import PartyMatchReport

SOURCE = "dpi"
DROP_NO_PARTY = "no named party (every party slot missing or a non-party entry)"

GOV_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("gov1me", "gov1seat", "senior"),
    ("gov2me", "gov2seat", "junior"),
    ("gov3me", "gov3seat", "junior"),
)
"""(name column, seats column, status): DPI's gov1 is the largest government party."""
OPP_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("opp1me", "opp1seat", "opposition"),
    ("opp2me", "opp2seat", "opposition"),
    ("opp3me", "opp3seat", "opposition"),
)
SLOTS = GOV_SLOTS + OPP_SLOTS
PARTY_COLUMNS: tuple[str, ...] = ("execme", *(s[0] for s in SLOTS))
"""The columns that name a party: the executive's and the six slots."""

MISSING_NAMES: frozenset[str] = frozenset({"", "NA", "na", "NaN", "nan", "."})
"""Party-name cells meaning "no party in this slot"; so does any bare number (0, -999, 1 ...)."""
NON_PARTY: frozenset[str] = frozenset(
    {
        "independent",
        "independents",
        "appointees",
        "no party",
        "nonpartisan",
        "non-partisan",
        "military group",
        "other parties",
        "others",
        "other",
    }
)
"""DPI entries in a party slot that are not a party (compared case-insensitively)."""

# DPI's own country units.  Codes that are not ISO3 fall back to the name; these
# names either need the V-Dem convention or are not states today.
DPI_OVERRIDES: dict[str, str] = {**ab.SUCCESSOR_OVERRIDES, "Czech Rep.": "CZE"}
DPI_EXCLUDE: dict[str, str] = {
    **ab.NOT_A_STATE,
    "GDR": "GDR, acceded to Germany in 1990; no ISO3 code of its own",
    "Yemen (PDR)": "South Yemen, merged into Yemen in 1990; YEM continues North Yemen, as in V-Dem",
    "Turk Cyprus": "Turkish Republic of Northern Cyprus, unrecognised; its name would map to CYP",
}

LAYOUT = ab.Layout(
    source=SOURCE,
    description=(
        "the Database of Political Institutions country-year layout (DPI 2020, IDB; "
        "Cruz, Keefer and Scartascini)"
    ),
    required=(
        "countryname",
        "ifs",
        "year",
        "execme",
        "gov1me",
        "gov2me",
        "gov3me",
        "govoth",
        "opp1me",
        "opp2me",
        "opp3me",
        "oppoth",
    ),
    fix=(
        "use the DPI file as the IDB distributes it (DPI2020.csv; columns countryname, ifs, "
        "year, execme, gov1me-gov3me, govoth, opp1me-opp3me, oppoth)"
    ),
)


def _party_cell(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(party name or NA, was a missing code, was a non-party entry) for one slot column."""
    text = series.astype("string").str.strip()
    numeric = text.fillna("").map(lambda v: bool(re.fullmatch(r"-?\d+(\.\d+)?", v))).astype(bool)
    missing = text.isna() | text.isin(MISSING_NAMES) | numeric
    nonparty = ~missing & text.str.casefold().isin(NON_PARTY).fillna(False).astype(bool)
    name = text.mask(missing | nonparty)
    return name, missing, nonparty


def read_dpi(
    path: str | Path,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    year_end: bool = False,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> ab.AdapterResult:
    """Read the DPI into party-years: ``party_id, iso3, year, party, status, executive, ...``.

    Rules (all in ``notes`` and ``account.notes``):

    * ``gov1me`` is ``senior``, ``gov2me``/``gov3me`` ``junior``, ``opp1me``-
      ``opp3me`` ``opposition``; ``party`` is the DPI's spelling (mostly an
      abbreviation, e.g. "LDP", "New Komeito", "CPV").
    * ``executive`` is true for the party named in ``execme`` (compared
      case-insensitively).  If ``execme`` names a party that holds none of
      the six slots, it gets its own row (``slot = "execme"``): status
      ``senior`` when no government slot names a party (e.g. single-party
      regimes the DPI codes without a legislature), else status missing (the
      DPI names the executive's party apart from its legislative parties,
      e.g. a member of a listed alliance).  ``ruling`` is true for the
      government slots and for such an executive-only row.
    * Missing codes: a blank, ``NA``/``na`` or a bare number (``0``,
      ``-999``, ``1``) in a party slot means no party there; ``independent``,
      ``Appointees``, ``No party``, ``Military Group``, ``others`` and the
      like (`NON_PARTY`) are not parties and give no row.  Seats
      ``-999`` or blank are missing.
    * ``govoth``/``oppoth`` (numbers of further, unnamed government and
      opposition parties) are counted in ``account.notes``, never turned
      into parties.
    * A party named in two slots of one row keeps its first slot (gov1 ..
      opp3), counted.
    * ``party_id`` is `party_id` (``"dpi-JPN-LDP"``); Party Facts ids
      come from `link_partyfacts`.
    * Countries: ``ifs`` where it is an ISO3 code, else the country name
      (ROM -> Romania, ZAR -> Congo (DRC), TMP -> Timor-Leste, SSW ->
      eSwatini); predecessor states as in V-Dem (Soviet Union -> RUS,
      Yugoslavia -> SRB, Czechoslovakia (DPI's CSK "Czech Rep.") -> CZE);
      GDR, South Yemen and Turkish Cyprus excluded.  Duplicate country-years
      after that (Swaziland/eSwatini) follow
      `cpcstats.adapters.base.resolve_duplicates`.
    * Years: the DPI's (January 1 of the year) unless ``year_end`` (see the
      module docstring); ``first_year``/``last_year`` apply to the returned
      years.

    ``account`` counts the file's *country-year rows*: a row is out if it
    gives at least one party-year, else dropped under a reason.  The number
    of party-years is ``account.notes["party_years_out"]``.
    ``extra["country_years"]``: one row per country-year kept, with
    ``execme`` as written, ``govoth``, ``oppoth`` and ``system``.
    """
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    table, slots = _read_slots(src, year_end)
    src.harmonise(table, name="countryname", code="ifs", rules=(DPI_OVERRIDES, DPI_EXCLUDE))
    src.filter_years(table["year"])
    src.tracker.drop(~slots.any_named(), DROP_NO_PARTY)
    duplicates = src.resolve_duplicates(table, entity="countryname")
    alive = src.tracker.alive.to_numpy()
    out, found = _party_rows(table, slots, alive)
    country_years = _country_years(src, table, slots, alive)
    notes = _notes(slots, found, alive, year_end=year_end, duplicates=duplicates)
    account_notes = _account_notes(src, slots, found, alive, year_end=year_end)
    account_notes.update(party_years_out=len(out), duplicates=duplicates)
    return src.finish(
        out,
        notes,
        account_notes,
        extra={"country_years": country_years},
        keys=("iso3", "year", "slot"),
    )


@dataclass
class _Slots:
    """The party columns of the file read: names (NA where no party), seats, unnamed counts."""

    names: dict[str, pd.Series]
    seats: dict[str, pd.Series]
    govoth: pd.Series
    oppoth: pd.Series
    counts: dict[str, int]
    """Slots with a missing code (``missing_code``) and with a non-party entry (``non_party``)."""
    nonparty_labels: dict[str, int]

    def any_named(self) -> pd.Series:
        """Rows where the executive or at least one slot names a party."""
        return pd.concat([self.names[c].notna() for c in PARTY_COLUMNS], axis=1).any(axis=1)


def _read_slots(src: Source, year_end: bool) -> tuple[pd.DataFrame, _Slots]:
    """Country, code and year per row, and the party slots with their missing codes counted."""
    raw = src.raw
    table = pd.DataFrame(
        {
            "countryname": raw["countryname"].astype("string").str.strip(),
            "ifs": raw["ifs"].astype("string").str.strip(),
            "year": src.year() + (-1 if year_end else 0),
        }
    )
    names: dict[str, pd.Series] = {}
    counts = {"missing_code": 0, "non_party": 0}
    nonparty_labels: dict[str, int] = {}
    for col in PARTY_COLUMNS:
        name, missing, nonparty = _party_cell(raw[col])
        names[col] = name
        if col != "execme":
            counts["missing_code"] += int(missing.sum())
            counts["non_party"] += int(nonparty.sum())
            for label, n in raw[col][nonparty].astype("string").str.strip().value_counts().items():
                nonparty_labels[str(label)] = nonparty_labels.get(str(label), 0) + int(n)
    seats = {
        seat: (
            src.number(seat).mask(lambda s: s < 0)
            if seat in raw.columns
            else pd.Series(np.nan, index=raw.index)
        )
        for _, seat, _ in SLOTS
    }
    govoth = src.number("govoth").mask(lambda s: s < 0)
    oppoth = src.number("oppoth").mask(lambda s: s < 0)
    return table, _Slots(names, seats, govoth, oppoth, counts, nonparty_labels)


def _party_rows(
    table: pd.DataFrame, slots: _Slots, alive: np.ndarray
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per named party of each country-year kept, and what the rules did."""
    rows: list[dict[str, object]] = []
    found = {"twice": 0, "exec_only": 0, "exec_in_opposition": 0}
    # Plain arrays: the loop below runs over thousands of rows and six slots.
    arr = {c: s.astype(object).where(s.notna(), None).to_numpy() for c, s in slots.names.items()}
    seat_arr = {c: s.to_numpy() for c, s in slots.seats.items()}
    iso_arr = table["iso3"].to_numpy()
    year_arr = table["year"].to_numpy()
    for i in np.flatnonzero(alive):
        seen: set[str] = set()
        exe = arr["execme"][i]
        exe_key = None if exe is None else str(exe).casefold()
        gov_named = exe_found = False
        where = {"iso3": iso_arr[i], "year": int(year_arr[i])}
        for col, seat, status in SLOTS:
            party = arr[col][i]
            if party is None:
                continue
            key = str(party).casefold()
            if key in seen:
                found["twice"] += 1
                continue
            seen.add(key)
            is_gov = status != "opposition"
            gov_named |= is_gov
            is_exec = key == exe_key
            exe_found |= is_exec
            found["exec_in_opposition"] += int(is_exec and not is_gov)
            rows.append(
                {
                    **where,
                    "party": str(party),
                    "status": status,
                    "executive": is_exec,
                    "ruling": is_gov,
                    "seats": seat_arr[seat][i],
                    "slot": col,
                }
            )
        if exe_key is not None and not exe_found:
            found["exec_only"] += 1
            rows.append(
                {
                    **where,
                    "party": str(exe),
                    "status": pd.NA if gov_named else "senior",
                    "executive": True,
                    "ruling": True,
                    "seats": np.nan,
                    "slot": "execme",
                }
            )
    return _party_frame(rows), found


PARTY_YEAR_TYPES: dict[str, object] = {
    "iso3": "string",
    "year": "int64",
    "party": "string",
    "status": "string",
    "executive": bool,
    "ruling": bool,
    "seats": "float64",
    "slot": "string",
}
"""The columns of the party-year table (after ``party_id``) and their types."""


def _party_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(PARTY_YEAR_TYPES)).astype(PARTY_YEAR_TYPES)
    out.insert(0, "party_id", party_id(out["iso3"], out["party"]))
    return out.sort_values(["iso3", "year", "slot"], kind="mergesort").reset_index(drop=True)


def _country_years(
    src: Source, table: pd.DataFrame, slots: _Slots, alive: np.ndarray
) -> pd.DataFrame:
    """``extra["country_years"]``: execme as written, govoth, oppoth and system per row kept."""
    raw = src.raw
    kept = table[alive]
    return pd.DataFrame(
        {
            "iso3": kept["iso3"].astype("string").to_numpy(),
            "year": kept["year"].to_numpy(),
            "execme": raw["execme"][alive].astype("string").str.strip().to_numpy(),
            "govoth": slots.govoth[alive].to_numpy(),
            "oppoth": slots.oppoth[alive].to_numpy(),
            "system": (
                ab.blank_missing(raw["system"])[alive].astype("string").to_numpy()
                if "system" in raw.columns
                else pd.NA
            ),
        }
    )


def _notes(
    slots: _Slots,
    found: dict[str, int],
    alive: np.ndarray,
    *,
    year_end: bool,
    duplicates: dict[str, int],
) -> list[str]:
    """The rules applied and what they did, for the run log."""
    counts = slots.counts
    convention = (
        "years relabelled to the year before (year_end=True): the DPI's January 1 status of t "
        "is the status at the end of t-1"
        if year_end
        else "years as in the DPI: the situation on January 1 of the year"
    )
    notes = [
        convention,
        "gov1me = senior, gov2me/gov3me = junior, opp1me-opp3me = opposition; execme marks "
        "the executive's party (its own row, slot execme, when it holds no slot: senior if "
        f"no government party is named, else status missing): {found['exec_only']} such row(s)",
        f"party slots: {counts['missing_code']} missing (blank, NA, or a bare number such as "
        f"0 or -999), {counts['non_party']} non-party entries not made parties "
        f"({dict(sorted(slots.nonparty_labels.items(), key=lambda kv: -kv[1]))})",
        f"govoth/oppoth counted, not made parties: {int(slots.govoth[alive].fillna(0).sum())} "
        "further unnamed government and "
        f"{int(slots.oppoth[alive].fillna(0).sum())} further unnamed opposition parties over "
        "the country-years kept",
    ]
    if found["twice"]:
        notes.append(
            f"{found['twice']} party name(s) repeated in a later slot of the same row dropped"
        )
    if found["exec_in_opposition"]:
        notes.append(
            f"{found['exec_in_opposition']} party-year(s) where the executive's party is in an "
            "opposition slot (e.g. cohabitation) keep status opposition, executive true"
        )
    if duplicates:
        notes.append(f"duplicate country-years resolved (dropped -> kept): {duplicates}")
    return notes


def _account_notes(
    src: Source, slots: _Slots, found: dict[str, int], alive: np.ndarray, *, year_end: bool
) -> dict[str, object]:
    """The ledger's notes; ``party_years_out`` and ``duplicates`` hold their place (None) until
    the caller fills them in, so the keys keep the order the ledger has always shown."""
    execme = src.raw["execme"][alive].astype("string").str.strip()
    govoth, oppoth = slots.govoth[alive].fillna(0), slots.oppoth[alive].fillna(0)
    return src.account_notes(
        unit="country-year rows",
        party_years_out=None,
        party_slots_missing=slots.counts["missing_code"],
        party_slots_non_party=slots.counts["non_party"],
        non_party_labels=slots.nonparty_labels,
        executive_only_rows=found["exec_only"],
        execme_missing=int((execme.isna() | execme.isin(MISSING_NAMES)).sum()),
        repeated_names=found["twice"],
        govoth_total=int(govoth.sum()),
        oppoth_total=int(oppoth.sum()),
        country_years_with_govoth=int((govoth > 0).sum()),
        country_years_with_oppoth=int((oppoth > 0).sum()),
        year_convention="year_end" if year_end else "january_1",
        duplicates=None,
    )


def party_id(iso3: pd.Series, party: pd.Series) -> pd.Series:
    """Package-wide id of a DPI party, ``"dpi-<ISO3>-<party as the DPI spells it>"``.

    The DPI has no party ids; its spelling is stable within a country over
    years, so country plus spelling identifies a party as the DPI sees it.
    """
    return ("dpi-" + iso3.astype("string") + "-" + party.astype("string")).astype("string")


def link_partyfacts(
    result: ab.AdapterResult,
    register: pd.DataFrame,
    *,
    overrides: Mapping[str, int] | None = None,
) -> tuple[pd.DataFrame, PartyMatchReport]:
    """Add ``pf_party_id`` (and ``pf_how``) to the DPI party-years through the name matcher.

    Each distinct (ISO3, DPI spelling) is matched once, with the median of its
    years as the year (parties not active then are set aside).  Spellings the
    matcher does not accept keep ``pf_party_id`` missing; the report lists
    them with their candidates, and ``overrides`` (``"ISO3:name" = id``)
    settle them.  Returns the table and the report (one entry per spelling).
    """
    from cpcstats.party_names import match_party_names

    t = result.table
    names = t.groupby(["iso3", "party"], as_index=False, sort=True)["year"].median()
    report = match_party_names(
        list(zip(names["party"].astype(str), names["iso3"].astype(str), strict=True)),
        register,
        years=[int(y) for y in names["year"]],
        overrides=overrides,
    )
    names["pf_party_id"] = pd.array(report.ids(), dtype="Int64")
    names["pf_how"] = pd.Series([m.how for m in report.matches], dtype="string")
    out = t.merge(names[["iso3", "party", "pf_party_id", "pf_how"]], on=["iso3", "party"])
    return out.sort_values(["iso3", "year", "slot"], kind="mergesort").reset_index(
        drop=True
    ), report


def dpi_parties(result: ab.AdapterResult) -> pd.DataFrame:
    """A parties table from a DPI result: one row per (iso3, party) with its first/last year.

    For ``[parties] source = "dpi"``: ``party_id`` is ``"dpi-<ISO3>-<party>"``
    (the DPI has no party ids of its own), ``party_name`` the DPI spelling.
    """
    t = result.table
    g = t.groupby(["iso3", "party"], sort=True)["year"].agg(["min", "max"]).reset_index()
    return pd.DataFrame(
        {
            "party_id": party_id(g["iso3"], g["party"]),
            "iso3": g["iso3"].astype("string"),
            "party_name": g["party"].astype("string"),
            "first_year": g["min"].astype("int64"),
            "last_year": g["max"].astype("int64"),
        }
    )
