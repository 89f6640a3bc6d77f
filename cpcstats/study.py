"""A study: the input tables of one analysis, checked, harmonised and accounted for.

A study is either the embedded demo (``load_study("demo")``) or a TOML file
that names the input files and how their columns map onto the data contract.
Relative paths resolve against the TOML file's own folder.  Loading reads and
checks everything once; panels and models then work on the clean tables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats import saferegex
from cpcstats.accounting import Ledger, StageAccount
from cpcstats.contract import (
    normalise_contacts,
    normalise_covariates,
    normalise_parties,
    normalise_party_status,
)
from cpcstats.countries import HarmonisationReport
from cpcstats.errors import InputError, SpecError
from cpcstats.io import InputFile, read_table
from cpcstats.reference import load_reference
from cpcstats.tomlio import check_keys, get_str_list, get_typed, load_toml

DEMO = "demo"


@dataclass
class Study:
    """Clean input tables of one study, plus where they came from."""

    name: str
    first_year: int
    last_year: int
    break_year: int
    contacts: pd.DataFrame
    parties: pd.DataFrame | None
    party_status: pd.DataFrame | None
    covariates: pd.DataFrame | None
    states: pd.DataFrame
    taiwan: pd.DataFrame
    bri: pd.DataFrame
    simulated: bool = False
    seed: int | None = None
    truth: dict[str, Any] | None = None
    inputs: list[InputFile] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    config_path: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Rules applied while loading (derived columns, dedupe, adapter rules), for reports."""
    harmonisation: dict[str, HarmonisationReport] = field(default_factory=dict)
    """Country harmonisation of each input (table or source name -> report)."""
    published: Path | None = None
    """Published figures to compare with (``[published]`` of the study file), if enabled."""

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def has_parties(self) -> bool:
        return self.parties is not None and self.party_status is not None

    def label(self) -> str:
        return f"{self.name} (SIMULATED)" if self.simulated else self.name


def demo_config_path() -> Path:
    return Path(str(resources.files("cpcstats.demo").joinpath("study.toml")))


def _read_config(path: Path) -> dict[str, Any]:
    """The study file's TOML, read through :func:`cpcstats.tomlio.load_toml` (a folder, a
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


def _resolve(base: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else (base / p).resolve()


def _table_section(config: dict[str, Any], key: str, base: Path, config_file: str) -> dict | None:
    """A table's section: ``{path = ..., columns = {...}, ...}`` or a bare path string."""
    section = config.get(key)
    if section is None:
        return None
    if isinstance(section, str):
        section = {"path": section}
    if section.get("path") == DEMO:
        section = {**section, "path": str(demo_config_path().parent / _DEMO_FILES[key])}
    if "path" not in section:
        raise SpecError(f"[{key}] needs a `path`", file=config_file, fix=f'add path = "{key}.csv"')
    return {**section, "path": str(_resolve(base, section["path"]))}


_DEMO_FILES = {
    "contacts": "data/contacts.csv",
    "parties": "data/parties.csv",
    "party_status": "data/party_status.csv",
    "covariates": "data/country_covariates.csv",
}


def _apply_mapping(
    frame: pd.DataFrame, section: dict[str, Any], *, file: str, key: str, config_file: str
) -> pd.DataFrame:
    """Rename columns, recode values and add defaults as the study file says."""
    columns = section.get("columns", {})
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise SpecError(
            f"[{key}.columns] maps column(s) {', '.join(map(repr, unknown))} that the file "
            f"{file} does not have; it has: {', '.join(map(str, frame.columns))}",
            file=config_file,
            column=unknown[0],
            fix="correct the left-hand names to the file's own column names",
        )
    renamed = [columns.get(c, c) for c in frame.columns]
    twice = sorted({c for c in renamed if renamed.count(c) > 1})
    if twice:
        sources = [str(c) for c in frame.columns if columns.get(c, c) == twice[0]]
        raise SpecError(
            f"[{key}.columns] gives two columns of {file} the name {twice[0]!r}: "
            f"{', '.join(map(repr, sources))}",
            file=config_file,
            column=twice[0],
            fix=f"map only one of them to {twice[0]!r} (or rename the other, e.g. "
            f'"{sources[-1]}" = "{twice[0]}_2")',
        )
    frame = frame.rename(columns=columns)
    for column, mapping in section.get("values", {}).items():
        if column not in frame.columns:
            raise SpecError(
                f"[{key}.values] recodes column {column!r}, which is not in the table",
                file=config_file,
                column=column,
                fix="use a contract column name",
            )
        as_text = _code_text(frame[column])
        frame[column] = as_text.map(lambda v, m=mapping: m.get(v, v) if v is not pd.NA else v)
    for column, value in section.get("defaults", {}).items():
        if column not in frame.columns:
            frame[column] = value
        else:
            frame[column] = frame[column].fillna(value)
    for column, rule in section.get("derive", {}).items():
        frame[column] = _derive(frame, column, rule, key=key, config_file=config_file)
    return frame


