"""The study's descriptive figures, computed from any study's contact events.

These are the numbers the reference study reports in its text (totals, the
ruling/opposition split, regime shares, concentration).  Computing them with
one function lets the replication print them beside the published values, so
a replicator sees at once whether their data reproduce the paper (and the
demo shows how closely its simulation is calibrated).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.contract import DIRECTIONS, FH_STATUSES, RULING_STATUSES
from cpcstats.errors import SpecError
from cpcstats.party_names import PartyIndex, match_known_party
from cpcstats.study import Study


def _share(part: int, whole: int) -> float:
    return float(part / whole) if whole else float("nan")


def study_figures(
    study: Study, first_year: int | None = None, last_year: int | None = None
) -> dict[str, float]:
    """Totals, ruling/opposition split, regime shares and concentration of a study's contacts.

    ``first_year``/``last_year`` restrict the events to a period (e.g. the published
    study's 2002-2017 when the study's own window is longer).
    """
    return contact_figures(
        study.contacts, study.party_status, study.covariates, first_year, last_year
    )


def contact_figures(
    contacts: pd.DataFrame,
    party_status: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> dict[str, float]:
    """The figures of `study_figures` from the tables themselves.

    ``contacts`` needs ``iso3``, ``year``, ``counterpart_type`` and ``party_id``;
    ``party_status`` ``party_id``, ``year``, ``status``; ``covariates`` ``iso3``, ``year``,
    ``fh_status``.  Shares that need a missing table are left out.
    """
    events = _in_period(contacts, first_year, last_year)
    party = events[events["counterpart_type"] == "party"]
    out: dict[str, float] = {
        "contacts_total": len(events),
        "contacts_party": len(party),
        "contacts_nonparty": len(events) - len(party),
        "parties_contacted": int(party["party_id"].nunique()),
        "party_countries": int(party["iso3"].nunique()),
    }
    per_party = party["party_id"].value_counts()
    out["share_parties_le2"] = _share(int((per_party <= 2).sum()), len(per_party))
    out["share_parties_ge5"] = _share(int((per_party >= 5).sum()), len(per_party))
    out["top_partner_contacts"] = int(per_party.max()) if len(per_party) else 0
    per_country = party.groupby("iso3")["party_id"].nunique()
    out["share_countries_le3_parties"] = _share(int((per_country <= 3).sum()), len(per_country))
    out["share_countries_1_party"] = _share(int((per_country == 1).sum()), len(per_country))
    if party_status is not None:
        tagged = party.merge(party_status, on=["party_id", "year"], how="left")
        ruling = tagged["status"].isin(RULING_STATUSES)
        opposition = tagged["status"] == "opposition"
        out["contacts_ruling"] = int(ruling.sum())
        out["contacts_opposition"] = int(opposition.sum())
        out["share_ruling"] = _share(int(ruling.sum()), len(tagged))
        out["share_opposition"] = _share(int(opposition.sum()), len(tagged))
        if covariates is not None and "fh_status" in covariates:
            regime = tagged.merge(
                covariates[["iso3", "year", "fh_status"]], on=["iso3", "year"], how="left"
            )
            opp = regime[regime["status"] == "opposition"]
            out["share_opposition_free"] = _share(int((opp["fh_status"] == "F").sum()), len(opp))
            not_free = opp[opp["fh_status"] == "NF"]
            out["share_opposition_not_free"] = _share(len(not_free), len(opp))
            out["share_opposition_not_free_rus"] = _share(
                int((not_free["iso3"] == "RUS").sum()), len(not_free)
            )
            pf = regime[regime["fh_status"] == "PF"]
            out["share_ruling_partly_free"] = _share(
                int(pf["status"].isin(RULING_STATUSES).sum()), len(pf)
            )
    return out


# --------------------------------------------------------------------------- study exhibits


def _in_period(events: pd.DataFrame, first_year: int | None, last_year: int | None) -> pd.DataFrame:
    if first_year is not None:
        events = events[events["year"] >= first_year]
    if last_year is not None:
        events = events[events["year"] <= last_year]
    return events


def contacts_by_direction(contacts: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Contacts per year and direction (Figure 2): one row per year of ``years``.

    Columns ``year``, ``inbound`` (received in China), ``outbound`` (the CPC abroad) and
    ``unknown`` (the source does not say); every year is present (zeros included), so
    the bars of a year without contacts are drawn as zero, not skipped.
    """
    index = pd.Index(list(years), name="year")
    direction = contacts["direction"].astype("string").fillna("unknown")
    out = pd.DataFrame(index=index)
    for name in DIRECTIONS:
        chosen = contacts[(direction == name).to_numpy(dtype=bool)]
        out[name] = chosen.groupby("year").size().reindex(index, fill_value=0).astype(int)
    return out.reset_index()


