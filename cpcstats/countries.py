"""Harmonise raw country names or codes to ISO 3166-1 alpha-3 codes.

Raw data spell countries in many ways ("England", "Burma", "DR Congo").  The
matching itself is delegated to the maintained library ``country_converter``
(``coco``) so that its regular expressions, not ad-hoc tables, decide what a
name means.  Around it this module adds what a study needs:

* nothing is dropped silently: every spelling ends up in exactly one of
  ``matched``, ``overridden``, ``excluded`` or ``unmatched`` of a
  `HarmonisationReport`, with row counts, and the report yields a
  `cpcstats.accounting.StageAccount`;
* the user's overrides (``[countries.overrides]`` in the study file) beat the
  library, and exclusions (``[countries.exclude]``) carry a stated reason;
* only the unique spellings are converted, so a million rows cost the same as
  a few hundred distinct names.

Known behaviour of coco 1.3 that matters here: "Wales", "Scotland" and
"Northern Ireland" are not found (hence `DEFAULT_OVERRIDES`); a bare
"Congo" is read as the Republic of the Congo (COG) and a bare "Korea" as South
Korea (KOR); "Taiwan" gives TWN and "Cook Islands" COK.  Whether such
territories belong in a sample is a study decision, made with ``exclude``.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.errors import InputError, SpecError

MISSING = "<missing>"
"""Spelling under which missing values (NaN, None, empty strings) are reported."""

DROP_UNMATCHED = "unmatched country name"
DROP_EXCLUDED = "excluded by study rule"

# Codes that are valid for this package although coco's ISO3 list may lack them.
# XKX is the user-assigned code for Kosovo used by the World Bank, the EU and V-Dem.
EXTRA_ISO3: frozenset[str] = frozenset({"XKX"})

# Each entry is a stated rule, not a guess: the four constituent countries of
# the United Kingdom are part of GBR and nothing else.  coco does not find
# "Wales", "Scotland" or "Northern Ireland" (it does find "England"); listing
# all four here makes the rule explicit, and the report lists them under
# ``overridden`` so a reader sees it was applied.  A study can replace any of
# them with its own override or exclusion.
DEFAULT_OVERRIDES: dict[str, str] = {
    "England": "GBR",
    "Wales": "GBR",
    "Scotland": "GBR",
    "Northern Ireland": "GBR",
}

_COCO_LOGGER = "country_converter"
# A regex that never matches: disables coco's "excluding ..." prefix splitting,
# which would silently turn e.g. "China excluding Hong Kong" into "China".
_NEVER = r"(?!)"
# coco's data columns that hold strings which must never become NaN
# (Namibia's ISO2 code is "NA").
_STRING_COLUMNS = ("name_short", "name_official", "regex", "ISO2", "ISO3")


# --------------------------------------------------------------------------- coco access


def _load_country_data() -> pd.DataFrame:
    """Read coco's bundled country table so it works with pandas 2 and 3.

    coco 1.3.2's own loader breaks under pandas 3: Namibia's ISO2 "NA" and
    three empty ISO2 cells become NaN, and ``re.compile(NaN)`` raises a
    TypeError in ``CountryConverter()``.  Reading every cell as text and
    turning only the empty cells of the non-key columns into NA gives the
    table coco expects.
    """
    from country_converter.country_converter import COUNTRY_DATA_FILE

    data = pd.read_csv(
        COUNTRY_DATA_FILE, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False
    )
    for col in data.columns:
        if col not in _STRING_COLUMNS:
            data[col] = data[col].replace("", pd.NA)
    # Empty ISO2 regexes would match every two-letter input.
    data["ISO2"] = data["ISO2"].replace("", _NEVER)
    return data


@lru_cache(maxsize=1)
def _converter() -> Any:
    """One shared CountryConverter: building it compiles ~250 regexes."""
    import country_converter as coco

    with _quiet_coco():
        return coco.CountryConverter(country_data=_load_country_data())


def _converter_data() -> pd.DataFrame:
    """The table `_converter` holds (``CountryConverter().data``), without building it.

    Why: building the converter compiles ~250 regexes (0.3 CPU-s, a fifth of loading 1e6
    contacts) and is needed only for names that are not ISO3 codes.  The rows are those
    coco 1.3 keeps (current countries, the last of repeated names); a test checks the
    table against the converter's own.
    """
    data = _load_country_data()
    data = data[data["obsolete"].isna()]
    for name in ("name_short", "name_official", "regex"):
        data = data.drop_duplicates(subset=[name], keep="last")
    return data.reset_index(drop=True)


@lru_cache(maxsize=1)
def _iso3_table() -> dict[str, str]:
    """Current ISO3 code -> short name, from coco's table plus `EXTRA_ISO3`."""
    data = _converter_data()
    table = {
        str(code).strip().upper(): str(name)
        for code, name in zip(data["ISO3"], data["name_short"], strict=True)
        if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{3}", code.strip())
    }
    for code in EXTRA_ISO3:
        table.setdefault(code, "Kosovo" if code == "XKX" else code)
    return table


