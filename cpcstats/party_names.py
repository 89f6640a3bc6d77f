"""Match party names as people write them to Party Facts ids: the party analogue of countries.py.

A coder of the ID-CPC news items writes "Communist Party of Vietnam (CPV)",
"Vietnamese Communist Party" or "Japan's New Komeito"; the register
(:func:`cpcstats.adapters.read_partyfacts`) knows these parties under
"DCVN" / "Communist Party of Vietnam" and "K" / "Clean Government Party / New
Komeito".  :func:`match_party_names` links the two, *within the input's
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
3. **normalised** -- equality after :func:`normalise` (case, accents,
   punctuation, "&" -> "and", a leading "the", a leading possessive of the
   country such as "Japan's"), or of the *core* form (:func:`core_form`:
   also without the words "party", "of", "the", "and" and without the
   country's own name and adjective), or a parenthesised abbreviation in the
   input ("(CPV)") equal to a short name or to the initials of an English
   name ("Communist Party of Vietnam" -> CPV; "a", "of", "the", "and", "for"
   skipped).  A parenthesis that is not the initials of the words before
   it is a *qualifier* ("(Marxist)", "(N)"): when it is set aside, only
   parties it fits (:func:`_fits`: it abbreviates the party or begins words
   of one of its names) remain candidates, so "Communist Party of India
   (Marxist)" never falls back to the Communist Party of India.
4. **fuzzy** -- :func:`similarity` of the core forms (difflib's ratio of the
   sorted core tokens, 0..1); the best candidate is taken only when its
   score is at least ``threshold`` (default :data:`FUZZY_THRESHOLD`) *and*
   beats the runner-up by :data:`FUZZY_MARGIN`.

Nothing is taken silently: when a rule yields several parties the input is
``ambiguous`` (candidates listed), and a best fuzzy score below the threshold
or too close to the runner-up is ``unmatched`` with its candidates; only an
override settles those.  If the input has a year, parties whose
``year_first..year_last`` does not cover it are set aside when another
candidate does (a party founded later or dissolved earlier cannot be meant).
Party Facts' technical entries ("other", "independent", ...) are never
candidates.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from cpcstats.countries import country_name, is_iso3
from cpcstats.errors import SpecError

FUZZY_THRESHOLD = 0.92
"""Lowest fuzzy score taken.  Measured on the hand-labelled fixture (tests/fixtures/party_names):
the right parties reached only by the fuzzy rule score 0.93-0.96; with each true party removed
from the register, the best wrong candidate scores up to 0.919 (Indian National Congress ->
Nationalist Congress Party) -- below this threshold -- and once 0.947 (Communist Party of
Belarus -> Party of Communists of Belarus, a genuinely confusable pair)."""
FUZZY_MARGIN = 0.05
"""The best fuzzy candidate must beat the runner-up by this much, else the input is ambiguous."""
CANDIDATES_LISTED = 3
FUZZY_FLOOR = 0.5
"""Fuzzy scores below this are not computed exactly and such parties are not listed."""

HOW_OVERRIDE = "override"
HOW_EXACT = "exact"
HOW_NORMALISED = "normalised"
HOW_FUZZY = "fuzzy"
HOW_AMBIGUOUS = "ambiguous"
HOW_UNMATCHED = "unmatched"
ACCEPTED = frozenset({HOW_OVERRIDE, HOW_EXACT, HOW_NORMALISED, HOW_FUZZY})

STOPWORDS = frozenset({"the", "a", "of", "party", "and", "for"})
"""Words the core form leaves out: "Party of X" and "X Party" mean the same party."""
_INITIAL_SKIP = frozenset({"a", "of", "the", "and", "for"})

# Country adjectives that do not start like the country's name (the prefix rule in
# _country_tokens finds "vietnamese", "japanese", "cambodian", "korean", "chinese", ...).
_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "VNM": ("viet", "nam", "vietnamese"),
    "FRA": ("french",),
    "ESP": ("spanish",),
    "NLD": ("dutch", "netherlands"),
    "GBR": ("british", "uk", "britain"),
    "CHE": ("swiss",),
    "THA": ("thai",),
    "LAO": ("lao",),
    "USA": ("american", "us"),
    "DEU": ("german",),
    "GRC": ("greek", "hellenic"),
    "SWE": ("swedish",),
    "DNK": ("danish",),
    "FIN": ("finnish",),
    "NOR": ("norwegian",),
    "PHL": ("filipino", "philippine"),
    "PRK": ("korea", "korean", "dprk"),
    "KOR": ("korea", "korean"),
    "RUS": ("russian",),
    "IRL": ("irish",),
    "TUR": ("turkish",),
    "POL": ("polish",),
    "PRT": ("portuguese",),
    "CZE": ("czech",),
    "SVK": ("slovak",),
    "COD": ("congolese", "congo"),
    "COG": ("congolese", "congo"),
    "NPL": ("nepali", "nepalese"),
    "PAK": ("pakistani",),
    "BGD": ("bangladeshi",),
    "LKA": ("sri", "lankan", "lanka"),
    "ZAF": ("south", "african", "africa"),
}


# --------------------------------------------------------------------------- text forms


# Letters NFKD does not split into a base letter and an accent.
_FOLD = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
    }
)


def _strip_accents(text: str) -> str:
    text = text.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _tokens(text: str) -> list[str]:
    text = _strip_accents(text).casefold().replace("&", " and ")
    text = re.sub(r"['\u2019`]", "", text)  # people's, peoples' -> peoples; workers' -> workers
    text = re.sub(r"[^\w]+", " ", text)
    return text.split()


@lru_cache(maxsize=512)
def _country_tokens(iso3: str) -> frozenset[str]:
    """The country's own name words and adjectives, e.g. {"vietnam", "vietnamese", "viet"}."""
    words: set[str] = set(_ADJECTIVES.get(iso3, ()))
    with contextlib.suppress(ValueError):  # not an ISO3 code coco knows: no name words
        words.update(_tokens(country_name(iso3)))
    return frozenset(w for w in words if w not in {"the", "of", "and", "republic"})


