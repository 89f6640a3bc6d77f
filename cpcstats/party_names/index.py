"""The Party Facts register as the matcher reads it: each party with every name form.

Built once per register (`PartyIndex`) so that matching thousands of
names does not fold the register's names again for each; the fuzzy rule's
choices (every core form of a country's parties, flat, for
``rapidfuzz.process.extract``) are likewise built once per country.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.party_names import text as tx
from cpcstats.party_names.text import initials, normalise


@dataclass(frozen=True)
class Entry:
    """One register party with the name forms each rule compares (built once per index)."""

    partyfacts_id: int
    label: str
    year_first: int | None
    year_last: int | None
    names: tuple[str, ...]
    shorts: tuple[str, ...]
    short_keys: frozenset[str]
    """The short names as letters and digits only (`text.alnum`), compared with abbreviations."""
    norms: frozenset[str]
    cores: frozenset[str]
    singular_cores: frozenset[str]
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
        self.by_country: dict[str, list[Entry]] = {}
        self.ids: dict[int, str] = {}
        self._choices: dict[str, tuple[list[str], list[int]]] = {}
        tech = register["technical"] if "technical" in register.columns else None
        for i, row in enumerate(register.itertuples(index=False)):
            pid = int(row.partyfacts_id)
            iso3 = str(row.iso3)
            self.ids[pid] = iso3
            if tech is not None and not pd.isna(tech.iloc[i]):
                continue
            entry = _entry(row, iso3)
            self.by_country.setdefault(iso3, []).append(entry)

    def parties(self, iso3: str) -> list[Entry]:
        return self.by_country.get(iso3, [])

    def fuzzy_choices(self, iso3: str) -> tuple[list[str], list[int]]:
        """The country's core forms, flat, and the position in `parties` of each one's party.

        Why flat: ``rapidfuzz.process.extract`` scores a query against a whole list in
        one C++ call; the core forms are sorted within each party (``cores`` is a set),
        so the list, and with it the order of tied scores, is the same on every run.
        """
        if iso3 not in self._choices:
            cores: list[str] = []
            owners: list[int] = []
            for k, e in enumerate(self.parties(iso3)):
                for c in sorted(e.cores):
                    cores.append(c)
                    owners.append(k)
            self._choices[iso3] = (cores, owners)
        return self._choices[iso3]


def _text_value(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = tx.clean(str(value))
    return text or None


def _year(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _entry(row: object, iso3: str) -> Entry:
    short = _text_value(getattr(row, "name_short", None))
    long_names: list[str] = []
    for col in ("name_english", "name", "name_other"):
        value = _text_value(getattr(row, col, None))
        if value:
            long_names.extend(tx.variants(value))
    shorts = tuple(tx.variants(short)) if short else ()
    names = tuple(dict.fromkeys([*shorts, *long_names]))
    english = _text_value(getattr(row, "name_english", None))
    label = f"{short or '?'} ({english or _text_value(getattr(row, 'name', None)) or '?'})"
    inits = {initials(n) for n in tx.variants(english)} if english else set()
    # core_form is normalise plus the word filter: fold each name once for both forms.
    norms = [normalise(n, iso3) for n in names]
    cores = [tx.core_of_normalised(n, iso3) for n in norms]
    return Entry(
        partyfacts_id=int(getattr(row, "partyfacts_id")),  # noqa: B009
        label=label,
        year_first=_year(getattr(row, "year_first", None)),
        year_last=_year(getattr(row, "year_last", None)),
        names=names,
        shorts=shorts,
        short_keys=frozenset(tx.alnum(s) for s in shorts),
        norms=frozenset(norms) - {""},
        cores=frozenset(cores) - {""},
        singular_cores=frozenset(tx.fold_plurals(c) for c in cores) - {""},
        inits=frozenset(i for i in inits if len(i) >= 2),
    )
