"""``load_study``: a study file read, checked and turned into a `Study`, step by step.

The steps run in a fixed order (config, contacts, parties, covariate sources, party status,
the study's own covariates, reference tables, truth and published figures) because the
ledger, the list of input files, the harmonisation reports and the notes are written in
that order, and the outputs that report them must not change between runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.accounting import Ledger, StageAccount
from cpcstats.contract import (
    normalise_contacts,
    normalise_covariates,
    normalise_parties,
    normalise_party_status,
)
from cpcstats.countries import HarmonisationReport
from cpcstats.errors import SpecError
from cpcstats.io import InputFile, read_table
from cpcstats.reference import load_reference
from cpcstats.study.config import REFERENCE_KEYS, _read_config
from cpcstats.study.contacts import (
    _check_party_ids,
    _dedupe,
    _exact_duplicates,
    _party_country,
    _status_of_known_parties,
    _window,
)
from cpcstats.study.mapping import _apply_mapping, _maybe, _table_section
from cpcstats.study.model import DEMO, Study, demo_config_path
from cpcstats.study.sources import (
    _covariate_sources,
    _merge_covariates,
    _party_status_source,
    _published,
    _run_adapter,
    _truth,
    _vparty_parties,
    _vparty_status,
)
from cpcstats.tomlio import get_str_list

REFERENCE_TABLES = ("bri", "taiwan", "states")
"""Reference tables a study may replace, in the order their notes are written."""


class _Loader:
    """The state one load builds up: the checked config and what every step records.

    Why a class: each step adds to the same ledger, input list, notes and harmonisation
    reports; holding them here keeps each step a short method instead of one long function.
    """

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.config = config
        self.base = path.parent
        self.config_file = str(path)
        meta = config.get("study", {})
        self.first_year = int(meta["first_year"])
        self.last_year = int(meta["last_year"])
        countries = config.get("countries", {})
        self.overrides = countries.get("overrides")
        self.exclude = countries.get("exclude")
        self.ledger = Ledger()
        self.inputs: list[InputFile] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.harmonisation: dict[str, HarmonisationReport] = {}

    def section(self, key: str) -> dict | None:
        return _table_section(self.config, key, self.base, self.config_file)

    def read(self, key: str) -> tuple[pd.DataFrame, str] | None:
        """The table ``[key]`` names, read and mapped onto the contract (None if absent)."""
        section = self.section(key)
        if section is None:
            return None
        frame, info = read_table(section["path"], sheet=section.get("sheet"))
        self.inputs.append(info)
        frame = _apply_mapping(
            frame, section, file=info.path, key=key, config_file=self.config_file
        )
        for column, rule in section.get("derive", {}).items():
            counts = frame[column].value_counts(dropna=False)
            shown = ", ".join(
                f"{n:,} {v if v is not pd.NA else 'unmatched'}" for v, n in counts.items()
            )
            self.notes.append(
                f"[{key}] {column} derived from {rule['from']!r} by "
                f"{len(rule['patterns'])} pattern(s)"
                + (f", default {rule['default']!r}" if "default" in rule else "")
                + f": {shown}"
            )
        return frame, info.path

    # ------------------------------------------------------------------ contacts
    def contacts(self) -> tuple[pd.DataFrame, str]:
        """The contacts: normalised, inside the study window, repeats checked or removed."""
        raw = self.read("contacts")
        if raw is None:
            raise SpecError(
                "the study has no [contacts] table",
                file=self.config_file,
                fix='add [contacts] with path = "contacts.csv"',
            )
        contacts_file = raw[1]
        contacts, accounts, report = normalise_contacts(
            raw[0], file=contacts_file, overrides=self.overrides, exclude=self.exclude
        )
        self.harmonisation["contacts"] = report
        self.ledger.extend(accounts)
        section = self.section("contacts") or {}
        contacts, account = _window(
            contacts,
            self.first_year,
            self.last_year,
            policy=str(section.get("outside_window", "error")),
            file=contacts_file,
            config_file=self.config_file,
        )
        self.ledger.add(account)
        return self.repeats(contacts, section), contacts_file

    def repeats(self, contacts: pd.DataFrame, section: dict) -> pd.DataFrame:
        """Exact repeats are kept and warned about, unless ``dedupe`` states a rule."""
        dedupe = get_str_list(section, "dedupe", file=self.config_file, where="[contacts]")
        repeated = _exact_duplicates(contacts)
        if len(repeated) and not dedupe:
            self.ledger.add(
                StageAccount(
                    "contacts: duplicate check",
                    len(contacts),
                    len(contacts),
                    {},
                    {"exact_duplicates_kept": len(repeated), "rows": repeated[:20]},
                )
            )
            shown = ", ".join(map(str, repeated[:5])) + (" …" if len(repeated) > 5 else "")
            warning = (
                f"[contacts] WARNING: {len(repeated):,} contact(s) repeat an earlier row "
                f"exactly (file rows {shown}); kept, because the study file has no dedupe "
                "rule — add dedupe = [columns] to [contacts] to count such repeats once"
            )
            self.notes.append(warning)  # the manifest lists every note
            self.warnings.append(warning)  # the run shows warnings as they are
        if dedupe:
            contacts, account = _dedupe(contacts, dedupe, self.config_file)
            self.ledger.add(account)
            self.notes.append(
                f"[contacts] dedupe: one contact per {', '.join(dedupe)} "
                f"({account.rows_in - account.rows_out:,} repeated rows removed)"
            )
        return contacts

    def parties(
        self, contacts: pd.DataFrame, contacts_file: str
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The parties table (if any), and the contacts under its country rule."""
        raw = self.read("parties")
        if raw is None:
            return contacts, None
        parties, accounts = normalise_parties(raw[0], file=raw[1], overrides=self.overrides)
        self.ledger.extend(accounts)
        _check_party_ids(contacts, parties, contacts_file, raw[1])
        section = self.section("contacts") or {}
        contacts, account = _party_country(
            contacts,
            parties,
            policy=str(section.get("party_country", "error")),
            file=contacts_file,
            parties_file=raw[1],
            config_file=self.config_file,
        )
        self.ledger.add(account)
        if account.notes.get("recoded"):
            self.notes.append(
                f'[contacts] party_country = "party": {account.notes["recoded"]:,} party '
                "contact(s) whose country differs from their party's country are counted in "
                "the party's country"
            )
        elif account.notes.get("differ"):
            self.notes.append(
                f'[contacts] party_country = "contact": {account.notes["differ"]:,} party '
                "contact(s) keep their own country in the country-year panel although their "
                "party belongs to another (the party-year panel counts them under the party)"
            )
        return contacts, parties

    # ------------------------------------------------------------------ covariates
    def sources(self) -> dict[str, Any]:
        """The public sources ``[covariates]`` names, each read by its adapter."""
        sources = _covariate_sources(self.config, self.base, self.config_file)
        results = {
            name: _run_adapter(
                name,
                opts,
                self.first_year,
                self.last_year,
                self.overrides,
                self.exclude,
                self.config_file,
            )
            for name, opts in sources.items()
        }
        for name, result in results.items():
            self.ledger.add(result.account)
            if result.input_file is not None:
                self.inputs.append(result.input_file)
            self.harmonisation[name] = result.harmonisation
            self.notes += [f"[covariates] {name}: {note}" for note in result.notes]
        return results

    def party_status(
        self, results: dict[str, Any], parties: pd.DataFrame | None
    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """Party status from V-Party or the study's own file: (parties, party_status)."""
        if _party_status_source(self.config) == "vparty":
            return self.vparty_status(results, parties)
        raw = self.read("party_status")
        if raw is None:
            return parties, None
        party_status, accounts = normalise_party_status(raw[0], file=raw[1])
        self.ledger.extend(accounts)
        if parties is not None:
            party_status, account = _status_of_known_parties(party_status, parties, own_file=True)
            self.ledger.add(account)
        return parties, party_status

    def vparty_status(
        self, results: dict[str, Any], parties: pd.DataFrame | None
    ) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """``party_status = "vparty"``: status (and, without a parties table, the parties)."""
        if "vparty" not in results:
            raise SpecError(
                'party_status = "vparty" needs the V-Party file: add vparty = "PATH" to '
                "[covariates]",
                file=self.config_file,
                column="party_status",
                fix='[covariates]\nvparty = "vparty_1990_2019.csv"',
            )
        party_status, account = _vparty_status(results["vparty"].table)
        self.ledger.add(account)
        if parties is not None:  # the study's own parties: V-Party's others are not used
            party_status, account = _status_of_known_parties(party_status, parties, own_file=False)
            self.ledger.add(account)
        self.notes.append(
            "[party_status] from V-Party v2pagovsup (senior/junior partner = ruling), carried "
            "forward between election years"
        )
        if parties is None:
            parties, accounts = normalise_parties(
                _vparty_parties(results["vparty"]), file=str(results["vparty"].path)
            )
            self.ledger.extend(accounts)
        return parties, party_status

    def covariates(self, results: dict[str, Any]) -> pd.DataFrame | None:
        """The study's own covariates file (if any) merged with the country-year sources."""
        covariates = None
        section = self.config.get("covariates")
        own_file = isinstance(section, str) or (isinstance(section, dict) and "path" in section)
        if own_file and (raw := self.read("covariates")) is not None:
            covariates, accounts, report = normalise_covariates(
                raw[0], file=raw[1], overrides=self.overrides, exclude=self.exclude
            )
            self.ledger.extend(accounts)
            self.harmonisation["covariates"] = report
        country_tables = [r.table for n, r in results.items() if n != "vparty"]
        if country_tables:
            covariates = _merge_covariates(country_tables, covariates, self.config_file)
        return covariates

    def references(self) -> dict[str, pd.DataFrame]:
        """States, Taiwan and BRI tables: shipped, or the study's own replacing them."""
        refs = dict(self.config.get("reference", {}))
        section = self.config.get("covariates")
        if isinstance(section, dict):  # user files replacing the shipped BRI / Taiwan tables
            refs.update({k: section[k] for k in REFERENCE_TABLES if k in section})
        tables = {
            key: load_reference(key, _maybe(self.base, refs.get(key)))
            for key in REFERENCE_KEYS  # a fixed order: the first bad file is always the one named
        }
        for key in REFERENCE_TABLES:
            if refs.get(key):
                self.notes.append(
                    f"[reference] {key}: the study's own file {refs[key]} replaces the shipped one"
                )
        return tables


def load_study(study: str | Path = DEMO) -> Study:
    """Load the demo (``"demo"``) or a study TOML file into a checked `Study`.

    Why everything at once: every input (contacts, parties, party status, covariate
    sources, reference tables) is read, mapped onto the data contract, harmonised and
    checked here, so panels and models work on clean tables and a bad input fails
    before any model is fitted, naming its file, row and column.

    Parameters
    ----------
    study : str or pathlib.Path, default "demo"
        ``"demo"`` for the embedded SIMULATED demo study, or the path of a study TOML
        file (``[study]``, ``[contacts]``, ``[parties]``, ...); relative paths inside
        it resolve against the file's own folder.

    Returns
    -------
    Study
        The clean input tables with their provenance (``inputs``), the row accounting
        (``ledger``), the rules applied (``notes``) and the country harmonisation.

    Raises
    ------
    SpecError
        The study file does not exist, is not valid TOML, or has an unknown key, a
        value of the wrong type or an inconsistent setting (e.g. ``first_year`` after
        ``last_year``, an unknown party-status source).
    InputError
        A data file it names is missing or unreadable, lacks a required column, has
        values breaking the data contract, or contacts fall outside the study window.

    Examples
    --------
    >>> study = cpcstats.load_study("demo")
    >>> study.simulated, study.first_year, study.last_year
    (True, 2002, 2023)
    >>> study.label()
    'Embedded demo study (SIMULATED)'
    """
    # abspath, not resolve(): messages name the full path, and resolving a link loop raises
    path = demo_config_path() if str(study) == DEMO else Path(os.path.abspath(study))
    config = _read_config(path)
    path = path.resolve()  # after the read: resolve() of a link loop is no SpecError
    load = _Loader(path, config)
    contacts, contacts_file = load.contacts()
    contacts, parties = load.parties(contacts, contacts_file)
    results = load.sources()
    parties, party_status = load.party_status(results, parties)
    tables = {
        "contacts": contacts,
        "parties": parties,
        "party_status": party_status,
        "covariates": load.covariates(results),
        **load.references(),
    }
    truth = _truth(config, load.base, load.config_file)
    published = _published(config, load.base, load.config_file)
    return _study(path, config, tables, load, truth=truth, published=published)


def _study(
    path: Path,
    config: dict[str, Any],
    tables: dict[str, pd.DataFrame | None],
    load: _Loader,
    **extra: Any,
) -> Study:
    """The `Study` of a finished load: ``[study]`` facts, tables and records."""
    meta = config.get("study", {})
    records = {
        "inputs": load.inputs,
        "ledger": load.ledger,
        "notes": load.notes,
        "warnings": load.warnings,
    }
    return Study(
        name=str(meta.get("name", path.stem)),
        first_year=load.first_year,
        last_year=load.last_year,
        break_year=int(meta.get("break_year", 2013)),
        simulated=bool(meta.get("simulated", False)),
        seed=meta.get("seed"),
        config_path=load.config_file,
        config=config,
        harmonisation=load.harmonisation,
        **tables,  # type: ignore[arg-type]
        **records,
        **extra,
    )
