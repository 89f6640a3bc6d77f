"""Party Facts: the party register that links party names across datasets.

The layouts read are those of the public repository hdigital/partyfactsdata
(MIT licence):

* the core party list (``partyfacts_id, country, name_short, name,
  name_english, name_other, year_first, year_last, technical, ...``), one row
  per party, ``country`` an ISO3 code (plus a few Party Facts codes for units
  without one, see `PF_UNITS`);
* optionally the V-Party import (``party_id`` = V-Party ``v2paid``,
  ``partyfacts_id``), which links V-Party parties to the register;
* optionally the DPI import (``country, party, first, last, party_id, name``):
  the DPI's party abbreviations per country.  This file carries *no*
  ``partyfacts_id``; its abbreviations are linked to the register by
  `cpcstats.party_names.match_party_names` and every link says how it
  was made (exact, normalised, fuzzy with score) or that it was not.

``technical`` rows ("other", "independent", "unknown", "alliance", ...) are
kept in the register, flagged, because Leaders Global codes non-party
leaders with their ids; the name matcher never matches a name to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source

SOURCE = "partyfacts"
DROP_DUPLICATE_ID = "duplicate partyfacts_id (first row kept)"

# Party Facts codes for units without an ISO3 code of their own.  Northern
# Ireland is part of GBR (as in cpcstats.countries.DEFAULT_OVERRIDES); the
# others are not states today, and giving their parties a state's ISO3 would
# put, e.g., South Vietnam's parties under VNM.
PF_UNITS_OVERRIDES: dict[str, str] = {"NIR": "GBR"}
PF_UNITS: dict[str, str] = {
    "DDR": "GDR, acceded to Germany in 1990; no ISO3 code of its own",
    "VNR": "Republic of Vietnam (South Vietnam, to 1975); no ISO3 code of its own",
    "YMD": "South Yemen, merged into Yemen in 1990; no ISO3 code of its own",
    "ZZB": "Zanzibar, semi-autonomous part of Tanzania; not a state",
    "SML": "Somaliland, unrecognised; not a state",
    "PMR": "Transnistria, unrecognised; not a state",
    "AUH": "Austria-Hungary (to 1918); no ISO3 code of its own",
    "NFL": "Dominion of Newfoundland (to 1949); no ISO3 code of its own",
    "EUN": "European Union (European Parliament groups); not a state",
}

LAYOUT = ab.Layout(
    source=SOURCE,
    description="the Party Facts core party list (hdigital/partyfactsdata, core-parties.csv)",
    required=(
        "partyfacts_id",
        "country",
        "name_short",
        "name",
        "name_english",
        "year_first",
        "year_last",
    ),
    fix=(
        "download core-parties.csv from partyfacts.org (or hdigital/partyfactsdata) "
        "unchanged (columns partyfacts_id, country, name_short, name, name_english, "
        "name_other, year_first, year_last, technical)"
    ),
)
VPARTY_LAYOUT = ab.Layout(
    source="partyfacts_vparty",
    description="the Party Facts V-Party import (hdigital/partyfactsdata, import/vparty)",
    required=("party_id", "partyfacts_id"),
    fix="use the Party Facts V-Party link file unchanged (columns party_id, partyfacts_id)",
)
DPI_LAYOUT = ab.Layout(
    source="partyfacts_dpi",
    description="the Party Facts DPI import (hdigital/partyfactsdata, import/dpi)",
    required=("country", "party", "first", "last"),
    fix="use the Party Facts DPI party file unchanged (columns country, party, first, last)",
)

REGISTER_COLUMNS = (
    "partyfacts_id",
    "iso3",
    "name_short",
    "name",
    "name_english",
    "name_other",
    "year_first",
    "year_last",
    "technical",
)


def read_partyfacts(
    core_path: str | Path,
    vparty_links_path: str | Path | None = None,
    dpi_links_path: str | Path | None = None,
) -> ab.AdapterResult:
    """Read the Party Facts register: one row per party, keyed by ``partyfacts_id``.

    ``table`` columns: `REGISTER_COLUMNS` plus ``vparty_ids`` (the
    V-Party ``v2paid`` values linked to the party, ``;``-joined, empty if
    none) and ``dpi_parties`` (DPI abbreviations linked by the matcher,
    ``;``-joined).  ``technical`` is Party Facts' code for placeholder
    entries (7 other, 8 independent, 10 unknown, 11 below 1 percent, 12
    technical, 15 alliance), missing for real parties.

    Rules: the country code is taken as ISO3 where it is one; Northern
    Ireland (NIR) is GBR; the units of `PF_UNITS` are dropped with their
    reason (as are unknown codes, as unmatched).  A ``partyfacts_id`` listed
    twice keeps its first row.  ``extra["vparty_links"]``: ``vparty_id,
    partyfacts_id, in_register``; ``extra["dpi_links"]``: ``iso3, dpi_party,
    first, last, dpi_name, partyfacts_id, how, score`` (one row per DPI
    party; ``partyfacts_id`` missing when the matcher took none).
    """
    src = open_source(core_path, LAYOUT)
    table = _register(src)
    src.harmonise(table, name="code", code="code", rules=(PF_UNITS_OVERRIDES, PF_UNITS))
    src.tracker.dropped.setdefault(DROP_DUPLICATE_ID, 0)
    alive = src.tracker.alive.to_numpy()
    dup = table["partyfacts_id"].duplicated(keep="first") & alive
    src.tracker.drop(dup, DROP_DUPLICATE_ID)
    out = src.alive(table)[list(REGISTER_COLUMNS)].copy()
    out["iso3"] = out["iso3"].astype("string")

    notes = [
        "country codes taken as ISO3; NIR (Northern Ireland) -> GBR; units without an ISO3 "
        f"code dropped with their reason: {', '.join(sorted(PF_UNITS))}",
        f"{int(out['technical'].notna().sum())} technical entries (other, independent, "
        "unknown, 1 percent, technical, alliance) kept and flagged; the name matcher "
        "never matches them",
    ]
    account_notes = src.account_notes(unit="parties", technical=int(out["technical"].notna().sum()))
    extra: dict[str, pd.DataFrame] = {}
    out["vparty_ids"] = ""
    if vparty_links_path is not None:
        extra["vparty_links"], note, more = _join_vparty(out, Path(vparty_links_path))
        notes.append(note)
        account_notes.update(more)
    out["dpi_parties"] = ""
    if dpi_links_path is not None:
        extra["dpi_links"], note, more = _join_dpi(out, Path(dpi_links_path))
        notes.append(note)
        account_notes.update(more)
    return src.finish(out, notes, account_notes, extra=extra, keys=("iso3", "partyfacts_id"))


def _register(src: Source) -> pd.DataFrame:
    """The core list's columns, typed; a row without a partyfacts_id is an error."""
    raw = src.raw
    fix = "every Party Facts party has an id; download the file again"
    pf = src.identifier("partyfacts_id", what="partyfacts_id", fix=fix)
    text = {
        c: src.text(c) if c in raw.columns else None
        for c in ("name_short", "name", "name_english", "name_other")
    }
    return pd.DataFrame(
        {
            "partyfacts_id": pf.astype("int64"),
            "code": raw["country"].astype("string").str.strip(),
            "name_short": text["name_short"],
            "name": text["name"],
            "name_english": text["name_english"],
            "name_other": (
                text["name_other"]
                if text["name_other"] is not None
                else pd.Series(pd.NA, index=raw.index, dtype="string")
            ),
            "year_first": src.number("year_first", whole=True).astype("Int64"),
            "year_last": src.number("year_last", whole=True).astype("Int64"),
            "technical": (
                src.number("technical", whole=True).astype("Int64")
                if "technical" in raw.columns
                else pd.Series(pd.NA, index=raw.index, dtype="Int64")
            ),
        }
    )