def _derive(
    frame: pd.DataFrame, column: str, rule: Any, *, key: str, config_file: str
) -> pd.Series:
    """A column from regular expressions over another (first matching pattern wins).

    Why: sources such as China Vitae say the direction of a meeting only in free text
    ("... travelled to Portugal ..." / "... was in Beijing ..."); a stated, ordered rule
    in the study file is reproducible and auditable, a hand-edited column is not.
    """
    where = f"[{key}.derive.{column}]"
    if not isinstance(rule, dict) or "from" not in rule or "patterns" not in rule:
        raise SpecError(
            f"{where} needs `from` (a column) and `patterns` (regular expression = value)",
            file=config_file,
            column=column,
            fix=f'{where}\nfrom = "text"\npatterns = {{ "travel" = "outbound" }}\n'
            'default = "unknown"',
        )
    source = rule["from"]
    if source not in frame.columns:
        raise SpecError(
            f"{where} reads column {source!r}, which the file does not have; it has: "
            f"{', '.join(map(str, frame.columns))}",
            file=config_file,
            column=source,
            fix="name one of the file's columns in `from`",
        )
    patterns = rule["patterns"]
    if not isinstance(patterns, dict):
        raise SpecError(
            f"{where} `patterns` must be a table of regular expression = value",
            file=config_file,
            column=column,
            fix=f'{where}\npatterns = {{ "travel" = "outbound" }}',
        )
    for pattern in patterns:  # all checked before any is run: RE2 only, bounded time
        saferegex.check_pattern(
            pattern,
            file=config_file,
            where=f"{where} pattern",
            column=column,
            rewrite=saferegex.DERIVE_REWRITE,
        )
    text = frame[source].astype("string").fillna("")
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    for pattern, value in patterns.items():
        hit = saferegex.contains(text, pattern, ignore_case=True)
        out = out.mask(out.isna() & hit, str(value))
    if "default" in rule:
        out = out.fillna(str(rule["default"]))
    return out


def _code_text(series: pd.Series) -> pd.Series:
    """Codes as text for value mappings: 1.0 read from a spreadsheet is the code "1"."""
    if pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series)
        whole = numbers.dropna().mod(1).eq(0).all()
        if whole:
            return numbers.astype("Int64").astype("string")
    return series.astype("string").str.strip()