@contextmanager
def _quiet_coco() -> Iterator[None]:
    """Silence coco's per-name "not found" log lines; the report lists them instead."""
    logger = logging.getLogger(_COCO_LOGGER)
    previous = logger.disabled
    logger.disabled = True
    child = logging.getLogger(f"{_COCO_LOGGER}.{_COCO_LOGGER}")
    previous_child = child.disabled
    child.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = previous
        child.disabled = previous_child


def _coco_lookup(names: list[str]) -> list[str | list[str] | None]:
    """Match cleaned names with coco's regexes: ISO3, a list if ambiguous, None if not found.

    ``src="regex"`` is forced because coco otherwise guesses the source from
    the length of the string (so "UAE" would be looked up as an ISO3 code).
    """
    if not names:
        return []
    with _quiet_coco():
        found = _converter().convert(
            names,
            src="regex",
            to="ISO3",
            enforce_list=True,
            not_found=None,
            exclude_prefix=[_NEVER],
        )
    out: list[str | list[str] | None] = []
    for hits in found:
        # With not_found=None coco echoes the input back when nothing matched;
        # the ISO3 check drops that echo.
        codes = sorted({str(h) for h in hits if is_iso3(str(h))})
        if not codes:
            out.append(None)
        elif len(codes) == 1:
            out.append(codes[0])
        else:
            out.append(codes)
    return out


# --------------------------------------------------------------------------- public helpers


def is_iso3(code: object) -> bool:
    """True if ``code`` is a current ISO3 code known to coco, or XKX (Kosovo).

    Only upper-case codes count: lower-case three-letter words such as "can"
    or "and" are more likely text than codes.
    """
    return isinstance(code, str) and code in _iso3_table()


def country_name(iso3: str) -> str:
    """Short English name for an ISO3 code (e.g. "KOR" -> "South Korea"), for tables."""
    key = iso3.strip().upper() if isinstance(iso3, str) else iso3
    try:
        return _iso3_table()[key]
    except KeyError:
        raise ValueError(f"'{iso3}' is not a known ISO3 country code") from None


def _clean(text: str) -> str:
    """Collapse runs of whitespace and strip, so "South  Korea " matches like "South Korea"."""
    return " ".join(text.split())


def _key(text: str) -> str:
    """Lookup key for overrides and exclusions: cleaned and case-insensitive."""
    return _clean(text).casefold()


# --------------------------------------------------------------------------- report