def contacts_per_party(
    contacts: pd.DataFrame,
    parties: pd.DataFrame | None,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> pd.Series:
    """Party contacts per party in the period (Figure 4), parties of the register included.

    Why the register: the study's distribution is over the parties it could have met; a
    party of the parties table that exists in the period (``active_from``/``active_to``,
    missing = always) but was never met counts with 0.  Without a parties table only the
    parties met appear.  ``attrs["zero_parties"]`` says how many zeros the register added.
    """
    events = _in_period(contacts[contacts["counterpart_type"] == "party"], first_year, last_year)
    counts = events["party_id"].dropna().astype(str).value_counts()
    zeros = 0
    if parties is not None and len(parties):
        active = pd.Series(True, index=parties.index)
        if "active_from" in parties and last_year is not None:
            active &= ~(pd.to_numeric(parties["active_from"], errors="coerce") > last_year)
        if "active_to" in parties and first_year is not None:
            active &= ~(pd.to_numeric(parties["active_to"], errors="coerce") < first_year)
        register = pd.Index(parties.loc[active.to_numpy(dtype=bool), "party_id"].astype(str))
        missing = register.difference(counts.index)
        zeros = len(missing)
        counts = pd.concat([counts, pd.Series(0, index=missing, dtype=counts.dtype)])
    counts = counts.sort_index(kind="stable").astype(int).rename("contacts")
    counts.index.name = "party_id"
    counts.attrs["zero_parties"] = zeros
    counts.attrs["register"] = parties is not None
    return counts


#: Government status groups of Figure 5: ruling = senior or junior partner.
GOVERNMENT_GROUPS = ("government", "opposition", "other")


def government_opposition_by_regime(
    contacts: pd.DataFrame,
    party_status: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> pd.DataFrame:
    """Party contacts by Freedom House status and government status, as counts (Figure 5).

    Rows ``F``, ``PF``, ``NF`` and ``missing`` (no FH status for the country-year);
    columns `GOVERNMENT_GROUPS`: ``government`` (senior or junior partner in the year of
    the contact), ``opposition``, ``other`` (support parties and contacts without a
    status).  The cells add up to the period's party contacts, so nothing is lost.
    """
    events = _in_period(contacts[contacts["counterpart_type"] == "party"], first_year, last_year)
    tagged = events[["party_id", "iso3", "year"]].merge(
        party_status[["party_id", "year", "status"]], on=["party_id", "year"], how="left"
    )
    tagged = tagged.merge(
        covariates[["iso3", "year", "fh_status"]].drop_duplicates(["iso3", "year"]),
        on=["iso3", "year"],
        how="left",
    )
    status = tagged["status"].astype("string")
    group = np.where(
        status.isin(RULING_STATUSES).fillna(False).to_numpy(dtype=bool),
        "government",
        np.where(
            (status == "opposition").fillna(False).to_numpy(dtype=bool), "opposition", "other"
        ),
    )
    regime = tagged["fh_status"].astype("string").fillna("missing")
    table = pd.crosstab(
        pd.Series(regime.to_numpy(), name="fh_status"), pd.Series(group, name="group")
    )
    rows = [*FH_STATUSES, "missing"]
    return table.reindex(index=rows, columns=list(GOVERNMENT_GROUPS), fill_value=0).astype(int)


def published_period(path: str | Path) -> tuple[int | None, int | None]:
    """The period the published figures cover (``[period]`` of the file), if stated."""
    period = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("period", {})
    first, last = period.get("first_year"), period.get("last_year")
    return (None if first is None else int(first), None if last is None else int(last))


def published_source(path: str | Path) -> dict[str, str]:
    """How tables cite the published figures (``[source]`` of the file); ``{}`` if unsaid.

    Why in the file: which study the figures come from is data about the file, so the
    code that writes the comparison names no paper.
    """
    source = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("source", {})
    return {str(k): str(v) for k, v in source.items()} if isinstance(source, dict) else {}


# --------------------------------------------------------------------------- top partners

#: Keys every ``[[partner]]`` entry of the published file must have.
PARTNER_KEYS = ("rank", "party", "country", "contacts")

_PARENTHESISED = re.compile(r"\(([^()]*)\)")
_DELETED = frozenset("'’‘ʼ.")  # apostrophes and dots join: "People's" = "Peoples", "S.W.A.P.O."


def load_published_partners(path: str | Path) -> list[dict[str, object]]:
    """The ``[[partner]]`` entries (the paper's table of top partners); ``[]`` if there are none.

    Entries are checked here so that a typo in the file is reported with its place
    rather than turning into a silently missing row of the comparison.
    """
    entries = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("partner", [])
    out: list[dict[str, object]] = []
    for i, entry in enumerate(entries, start=1):
        missing = [k for k in PARTNER_KEYS if k not in entry]
        if missing:
            raise SpecError(
                f"[[partner]] entry {i} ({entry.get('party', '?')!r}) lacks " + ", ".join(missing),
                file=str(path),
                column="partner",
                fix="give every [[partner]] a rank, party, country (ISO3) and contacts",
            )
        out.append(dict(entry))
    return out


def _name_keys(name: object) -> tuple[str, set[str]]:
    """Normalised full name and its alias keys (name without and inside parentheses).

    Normalising ignores case, accents and punctuation and reads "&" as "and", so
    "Workers’ Party of Korea" equals "WORKERS PARTY OF KOREA".  A parenthesised part
    is an alias: "Zimbabwe African National Union – Patriotic Front (ZANU-PF)" also
    answers to "ZANU-PF" and to the name without the parentheses.
    """
    if not isinstance(name, str) or not name.strip():
        return "", set()
    full = _normalise_name(name)
    aliases = {_normalise_name(part) for part in _PARENTHESISED.findall(name)}
    aliases.add(_normalise_name(_PARENTHESISED.sub(" ", name)))
    aliases.add(full)
    aliases.discard("")
    return full, aliases


def _normalise_name(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    kept = "".join("" if c in _DELETED else c if c.isalnum() else " " for c in text)
    return " ".join(kept.split())


def _party_labels(contacts: pd.DataFrame, parties: pd.DataFrame | None) -> pd.DataFrame:
    """party_id -> party name and ISO3: the parties table first, else the contacts' own columns.

    The fallback lets a study without a parties table (or with ids missing from it)
    still be ranked; the party's country is then the country of its contacts.
    """
    party = contacts[contacts["counterpart_type"] == "party"]
    from_contacts = pd.DataFrame({"party_id": party["party_id"].dropna().unique()})
    first = party.drop_duplicates("party_id").set_index("party_id")
    from_contacts["iso3"] = from_contacts["party_id"].map(first["iso3"])
    from_contacts["party"] = pd.NA
    if "party_name" in party:
        named = party.dropna(subset=["party_name"]).drop_duplicates("party_id")
        names = named.set_index("party_id")["party_name"]
        from_contacts["party"] = from_contacts["party_id"].map(names)
    if parties is None:
        return from_contacts
    country = "iso3" if "iso3" in parties else "country"
    table = pd.DataFrame(
        {
            "party_id": parties["party_id"].to_numpy(),
            "party": parties["party_name"].to_numpy(),
            "iso3": parties[country].to_numpy(),
        }
    )
    rest = from_contacts[~from_contacts["party_id"].isin(table["party_id"])]
    return pd.concat([table, rest], ignore_index=True)


def _ranked_parties(
    contacts: pd.DataFrame,
    parties: pd.DataFrame | None,
    first_year: int | None,
    last_year: int | None,
) -> pd.DataFrame:
    """Every party with a party contact in the period, with its contacts and competition rank."""
    events = _in_period(contacts[contacts["counterpart_type"] == "party"], first_year, last_year)
    counts = events["party_id"].value_counts().rename("contacts").rename_axis("party_id")
    frame = counts.reset_index().merge(_party_labels(contacts, parties), on="party_id", how="left")
    frame["contacts"] = frame["contacts"].astype(int)
    frame["rank"] = frame["contacts"].rank(method="min", ascending=False).astype(int)
    frame["_name"] = frame["party"].astype("string").fillna("")
    frame = frame.sort_values(["rank", "_name", "party_id"], kind="stable")
    return frame[["rank", "party_id", "party", "iso3", "contacts"]].reset_index(drop=True)


def top_partners(
    contacts: pd.DataFrame,
    parties: pd.DataFrame | None,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    n: int | None = 20,
) -> pd.DataFrame:
    """The study's most-contacted parties, ranked as the paper's Table 1 ranks them.

    Counts party contacts (``counterpart_type == "party"``) per party in
    ``first_year``-``last_year``.  Ties share the lowest rank ("1, 2, 3, 4, 4, 6"),
    and every party tied at the ``n``-th place is kept, so the table can be longer
    than ``n`` but never cuts a tie arbitrarily; ``n=None`` keeps all parties.
    Columns: rank, party_id, party, iso3, contacts.
    """
    ranked = _ranked_parties(contacts, parties, first_year, last_year)
    if n is not None:
        # With competition ranking, rank <= n is exactly "the first n plus ties at n".
        ranked = ranked[ranked["rank"] <= n].reset_index(drop=True)
    return ranked


def _in_country(frame: pd.DataFrame, iso3: str) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` in country ``iso3`` (a missing country is not)."""
    return frame["iso3"].astype("string").eq(iso3).fillna(False).to_numpy(dtype=bool)


def _hint(entry: dict[str, object], known: pd.DataFrame, ranked: pd.DataFrame) -> str:
    """For an unmatched party: where a party of that name is, or the country's top parties."""
    iso3 = str(entry["country"]).strip().upper()
    _, aliases = _name_keys(entry["party"])
    same_name = known["party"].map(lambda p: bool(_name_keys(p)[1] & aliases))
    elsewhere = known[same_name.to_numpy(dtype=bool)].head(3)
    if len(elsewhere):
        return "same name in " + ", ".join(
            f"{country} ({pid})"
            for pid, country in zip(elsewhere["party_id"], elsewhere["iso3"], strict=True)
        )
    there = ranked[_in_country(ranked, iso3)].head(3)
    if there.empty:
        return f"no party contacts with {iso3} in the period"
    labels = there["party"].astype("string").fillna(there["party_id"].astype("string"))
    return f"most-contacted in {iso3}: " + "; ".join(
        f"'{name}' ({n})" for name, n in zip(labels, there["contacts"], strict=True)
    )


_COMPARE_COLUMNS = (
    "published_rank",
    "published_party",
    "published_country",
    "published_contacts",
    "party_id",
    "party",
    "computed_contacts",
    "computed_rank",
    "comparison",
    "hint",
)


def compare_top_partners(
    contacts: pd.DataFrame,
    parties: pd.DataFrame | None,
    published: list[dict[str, object]],
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    register: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per published top partner: the paper's rank and contacts beside ours.

    Shows a replicator whether their data reproduce the paper's Table 1 and, where
    not, by how much.  Each published party is looked up among the parties of its
    ISO3 country by `cpcstats.party_names.match_known_party` (equal name; the Party
    Facts register when given; initials; the matcher's normalised and fuzzy rules;
    ties and misses are reported, never taken); ours are its party
    contacts in ``first_year``-``last_year`` and its rank among *all* parties (so a
    party outside our top 20 still gets its true rank).  ``comparison`` is "match",
    "differs by +k contacts (rank r)", "same contacts, rank r instead of p", "party
    not found in the data (...)" or "ambiguous: ..."; ``hint`` helps fix a name that
    does not match.  No published row is ever dropped.
    """
    ranked = _ranked_parties(contacts, parties, first_year, last_year)
    known = _party_labels(contacts, parties).dropna(subset=["party"])
    index = None if register is None else PartyIndex(register)
    rows = []
    for entry in published:
        pub_rank, pub_contacts = int(entry["rank"]), int(entry["contacts"])  # type: ignore[call-overload]
        match = match_known_party(str(entry["party"]), str(entry["country"]), known, register=index)
        found, problem = match.found, match.problem
        row: dict[str, object] = {
            "published_rank": pub_rank,
            "published_party": str(entry["party"]),
            "published_country": str(entry["country"]).strip().upper(),
            "published_contacts": pub_contacts,
            "party_id": pd.NA,
            "party": pd.NA,
            "computed_contacts": pd.NA,
            "computed_rank": pd.NA,
            "comparison": problem,
            "hint": None,
        }
        if problem is None:
            party_id = found["party_id"].iloc[0]
            ours = ranked[ranked["party_id"] == party_id]
            n = int(ours["contacts"].iloc[0]) if len(ours) else 0
            rank = int(ours["rank"].iloc[0]) if len(ours) else None
            row.update(party_id=party_id, party=found["party"].iloc[0], computed_contacts=n)
            row["computed_rank"] = pd.NA if rank is None else rank
            diff = n - pub_contacts
            if rank is None:
                row["comparison"] = f"differs by {diff:+d} contacts (no contacts in the period)"
            elif diff:
                row["comparison"] = f"differs by {diff:+d} contacts (rank {rank})"
            elif rank != pub_rank:
                row["comparison"] = f"same contacts, rank {rank} instead of {pub_rank}"
            else:
                row["comparison"] = "match"
        elif found.empty:  # not found (not ambiguous): say where such a name is
            row["hint"] = _hint(entry, known, ranked)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(_COMPARE_COLUMNS))
    for column in ("computed_contacts", "computed_rank"):
        out[column] = out[column].astype("Int64")
    return out