def load_study(study: str | Path = DEMO) -> Study:
    """Load the demo (``"demo"``) or a study TOML file into a checked :class:`Study`."""
    # abspath, not resolve(): messages name the full path, and resolving a link loop raises
    path = demo_config_path() if str(study) == DEMO else Path(os.path.abspath(study))
    config = _read_config(path)
    path = path.resolve()  # after the read: resolve() of a link loop is no SpecError
    base = path.parent
    config_file = str(path)
    meta = config.get("study", {})
    first_year = int(meta["first_year"])
    last_year = int(meta["last_year"])
    break_year = int(meta.get("break_year", 2013))
    ledger = Ledger()
    inputs: list[InputFile] = []
    countries = config.get("countries", {})
    overrides = countries.get("overrides")
    exclude = countries.get("exclude")

    notes: list[str] = []
    harmonisation: dict[str, HarmonisationReport] = {}

    def read(key: str) -> tuple[pd.DataFrame, str] | None:
        section = _table_section(config, key, base, config_file)
        if section is None:
            return None
        frame, info = read_table(section["path"], sheet=section.get("sheet"))
        inputs.append(info)
        frame = _apply_mapping(frame, section, file=info.path, key=key, config_file=config_file)
        for column, rule in section.get("derive", {}).items():
            counts = frame[column].value_counts(dropna=False)
            shown = ", ".join(
                f"{n:,} {v if v is not pd.NA else 'unmatched'}" for v, n in counts.items()
            )
            notes.append(
                f"[{key}] {column} derived from {rule['from']!r} by "
                f"{len(rule['patterns'])} pattern(s)"
                + (f", default {rule['default']!r}" if "default" in rule else "")
                + f": {shown}"
            )
        return frame, info.path

    raw = read("contacts")
    if raw is None:
        raise SpecError(
            "the study has no [contacts] table",
            file=config_file,
            fix='add [contacts] with path = "contacts.csv"',
        )
    contacts_file = raw[1]
    contacts, accounts, report = normalise_contacts(
        raw[0], file=contacts_file, overrides=overrides, exclude=exclude
    )
    harmonisation["contacts"] = report
    ledger.extend(accounts)
    contacts_section = _table_section(config, "contacts", base, config_file)
    contacts, account = _window(
        contacts,
        first_year,
        last_year,
        policy=str(contacts_section.get("outside_window", "error")),
        file=contacts_file,
        config_file=config_file,
    )
    ledger.add(account)
    dedupe = get_str_list(contacts_section, "dedupe", file=config_file, where="[contacts]")
    repeated = _exact_duplicates(contacts)
    if len(repeated) and not dedupe:
        ledger.add(
            StageAccount(
                "contacts: duplicate check",
                len(contacts),
                len(contacts),
                {},
                {"exact_duplicates_kept": len(repeated), "rows": repeated[:20]},
            )
        )
        notes.append(
            f"[contacts] WARNING: {len(repeated):,} contact(s) repeat an earlier row exactly "
            f"(file rows {', '.join(map(str, repeated[:5]))}{' …' if len(repeated) > 5 else ''}); "
            "kept, because the study file has no dedupe rule — add dedupe = [columns] to "
            "[contacts] to count such repeats once"
        )
    if dedupe:
        contacts, account = _dedupe(contacts, dedupe, config_file)
        ledger.add(account)
        notes.append(
            f"[contacts] dedupe: one contact per {', '.join(dedupe)} "
            f"({account.rows_in - account.rows_out:,} repeated rows removed)"
        )

    parties = party_status = covariates = None
    if (raw := read("parties")) is not None:
        parties, accounts = normalise_parties(raw[0], file=raw[1], overrides=overrides)
        ledger.extend(accounts)
        _check_party_ids(contacts, parties, contacts_file, raw[1])
        contacts, account = _party_country(
            contacts,
            parties,
            policy=str(contacts_section.get("party_country", "error")),
            file=contacts_file,
            parties_file=raw[1],
            config_file=config_file,
        )
        ledger.add(account)
        if account.notes.get("recoded"):
            notes.append(
                f"[contacts] party_country = \"party\": {account.notes['recoded']:,} party "
                "contact(s) whose country differs from their party's country are counted in the "
                "party's country"
            )
        elif account.notes.get("differ"):
            notes.append(
                f"[contacts] party_country = \"contact\": {account.notes['differ']:,} party "
                "contact(s) keep their own country in the country-year panel although their "
                "party belongs to another (the party-year panel counts them under the party)"
            )
    sources = _covariate_sources(config, base, config_file)
    results = {
        name: _run_adapter(name, opts, first_year, last_year, overrides, exclude, config_file)
        for name, opts in sources.items()
    }
    for name, result in results.items():
        ledger.add(result.account)
        if result.input_file is not None:
            inputs.append(result.input_file)
        harmonisation[name] = result.harmonisation
        notes += [f"[covariates] {name}: {note}" for note in result.notes]
    if _party_status_source(config) == "vparty":
        if "vparty" not in results:
            raise SpecError(
                'party_status = "vparty" needs the V-Party file: add vparty = "PATH" to '
                "[covariates]",
                file=config_file,
                column="party_status",
                fix='[covariates]\nvparty = "vparty_1990_2019.csv"',
            )
        party_status, account = _vparty_status(results["vparty"].table)
        ledger.add(account)
        if parties is not None:  # the study's own parties: V-Party's others are not used
            party_status, account = _status_of_known_parties(
                party_status, parties, own_file=False
            )
            ledger.add(account)
        notes.append(
            "[party_status] from V-Party v2pagovsup (senior/junior partner = ruling), carried "
            "forward between election years"
        )
        if parties is None:
            parties, accounts = normalise_parties(
                _vparty_parties(results["vparty"]), file=str(results["vparty"].path)
            )
            ledger.extend(accounts)
    elif (raw := read("party_status")) is not None:
        party_status, accounts = normalise_party_status(raw[0], file=raw[1])
        ledger.extend(accounts)
        if parties is not None:
            party_status, account = _status_of_known_parties(
                party_status, parties, own_file=True
            )
            ledger.add(account)
    section = config.get("covariates")
    own_file = isinstance(section, str) or (isinstance(section, dict) and "path" in section)
    if own_file and (raw := read("covariates")) is not None:
        covariates, accounts, report = normalise_covariates(
            raw[0], file=raw[1], overrides=overrides, exclude=exclude
        )
        ledger.extend(accounts)
        harmonisation["covariates"] = report
    country_tables = [r.table for n, r in results.items() if n != "vparty"]
    if country_tables:
        covariates = _merge_covariates(country_tables, covariates, config_file)

    refs = dict(config.get("reference", {}))
    if isinstance(section, dict):  # user files replacing the shipped BRI / Taiwan tables
        refs.update({k: section[k] for k in ("bri", "taiwan", "states") if k in section})
    states = load_reference("states", _maybe(base, refs.get("states")))
    taiwan = load_reference("taiwan", _maybe(base, refs.get("taiwan")))
    bri = load_reference("bri", _maybe(base, refs.get("bri")))
    for key in ("bri", "taiwan", "states"):
        if refs.get(key):
            notes.append(
                f"[reference] {key}: the study's own file {refs[key]} replaces the shipped one"
            )
    truth = _truth(config, base, config_file)
    return Study(
        name=str(meta.get("name", path.stem)),
        first_year=first_year,
        last_year=last_year,
        break_year=break_year,
        contacts=contacts,
        parties=parties,
        party_status=party_status,
        covariates=covariates,
        states=states,
        taiwan=taiwan,
        bri=bri,
        simulated=bool(meta.get("simulated", False)),
        seed=meta.get("seed"),
        truth=truth,
        inputs=inputs,
        ledger=ledger,
        config_path=config_file,
        config=config,
        notes=notes,
        harmonisation=harmonisation,
        published=_published(config, base, config_file),
    )