def _join_vparty(out: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, str, dict[str, object]]:
    """Fill ``out["vparty_ids"]`` from the V-Party import; return links, note, account notes."""
    links = _vparty_links(path, set(out["partyfacts_id"]))
    joined = (
        links[links["in_register"]]
        .groupby("partyfacts_id")["vparty_id"]
        .agg(lambda s: ";".join(str(v) for v in sorted(s)))
    )
    out["vparty_ids"] = out["partyfacts_id"].map(joined).fillna("")
    n_out = int((~links["in_register"]).sum())
    note = (
        f"V-Party links: {len(links)} V-Party parties, {n_out} of them with a "
        "partyfacts_id not in the register (listed in extra['vparty_links'])"
    )
    return links, note, {"vparty_links": len(links), "vparty_links_not_in_register": n_out}


def _join_dpi(out: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, str, dict[str, object]]:
    """Fill ``out["dpi_parties"]`` from the DPI import linked by the name matcher (as above)."""
    dpi = _dpi_links(path, out)
    taken = dpi[dpi["partyfacts_id"].notna()]
    joined = taken.groupby("partyfacts_id")["dpi_party"].agg(
        lambda s: ";".join(sorted(set(map(str, s))))
    )
    out["dpi_parties"] = out["partyfacts_id"].map(joined).fillna("")
    hows = dpi["how"].value_counts().to_dict()
    note = (
        "DPI abbreviations linked by the party-name matcher (the DPI file has no "
        f"partyfacts_id): {len(dpi)} DPI parties, by how: {hows}"
    )
    by_how = {str(k): int(v) for k, v in hows.items()}
    return dpi, note, {"dpi_links": len(dpi), "dpi_links_by_how": by_how}