@dataclass
class HarmonisationReport:
    """What happened to every distinct spelling of a country column."""

    matched: dict[str, str] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    """Spellings coco matched to more than one country (also listed in ``unmatched``)."""
    source: str | None = None
    column: str = "country"

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_unmatched(self) -> int:
        return sum(self.unmatched.values())

    @property
    def rows_excluded(self) -> int:
        return sum(self.counts.get(name, 0) for name in self.excluded)

    def account(self, stage: str) -> StageAccount:
        """Row account of the harmonisation, naming every dropped spelling in the notes."""
        rows_in = self.rows
        dropped = {DROP_UNMATCHED: self.rows_unmatched, DROP_EXCLUDED: self.rows_excluded}
        notes: dict[str, Any] = {
            "column": self.column,
            "unmatched": dict(self.unmatched),
            "excluded": {
                name: {"reason": reason, "rows": self.counts.get(name, 0)}
                for name, reason in self.excluded.items()
            },
            "overridden": dict(self.overridden),
            "aliases": {iso: list(names) for iso, names in self.aliases.items()},
        }
        if self.ambiguous:
            notes["ambiguous"] = {k: list(v) for k, v in self.ambiguous.items()}
        if self.source is not None:
            notes["source"] = self.source
        return StageAccount(
            stage=stage,
            rows_in=rows_in,
            rows_out=rows_in - sum(dropped.values()),
            dropped=dropped,
            notes=notes,
        )

    def summary(self) -> str:
        """Plain-text summary for the run log: each unmatched spelling, its rows and the fix."""
        where = f" in {self.source}" if self.source else ""
        lines = [
            f"Country harmonisation of column '{self.column}'{where}: "
            f"{self.rows} rows, {len(self.counts)} distinct spellings; "
            f"{len(self.matched)} matched, {len(self.overridden)} overridden, "
            f"{len(self.excluded)} excluded ({self.rows_excluded} rows), "
            f"{len(self.unmatched)} unmatched ({self.rows_unmatched} rows)."
        ]
        if self.overridden:
            lines.append("Overrides applied:")
            lines += [
                f"  '{name}' -> {iso} ({self.counts.get(name, 0)} rows)"
                for name, iso in sorted(self.overridden.items())
            ]
        if self.excluded:
            lines.append("Excluded by study rule:")
            lines += [
                f"  '{name}' ({self.counts.get(name, 0)} rows): {reason}"
                for name, reason in sorted(self.excluded.items())
            ]
        if self.aliases:
            lines.append("Several spellings of one country:")
            lines += [f"  {iso}: {', '.join(names)}" for iso, names in sorted(self.aliases.items())]
        if self.unmatched:
            lines.append("Unmatched (these rows get no country code and are dropped):")
            for name, n in sorted(self.unmatched.items(), key=lambda kv: (-kv[1], kv[0])):
                extra = ""
                if name in self.ambiguous:
                    extra = f" (ambiguous: {', '.join(self.ambiguous[name])})"
                lines.append(f"  '{name}': {n} rows{extra}")
            lines.append(f"  fix: {_fix_text(self.unmatched)}")
        return "\n".join(lines)


def _fix_text(unmatched: Mapping[str, int]) -> str:
    example = next((n for n in unmatched if n != MISSING), "Wales")
    text = (
        "add it to [countries.overrides] in the study file, e.g. 'Wales' = 'GBR' "
        f"(here: '{example}' = '<ISO3>'), or to [countries.exclude] with a reason"
    )
    if MISSING in unmatched:
        text += f"; {MISSING} means an empty cell: fill it in the data file"
    return text


# --------------------------------------------------------------------------- harmonisation


def _normalise_rules(
    overrides: Mapping[str, str] | None, exclude: Mapping[str, str] | None
) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """Key the rules case-insensitively; validate targets. Values: (rule key as given, value)."""
    user_over: dict[str, tuple[str, str]] = {}
    for name, iso in (overrides or {}).items():
        code = str(iso).strip().upper()
        if not is_iso3(code):
            raise SpecError(
                f"country override '{name}' = '{iso}' is not a known ISO3 code",
                column="countries.overrides",
                fix="use a three-letter ISO 3166-1 alpha-3 code such as 'GBR' (XKX for Kosovo)",
            )
        user_over[_key(str(name))] = (str(name), code)
    excl: dict[str, tuple[str, str]] = {}
    for name, reason in (exclude or {}).items():
        why = str(reason).strip()
        if not why:
            raise SpecError(
                f"country exclusion '{name}' has no reason",
                column="countries.exclude",
                fix=f"state why, e.g. '{name}' = 'not a UN member state'",
            )
        excl[_key(str(name))] = (str(name), why)
    both = sorted(user_over.keys() & excl.keys())
    if both:
        names = ", ".join(f"'{user_over[k][0]}'" for k in both)
        raise SpecError(
            f"{names} is both overridden and excluded",
            column="countries",
            fix="keep each name in only one of [countries.overrides] and [countries.exclude]",
        )
    over = {_key(k): (k, v) for k, v in DEFAULT_OVERRIDES.items()}
    over.update(user_over)
    return over, excl


