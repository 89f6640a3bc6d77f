"""Parties and party status from public registers: ``[party_status] source`` and ``[parties]
source`` in a study file, and contacts that name their party only by ``party_name``.

Why a module of its own: a coder's sheet of the ID-CPC news items gives a party's name and
country, not an id; the study's ruling status comes from the DPI (or V-Party); and Party
Facts is the hub that links the three.  The rules that join them are stated here once, and
every row they set aside is counted in a `cpcstats.accounting.StageAccount`:

* ``[party_status] source = "dpi"``: the DPI party-years (`cpcstats.adapters.read_dpi`)
  give status ``senior``/``junior``/``opposition``; an executive's party that holds none of
  the DPI's six slots while other parties are named has no status and is dropped, counted.
* ``[parties] source = "partyfacts"``: party ids are ``"pf-<partyfacts_id>"``; DPI
  spellings are linked by the name matcher (`cpcstats.adapters.link_partyfacts`), V-Party
  parties by V-Party's own ``pf_party_id``; status rows of parties without a link are
  dropped under a stated reason, and two DPI spellings of one Party Facts party in a year
  keep the first slot (gov1 ... opp3), counted.  The parties table is the register's
  parties that have status in the window or are named by a contact; each party's active
  years are Party Facts' ``year_first..year_last``, widened to cover its status and
  contact years (the sources date the same situation differently).
* ``[parties] source = "dpi"`` / ``"vparty"``: the parties of that source, with its ids.
* Contacts with a ``party_name`` and no ``party_id`` get a placeholder until their country
  is harmonised; then `cpcstats.party_names.match_party_names` links each distinct (name,
  country) to the register (``[parties.overrides]`` settle names), and a contact whose
  name is not accepted is dropped under a reason no rule states, so ``check`` fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.adapters.partyfacts import dpi_linked
from cpcstats.errors import SpecError

if TYPE_CHECKING:
    from cpcstats.party_names import PartyMatchReport

PARTIES_SOURCES = ("partyfacts", "dpi", "vparty")
"""What ``[parties] source`` may name: the register whose parties make the parties table."""
STATUS_SOURCES = ("vparty", "dpi")
"""What ``[party_status] source`` may name."""
SOURCE_NAMES = {"vparty": "V-Party", "dpi": "DPI", "partyfacts": "Party Facts"}

NAME_TOKEN = "\x00party-name:"
"""Placeholder party id of a contact that names its party only by ``party_name``."""
DROP_NAME_UNMATCHED = "party name not matched to a register party (see Party-name matching)"
DROP_NOT_LINKED = "{source} party has no Party Facts id"
DROP_SAME_PARTY = "{source}: a second party-year of one Party Facts party (first slot kept)"
DROP_NO_STATUS = "DPI executive's party holds no slot while others are named (no status)"
SLOT_ORDER = {"gov1me": 0, "gov2me": 1, "gov3me": 2, "opp1me": 3, "opp2me": 4, "opp3me": 5}
"""DPI slots in rank order (execme-only rows last): the first of two spellings is kept."""


def _check_status_source(config: dict[str, Any], *, file: str) -> None:
    """``[party_status] source``: V-Party or the DPI, whose file ``[covariates]`` names."""
    status = config.get("party_status")
    source = status.get("source") if isinstance(status, dict) else None
    if isinstance(status, str) and status in STATUS_SOURCES:
        source = status
    if source is None:
        return
    if source not in STATUS_SOURCES:
        raise SpecError(
            f"[party_status] source = {source!r} is not a known source",
            file=file,
            column="source",
            fix='source = "vparty" or "dpi" (status from V-Party or the DPI), or '
            'path = "FILE" for your own table',
        )
    _needs_source(config, source, f"[party_status] source = {source!r}", file=file)


def _needs_source(config: dict[str, Any], source: str, what: str, *, file: str) -> None:
    """A source named in [parties] or [party_status] must have its file in [covariates]."""
    covariates = config.get("covariates")
    if not (isinstance(covariates, dict) and source in covariates):
        raise SpecError(
            f'{what} needs the {SOURCE_NAMES[source]} file: add {source} = "PATH" to [covariates]',
            file=file,
            column="source",
            fix=f'[covariates]\n{source} = "PATH"',
        )


def check_party_sources(config: dict[str, Any], *, file: str) -> None:
    """``[party_status] source`` and ``[parties] source``/``overrides``, before any data."""
    _check_status_source(config, file=file)
    _check_parties_source(config, file=file)


def _check_parties_source(config: dict[str, Any], *, file: str) -> None:
    """``[parties] source`` (a register, not with a path) and ``[parties.overrides]``."""
    parties = config.get("parties")
    if not isinstance(parties, dict):
        return
    source = parties.get("source")
    if source is not None:
        if source not in PARTIES_SOURCES:
            raise SpecError(
                f"[parties] source = {source!r} is not a known party register",
                file=file,
                column="source",
                fix='source = "partyfacts", "dpi" or "vparty" (or path = "FILE")',
            )
        if "path" in parties:
            raise SpecError(
                "[parties] names both a path and a source",
                file=file,
                column="source",
                fix="keep path (your own parties table) or source (a register), not both",
            )
        _needs_source(config, source, f"[parties] source = {source!r}", file=file)
    for name, pid in parties.get("overrides", {}).items():
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise SpecError(
                f"[parties.overrides] {name!r} = {pid!r} is not a Party Facts id",
                file=file,
                column=name,
                fix=f'"{name}" = 4898   # the whole-number partyfacts_id',
            )
    covariates = config.get("covariates")
    has_register = isinstance(covariates, dict) and "partyfacts" in covariates
    if parties.get("overrides") and not has_register:
        raise SpecError(
            "[parties.overrides] settles names matched to Party Facts, but [covariates] "
            "names no partyfacts file",
            file=file,
            column="overrides",
            fix='[covariates]\npartyfacts = "partyfacts_core_parties.csv"',
        )


def pf_party_id(pid: int) -> str:
    """Package-wide id of a Party Facts party in a parties table: ``"pf-<partyfacts_id>"``."""
    return f"pf-{int(pid)}"


def status_source(config: dict[str, Any]) -> str | None:
    """``party_status = "vparty"`` or ``[party_status] source = ...`` (checked by config)."""
    value = config.get("party_status")
    if isinstance(value, str) and value in STATUS_SOURCES:
        return value
    if isinstance(value, dict) and value.get("source") in STATUS_SOURCES:
        return str(value["source"])
    return None


def parties_source(config: dict[str, Any]) -> str | None:
    """``[parties] source = ...`` when the study has no parties file of its own."""
    value = config.get("parties")
    if isinstance(value, dict) and "path" not in value and value.get("source"):
        return str(value["source"])
    return None


def party_overrides(config: dict[str, Any]) -> dict[str, int]:
    """``[parties.overrides]``: party name (or ``"ISO3:name"``) -> Party Facts id."""
    value = config.get("parties")
    return dict(value.get("overrides", {})) if isinstance(value, dict) else {}


def mark_name_only(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Party rows with a ``party_name`` but no ``party_id`` get a placeholder id (counted).

    The data contract needs an id on every party contact; the placeholder carries the row
    so that, once the contact's country is harmonised, `link_contact_names` replaces it.
    """
    if "party_name" not in frame.columns or "counterpart_type" not in frame.columns:
        return frame, 0
    ids = (
        frame["party_id"].astype("string").str.strip()
        if "party_id" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    kind = frame["counterpart_type"].astype("string").str.strip().str.casefold()
    name = frame["party_name"].astype("string").str.strip()
    only_name = (kind == "party").fillna(False) & (ids.isna() | (ids == "")) & name.notna()
    only_name &= name != ""
    if not only_name.any():
        return frame, 0
    out = frame.copy()
    # The name, not the row, in the placeholder: identical contacts stay identical, so the
    # duplicate check and a dedupe rule see them as before.
    out["party_id"] = ids.where(~only_name, NAME_TOKEN + name)
    return out, int(only_name.sum())


STATUS_NOTES = {
    "vparty": "from V-Party v2pagovsup (senior/junior partner = ruling), carried forward "
    "between election years",
    "dpi": "from the DPI: gov1me senior, gov2me/gov3me junior, opp1me-opp3me opposition "
    "(senior/junior = ruling); years as the DPI's (January 1 of the year) unless "
    "[covariates.dpi] year_end = true; parties in no slot have no status that year",
}
"""The rule each status source applies, as the run log states it."""

NO_STATUS = {
    "dpi": ("party status: from the DPI", DROP_NO_STATUS),
    "vparty": ("party status: from V-Party", "V-Party government status missing (code 4 or blank)"),
}
"""Per status source: the ledger stage and the reason a party-year without status is dropped."""


def source_status(table: pd.DataFrame, source: str) -> tuple[pd.DataFrame, StageAccount]:
    """Party-year status from a source's party-years; rows without a status are counted."""
    has = table["status"].notna()
    stage, reason = NO_STATUS[source]
    account = StageAccount(stage, len(table), int(has.sum()), {reason: int((~has).sum())})
    cols = [c for c in ("party_id", "year", "status", "pf_party_id", "slot") if c in table.columns]
    return table.loc[has, cols].reset_index(drop=True), account


def to_partyfacts_ids(status: pd.DataFrame, source: str) -> tuple[pd.DataFrame, StageAccount]:
    """Status rows re-keyed to ``"pf-<id>"``; unlinked rows and repeated parties counted."""
    linked = status["pf_party_id"].notna().to_numpy()
    out = status[linked].copy()
    out["party_id"] = out["pf_party_id"].map(pf_party_id).astype("string")
    if "slot" in out.columns:
        out["_rank"] = out["slot"].map(SLOT_ORDER).fillna(len(SLOT_ORDER))
        out = out.sort_values(["party_id", "year", "_rank"], kind="mergesort")
    repeated = out.duplicated(["party_id", "year"], keep="first").to_numpy()
    out = out[~repeated]
    account = StageAccount(
        f"party status: {source} parties linked to Party Facts",
        len(status),
        len(out),
        {
            DROP_NOT_LINKED.format(source=source): int((~linked).sum()),
            DROP_SAME_PARTY.format(source=source): int(repeated.sum()),
        },
    )
    keep = out[["party_id", "year", "status"]].sort_values(["party_id", "year"], kind="mergesort")
    return keep.reset_index(drop=True), account


def known_parties(
    status: pd.DataFrame, parties: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, StageAccount]:
    """Status rows of the parties the study's own parties table names; the others counted.

    A source covers every party of its countries, so the study's own parties table is the
    stated rule for using only some (as for V-Party in `cpcstats.study.contacts`).
    """
    known = status["party_id"].isin(parties["party_id"]).to_numpy()
    return status[known].reset_index(drop=True), StageAccount(
        "party status: parties in the parties table",
        len(status),
        int(known.sum()),
        {f"{source} party not in the study's parties table": int((~known).sum())},
    )


def link_contact_names(
    contacts: pd.DataFrame,
    register: pd.DataFrame,
    *,
    target: pd.Series | None,
    overrides: dict[str, int],
) -> tuple[pd.DataFrame, StageAccount, PartyMatchReport]:
    """Replace the placeholders of `mark_name_only` by the matched parties' ids.

    Each distinct (party_name, ISO3) is matched once, with the median year of its contacts
    (parties not active then are set aside).  ``target`` maps a Party Facts id to the
    parties table's id (None: ``"pf-<id>"``); an accepted match with no target party is
    dropped as unmatched.  Returns the contacts, the account and the match report.
    """
    from cpcstats.party_names import match_party_names

    token = contacts["party_id"].astype("string").str.startswith(NAME_TOKEN).fillna(False)
    names = (
        contacts[token.to_numpy()]
        .groupby(["party_name", "iso3"], as_index=False, sort=True)["year"]
        .median()
    )
    report = match_party_names(
        list(zip(names["party_name"].astype(str), names["iso3"].astype(str), strict=True)),
        register,
        years=[int(y) for y in names["year"]],
        overrides=overrides,
    )
    pf = pd.Series(pd.array(report.ids(), dtype="Int64"))
    names["new_id"] = (
        pf.map(lambda v: pf_party_id(v) if not pd.isna(v) else pd.NA)
        if target is None
        else pf.map(lambda v: target.get(int(v), pd.NA) if not pd.isna(v) else pd.NA)
    ).astype("string")
    out = contacts.merge(
        names[["party_name", "iso3", "new_id"]], on=["party_name", "iso3"], how="left"
    )
    out["party_id"] = out["party_id"].astype("string").where(~token.to_numpy(), out["new_id"])
    dropped = token.to_numpy() & out["new_id"].isna().to_numpy()
    account = StageAccount(
        "contacts: party names linked to the register",
        len(contacts),
        int((~dropped).sum()),
        {DROP_NAME_UNMATCHED: int(dropped.sum())},
        notes={
            "names": len(names),
            "contacts_linked": int((token.to_numpy() & ~dropped).sum()),
            "by_how": report.counts(),
        },
        unstated=(DROP_NAME_UNMATCHED,),
    )
    out = out[~dropped].drop(columns="new_id").reset_index(drop=True)
    return out, account, report


REGISTER_RULE = (
    "the parties with status in the window or named by a contact, ids pf-<partyfacts_id>, "
    "active years Party Facts' year_first..year_last widened to cover their status and "
    "contact years"
)


def register_parties(
    register: pd.DataFrame,
    status: pd.DataFrame | None,
    contacts: pd.DataFrame,
    *,
    file: str,
) -> pd.DataFrame:
    """The parties table of ``[parties] source = "partyfacts"`` (`REGISTER_RULE`)."""
    party = contacts[contacts["counterpart_type"] == "party"]
    years = pd.concat(
        [party[["party_id", "year"]], *([] if status is None else [status[["party_id", "year"]]])]
    )
    wanted = set(years["party_id"].dropna().astype(str))
    reg = register.copy()
    reg["party_id"] = reg["partyfacts_id"].map(pf_party_id)
    reg = reg[reg["party_id"].isin(wanted)]
    if reg.empty:
        raise SpecError(
            "no party of the status source or the contacts is in the Party Facts register",
            file=file,
            fix="name party-status source and contacts with parties; check [covariates] "
            "partyfacts names the Party Facts core file",
        )
    span = years.groupby("party_id")["year"].agg(["min", "max"])
    lo = reg["party_id"].map(span["min"]).astype("float64")
    hi = reg["party_id"].map(span["max"]).astype("float64")
    first = pd.to_numeric(reg["year_first"], errors="coerce").astype("float64")
    last = pd.to_numeric(reg["year_last"], errors="coerce").astype("float64")
    name = reg["name_english"].where(reg["name_english"].notna(), reg["name_short"])
    return pd.DataFrame(
        {
            "party_id": reg["party_id"].astype("string").to_numpy(),
            "country": reg["iso3"].astype("string").to_numpy(),
            "party_name": name.astype("string").to_numpy(),
            # NaN where Party Facts gives no year: the window's edge (contract default)
            "active_from": pd.array(np.where(first.isna(), np.nan, np.fmin(first, lo)), "Int64"),
            "active_to": pd.array(np.where(last.isna(), np.nan, np.fmax(last, hi)), "Int64"),
            "partyfacts_id": reg["partyfacts_id"].astype("Int64").to_numpy(),
            "name_short": reg["name_short"].astype("string").to_numpy(),
        }
    )


def source_parties(source: str, result: Any) -> pd.DataFrame:
    """The parties table of ``[parties] source = "dpi"`` or ``"vparty"`` (the source's ids)."""
    if source == "dpi":
        from cpcstats.adapters import dpi_parties

        table = dpi_parties(result).rename(
            columns={"iso3": "country", "first_year": "active_from", "last_year": "active_to"}
        )
        return table
    parties = result.extra["parties"].rename(columns={"iso3": "country"})
    return parties[["party_id", "country", "party_name", "pf_party_id"]].rename(
        columns={"pf_party_id": "partyfacts_id"}
    )


def partyfacts_target(parties: pd.DataFrame) -> pd.Series | None:
    """Party Facts id -> the parties table's id, where exactly one party has that id."""
    if "partyfacts_id" not in parties.columns:
        return None
    linked = parties[parties["partyfacts_id"].notna()]
    once = ~linked["partyfacts_id"].duplicated(keep=False)
    return pd.Series(
        linked.loc[once, "party_id"].to_numpy(),
        index=linked.loc[once, "partyfacts_id"].astype(int).to_numpy(),
    )


def same_ids(source: str, status_source: str, *, file: str) -> None:
    """The parties table and the status must share ids: same source, or Party Facts ids."""
    if source not in ("partyfacts", status_source):
        raise SpecError(
            f'[parties] source = "{source}" and [party_status] source = "{status_source}" '
            "have different party ids",
            file=file,
            column="source",
            fix=f'use [parties] source = "partyfacts" (both linked to Party Facts ids) or '
            f'source = "{status_source}"',
        )


def unlinked_note(table: pd.DataFrame, n: int = 15) -> str:
    """The DPI spellings left without a Party Facts id, most party-years first."""
    gap = table[table["pf_party_id"].isna()]
    counts = (gap["iso3"].astype(str) + ":" + gap["party"].astype(str)).value_counts()
    shown = ", ".join(f"'{k}' ({v})" for k, v in counts.head(n).items())
    more = f" and {len(counts) - n:,} more" if len(counts) > n else ""
    return (
        f"[parties] {len(counts):,} DPI spelling(s) without a Party Facts id (party-years): "
        f"{shown}{more}; link one with [parties.overrides] 'ISO3:spelling' = Party Facts id"
    )


def with_dpi_links(
    table: pd.DataFrame, result: Any, register: Any, overrides: dict[str, int]
) -> pd.DataFrame:
    """DPI parties with the Party Facts id of `dpi_linked` (or missing)."""
    linked, _ = dpi_linked(result, register, overrides)
    ids = linked.drop_duplicates("party_id").set_index("party_id")["pf_party_id"]
    out = table.copy()
    out["partyfacts_id"] = out["party_id"].map(ids).astype("Int64")
    return out


def execme_agreement(linked: pd.DataFrame, dpi: Any, leaders: Any) -> str:
    """A cross-check for the run log: DPI ``execme`` vs Leaders Global's executive party.

    Both as Party Facts ids, over the country-years where both have one.  The DPI's
    January 1 row of *t* is set beside Leaders Global's *t* - 1 (its year-end leader)
    unless the DPI years were already relabelled (``year_end = true``).
    """
    shift = 0 if dpi.account.notes.get("year_convention") == "year_end" else -1
    ex = linked[linked["executive"] & linked["pf_party_id"].notna()]
    ex = ex.assign(year=ex["year"] + shift).drop_duplicates(["iso3", "year"])
    lg = leaders.table[["iso3", "year", "executive_party_id"]].dropna()
    both = ex.merge(lg, on=["iso3", "year"])
    if both.empty:
        return "DPI execme vs Leaders Global executive party: no country-year with both ids"
    agree = int((both["pf_party_id"] == both["executive_party_id"]).sum())
    years = "t vs LG t-1" if shift else "t vs LG t"
    return (
        f"DPI execme vs Leaders Global executive party (Party Facts ids, DPI year {years}): "
        f"agree in {agree:,} of {len(both):,} country-years ({agree / len(both):.1%})"
    )