COUNTRY_SOURCES = ("freedom_house", "vdem", "reign")
STUDY_SOURCES = (*COUNTRY_SOURCES, "vparty")
"""The adapters a study file may name in ``[covariates]``: country-year sources merged into
the covariates, and V-Party for party status.  Other registered adapters (party-year or
register layouts) cannot be merged as country-year covariates."""


def _covariate_sources(config: dict[str, Any], base: Path, config_file: str) -> dict[str, dict]:
    """``[covariates]`` entries naming a public source: name -> {path, options}."""
    section = config.get("covariates")
    if not isinstance(section, dict):
        return {}
    # keys and option types were checked by _check_config before anything was read
    out = {}
    for name in STUDY_SOURCES:
        if name not in section:
            continue
        value = section[name]
        opts = dict(value) if isinstance(value, dict) else {"path": value}
        if "path" not in opts:
            raise SpecError(
                f"[covariates] {name} needs a path",
                file=config_file,
                column=name,
                fix=f'{name} = "FILE" or {name} = {{ path = "FILE" }}',
            )
        opts["path"] = _resolve(base, str(opts["path"]))
        if not opts["path"].exists():
            raise InputError(
                f"the {name} file named in [covariates] does not exist",
                file=str(opts["path"]),
                fix=f"correct the path (relative to {config_file}) or download the source "
                "(README: Covariate sources)",
            )
        out[name] = opts
    return out


