"""V-Party: party government status and left-right position as a party-year table.

The layout read is V-Party's party-election file as distributed by the
vdemdata R package (vdeminstitute/vdemdata): one row per party and election
year with ``v2paid`` (party id), ``pf_party_id`` (Party Facts id),
``country_text_id``, ``year``, ``v2pagovsup`` (0 senior partner in government,
1 junior partner, 2 supports the government, 3 opposition, 4 not applicable)
and ``v2pariglef`` (left-right, higher = right).

Contacts are counted per year, but V-Party only observes parties in election
years, so each election's status and position are carried forward; the rule
is stated in `read_vparty`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source

SOURCE = "vparty"
DROP_SUPERSEDED = "election superseded before first_year"
DROP_SAME_YEAR = "earlier election of the same party in the same year"
DROP_DUPLICATE_COUNTRY = "duplicate country (another V-Party unit has this ISO3)"

STATUS_CODES: dict[int, str | None] = {
    0: "senior",
    1: "junior",
    2: "support",
    3: "opposition",
    4: None,
}
"""v2pagovsup code -> status; 4 ("not applicable", e.g. no government formed) is missing."""

LAYOUT = ab.Layout(
    source=SOURCE,
    description=(
        "the V-Party party-election layout (V-Dem's V-Party dataset as distributed by the "
        "vdemdata R package, one row per party and election year)"
    ),
    required=(
        "v2paid",
        "v2paenname",
        "pf_party_id",
        "country_text_id",
        "country_name",
        "year",
        "v2pagovsup",
        "v2pariglef",
    ),
    fix=(
        "export vdemdata::vparty unchanged (columns v2paid, v2paenname, pf_party_id, "
        "country_text_id, country_name, year, v2pagovsup, v2pariglef)"
    ),
)


def party_id(v2paid: int) -> str:
    """Package-wide party id of a V-Party party: ``"vparty-<v2paid>"``."""
    return f"vparty-{int(v2paid)}"


def read_vparty(
    path: str | Path,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> ab.AdapterResult:
    """Read V-Party into party-years: ``party_id, iso3, year, status, lr_position, ...``.

    Carry-forward rule.  An election row of party *p* in country *c* in year
    *e* gives *p*'s status and position for the years *e* .. *n* - 1, where *n*
    is the next year in which *c* has any election in the file; after *c*'s
    last election in the file the values run to ``last_year`` (default: the
    last year of the file).  If *p* appears again at *n*, that row takes over;
    if it does not (it fell below V-Party's inclusion threshold or dissolved),
    *p* has no rows from *n* on until it reappears at a later election, because
    nothing is known about it in between.  Years before *c*'s first election in
    the file have no rows.  A missing status (code 4 or an empty cell) is kept
    missing for its period; an older election's status is never carried over
    a newer one's gap.

    ``first_year``/``last_year`` cut the party-years; elections before
    ``first_year`` still supply that year's values if not yet superseded.

    ``account`` counts *election rows* (rows in = the file's rows): those that
    yield at least one party-year are out; the others are dropped under a
    reason (no ISO3, after ``last_year``, superseded before ``first_year``,
    an earlier same-year election of the party, or a second V-Party unit
    mapped to an ISO3 that another unit holds by its own code).  The number of
    party-years is in ``account.notes``.  ``extra["parties"]`` has one row per
    party: ``party_id, iso3, party_name, pf_party_id``.
    """
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    table = _elections(src)
    src.harmonise(table, name="name", code="code")
    collisions = _drop_duplicate_countries(table, src.tracker)
    same_year = _drop_same_year_elections(table, src.tracker)
    horizon = _periods(table, src.tracker, first_year, last_year)
    used = src.alive(table)
    out = _party_years(used)
    parties = _parties(used)

    n4 = int((used["gov_code"] == 4).sum())
    n_na = int(used["gov_code"].isna().sum())
    notes = _notes(table, out, horizon, n4, n_na, last_year=last_year)
    if collisions:
        notes.append(f"V-Party units sharing an ISO3 (dropped -> kept): {collisions}")
    if same_year:
        notes.append(f"{same_year} earlier same-year election row(s) of a party dropped")
    if first_year is None and last_year is None:
        notes.append(f"party-years span the file: {out['year'].min()}-{out['year'].max()}")
    account_notes = src.account_notes(
        unit="party-election rows",
        party_years_out=len(out),
        parties_out=len(parties),
        status_code_4_not_applicable=n4,
        status_code_missing=n_na,
        party_years_status_missing=int(out["status"].isna().sum()),
        duplicate_countries=collisions,
    )
    return src.finish(
        out, notes, account_notes, extra={"parties": parties}, keys=("iso3", "party_id", "year")
    )


def _notes(
    table: pd.DataFrame,
    out: pd.DataFrame,
    horizon: int,
    n4: int,
    n_na: int,
    *,
    last_year: int | None,
) -> list[str]:
    """The carry-forward rule as applied and the missing statuses it gave."""
    if last_year is not None and last_year > int(table["year"].max()):
        carried = f"to last_year {last_year}, beyond the file's last year {table['year'].max()}"
    else:
        carried = f"to {horizon}"
    return [
        "status and lr_position carried forward from each election to the year before the "
        "country's next election in the file (the party must reappear there to continue); "
        f"after a country's last election {carried}",
        f"v2pagovsup: {n4} election row(s) coded 4 (not applicable) and {n_na} with no code "
        f"give a missing status ({int(out['status'].isna().sum())} party-years)",
    ]


def _elections(src: Source) -> pd.DataFrame:
    """The file's election rows as typed columns; a row without a party id is an error."""
    raw = src.raw
    pid = src.identifier(
        "v2paid", what="party id", fix="every V-Party row has v2paid; export the file again"
    )
    code = src.number("v2pagovsup", whole=True, low=0, high=4)
    table = pd.DataFrame(
        {
            "v2paid": pid.astype("int64"),
            "party_name": raw["v2paenname"].astype("string").str.strip(),
            "pf_party_id": src.number("pf_party_id", whole=True).astype("Int64"),
            "code": raw["country_text_id"],
            "name": raw["country_name"],
            "year": src.year(),
            "gov_code": code.astype("Int64"),
            "status": code.map(STATUS_CODES, na_action="ignore").astype("string"),
            "lr_position": src.number("v2pariglef"),
        }
    )
    table["entity"] = table["code"].astype("string").fillna(table["name"].astype("string"))
    table["_date"] = (
        pd.to_datetime(raw["historical_date"], errors="coerce")
        if "historical_date" in raw.columns
        else pd.Series(pd.NaT, index=raw.index)
    )
    table["_pos"] = np.arange(len(table))
    return table


def _periods(
    table: pd.DataFrame, tracker: ab.RowTracker, first_year: int | None, last_year: int | None
) -> int:
    """Each election's ``start``..``end`` years (the carry-forward rule); return the horizon.

    Each country's election calendar comes from all its rows, dropped or not:
    an election held is an election held, whatever happens to its rows here.
    """
    calendar = {e: np.sort(g.unique()) for e, g in table.groupby("entity")["year"]}
    horizon = int(table["year"].max()) if last_year is None else int(last_year)
    nxt = np.array(
        [
            _next_election(calendar[e], y)
            for e, y in zip(table["entity"], table["year"], strict=True)
        ]
    )
    table["start"] = table["year"] if first_year is None else table["year"].clip(lower=first_year)
    table["end"] = np.minimum(np.where(nxt > 0, nxt - 1, horizon), horizon)
    tracker.drop(table["year"] > horizon, ab.DROP_AFTER)
    tracker.drop(table["end"] < table["start"], DROP_SUPERSEDED)
    return horizon


def _party_years(used: pd.DataFrame) -> pd.DataFrame:
    """One row per party-year of the elections kept, sorted by country, party and year."""
    years = _expand(used)
    at = years.index
    out = pd.DataFrame(
        {
            "party_id": used["v2paid"].map(party_id).to_numpy()[at],
            "iso3": used["iso3"].to_numpy()[at],
            "year": years.to_numpy(),
            **{
                c: used[c].to_numpy()[at]
                for c in ("status", "lr_position", "pf_party_id", "party_name")
            },
            "election_year": used["year"].to_numpy()[at],
        }
    )
    out["status"] = out["status"].astype("string")
    out["pf_party_id"] = out["pf_party_id"].astype("Int64")
    return out.sort_values(["iso3", "party_id", "year"], kind="mergesort").reset_index(drop=True)


def _next_election(calendar: np.ndarray, year: int) -> int:
    """The country's first election year after ``year`` in the file, or 0 if none."""
    i = int(np.searchsorted(calendar, year, side="right"))
    return int(calendar[i]) if i < len(calendar) else 0


def _expand(used: pd.DataFrame) -> pd.Series:
    """One entry per party-year; the index points at the row of ``used`` it comes from."""
    lengths = (used["end"] - used["start"] + 1).to_numpy()
    rows = np.repeat(np.arange(len(used)), lengths)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.Series(used["start"].to_numpy()[rows] + offsets, index=rows)


def _drop_duplicate_countries(table: pd.DataFrame, tracker: ab.RowTracker) -> dict[str, str]:
    """One V-Party unit per ISO3: its own-code unit wins, then the larger one, then file order.

    Resolved per unit, not per year: a party-year table mixing the parties of
    two polities under one ISO3 (e.g. Tanzania and Zanzibar) would give that
    country two governments.
    """
    tracker.dropped.setdefault(DROP_DUPLICATE_COUNTRY, 0)
    alive = table[tracker.alive.to_numpy()]
    units = alive.groupby("entity", sort=False).agg(
        iso3=("iso3", "first"),
        by_code=("_by_code", "max"),
        rows=("year", "size"),
        pos=("_pos", "min"),
    )
    units = units.sort_values(["by_code", "rows", "pos"], ascending=[False, False, True])
    losers = units[units["iso3"].duplicated(keep="first")]
    winners = units[~units["iso3"].duplicated(keep="first")].reset_index().set_index("iso3")
    detail = {str(u): str(winners.loc[row.iso3, "entity"]) for u, row in losers.iterrows()}
    tracker.drop(table["entity"].isin(list(losers.index)).to_numpy(), DROP_DUPLICATE_COUNTRY)
    return detail


def _drop_same_year_elections(table: pd.DataFrame, tracker: ab.RowTracker) -> int:
    """Two elections of one party in one year: keep the later (by date, then file order).

    The later election is the one in place at the end of the year, the same
    rule REIGN uses for years of regime change.
    """
    tracker.dropped.setdefault(DROP_SAME_YEAR, 0)
    alive = table[tracker.alive.to_numpy()]
    ordered = alive.sort_values(["_date", "_pos"], na_position="first", kind="mergesort")
    earlier = ordered.duplicated(["v2paid", "year"], keep="last")
    mask = table.index.isin(ordered.index[earlier.to_numpy()])
    return tracker.drop(mask, DROP_SAME_YEAR)


def _parties(used: pd.DataFrame) -> pd.DataFrame:
    """One row per party, from its latest election row (names and ids can be revised)."""
    latest = used.sort_values(["year", "_pos"], kind="mergesort").groupby("v2paid").tail(1)
    pf = used.groupby("v2paid")["pf_party_id"].agg(
        lambda s: s.dropna().iloc[-1] if s.notna().any() else pd.NA
    )
    parties = pd.DataFrame(
        {
            "party_id": latest["v2paid"].map(party_id).to_numpy(),
            "iso3": latest["iso3"].to_numpy(),
            "party_name": latest["party_name"].to_numpy(),
            "pf_party_id": latest["v2paid"].map(pf).to_numpy(),
        }
    )
    parties["pf_party_id"] = parties["pf_party_id"].astype("Int64")
    return parties.sort_values(["iso3", "party_id"], kind="mergesort").reset_index(drop=True)
