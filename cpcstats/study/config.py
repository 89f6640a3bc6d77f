"""The study file's schema and its checks: every key and TOML type, before anything is read.

Why strict: a misspelt key (``brek_year = 2006``) used to be ignored, so the study ran
with the default and nobody noticed; a wrong TOML type (``first_year = 'abc'``) crashed
deep inside the loader as a bug.  Every table of the study file is checked here, before
anything is read, with the same helpers as model specifications (cpcstats.tomlio).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cpcstats import saferegex
from cpcstats.errors import SpecError
from cpcstats.study.covariate_rules import COVARIATE_RULE_KEYS
from cpcstats.study.registers import check_party_sources
from cpcstats.tomlio import check_keys, get_str_list, get_typed, load_toml

COUNTRY_SOURCES = ("freedom_house", "vdem", "reign")
STUDY_SOURCES = (*COUNTRY_SOURCES, "vparty", "dpi", "leaders_global", "partyfacts")
"""The adapters a study file may name in ``[covariates]``: country-year sources merged into
the covariates; V-Party and the DPI for party status; Leaders Global for the country-year
executive party (``executive_party``, a Party Facts id); Party Facts, the party register
(``[parties] source = "partyfacts"`` and the party-name matcher)."""
PARTYFACTS_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "vparty_links": str,
    "dpi_links": str,
}
"""``[covariates.partyfacts]``: the core file (``path``) and the optional link files."""


TOP_KEYS = (
    "study",
    "contacts",
    "parties",
    "party_status",
    "covariates",
    "countries",
    "reference",
    "truth",
    "published",
    "topics",
)
STUDY_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "first_year": int,
    "last_year": int,
    "break_year": int,
    "simulated": bool,
    "seed": int,
    # what one event is, for captions ("contacts" by default; "engagements", "state visits")
    "unit": str,
}
TABLE_KEYS: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "sheet": (str, int),
    "columns": dict,
    "values": dict,
    "defaults": dict,
    "derive": dict,
}
CONTACT_KEYS: dict[str, type | tuple[type, ...]] = {
    **TABLE_KEYS,
    "outside_window": str,
    "dedupe": (str, list),
    "party_country": str,
    "engine": str,  # "pandas" (default) or "duckdb": cpcstats.panels.engine
}
CONTACT_ENGINES = ("pandas", "duckdb")
PARTY_STATUS_KEYS: dict[str, type | tuple[type, ...]] = {**TABLE_KEYS, "source": str}
PARTIES_KEYS: dict[str, type | tuple[type, ...]] = {
    **TABLE_KEYS,
    "source": str,
    "overrides": dict,
}
"""``[parties]``: a file of the study's own (``path``), or ``source`` (a register), and
``[parties.overrides]`` (party name or ``"ISO3:name"`` -> Party Facts id)."""
DERIVE_KEYS: dict[str, type | tuple[type, ...]] = {"from": str, "patterns": dict, "default": str}
REFERENCE_KEYS = ("states", "taiwan", "bri")
SCALAR = (str, int, float, bool)
ANY = (*SCALAR, dict, list)
YEAR_RANGE = (1800, 2100)
"""Years a study window may cover: the shipped state list starts in the 19th century, and a
window of millions of years (a typo such as ``last_year = 20170``) would build a panel
that never fits in memory."""


def _typed_keys(
    table: dict[str, Any],
    schema: dict[str, type | tuple[type, ...]],
    *,
    file: str,
    where: str,
) -> None:
    """Unknown keys (closest valid key named) and wrong TOML types, as SpecErrors."""
    check_keys(table, schema, file=file, where=where)
    for key, types in schema.items():
        get_typed(table, key, types, file=file, where=where)


def _entries(
    table: dict[str, Any],
    types: tuple[type, ...],
    expected: str,
    *,
    file: str,
    where: str,
    example: str = '"text"',
) -> None:
    """Every value of a user-keyed table (column names, spellings) has one of ``types``."""
    for key, value in table.items():
        if not isinstance(value, types):
            raise SpecError(
                f"{where} {key!r} must be {expected}, not {type(value).__name__} {value!r}"[:300],
                file=file,
                column=key,
                fix=f'write it as "{key}" = {example}',
            )


def _check_table_section(
    config: dict[str, Any],
    key: str,
    schema: dict[str, type | tuple[type, ...]],
    *,
    file: str,
) -> None:
    """``[key]``: a path string or a table of the input-table keys, each of its type."""
    if key not in config:
        return
    section = config[key]
    if isinstance(section, str):
        return
    if not isinstance(section, dict):
        raise SpecError(
            f"`{key}` must be a table [{key}] (or a path in quotes), not "
            f"{type(section).__name__} {section!r}"[:300],
            file=file,
            column=key,
            fix=f'[{key}]\npath = "{key}.csv"',
        )
    _typed_keys(section, schema, file=file, where=f"[{key}]")
    where = f"[{key}.columns]"
    _entries(section.get("columns", {}), (str,), "a contract column name", file=file, where=where)
    for column, mapping in section.get("values", {}).items():
        if not isinstance(mapping, dict):
            raise SpecError(
                f"[{key}.values] {column!r} must be a table of code = value, not "
                f"{type(mapping).__name__} {mapping!r}"[:300],
                file=file,
                column=column,
                fix=f'[{key}.values.{column}]\n"1" = "inbound"',
            )
        _entries(
            mapping,
            SCALAR,
            "a value",
            file=file,
            where=f"[{key}.values.{column}]",
            example='"inbound"',
        )
    _entries(
        section.get("defaults", {}),
        SCALAR,
        "a value",
        file=file,
        where=f"[{key}.defaults]",
        example='"state" (or a number)',
    )
    for column, rule in section.get("derive", {}).items():
        where = f"[{key}.derive.{column}]"
        if not isinstance(rule, dict):
            raise SpecError(
                f"{where} must be a table with `from` and `patterns`, not "
                f"{type(rule).__name__} {rule!r}"[:300],
                file=file,
                column=column,
                fix=f'{where}\nfrom = "text"\npatterns = {{ "travel" = "outbound" }}',
            )
        _typed_keys(rule, DERIVE_KEYS, file=file, where=where)
        patterns = rule.get("patterns", {})
        _entries(patterns, (str,), "the value the pattern gives", file=file, where=where)
        for pattern in patterns:  # RE2 must run it (bounded time), checked before any data
            saferegex.check_pattern(
                pattern,
                file=file,
                where=f"{where} pattern",
                column=column,
                rewrite=saferegex.DERIVE_REWRITE,
            )
    if "dedupe" in section:
        get_str_list(section, "dedupe", file=file, where=f"[{key}]")


def _check_covariates(config: dict[str, Any], *, file: str) -> None:
    """``[covariates]``: source files (adapters, each with its own options), the study's own
    file (input-table keys) and replacement reference tables."""
    from cpcstats.adapters import ADAPTERS

    section = config.get("covariates")
    if section is None or isinstance(section, str):
        return
    if not isinstance(section, dict):
        raise SpecError(
            f"`covariates` must be a table [covariates] (or a path in quotes), not "
            f"{type(section).__name__} {section!r}"[:300],
            file=file,
            column="covariates",
            fix='[covariates]\nfreedom_house = "freedom_house.csv"   # or path = "mine.csv"',
        )
    schema: dict[str, type | tuple[type, ...]] = {
        **TABLE_KEYS,
        **COVARIATE_RULE_KEYS,
        **{name: (str, dict) for name in STUDY_SOURCES},
        **{name: str for name in REFERENCE_KEYS},
    }
    other = [name for name in section if name in ADAPTERS and name not in STUDY_SOURCES]
    if other:
        raise SpecError(
            f"[covariates] {other[0]}: a study file cannot use this source yet; only "
            f"{', '.join(STUDY_SOURCES)} are read by a study",
            file=file,
            column=other[0],
            fix=f"use {', '.join(STUDY_SOURCES)} in [covariates]; read {other[0]} in Python "
            f"with cpcstats.adapters.ADAPTERS[{other[0]!r}]",
        )
    _check_table_section({"covariates": section}, "covariates", schema, file=file)
    for name in STUDY_SOURCES:
        reader = ADAPTERS[name]
        value = section.get(name)
        if not isinstance(value, dict):
            continue
        where = f"[covariates.{name}]"
        options = (
            PARTYFACTS_OPTIONS
            if name == "partyfacts"
            else {"path": str, **_adapter_options(reader)}
        )
        _typed_keys(value, options, file=file, where=where)
        if "path" not in value:
            raise SpecError(
                f"{where} needs a path",
                file=file,
                column=name,
                fix=f'{name} = "FILE" or {name} = {{ path = "FILE" }}',
            )
        for option, types in options.items():
            if types == (str, list):
                get_str_list(value, option, file=file, where=where)


def _adapter_options(reader: Any) -> dict[str, type | tuple[type, ...]]:
    """The options a study file may give an adapter: its keyword parameters other than the
    ones the study sets itself (window, country rules), typed by their defaults."""
    import inspect

    own = {"path", "first_year", "last_year", "overrides", "exclude"}
    options: dict[str, type | tuple[type, ...]] = {}
    for name, param in inspect.signature(reader).parameters.items():
        if name in own or param.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        default = param.default
        if isinstance(default, (tuple, list)):
            options[name] = (str, list)
        elif isinstance(default, bool):
            options[name] = bool
        elif isinstance(default, (int, float, str)):
            options[name] = type(default)
        else:
            options[name] = SCALAR
    return options


SIMPLE_SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "countries": {"overrides": ANY, "exclude": ANY},  # shapes checked by _check_countries
    "reference": {name: str for name in REFERENCE_KEYS},
    "truth": {"path": str},
    "published": {"enabled": bool, "path": str},
    "topics": {"dictionary": str, "unit": str},
}
"""Sections that are plain key tables: section -> key -> TOML type(s)."""

COUNTRY_RULES = {
    "overrides": ("an ISO3 code in quotes", '"GBR"'),
    "exclude": ("the reason", '"why"'),
}
"""``[countries]`` tables: key -> (what each value must be, an example value)."""


def _check_engine(config: dict[str, Any], file: str) -> None:
    """``[contacts] engine``: fail when the study is read, not when the panels are built."""
    engine = config.get("contacts", {}).get("engine")
    if engine is not None and engine not in CONTACT_ENGINES:
        raise SpecError(
            f"[contacts] engine = {engine!r} is not one of {', '.join(CONTACT_ENGINES)}",
            file=file,
            column="engine",
            fix='engine = "pandas" (the default) or "duckdb" (pip install "cpcstats[duckdb]")',
        )


def _check_config(config: dict[str, Any], file: str) -> None:
    """Check every table of the study file for unknown keys and wrong TOML types.

    The sections are checked in a fixed order, so that a file with several mistakes
    always reports the same one first.
    """
    check_keys(config, TOP_KEYS, file=file, where="the study file")
    _check_study(config, file=file)
    _check_table_section(config, "contacts", CONTACT_KEYS, file=file)
    _check_engine(config, file=file)
    _check_table_section(config, "parties", PARTIES_KEYS, file=file)
    _check_table_section(config, "party_status", PARTY_STATUS_KEYS, file=file)
    check_party_sources(config, file=file)
    _check_covariates(config, file=file)
    _check_simple_sections(config, file=file)
    _check_topics(config, file=file)
    _check_countries(config.get("countries", {}), file=file)
    _check_country_rules(config.get("countries", {}), file=file)


def _check_study(config: dict[str, Any], *, file: str) -> None:
    """``[study]``: a table with both window years, years in `YEAR_RANGE`, in order."""
    meta = config.get("study", {})
    if not isinstance(meta, dict):
        raise SpecError(
            f"`study` must be the table [study], not {type(meta).__name__} {meta!r}"[:300],
            file=file,
            column="study",
            fix='[study]\nname = "My study"\nfirst_year = 2002\nlast_year = 2017',
        )
    _typed_keys(meta, STUDY_KEYS, file=file, where="[study]")
    for key in ("first_year", "last_year"):
        if key not in meta:
            raise SpecError(
                f"[study] needs {key}",
                file=file,
                column=key,
                fix="add first_year = 2002 and last_year = 2017 to [study]",
            )
    lo, hi = YEAR_RANGE
    for key in ("first_year", "last_year", "break_year"):
        if key in meta and not lo <= meta[key] <= hi:
            raise SpecError(
                f"[study] {key} = {meta[key]} is not a year between {lo} and {hi}",
                file=file,
                column=key,
                fix=f"write the year with four digits, e.g. {key} = 2013",
            )
    if meta["first_year"] > meta["last_year"]:
        raise SpecError(
            f"[study] first_year {meta['first_year']} is after last_year {meta['last_year']}",
            file=file,
            column="first_year",
            fix="swap the two years",
        )


def _check_simple_sections(config: dict[str, Any], *, file: str) -> None:
    """The plain key tables of `SIMPLE_SECTIONS`: each a table, its keys typed."""
    for key, schema in SIMPLE_SECTIONS.items():
        section = config.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            first = next(iter(schema))
            raise SpecError(
                f"`{key}` must be the table [{key}], not {type(section).__name__} {section!r}"[
                    :300
                ],
                file=file,
                column=key,
                fix=f"[{key}]\n{first} = ...",
            )
        _typed_keys(section, schema, file=file, where=f"[{key}]")


def _check_topics(config: dict[str, Any], *, file: str) -> None:
    """``[topics] unit``: what a topic count counts, news items or contacts."""
    unit = config.get("topics", {}).get("unit")
    if unit is not None and unit not in ("item", "contact"):
        raise SpecError(
            f"[topics] unit = {unit!r} is not 'item' or 'contact'",
            file=file,
            column="unit",
            fix='unit = "item" counts news items (contacts sharing a source_id once); '
            '"contact" counts contacts',
        )


def _check_countries(countries: dict[str, Any], *, file: str) -> None:
    """``[countries]``: overrides and exclusions are tables of spelling = text."""
    for key, (expected, example) in COUNTRY_RULES.items():
        value = countries.get(key, {})
        where = f"[countries.{key}]"
        if not isinstance(value, dict):
            raise SpecError(
                f"`{key}` in [countries] must be a table of spelling = {expected}, not "
                f"{type(value).__name__} {value!r}"[:300],
                file=file,
                column=key,
                fix=f'{key} = {{ "Wales" = {example} }}   # or a [countries.{key}] table',
            )
        _entries(value, (str,), expected, file=file, where=where, example=example)


def _check_country_rules(countries: dict[str, Any], *, file: str) -> None:
    """Override targets are ISO3 codes and exclusions state a reason, named with the file
    (the harmonisation checks the same, but does not know which study file said it)."""
    from cpcstats.countries import is_iso3

    for name, code in countries.get("overrides", {}).items():
        if not is_iso3(code.strip().upper()):
            raise SpecError(
                f"[countries.overrides] {name!r} = {code!r} is not a known ISO3 code",
                file=file,
                column=name,
                fix="use a three-letter ISO 3166-1 alpha-3 code such as 'GBR' (XKX for Kosovo)",
            )
    for name, reason in countries.get("exclude", {}).items():
        if not reason.strip():
            raise SpecError(
                f"[countries.exclude] {name!r} has no reason",
                file=file,
                column=name,
                fix=f"state why, e.g. {name!r} = 'not a UN member state'",
            )


def _read_config(path: Path) -> dict[str, Any]:
    """The study file's TOML, read through `cpcstats.tomlio.load_toml` (a folder, a
    FIFO, a device or a link loop is a SpecError, never a hang) and checked key by key."""
    if not os.path.lexists(path):
        raise SpecError(
            "the study file does not exist",
            file=str(path),
            fix="give a path to a .toml study file, or use --study demo",
        )
    config = load_toml(path, "study file")
    _check_config(config, str(path))
    return config