def _run_adapter(
    name: str,
    opts: dict[str, Any],
    first: int,
    last: int,
    overrides: dict[str, str] | None,
    exclude: dict[str, str] | None,
    config_file: str,
) -> Any:
    from cpcstats.adapters import ADAPTERS

    options = {k: v for k, v in opts.items() if k != "path"}
    try:
        return ADAPTERS[name](
            opts["path"],
            first_year=first,
            last_year=last,
            overrides=overrides,
            exclude=exclude,
            **options,
        )
    except TypeError as exc:
        raise SpecError(
            f"[covariates] {name}: unknown option(s) {', '.join(options)}: {exc}",
            file=config_file,
            column=name,
            fix="see the adapter's documentation (README: Covariate sources)",
        ) from exc


def _merge_covariates(
    tables: list[pd.DataFrame], user: pd.DataFrame | None, config_file: str
) -> pd.DataFrame:
    """Country-year covariates of several sources side by side (outer join on iso3, year)."""
    merged = tables[0]
    for table in [*tables[1:], *([] if user is None else [user])]:
        clash = [c for c in table.columns if c in merged.columns and c not in ("iso3", "year")]
        if clash:
            raise SpecError(
                f"two covariate sources both provide {', '.join(clash)}",
                file=config_file,
                column=clash[0],
                fix="drop the column from one of them (e.g. remove it from your own file)",
            )
        merged = merged.merge(table, on=["iso3", "year"], how="outer", validate="1:1")
    return merged.sort_values(["iso3", "year"]).reset_index(drop=True)


def _party_status_source(config: dict[str, Any]) -> str | None:
    value = config.get("party_status")
    if isinstance(value, str) and value == "vparty":
        return "vparty"
    if isinstance(value, dict) and value.get("source") == "vparty":
        return "vparty"
    return None


def _vparty_status(table: pd.DataFrame) -> tuple[pd.DataFrame, StageAccount]:
    """Party-year status from the V-Party adapter; years with no status are counted."""
    has = table["status"].notna()
    account = StageAccount(
        "party status: from V-Party",
        len(table),
        int(has.sum()),
        {"V-Party government status missing (code 4 or blank)": int((~has).sum())},
    )
    out = table.loc[has, ["party_id", "year", "status"]].reset_index(drop=True)
    return out, account


def _vparty_parties(result: Any) -> pd.DataFrame:
    parties = result.extra["parties"].rename(columns={"iso3": "country"})
    return parties[["party_id", "country", "party_name"]]


def _published(config: dict[str, Any], base: Path, config_file: str) -> Path | None:
    """``[published]``: ``enabled = true`` (the shipped figures) or ``path = FILE``."""
    section = config.get("published")
    if not section:
        return None
    if not isinstance(section, dict):
        raise SpecError(
            "[published] must be a table",
            file=config_file,
            fix='[published]\nenabled = true   # or path = "my_published.toml"',
        )
    if "path" in section:
        path = _resolve(base, str(section["path"]))
        if not path.exists():
            raise InputError(
                "the published-figures file named in [published] does not exist",
                file=str(path),
                fix="correct the path, or use enabled = true for the shipped figures",
            )
        if not path.is_file():
            raise InputError(
                "the published-figures path named in [published] is not a file",
                file=str(path),
                fix="give the path of a .toml file of published figures, or use enabled = true",
            )
        return path
    if section.get("enabled", False):
        return PUBLISHED_DEFAULT
    return None


#: the reference study's published figures, used by ``[published] enabled = true``
PUBLISHED_DEFAULT = Path("replication/published.toml")