def _is_country_word(token: str, country: frozenset[str]) -> bool:
    """A country name word, or an adjective that starts like it ("vietnamese", "cambodian")."""
    if token in country:
        return True
    for word in country:
        if len(word) >= 4 and token.startswith(word[:4]) and len(token) <= len(word) + 4:
            common = len(_common_prefix(token, word))
            if common >= 4 and common >= 0.6 * min(len(token), len(word)):
                return True
    return False


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def normalise(name: str, iso3: str = "") -> str:
    """Case, accents and punctuation folded; a leading "the" or country possessive removed.

    "The Cambodian People's Party" -> "cambodian peoples party";
    "Japan's New Komeito" -> "new komeito".
    """
    tokens = _tokens(name)
    country = _country_tokens(iso3) if iso3 else frozenset()
    changed = True
    while changed and tokens:
        changed = False
        if tokens[0] == "the":
            tokens, changed = tokens[1:], True
        # "Japan's X", "South Korea's X": country words, the last in the possessive.
        for k in range(1, min(3, len(tokens) - 1) + 1):
            head = [*tokens[: k - 1], tokens[k - 1][:-1]]
            if (
                tokens[k - 1].endswith("s")
                and head[-1] in country
                and all(_is_country_word(t, country) for t in head)
            ):
                tokens, changed = tokens[k:], True
                break
    return " ".join(tokens)


def core_form(name: str, iso3: str = "") -> str:
    """Sorted content words: no "party", "of", "the", "and", no country name or adjective.

    "Communist Party of Vietnam" and "Vietnamese Communist Party" both give
    "communist".  Returns "" when nothing is left (e.g. "Party of Vietnam").
    """
    country = _country_tokens(iso3) if iso3 else frozenset()
    words = [
        t
        for t in normalise(name, iso3).split()
        if t not in STOPWORDS and not _is_country_word(t, country)
    ]
    return " ".join(sorted(words))


def initials(name: str) -> str:
    """Initials of a name's words, small words skipped: "Communist Party of Vietnam" -> "cpv"."""
    return "".join(t[0] for t in _tokens(name) if t not in _INITIAL_SKIP)


