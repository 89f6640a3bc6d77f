"""The matching rules: overrides, exact, normalised, fuzzy (see `cpcstats.party_names`).

`match_one` applies the rules in order to one (name, ISO3) and stops at
the first that yields candidates; `match_party_names` runs it over many
inputs with one index, one override table and a cache of identical inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import process

from cpcstats.countries import is_iso3
from cpcstats.errors import SpecError
from cpcstats.party_names import report as rp
from cpcstats.party_names import text as tx
from cpcstats.party_names.index import Entry, PartyIndex
from cpcstats.party_names.report import FUZZY_THRESHOLD, PartyMatch, PartyMatchReport
from cpcstats.party_names.text import core_form, initials, normalise


def _override_table(overrides: Mapping[str, int] | None, index: PartyIndex) -> dict[str, int]:
    table: dict[str, int] = {}
    for key, value in (overrides or {}).items():
        try:
            pid = int(value)
        except (TypeError, ValueError):
            raise SpecError(
                f"party override '{key}' = {value!r} is not a Party Facts id",
                column="parties.overrides",
                fix="give the whole-number partyfacts_id, e.g. 'Vietnamese Communist Party' = 4898",
            ) from None
        if pid not in index.ids:
            raise SpecError(
                f"party override '{key}' = {pid}: no party has this partyfacts_id in the register",
                column="parties.overrides",
                fix="look the party up in the Party Facts core file and use its partyfacts_id",
            )
        text = str(key)
        if re.match(r"^[A-Z]{3}:", text) and is_iso3(text[:3]):
            table[f"{text[:3]}:{tx.fold_key(text[4:])}"] = pid
        else:
            table[tx.fold_key(text)] = pid
    return table


YEAR_SLACK = 1
"""Years a party counts as active beyond Party Facts' ``year_first..year_last``: sources date
the same situation differently (the DPI's January 1 rows show a party dissolved the year before)."""


def _in_years(e: Entry, year: int | None) -> bool:
    if year is None:
        return True
    if e.year_first is not None and year < e.year_first - YEAR_SLACK:
        return False
    return not (e.year_last is not None and year > e.year_last + YEAR_SLACK)


def _decide(
    name: str, iso3: str, found: list[Entry], how: str, rule: str, year: int | None
) -> PartyMatch | None:
    """One distinct active candidate is taken; several are ambiguous; none active, unmatched."""
    if not found:
        return None
    unique = list({e.partyfacts_id: e for e in found}.values())
    cands = [e for e in unique if _in_years(e, year)]
    if not cands:
        listed = tuple((e.partyfacts_id, e.label, 1.0) for e in unique[: rp.CANDIDATES_LISTED])
        return PartyMatch(
            name,
            iso3,
            None,
            rp.HOW_UNMATCHED,
            None,
            listed,
            f"{rule}; no candidate active in {year}",
        )
    listed = tuple((e.partyfacts_id, e.label, 1.0) for e in cands[: rp.CANDIDATES_LISTED])
    if len(cands) == 1:
        return PartyMatch(name, iso3, cands[0].partyfacts_id, how, 1.0, listed, rule)
    return PartyMatch(name, iso3, None, rp.HOW_AMBIGUOUS, 1.0, listed, rule)


def _abbreviates(text: str, e: Entry) -> bool:
    """True if ``text`` is one of the party's short names or the initials of its English name."""
    key = tx.alnum(text)
    return bool(key) and (key in e.short_keys or key in e.inits)


def _fits(qualifiers: list[str], e: Entry) -> bool:
    """Each parenthesised qualifier abbreviates the party or begins words of one of its names.

    "Pakistan Muslim League (N)" fits "Pakistan Muslim League (Nawaz)" but not
    "... (Quaid e Azam Group)"; "Communist Party of India (Marxist)" does not fit
    the Communist Party of India.
    """
    for q in qualifiers:
        if _abbreviates(q, e):
            continue
        words = tx.split_words(q)
        names = [tx.split_words(n) for n in e.names]
        if not words or not any(
            all(any(t.startswith(w) for t in toks) for w in words) for toks in names
        ):
            return False
    return True


def match_one(
    name: str,
    iso3: str,
    index: PartyIndex,
    *,
    year: int | None = None,
    overrides: Mapping[str, int] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> PartyMatch:
    """Apply the package's rules to one (name, ISO3); ``overrides`` as from _override_table."""
    text = tx.clean(name)
    table = overrides or {}
    for key in (f"{iso3}:{text.casefold()}", text.casefold()):
        if key in table:
            return PartyMatch(name, iso3, table[key], rp.HOW_OVERRIDE, None, (), "override")
    parties = index.parties(iso3)
    if not text or not parties:
        why = "empty name" if not text else f"no register party in {iso3 or '<no country>'}"
        return PartyMatch(name, iso3, None, rp.HOW_UNMATCHED, None, (), why)
    # 2. exact
    found = [e for e in parties if text in e.names]
    hit = _decide(name, iso3, found, rp.HOW_EXACT, "a register name", year)
    if hit is not None:
        return hit
    # 3. normalised, form by form; the first form that yields candidates decides
    form = _InputForms.of(text, iso3)
    for found, rule in _normalised_candidates(form, parties):
        hit = _decide(name, iso3, found, rp.HOW_NORMALISED, rule, year)
        if hit is not None:
            return hit
    # 4. fuzzy on core forms, among the parties the qualifiers fit
    return _fuzzy(name, iso3, form, index, year=year, threshold=threshold)


@dataclass(frozen=True)
class _InputForms:
    """The forms of one input name that rule 3 compares, and its parenthesised qualifiers."""

    text: str
    outer: str
    """The name without its parentheses."""
    qualifiers: list[str]
    normalised: list[tuple[str, str]]
    """(normalised form, rule label): the full name, then without the parenthesis."""
    abbrevs: list[str]
    core: str

    @classmethod
    def of(cls, text: str, iso3: str) -> _InputForms:
        outer = tx.clean(tx.PAREN.sub(" ", text))
        inner = [m.strip() for m in re.findall(r"\(([^()]*)\)", text)]
        # A parenthesis giving the initials of the name before it ("(CPRF)") adds nothing;
        # any other parenthesis is a qualifier the party must fit.
        qualifiers = [a for a in inner if a and tx.alnum(a) != initials(outer)]
        forms = [(normalise(text, iso3), "normalised name")]
        if outer and outer != text:
            forms.append((normalise(outer, iso3), "normalised name without parenthesis"))
        abbrevs = [a for a in inner if a and len(a.split()) == 1]
        if not inner and len(text.split()) == 1:
            abbrevs.append(text)
        core = core_form(outer or text, iso3)
        return cls(text, outer, qualifiers, forms, abbrevs, core)


def _normalised_candidates(
    form: _InputForms, parties: list[Entry]
) -> Iterator[tuple[list[Entry], str]]:
    """Rule 3's candidate lists in order: normalised, short name, core form, initials."""
    for k, (norm, rule) in enumerate(form.normalised):
        if norm:
            found = [e for e in parties if norm in e.norms]
            if k == 1:
                # The parenthesis was dropped: it must be this party's abbreviation
                # ("(CPV)"), not a qualifier that tells parties apart ("(Marxist)", "(N)").
                found = [e for e in found if _fits(form.qualifiers, e)]
            yield found, rule
    for abbr in form.abbrevs:
        key = tx.alnum(abbr)
        yield [e for e in parties if key in e.short_keys], f"short name ({abbr})"
    if form.core:
        found = [e for e in parties if form.core in e.cores]
        yield [e for e in found if _fits(form.qualifiers, e)], "core form"
        singular = tx.fold_plurals(form.core)
        found = [e for e in parties if singular in e.singular_cores]
        yield [e for e in found if _fits(form.qualifiers, e)], "core form, plurals folded"
    for abbr in form.abbrevs:
        key = tx.alnum(abbr)
        yield [e for e in parties if key in e.inits], f"initials of ({abbr})"


def _fuzzy_ranking(
    core: str, index: PartyIndex, iso3: str, allowed: set[int] | None
) -> list[tuple[float, Entry]]:
    """Each party's best similarity of its core forms to ``core``, best first (ties in
    register order); ``allowed`` the positions in ``index.parties(iso3)`` that may compete.

    One ``rapidfuzz.process.extract`` call scores ``core`` against every core form of the
    country with `cpcstats.party_names.text.similarity`'s scorer; ``score_cutoff`` drops,
    inside rapidfuzz, the forms below `FUZZY_FLOOR` (such a party could be neither taken
    nor a useful candidate to list).
    """
    cores, owners = index.fuzzy_choices(iso3)
    parties = index.parties(iso3)
    hits = process.extract(
        core,
        cores,
        scorer=tx.SCORER,
        processor=None,
        score_cutoff=100 * rp.FUZZY_FLOOR,
        limit=None,
    )
    best: dict[int, float] = {}
    for _, score, i in hits:
        k = owners[i]
        if (allowed is None or k in allowed) and score > best.get(k, -1.0):
            best[k] = score
    scored: dict[int, tuple[float, Entry]] = {}
    for k in sorted(best):
        e, s = parties[k], best[k] / 100
        if s > scored.get(e.partyfacts_id, (-1.0, e))[0]:
            scored[e.partyfacts_id] = (s, e)
    return sorted(scored.values(), key=lambda se: -se[0])


def _fuzzy(
    name: str,
    iso3: str,
    form: _InputForms,
    index: PartyIndex,
    *,
    year: int | None,
    threshold: float,
) -> PartyMatch:
    """Rule 4: the best fuzzy candidate, taken only above the threshold and the margin."""
    parties = index.parties(iso3)
    allowed = None
    if form.qualifiers:
        allowed = {k for k, e in enumerate(parties) if _fits(form.qualifiers, e)}
    if not form.core or allowed == set():
        return PartyMatch(name, iso3, None, rp.HOW_UNMATCHED, None, (), "no content words")
    ranked = _fuzzy_ranking(form.core, index, iso3, allowed)
    # Parties not active in the year compete only when no competing party is active --
    # whatever its score: a party below FUZZY_FLOOR is absent from ``ranked`` but active.
    competing = parties if allowed is None else [parties[k] for k in sorted(allowed)]
    if year is not None and any(_in_years(e, year) for e in competing):
        ranked = [se for se in ranked if _in_years(se[1], year)]
    listed = tuple(
        (e.partyfacts_id, e.label, round(s, 3)) for s, e in ranked[: rp.CANDIDATES_LISTED] if s > 0
    )
    if not ranked or ranked[0][0] <= 0:
        return PartyMatch(name, iso3, None, rp.HOW_UNMATCHED, None, (), "no similar name")
    best, runner = ranked[0][0], (ranked[1][0] if len(ranked) > 1 else 0.0)
    score = round(best, 3)
    if best >= threshold and best - runner >= rp.FUZZY_MARGIN:
        return PartyMatch(
            name, iso3, ranked[0][1].partyfacts_id, rp.HOW_FUZZY, score, listed, "fuzzy core form"
        )
    if best >= threshold:
        return PartyMatch(name, iso3, None, rp.HOW_AMBIGUOUS, score, listed, "fuzzy tie")
    return PartyMatch(name, iso3, None, rp.HOW_UNMATCHED, score, listed, "below threshold")


def match_party_names(
    pairs: Iterable[tuple[str, str]] | pd.DataFrame,
    register: pd.DataFrame | PartyIndex,
    *,
    years: Sequence[int | None] | None = None,
    overrides: Mapping[str, int] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> PartyMatchReport:
    """Match each (party name, ISO3) to a Party Facts id; one `PartyMatch` per input.

    ``pairs`` is an iterable of ``(name, iso3)`` or a frame with columns
    ``party_name`` and ``iso3`` (and optionally ``year``).  ``register`` is
    the table of `cpcstats.adapters.read_partyfacts` (or a
    `PartyIndex` built from it, to reuse).  ``years`` (aligned with
    ``pairs``) sets aside parties not active in that year.  Identical inputs
    are matched once.
    """
    if not 0 < threshold <= 1:
        raise SpecError(
            f"fuzzy threshold {threshold} is not in (0, 1]",
            column="parties.threshold",
            fix=f"use a share such as {FUZZY_THRESHOLD}",
        )
    index = register if isinstance(register, PartyIndex) else PartyIndex(register)
    if isinstance(pairs, pd.DataFrame):
        items = list(zip(pairs["party_name"], pairs["iso3"], strict=True))
        if years is None and "year" in pairs.columns:
            years = [None if pd.isna(y) else int(y) for y in pairs["year"]]
    else:
        items = list(pairs)
    if years is not None and len(years) != len(items):
        raise ValueError("years must align with pairs")
    table = _override_table(overrides, index)
    cache: dict[tuple[str, str, int | None], PartyMatch] = {}
    report = PartyMatchReport(threshold=threshold)
    for i, (name, iso3) in enumerate(items):
        year = years[i] if years is not None else None
        text = "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)
        code = "" if iso3 is None or (not isinstance(iso3, str) and pd.isna(iso3)) else str(iso3)
        key = (text, code, year)
        if key not in cache:
            cache[key] = match_one(
                text, code, index, year=year, overrides=table, threshold=threshold
            )
        report.matches.append(cache[key])
    return report