def _exact_duplicates(contacts: pd.DataFrame) -> list[int]:
    """File rows of contacts that repeat an earlier row in every column but the row number."""
    columns = [c for c in contacts.columns if c != "row"]
    repeated = contacts.duplicated(columns, keep="first")
    if "row" not in contacts.columns:
        return [int(i) + 2 for i in contacts.index[repeated]]
    return [int(r) for r in contacts.loc[repeated, "row"]]


def _dedupe(
    contacts: pd.DataFrame, keys: list[str], config_file: str
) -> tuple[pd.DataFrame, StageAccount]:
    """One contact per ``keys`` (the study's counting rule), repeated rows counted."""
    names = ["iso3" if k == "country" else k for k in keys]
    missing = [k for k in names if k not in contacts.columns]
    if missing:
        raise SpecError(
            f"[contacts] dedupe names column(s) {', '.join(missing)} that the contacts lack",
            file=config_file,
            column=missing[0],
            fix=f"use contract columns, e.g. dedupe = ['date', 'country', 'party_id']; "
            f"available: {', '.join(contacts.columns)}",
        )
    repeated = contacts.duplicated(names, keep="first")
    account = StageAccount(
        "contacts: dedupe rule",
        len(contacts),
        int((~repeated).sum()),
        {f"repeated {' + '.join(keys)} (study's dedupe rule)": int(repeated.sum())},
    )
    return contacts[~repeated].reset_index(drop=True), account


def _maybe(base: Path, value: str | None) -> Path | None:
    return None if value is None else _resolve(base, value)


def _window(
    contacts: pd.DataFrame,
    first: int,
    last: int,
    *,
    policy: str = "error",
    file: str | None = None,
    config_file: str | None = None,
) -> tuple[pd.DataFrame, StageAccount]:
    """Keep the contacts of the study window; outside it is an error unless the study says
    ``outside_window = "drop"`` (then they are counted), because a year outside the window
    is as often a typo (2107, 1920) as a deliberate longer file."""
    if policy not in ("error", "drop"):
        raise SpecError(
            f"[contacts] outside_window = {policy!r} is not 'error' or 'drop'",
            file=config_file,
            column="outside_window",
            fix='outside_window = "drop" to drop (and count) contacts outside the window',
        )
    inside = contacts["year"].between(first, last)
    if policy == "error" and not inside.all():
        outside = contacts[~inside]
        years = sorted(int(y) for y in outside["year"].unique())
        shown = ", ".join(map(str, years[:8])) + (" …" if len(years) > 8 else "")
        raise InputError(
            f"{len(outside):,} contact(s) fall outside the study window {first}-{last} "
            f"(years {shown})",
            file=file,
            row=int(outside["row"].iloc[0]) if "row" in outside.columns else None,
            column="date",
            fix="correct the dates, widen first_year/last_year in [study], or add "
            'outside_window = "drop" to [contacts] to drop them (they are then counted)',
        )
    account = StageAccount(
        "contacts: study window",
        len(contacts),
        int(inside.sum()),
        {f"outside study window {first}-{last}": int((~inside).sum())},
    )
    return contacts[inside].reset_index(drop=True), account


def _truth(config: dict[str, Any], base: Path, config_file: str) -> dict[str, Any] | None:
    """``[truth] path``: the true parameters of a simulated study (JSON), if given."""
    section = config.get("truth")
    if section is None:
        return None
    if "path" not in section:
        raise SpecError(
            "[truth] needs a `path`", file=config_file, fix='[truth]\npath = "truth.json"'
        )
    path = _resolve(base, section["path"])
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(
            "the truth file named in [truth] does not exist",
            file=str(path),
            fix="correct the path, or remove [truth] (it is only for simulated studies)",
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"the truth file named in [truth] cannot be read as JSON: {exc}"[:300],
            file=str(path),
            fix="give a JSON file of true parameter values, or remove [truth]",
        ) from exc
    if not isinstance(value, dict):
        raise InputError(
            "the truth file named in [truth] is not a JSON object",
            file=str(path),
            fix='write it as {"parameter": value, ...}',
        )
    return value


PARTY_COUNTRY_RULES = ("error", "party", "contact")