def similarity(a: str, b: str) -> float:
    """difflib ratio of two core forms (already sorted tokens), 0..1; 0 if either is empty."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _alnum(text: str) -> str:
    """Letters and digits only, folded: "FUNC-INPEC" and "Funcinpec" compare equal."""
    return re.sub(r"[^\w]|_", "", _strip_accents(text).casefold())


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _key(text: str) -> str:
    return _clean(text).casefold()


_PAREN = re.compile(r"\s*\(([^()]*)\)\s*")


def _variants(text: str) -> list[str]:
    """A register name's spellings: " / " alternatives, language prefixes, [optional] words."""
    out: list[str] = []
    parts = [p.strip() for p in re.split(r"\s+/\s+|\s+--\s+|\s*//\s*|\s*;\s*", text) if p.strip()]
    for part in [text, *parts]:
        part = re.sub(r"^[A-Z][a-z]+(?: [A-Z][a-z]+)?:\s*", "", part).strip()
        part = part.lstrip("(").strip()
        if "[" in part:
            out.append(_clean(re.sub(r"[\[\]]", "", part)))
            out.append(_clean(re.sub(r"\[[^\]]*\]", "", part)))
        else:
            out.append(_clean(part))
    return [v for v in dict.fromkeys(out) if v]


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Entry:
    partyfacts_id: int
    label: str
    year_first: int | None
    year_last: int | None
    names: tuple[str, ...]
    shorts: tuple[str, ...]
    norms: frozenset[str]
    cores: frozenset[str]
    inits: frozenset[str]


class PartyIndex:
    """The register's parties by country, with every name form the rules compare."""

    def __init__(self, register: pd.DataFrame) -> None:
        need = {"partyfacts_id", "iso3", "name_short", "name_english"}
        missing = need - set(register.columns)
        if missing:
            raise SpecError(
                f"the party register lacks column(s) {', '.join(sorted(missing))}",
                fix="build it with cpcstats.adapters.read_partyfacts(...).table",
            )
        self.by_country: dict[str, list[_Entry]] = {}
        self.ids: dict[int, str] = {}
        tech = register["technical"] if "technical" in register.columns else None
        for i, row in enumerate(register.itertuples(index=False)):
            pid = int(row.partyfacts_id)
            iso3 = str(row.iso3)
            self.ids[pid] = iso3
            if tech is not None and not pd.isna(tech.iloc[i]):
                continue
            entry = _entry(row, iso3)
            self.by_country.setdefault(iso3, []).append(entry)

    def parties(self, iso3: str) -> list[_Entry]:
        return self.by_country.get(iso3, [])


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = _clean(str(value))
    return text or None


