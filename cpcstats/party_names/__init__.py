"""Match party names as people write them to Party Facts ids: the party analogue of countries.py.

A coder of the ID-CPC news items writes "Communist Party of Vietnam (CPV)",
"Vietnamese Communist Party" or "Japan's New Komeito"; the register
(`cpcstats.adapters.read_partyfacts`) knows these parties under
"DCVN" / "Communist Party of Vietnam" and "K" / "Clean Government Party / New
Komeito".  `match_party_names` links the two, *within the input's
country only*, and says for every input how it did so.

Rules, in order; the first that yields candidates decides:

1. **override** -- the user's ``[parties.overrides]``: ``"name" = id`` or
   ``"ISO3:name" = id`` (the country-qualified key wins).  Keys compare
   case-insensitively with whitespace collapsed.
2. **exact** -- the name, whitespace-collapsed, equals one of a party's
   names: ``name_short``, ``name``, ``name_english`` or ``name_other``, each
   also split at " / " (Party Facts lists alternatives so) and with language
   prefixes ("Vietnamese: ...") and square-bracketed optional words
   ("[Rikken] Jiyuto") resolved both ways.
3. **normalised** -- equality after `normalise` (case, accents,
   punctuation, "&" -> "and", a leading "the", a leading possessive of the
   country such as "Japan's"), or of the *core* form (`core_form`:
   also without the words "party", "of", "the", "and" and without the
   country's own name and adjective), or a parenthesised abbreviation in the
   input ("(CPV)") equal to a short name or to the initials of an English
   name ("Communist Party of Vietnam" -> CPV; "a", "of", "the", "and", "for"
   skipped).  A parenthesis that is not the initials of the words before
   it is a *qualifier* ("(Marxist)", "(N)"): when it is set aside, only
   parties it fits (it abbreviates the party or begins words
   of one of its names) remain candidates, so "Communist Party of India
   (Marxist)" never falls back to the Communist Party of India.
4. **fuzzy** -- `similarity` of the core forms (rapidfuzz's ``fuzz.ratio``,
   the normalised Indel similarity ``2 * LCS / (len(a) + len(b))`` of the
   sorted core tokens, as a share 0..1), each party scored by its best core
   form; the country's core forms are scored in one
   ``rapidfuzz.process.extract`` call whose ``score_cutoff`` drops those
   below `FUZZY_FLOOR` (never taken, never listed).  The best candidate is
   taken only when its score is at least ``threshold`` (default
   `FUZZY_THRESHOLD`) *and* beats the runner-up by `FUZZY_MARGIN`.

Nothing is taken silently: when a rule yields several parties the input is
``ambiguous`` (candidates listed), a best fuzzy score at or above the
threshold but too close to the runner-up is ``ambiguous`` ("fuzzy tie"), and
one below the threshold is ``unmatched`` with its candidates (those scoring at
least `FUZZY_FLOOR`; "no similar name" when none does); only an override
settles those.  If the input has a year, parties whose
``year_first..year_last`` does not cover it are set aside when another
candidate does (a party founded later or dissolved earlier cannot be meant).
Party Facts' technical entries ("other", "independent", ...) are never
candidates.

Why rapidfuzz (a dependency) and not the standard library's difflib: the
score is the same kind (difflib's ratio is ``2 * M / (len(a) + len(b))`` with
M from greedy matching blocks, never above the LCS; on the hand-labelled
fixture and on all 2,513 DPI spellings every accepted, ambiguous and
unmatched outcome is the same with either), but rapidfuzz computes it exactly,
in C++, over a whole list of choices with a cutoff, which made matching the
DPI's spellings about three times faster.

Layout: `cpcstats.party_names.text` (the text forms both sides are
folded to), `cpcstats.party_names.index` (the register with every name
form), `cpcstats.party_names.report` (outcomes and thresholds) and
`cpcstats.party_names.match` (the rules) and `cpcstats.party_names.known` (a published
name looked up among a study's own parties, for the Table 1 comparison).  Import from
this package.
"""

from __future__ import annotations

from cpcstats.party_names.index import PartyIndex
from cpcstats.party_names.known import KnownMatch, match_known_party
from cpcstats.party_names.match import YEAR_SLACK, match_one, match_party_names
from cpcstats.party_names.report import (
    ACCEPTED,
    CANDIDATES_LISTED,
    FUZZY_FLOOR,
    FUZZY_MARGIN,
    FUZZY_THRESHOLD,
    HOW_AMBIGUOUS,
    HOW_EXACT,
    HOW_FUZZY,
    HOW_NORMALISED,
    HOW_OVERRIDE,
    HOW_UNMATCHED,
    PartyMatch,
    PartyMatchReport,
)
from cpcstats.party_names.text import STOPWORDS, core_form, initials, normalise, similarity

__all__ = [
    "ACCEPTED",
    "CANDIDATES_LISTED",
    "FUZZY_FLOOR",
    "FUZZY_MARGIN",
    "FUZZY_THRESHOLD",
    "HOW_AMBIGUOUS",
    "HOW_EXACT",
    "HOW_FUZZY",
    "HOW_NORMALISED",
    "HOW_OVERRIDE",
    "HOW_UNMATCHED",
    "STOPWORDS",
    "YEAR_SLACK",
    "KnownMatch",
    "PartyIndex",
    "PartyMatch",
    "PartyMatchReport",
    "core_form",
    "initials",
    "match_known_party",
    "match_one",
    "match_party_names",
    "normalise",
    "similarity",
]