def _party_country(
    contacts: pd.DataFrame,
    parties: pd.DataFrame,
    *,
    policy: str,
    file: str,
    parties_file: str,
    config_file: str,
) -> tuple[pd.DataFrame, StageAccount]:
    """A party contact whose country differs from its party's country.

    Why explicit: the country-year panel counts a contact in the contact's own country, the
    party-year panel under its party (hence the party's country), so a disagreement makes
    the two panels count the same contact in different countries.  By default it is an
    error naming the row; ``[contacts] party_country = "party"`` counts such contacts in the
    party's country (both panels agree), ``"contact"`` keeps the contact's country (a stated
    choice, reported in the rules).
    """
    if policy not in PARTY_COUNTRY_RULES:
        raise SpecError(
            f"[contacts] party_country = {policy!r} is not one of "
            f"{', '.join(PARTY_COUNTRY_RULES)}",
            file=config_file,
            column="party_country",
            fix='party_country = "party" counts such contacts in their party\'s country',
        )
    home = contacts["party_id"].map(parties.set_index("party_id")["iso3"])
    is_party = (contacts["counterpart_type"] == "party").to_numpy()
    other = (contacts["iso3"] != home).fillna(False).to_numpy(dtype=bool)
    differ = is_party & home.notna().to_numpy() & other
    n = int(differ.sum())
    if n and policy == "error":
        first = int(np.flatnonzero(differ)[0])
        row = contacts.iloc[first]
        raise InputError(
            f"{n:,} party contact(s) give a country that is not their party's country in "
            f"{parties_file} (first: party {row['party_id']!r} of {home.iloc[first]}, contact "
            f"country {row['country_raw']!r} = {row['iso3']}); the country-year and party-year "
            "panels would count them in different countries",
            file=file,
            row=int(row["row"]),
            column="country",
            fix="correct the country (or the party_id) in the contacts or the parties table, "
            'or add party_country = "party" to [contacts] to count them in the party\'s '
            'country (party_country = "contact" keeps the contact\'s own country)',
        )
    out = contacts
    recoded = 0
    if n and policy == "party":
        out = contacts.copy()
        out.loc[differ, "iso3"] = home[differ].to_numpy()
        recoded = n
    account = StageAccount(
        "contacts: party's country",
        len(contacts),
        len(out),
        notes={
            "rule": f"party_country = {policy!r}",
            "differ": n,
            "recoded": recoded,
            "rows": [int(r) for r in contacts.loc[differ, "row"].head(20)],
        },
    )
    return out, account


UNKNOWN_PARTY = "party id not in the parties table"
VPARTY_OTHER = "V-Party party not in the study's parties table"


def _status_of_known_parties(
    status: pd.DataFrame, parties: pd.DataFrame, *, own_file: bool
) -> tuple[pd.DataFrame, StageAccount]:
    """Party-status rows of parties the parties table knows; the others are counted.

    Why: such rows can never reach the party-year panel, so they used to vanish.  In the
    study's own status file an unknown id is a typo or a missing party: counted under a
    reason no rule states, so ``check`` fails.  V-Party covers every party of its countries,
    so there the study's own parties table is the stated rule for using only some.
    """
    known = status["party_id"].isin(parties["party_id"]).to_numpy()
    reason = UNKNOWN_PARTY if own_file else VPARTY_OTHER
    unknown = status.loc[~known, "party_id"].value_counts()
    account = StageAccount(
        "party status: parties in the parties table",
        len(status),
        int(known.sum()),
        {reason: int((~known).sum())},
        notes={"unknown_party_ids": {str(k): int(v) for k, v in unknown.head(20).items()}},
        unstated=(reason,) if own_file else (),
    )
    return status[known].reset_index(drop=True), account