def _year(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _entry(row: object, iso3: str) -> _Entry:
    short = _text(getattr(row, "name_short", None))
    long_names: list[str] = []
    for col in ("name_english", "name", "name_other"):
        value = _text(getattr(row, col, None))
        if value:
            long_names.extend(_variants(value))
    shorts = tuple(_variants(short)) if short else ()
    names = tuple(dict.fromkeys([*shorts, *long_names]))
    english = _text(getattr(row, "name_english", None))
    label = f"{short or '?'} ({english or _text(getattr(row, 'name', None)) or '?'})"
    inits = {initials(n) for n in _variants(english)} if english else set()
    return _Entry(
        partyfacts_id=int(getattr(row, "partyfacts_id")),  # noqa: B009
        label=label,
        year_first=_year(getattr(row, "year_first", None)),
        year_last=_year(getattr(row, "year_last", None)),
        names=names,
        shorts=shorts,
        norms=frozenset(normalise(n, iso3) for n in names) - {""},
        cores=frozenset(core_form(n, iso3) for n in names) - {""},
        inits=frozenset(i for i in inits if len(i) >= 2),
    )


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class PartyMatch:
    """What the matcher did with one input: the id taken (or none), how, and the candidates."""

    name: str
    iso3: str
    partyfacts_id: int | None
    how: str
    score: float | None = None
    candidates: tuple[tuple[int, str, float], ...] = ()
    """(partyfacts_id, label, score) of the parties considered, best first."""
    rule: str = ""
    """Which form matched, e.g. "name_english", "core form", "initials of (CPV)"."""

    @property
    def accepted(self) -> bool:
        return self.how in ACCEPTED


@dataclass
class PartyMatchReport:
    """One :class:`PartyMatch` per input, in input order, plus counts and a text summary."""

    matches: list[PartyMatch] = field(default_factory=list)
    threshold: float = FUZZY_THRESHOLD

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.matches:
            out[m.how] = out.get(m.how, 0) + 1
        return out

    def ids(self) -> list[int | None]:
        return [m.partyfacts_id for m in self.matches]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "name": [m.name for m in self.matches],
                "iso3": [m.iso3 for m in self.matches],
                "partyfacts_id": pd.array([m.partyfacts_id for m in self.matches], "Int64"),
                "how": [m.how for m in self.matches],
                "score": [m.score for m in self.matches],
                "rule": [m.rule for m in self.matches],
                "candidates": [
                    "; ".join(f"{pid} {label} ({score:.2f})" for pid, label, score in m.candidates)
                    for m in self.matches
                ],
            }
        )

    def summary(self) -> str:
        """Per-input lines for the check report: what matched, how, and what to do if nothing."""
        c = self.counts()
        lines = [
            f"Party-name matching: {len(self.matches)} name(s); "
            + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
            + f" (fuzzy threshold {self.threshold:.2f})."
        ]
        for m in self.matches:
            what = f"-> {m.partyfacts_id}" if m.partyfacts_id is not None else "-> (none)"
            score = f" score {m.score:.2f}" if m.score is not None else ""
            cand = ""
            if not m.accepted and m.candidates:
                cand = "; candidates: " + ", ".join(
                    f"{pid} {label} ({s:.2f})" for pid, label, s in m.candidates
                )
            lines.append(f"  {m.iso3} '{m.name}' {what} [{m.how}{score}]{cand}")
        if any(not m.accepted for m in self.matches):
            lines.append(
                "  fix: settle the ambiguous and unmatched names in [parties.overrides], e.g. "
                "'VNM:Vietnamese Communist Party' = 4898 (a Party Facts id)"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- matching


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
            table[f"{text[:3]}:{_key(text[4:])}"] = pid
        else:
            table[_key(text)] = pid
    return table


YEAR_SLACK = 1
"""Years a party counts as active beyond Party Facts' ``year_first..year_last``: sources date
the same situation differently (the DPI's January 1 rows show a party dissolved the year before)."""


def _in_years(e: _Entry, year: int | None) -> bool:
    if year is None:
        return True
    if e.year_first is not None and year < e.year_first - YEAR_SLACK:
        return False
    return not (e.year_last is not None and year > e.year_last + YEAR_SLACK)


def _decide(
    name: str, iso3: str, found: list[_Entry], how: str, rule: str, year: int | None
) -> PartyMatch | None:
    """One distinct active candidate is taken; several are ambiguous; none active, unmatched."""
    if not found:
        return None
    unique = list({e.partyfacts_id: e for e in found}.values())
    cands = [e for e in unique if _in_years(e, year)]
    if not cands:
        listed = tuple((e.partyfacts_id, e.label, 1.0) for e in unique[:CANDIDATES_LISTED])
        return PartyMatch(
            name, iso3, None, HOW_UNMATCHED, None, listed, f"{rule}; no candidate active in {year}"
        )
    listed = tuple((e.partyfacts_id, e.label, 1.0) for e in cands[:CANDIDATES_LISTED])
    if len(cands) == 1:
        return PartyMatch(name, iso3, cands[0].partyfacts_id, how, 1.0, listed, rule)
    return PartyMatch(name, iso3, None, HOW_AMBIGUOUS, 1.0, listed, rule)


def _abbreviates(text: str, e: _Entry) -> bool:
    """True if ``text`` is one of the party's short names or the initials of its English name."""
    key = _alnum(text)
    return bool(key) and (key in {_alnum(s) for s in e.shorts} or key in e.inits)


def _fits(qualifiers: list[str], e: _Entry) -> bool:
    """Each parenthesised qualifier abbreviates the party or begins words of one of its names.

    "Pakistan Muslim League (N)" fits "Pakistan Muslim League (Nawaz)" but not
    "... (Quaid e Azam Group)"; "Communist Party of India (Marxist)" does not fit
    the Communist Party of India.
    """
    for q in qualifiers:
        if _abbreviates(q, e):
            continue
        words = _tokens(q)
        names = [_tokens(n) for n in e.names]
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
    """Apply the module's rules to one (name, ISO3); ``overrides`` as from _override_table."""
    text = _clean(name)
    table = overrides or {}
    for key in (f"{iso3}:{text.casefold()}", text.casefold()):
        if key in table:
            return PartyMatch(name, iso3, table[key], HOW_OVERRIDE, None, (), "override")
    parties = index.parties(iso3)
    if not text or not parties:
        why = "empty name" if not text else f"no register party in {iso3 or '<no country>'}"
        return PartyMatch(name, iso3, None, HOW_UNMATCHED, None, (), why)

    # 2. exact
    found = [e for e in parties if text in e.names]
    hit = _decide(name, iso3, found, HOW_EXACT, "a register name", year)
    if hit is not None:
        return hit

    # 3. normalised: full form, then without a parenthesis, then core, then abbreviation
    outer = _clean(_PAREN.sub(" ", text))
    inner = [m.strip() for m in re.findall(r"\(([^()]*)\)", text)]
    # A parenthesis giving the initials of the name before it ("(CPRF)") adds nothing;
    # any other parenthesis is a qualifier the party must fit.
    qualifiers = [a for a in inner if a and _alnum(a) != initials(outer)]
    forms = [(normalise(text, iso3), "normalised name")]
    if outer and outer != text:
        forms.append((normalise(outer, iso3), "normalised name without parenthesis"))
    for k, (form, rule) in enumerate(forms):
        if form:
            found = [e for e in parties if form in e.norms]
            if k == 1:
                # The parenthesis was dropped: it must be this party's abbreviation
                # ("(CPV)"), not a qualifier that tells parties apart ("(Marxist)", "(N)").
                found = [e for e in found if _fits(qualifiers, e)]
            hit = _decide(name, iso3, found, HOW_NORMALISED, rule, year)
            if hit is not None:
                return hit
    abbrevs = [a for a in inner if a and len(a.split()) == 1]
    if not inner and len(text.split()) == 1:
        abbrevs.append(text)
    for abbr in abbrevs:
        key = _alnum(abbr)
        found = [e for e in parties if key in {_alnum(s) for s in e.shorts}]
        hit = _decide(name, iso3, found, HOW_NORMALISED, f"short name ({abbr})", year)
        if hit is not None:
            return hit
    core = core_form(outer or text, iso3)
    if core:
        found = [e for e in parties if core in e.cores]
        found = [e for e in found if _fits(qualifiers, e)]
        hit = _decide(name, iso3, found, HOW_NORMALISED, "core form", year)
        if hit is not None:
            return hit
    for abbr in abbrevs:
        key = _alnum(abbr)
        found = [e for e in parties if key in e.inits]
        hit = _decide(name, iso3, found, HOW_NORMALISED, f"initials of ({abbr})", year)
        if hit is not None:
            return hit

    # 4. fuzzy on core forms, among the parties the qualifiers fit
    parties = [e for e in parties if _fits(qualifiers, e)]
    if not core or not parties:
        return PartyMatch(name, iso3, None, HOW_UNMATCHED, None, (), "no content words")
    scored: dict[int, tuple[float, _Entry]] = {}
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(core)
    for e in parties:
        s = 0.0
        for c in e.cores:
            matcher.set_seq1(c)
            # quick_ratio bounds ratio from above: skip the exact computation when it
            # cannot beat this party's best so far or reach FUZZY_FLOOR (such a party
            # could be neither taken nor a useful candidate to list).
            floor = max(s, FUZZY_FLOOR)
            if matcher.real_quick_ratio() > floor and matcher.quick_ratio() > floor:
                s = max(s, matcher.ratio())
        if s > scored.get(e.partyfacts_id, (-1.0, e))[0]:
            scored[e.partyfacts_id] = (s, e)
    ranked = sorted(scored.values(), key=lambda se: -se[0])
    if year is not None:
        active = [se for se in ranked if _in_years(se[1], year)]
        ranked = active or ranked
    listed = tuple(
        (e.partyfacts_id, e.label, round(s, 3)) for s, e in ranked[:CANDIDATES_LISTED] if s > 0
    )
    if not ranked or ranked[0][0] <= 0:
        return PartyMatch(name, iso3, None, HOW_UNMATCHED, None, (), "no similar name")
    best, runner = ranked[0][0], (ranked[1][0] if len(ranked) > 1 else 0.0)
    score = round(best, 3)
    if best >= threshold and best - runner >= FUZZY_MARGIN:
        return PartyMatch(
            name, iso3, ranked[0][1].partyfacts_id, HOW_FUZZY, score, listed, "fuzzy core form"
        )
    if best >= threshold:
        return PartyMatch(name, iso3, None, HOW_AMBIGUOUS, score, listed, "fuzzy tie")
    return PartyMatch(name, iso3, None, HOW_UNMATCHED, score, listed, "below threshold")


def match_party_names(
    pairs: Iterable[tuple[str, str]] | pd.DataFrame,
    register: pd.DataFrame | PartyIndex,
    *,
    years: Sequence[int | None] | None = None,
    overrides: Mapping[str, int] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> PartyMatchReport:
    """Match each (party name, ISO3) to a Party Facts id; one :class:`PartyMatch` per input.

    ``pairs`` is an iterable of ``(name, iso3)`` or a frame with columns
    ``party_name`` and ``iso3`` (and optionally ``year``).  ``register`` is
    the table of :func:`~cpcstats.adapters.read_partyfacts` (or a
    :class:`PartyIndex` built from it, to reuse).  ``years`` (aligned with
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
