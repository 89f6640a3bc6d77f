"""Text forms of party names: the spellings and folded forms the matcher compares.

Why a module of its own: the rules of `cpcstats.party_names` compare
names in several forms (as written, normalised, core words, initials,
letters only), and the register's names are expanded into their spellings
once, when `cpcstats.party_names.index.PartyIndex` is built; both
sides must fold text the same way, so the folding lives in one place.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from cpcstats.countries import country_name

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
    if text.isascii():  # nothing to decompose (most names): skip the per-character pass
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def split_words(text: str) -> list[str]:
    """Folded words: accents and case folded, "&" as "and", apostrophes and punctuation dropped."""
    text = _strip_accents(text).casefold().replace("&", " and ")
    text = re.sub(r"['\u2019`]", "", text)  # people's, peoples' -> peoples; workers' -> workers
    text = re.sub(r"[^\w]+", " ", text)
    text = re.sub(
        r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", text
    )  # alliance90 -> alliance 90
    return text.split()


def fold_plurals(core: str) -> str:
    """A core form with plural -s folded ("greens" -> "green", not "progress"), re-sorted.

    Why: the DPI and coders write "Greens" for Party Facts' "Green Party" (Switzerland)
    and "Green" for Sweden's "Greens"; the fold is its own rule after the core form, so a
    party whose name differs from another's only by the plural is never taken silently.
    """
    return " ".join(
        sorted(
            t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t
            for t in core.split()
        )
    )


@lru_cache(maxsize=512)
def _country_tokens(iso3: str) -> frozenset[str]:
    """The country's own name words and adjectives, e.g. {"vietnam", "vietnamese", "viet"}."""
    words: set[str] = set(_ADJECTIVES.get(iso3, ()))
    with contextlib.suppress(ValueError):  # not an ISO3 code coco knows: no name words
        words.update(split_words(country_name(iso3)))
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
    tokens = split_words(name)
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
    return core_of_normalised(normalise(name, iso3), iso3)


def core_of_normalised(norm: str, iso3: str = "") -> str:
    """`core_form` of a name already `normalise`-d (the index folds each name once for both)."""
    country = _country_tokens(iso3) if iso3 else frozenset()
    words = [t for t in norm.split() if t not in STOPWORDS and not _is_country_word(t, country)]
    return " ".join(sorted(words))


def initials(name: str) -> str:
    """Initials of a name's words, small words skipped: "Communist Party of Vietnam" -> "cpv"."""
    return "".join(t[0] for t in split_words(name) if t not in _INITIAL_SKIP)


SCORER = fuzz.ratio
"""rapidfuzz's normalised Indel similarity, 0..100: ``2 * LCS / (len(a) + len(b))``, where
LCS is the longest common subsequence of characters.  The fuzzy rule scores core forms
(sorted tokens) with it, so word order never counts -- the ``token_sort_ratio`` idea with
the sorting done once, by `core_form`."""


def similarity(a: str, b: str) -> float:
    """`SCORER` of two core forms (already sorted tokens) as a share, 0..1; 0 if either is empty.

    Why rapidfuzz and not difflib: the same kind of score (difflib's ratio is
    ``2 * M / (len(a) + len(b))`` with M its greedy matching blocks, never more than the
    LCS), exact rather than heuristic, computed in C++ and over a whole list of choices at
    once with a cutoff (``rapidfuzz.process.extract``), which the matcher uses.
    """
    if not a or not b:
        return 0.0
    return SCORER(a, b) / 100


def alnum(text: str) -> str:
    """Letters and digits only, folded: "FUNC-INPEC" and "Funcinpec" compare equal."""
    return re.sub(r"[^\w]|_", "", _strip_accents(text).casefold())


def clean(text: str) -> str:
    return " ".join(str(text).split())


def fold_key(text: str) -> str:
    return clean(text).casefold()


PAREN = re.compile(r"\s*\(([^()]*)\)\s*")


def variants(text: str) -> list[str]:
    """A register name's spellings: " / " alternatives, language prefixes, [optional] words."""
    out: list[str] = []
    parts = [p.strip() for p in re.split(r"\s+/\s+|\s+--\s+|\s*//\s*|\s*;\s*", text) if p.strip()]
    for part in [text, *parts]:
        part = re.sub(r"^[A-Z][a-z]+(?: [A-Z][a-z]+)?:\s*", "", part).strip()
        part = part.lstrip("(").strip()
        if "[" in part:
            out.append(clean(re.sub(r"[\[\]]", "", part)))
            out.append(clean(re.sub(r"\[[^\]]*\]", "", part)))
        else:
            out.append(clean(part))
    return [v for v in dict.fromkeys(out) if v]
