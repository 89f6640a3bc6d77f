"""Find a published party name among a study's own parties: the Table 1 comparison's lookup.

The paper's Table 1 says "Communist Party of Vietnam"; a coder's parties table may say
"Vietnamese Communist Party" or "Communist Party of Vietnam (CPV)".  `match_known_party`
looks the published name up among the study's parties *of the same country* with the
package's party-name rules (`cpcstats.party_names`), the study's names standing in for
the register's: each study party becomes a register entry named as written, whose short
name is a one-word parenthesis ("(CPV)", "(Maoist)") and which then also answers to its
name without that parenthesis (a longer parenthesis, "(Unified Marxist-Leninist)", is
part of the name: it tells parties apart).

Order, first that decides:

1. an equal normalised full name (so "Komeito" prefers a party named "Komeito" to one
   named "New Komeito (Komeito)");
2. when a Party Facts register is given: the published name matched to the register, and
   the study parties with that Party Facts id (their ``partyfacts_id`` if they carry one,
   else the id the matcher gives their own name) -- "Komeito" and "Japan's New Komeito"
   meet there, as both are Party Facts party 1515;
3. a study name that is the initials of the published name ("DPJ", "CPN-UML");
4. the rules of `cpcstats.party_names.match_one` against the study's names (exact,
   normalised, fuzzy above the threshold and the margin).

Ties are never taken: several parties give ``"ambiguous: ..."``, none ``"party not found
in the data (...)"`` -- the same texts as the comparison always wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from cpcstats.party_names import report as rp
from cpcstats.party_names.index import PartyIndex
from cpcstats.party_names.match import match_one
from cpcstats.party_names.report import FUZZY_THRESHOLD, PartyMatch
from cpcstats.party_names.text import PAREN, alnum, clean, initials, normalise


@dataclass(frozen=True)
class KnownMatch:
    """The study parties a published name found (0, 1 or several), why, and the match."""

    found: pd.DataFrame
    problem: str | None
    match: PartyMatch


def _known_register(same: pd.DataFrame) -> pd.DataFrame:
    """The study's parties of one country as a register; ``partyfacts_id`` = row position."""
    names = same["party"].astype(str).map(clean)
    outer = names.map(lambda n: clean(PAREN.sub(" ", n)) or n)
    inner = names.map(lambda n: [p.strip() for p in re.findall(r"\(([^()]*)\)", n)])
    short = [
        next((p for p in parts if p and len(p.split()) == 1), None) if parts else None
        for parts in inner
    ]
    # The name without its parenthesis is a name of the party only when the parenthesis is
    # one word (an abbreviation, "(CPV)"); "(Unified Marxist-Leninist)" tells parties apart.
    english = [o if s is not None else n for s, o, n in zip(short, outer, names, strict=True)]
    return pd.DataFrame(
        {
            "partyfacts_id": range(len(same)),
            "iso3": same["iso3"].astype(str).to_numpy(),
            "name_short": [s if s is not None else o for s, o in zip(short, outer, strict=True)],
            "name_english": english,
            "name": names.to_numpy(),
            "name_other": pd.NA,
            "year_first": pd.NA,
            "year_last": pd.NA,
        }
    )


def _abbreviation_of(study_name: str, published: str) -> bool:
    """The study's name (or its one-word parenthesis) is the initials of the published name,
    with or without its parenthesis: "DPJ" for "Democratic Party of Japan", "CPN-UML" for
    "Communist Party of Nepal (Unified Marxist-Leninist)"."""
    words = [clean(PAREN.sub(" ", study_name)), *re.findall(r"\(([^()]*)\)", study_name)]
    keys = {alnum(w) for w in words if w and len(w.split()) == 1}
    outer = clean(PAREN.sub(" ", published))
    forms = {initials(published), initials(outer)} - {""}
    return bool(keys & {f for f in forms if len(f) >= 2})


def _via_register(
    name: str,
    iso3: str,
    same: pd.DataFrame,
    register: pd.DataFrame | PartyIndex,
    threshold: float,
) -> tuple[pd.DataFrame, PartyMatch]:
    """The study parties with the Party Facts id the published name matches: their own
    ``partyfacts_id`` if they carry one, else the id the matcher gives their name."""
    index = register if isinstance(register, PartyIndex) else PartyIndex(register)
    m = match_one(name, iso3, index, threshold=threshold)
    if not m.accepted:
        return same.iloc[[]], m
    if "partyfacts_id" in same.columns:
        ids = same["partyfacts_id"]
    else:
        ids = pd.Series(
            [
                match_one(str(p), iso3, index, threshold=threshold).partyfacts_id
                for p in same["party"]
            ],
            index=same.index,
            dtype="Int64",
        )
    return same[ids.eq(m.partyfacts_id).fillna(False).to_numpy(bool)], m


def _result(name: str, iso3: str, found: pd.DataFrame, m: PartyMatch) -> KnownMatch:
    found = found.drop_duplicates("party_id")
    if found.empty:
        problem = f"party not found in the data (no party named '{name}' in {iso3})"
    elif len(found) > 1:
        ids = ", ".join(map(str, found["party_id"]))
        problem = f"ambiguous: {len(found)} parties in {iso3} match '{name}' ({ids})"
    else:
        problem = None
    return KnownMatch(found, problem, m)


def match_known_party(
    name: str,
    iso3: str,
    known: pd.DataFrame,
    *,
    register: pd.DataFrame | PartyIndex | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> KnownMatch:
    """The rows of ``known`` (``party_id, party, iso3`` [, ``partyfacts_id``]) that the
    published ``name`` of country ``iso3`` denotes; see the module docstring for the order.

    ``found`` has one row when a party was taken; with several (a tie) or none,
    ``problem`` says so in the comparison's words.
    """
    iso3 = str(iso3).strip().upper()
    in_country = known["iso3"].astype("string").eq(iso3).fillna(False).to_numpy(dtype=bool)
    same = known[in_country & known["party"].notna().to_numpy()]
    same = same.drop_duplicates("party_id").reset_index(drop=True)
    full = normalise(name, iso3)
    equal = same[same["party"].map(lambda p: normalise(str(p), iso3) == full).to_numpy(bool)]
    if len(equal):
        how = rp.HOW_EXACT if len(equal) == 1 else rp.HOW_AMBIGUOUS
        return _result(name, iso3, equal, PartyMatch(name, iso3, None, how, 1.0, (), "equal name"))
    if register is not None and not same.empty:
        hit, m = _via_register(name, iso3, same, register, threshold)
        if len(hit):
            return _result(name, iso3, hit, m)
    if same.empty:
        return _result(name, iso3, same, PartyMatch(name, iso3, None, rp.HOW_UNMATCHED))
    abbreviated = same[same["party"].map(lambda p: _abbreviation_of(str(p), name)).to_numpy(bool)]
    if len(abbreviated):
        m = PartyMatch(name, iso3, None, rp.HOW_NORMALISED, 1.0, (), "study name = initials")
        return _result(name, iso3, abbreviated, m)
    m = match_one(name, iso3, PartyIndex(_known_register(same)), threshold=threshold)
    if m.accepted and m.partyfacts_id is not None:
        return _result(name, iso3, same.iloc[[m.partyfacts_id]], m)
    if m.how == rp.HOW_AMBIGUOUS and m.candidates:
        return _result(name, iso3, same.iloc[[c[0] for c in m.candidates]], m)
    return _result(name, iso3, same.iloc[[]], m)