def _vparty_links(path: Path, register_ids: set[int]) -> pd.DataFrame:
    """V-Party ``v2paid`` -> ``partyfacts_id``; a link to an id outside the register is flagged."""
    raw, _, _ = ab.read_source(path, VPARTY_LAYOUT)
    vid = ab.to_number(raw, "party_id", path, whole=True)
    pid = ab.to_number(raw, "partyfacts_id", path, whole=True)
    keep = vid.notna() & pid.notna()
    links = pd.DataFrame(
        {
            "vparty_id": vid[keep].astype("int64").to_numpy(),
            "partyfacts_id": pid[keep].astype("int64").to_numpy(),
        }
    )
    links["in_register"] = links["partyfacts_id"].isin(register_ids)
    return links.sort_values(["vparty_id"], kind="mergesort").reset_index(drop=True)


def _dpi_links(path: Path, register: pd.DataFrame) -> pd.DataFrame:
    """Each DPI party (abbreviation, country) linked to the register by the name matcher.

    The abbreviation is tried first, then the full name Party Facts gives it
    (when there is one); the first of the two that the matcher accepts wins.
    The party's first DPI year restricts candidates to parties active then.
    """
    from cpcstats.party_names import PartyIndex, match_party_names

    raw, _, _ = ab.read_source(path, DPI_LAYOUT)
    code = raw["country"].astype("string").str.strip()
    abbrev = ab.blank_missing(raw["party"]).astype("string").str.strip()
    name = (
        ab.blank_missing(raw["name"]).astype("string").str.strip()
        if "name" in raw.columns
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    )
    last = ab.to_number(raw, "last", path, whole=True).astype("Int64")
    first = ab.to_number(raw, "first", path, whole=True).astype("Int64")
    years = [None if pd.isna(y) else int(y) for y in first]
    index = PartyIndex(register)
    by_abbrev = match_party_names(
        [(str(a), str(c)) for a, c in zip(abbrev.fillna(""), code.fillna(""), strict=True)],
        index,
        years=years,
    )
    by_name = match_party_names(
        [(str(a), str(c)) for a, c in zip(name.fillna(""), code.fillna(""), strict=True)],
        index,
        years=years,
    )
    rows = []
    for i in range(len(raw)):
        m = by_abbrev.matches[i]
        if m.partyfacts_id is None and not pd.isna(name.iloc[i]):
            alt = by_name.matches[i]
            if alt.partyfacts_id is not None:
                m = alt
        rows.append(
            {
                "iso3": code.iloc[i],
                "dpi_party": abbrev.iloc[i],
                "first": first.iloc[i],
                "last": last.iloc[i],
                "dpi_name": name.iloc[i],
                "partyfacts_id": m.partyfacts_id,
                "how": m.how,
                "score": m.score,
            }
        )
    out = pd.DataFrame(rows)
    out["partyfacts_id"] = out["partyfacts_id"].astype("Int64")
    return out


def dpi_linked(
    result: Any, register: Any, overrides: dict[str, int]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """DPI party-years with ``pf_party_id``: the name matcher on the DPI's spelling first,
    then, for spellings it did not accept, the Party Facts DPI import's link (made from the
    DPI's full party names, when ``[covariates.partyfacts] dpi_links`` gives that file).

    Measured on DPI 2020, 2002-2019: the matcher links 71.5 % of party-years, the import
    69.3 %, both together 79.6 %; where both link they agree on 99.7 % of 7,297 party-years.
    Returns the table and the number of party-years linked each way.
    """
    from cpcstats.adapters.dpi import link_partyfacts

    table, _ = link_partyfacts(result, register.table, overrides=overrides)
    by = {"name matcher": int(table["pf_party_id"].notna().sum())}
    links = register.extra.get("dpi_links")
    if links is not None:
        taken = links[links["partyfacts_id"].notna()].drop_duplicates(["iso3", "dpi_party"])
        key = pd.MultiIndex.from_frame(table[["iso3", "party"]].astype(str))
        ids = pd.Series(
            taken["partyfacts_id"].astype("Int64").to_numpy(),
            index=pd.MultiIndex.from_frame(taken[["iso3", "dpi_party"]].astype(str)),
        )
        fill = pd.Series(ids.reindex(key).to_numpy(), index=table.index).astype("Int64")
        gap = table["pf_party_id"].isna() & fill.notna()
        table.loc[gap, "pf_party_id"] = fill[gap]
        by["Party Facts DPI import"] = int(gap.sum())
    by["not linked"] = int(table["pf_party_id"].isna().sum())
    return table, by