def harmonise_countries(
    values: pd.Series,
    *,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
    source: str | None = None,
    column: str = "country",
    strict: bool = False,
) -> tuple[pd.Series, HarmonisationReport]:
    """Return an ISO3 Series aligned with `values` (pd.NA where unmatched/excluded) and the report.

    Order of rules for each distinct spelling: exclusion, then override (the
    user's, then `DEFAULT_OVERRIDES`), then an upper-case valid ISO3
    code taken as is, then coco.  Keys of ``overrides`` and ``exclude`` match
    regardless of case and surrounding whitespace.  Missing values are
    reported as unmatched under ``"<missing>"``.  With ``strict=True`` any
    unmatched spelling raises `InputError`; row numbers in it count
    the header as row 1, i.e. position 0 of ``values`` is row 2.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup, result_codes, report = harmonise_codes(
        codes, uniques, overrides=overrides, exclude=exclude, source=source, column=column
    )
    iso = pd.Series(lookup[result_codes], index=values.index, name="iso3", dtype="object")
    if strict and report.unmatched:
        spellings = [*_spellings(uniques), MISSING]
        raise _strict_error(report, spellings, result_codes)
    return iso, report


def _spellings(uniques: Any) -> list[str]:
    """Each distinct value as reported: its text, or `MISSING` when blank."""
    raw: list[str] = []
    for u in uniques:
        text = str(u)
        raw.append(MISSING if not _clean(text) else text)
    return raw


def harmonise_codes(
    codes: np.ndarray,
    uniques: Any,
    *,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
    source: str | None = None,
    column: str = "country",
) -> tuple[np.ndarray, np.ndarray, HarmonisationReport]:
    """`harmonise_countries` of a factorised column: (ISO3 per code, row codes, report).

    Why: a caller that has factorised the column already (the contacts, to clean it)
    builds its ISO3 column from the few distinct codes (``lookup[row_codes]``: a str or
    ``pd.NA``; the last entry stands for missing cells) instead of a Python object per row.
    ``codes``/``uniques`` are `pandas.factorize`'s, missing values coded -1.
    """
    over, excl = _normalise_rules(overrides, exclude)
    raw = _spellings(uniques)
    has_missing = bool((codes < 0).any())
    # Index len(raw) in the lookup below stands for the NA sentinel (-1).
    spellings = [*raw, MISSING]
    n_per_code = np.bincount(np.where(codes < 0, len(raw), codes), minlength=len(spellings))

    report = HarmonisationReport(source=source, column=column)
    iso_for_code: list[Any] = [pd.NA] * len(spellings)
    to_coco: dict[str, list[int]] = {}
    for i, name in enumerate(spellings):
        n = int(n_per_code[i])
        if n == 0:
            continue
        report.counts[name] = report.counts.get(name, 0) + n
        key = _key(name) if name != MISSING else MISSING.casefold()
        if key in excl:
            report.excluded[name] = excl[key][1]
        elif key in over:
            report.overridden[name] = iso_for_code[i] = over[key][1]
        elif name == MISSING:
            report.unmatched[name] = report.unmatched.get(name, 0) + n
        elif is_iso3(_clean(name)):
            report.matched[name] = iso_for_code[i] = _clean(name)
        else:
            to_coco.setdefault(_clean(name), []).append(i)

    for cleaned, hit in zip(to_coco, _coco_lookup(list(to_coco)), strict=True):
        for i in to_coco[cleaned]:
            name = spellings[i]
            if isinstance(hit, str):
                report.matched[name] = iso_for_code[i] = hit
            else:
                report.unmatched[name] = report.unmatched.get(name, 0) + int(n_per_code[i])
                if isinstance(hit, list):
                    report.ambiguous[name] = hit

    by_iso: dict[str, list[str]] = {}
    for name, iso in [*report.matched.items(), *report.overridden.items()]:
        by_iso.setdefault(iso, []).append(name)
    report.aliases = {iso: sorted(names) for iso, names in sorted(by_iso.items()) if len(names) > 1}

    lookup = np.array(iso_for_code, dtype=object)
    result_codes = np.where(codes < 0, len(raw), codes) if has_missing else codes
    return lookup, result_codes, report


def _strict_error(
    report: HarmonisationReport, spellings: list[str], result_codes: np.ndarray
) -> InputError:
    """Build the error naming each unmatched spelling, its rows and its first row number."""
    bad = [i for i, name in enumerate(spellings) if name in report.unmatched]
    first_pos = {i: int(np.argmax(result_codes == i)) for i in bad}
    first_row: dict[str, int] = {}
    for i in bad:
        name = spellings[i]
        row = first_pos[i] + 2
        first_row[name] = min(first_row.get(name, row), row)
    items = sorted(report.unmatched.items(), key=lambda kv: first_row[kv[0]])
    parts = []
    for name, n in items:
        part = f"'{name}' ({n} rows, first at row {first_row[name]})"
        if name in report.ambiguous:
            part += f" matches several countries: {', '.join(report.ambiguous[name])}"
        parts.append(part)
    details = "; ".join(parts)
    total = report.rows_unmatched
    return InputError(
        f"{len(items)} country spelling(s) in {total} rows match no ISO3 code: {details}",
        file=report.source,
        row=first_row[items[0][0]],
        column=report.column,
        fix=_fix_text(report.unmatched),
    )