def _check_party_ids(
    contacts: pd.DataFrame, parties: pd.DataFrame, contacts_file: str, parties_file: str
) -> None:
    party_rows = contacts[contacts["counterpart_type"] == "party"]
    unknown = party_rows[~party_rows["party_id"].isin(parties["party_id"])]
    if len(unknown):
        ids = unknown["party_id"].value_counts()
        listed = ", ".join(f"{k!r} ({v} contacts)" for k, v in ids.head(5).items())
        raise InputError(
            f"{len(unknown)} party contact(s) name party ids absent from the parties table "
            f"{parties_file}: {listed}",
            file=contacts_file,
            row=int(unknown["row"].iloc[0]),
            column="party_id",
            fix="add the parties to the parties table or correct the ids in the contacts file",
        )


# --------------------------------------------------------------------------- keys and types
# Why strict: a misspelt key (``brek_year = 2006``) used to be ignored, so the study ran
# with the default and nobody noticed; a wrong TOML type (``first_year = 'abc'``) crashed
# deep inside the loader as a bug.  Every table of the study file is checked here, before
# anything is read, with the same helpers as model specifications (cpcstats.tomlio).

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
}
PARTY_STATUS_KEYS: dict[str, type | tuple[type, ...]] = {**TABLE_KEYS, "source": str}
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
                f"{where} {key!r} must be {expected}, not {type(value).__name__} "
                f"{value!r}"[:300],
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
        **{name: (str, dict) for name in STUDY_SOURCES},
        **{name: str for name in REFERENCE_KEYS},
    }
    other = [name for name in section if name in ADAPTERS and name not in STUDY_SOURCES]
    if other:
        raise SpecError(
            f"[covariates] {other[0]}: a study file cannot use this source yet; only "
            "freedom_house, vdem, reign (country-year covariates) and vparty (party status) "
            "are merged into the panels",
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
        options = {"path": str, **_adapter_options(reader)}
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


def _check_config(config: dict[str, Any], file: str) -> None:
    """Check every table of the study file for unknown keys and wrong TOML types."""
    check_keys(config, TOP_KEYS, file=file, where="the study file")
    meta = config.get("study", {})
    if not isinstance(meta, dict):
        raise SpecError(
            f"`study` must be the table [study], not {type(meta).__name__} {meta!r}"[:300],
            file=file,
            column="study",
            fix="[study]\nname = \"My study\"\nfirst_year = 2002\nlast_year = 2017",
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
    _check_table_section(config, "contacts", CONTACT_KEYS, file=file)
    _check_table_section(config, "parties", TABLE_KEYS, file=file)
    _check_table_section(config, "party_status", PARTY_STATUS_KEYS, file=file)
    status = config.get("party_status")
    source = status.get("source") if isinstance(status, dict) else None
    if source is not None and source != "vparty":
        raise SpecError(
            f"[party_status] source = {source!r} is not a known source",
            file=file,
            column="source",
            fix='source = "vparty" (status from V-Party), or path = "FILE" for your own table',
        )
    _check_covariates(config, file=file)
    simple: dict[str, dict[str, type | tuple[type, ...]]] = {
        "countries": {"overrides": ANY, "exclude": ANY},  # shapes checked below
        "reference": {name: str for name in REFERENCE_KEYS},
        "truth": {"path": str},
        "published": {"enabled": bool, "path": str},
        "topics": {"dictionary": str, "unit": str},
    }
    for key, schema in simple.items():
        section = config.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            first = next(iter(schema))
            raise SpecError(
                f"`{key}` must be the table [{key}], not {type(section).__name__} "
                f"{section!r}"[:300],
                file=file,
                column=key,
                fix=f"[{key}]\n{first} = ...",
            )
        _typed_keys(section, schema, file=file, where=f"[{key}]")
    unit = config.get("topics", {}).get("unit")
    if unit is not None and unit not in ("item", "contact"):
        raise SpecError(
            f"[topics] unit = {unit!r} is not 'item' or 'contact'",
            file=file,
            column="unit",
            fix='unit = "item" counts news items (contacts sharing a source_id once); '
            '"contact" counts contacts',
        )
    countries = config.get("countries", {})
    rules = {"overrides": ("an ISO3 code in quotes", '"GBR"'), "exclude": ("the reason", '"why"')}
    for key, (expected, example) in rules.items():
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
    _check_country_rules(countries, file=file)


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
