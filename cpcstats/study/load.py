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
from cpcstats.study import covariate_rules as cr
from cpcstats.study import registers as rg
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
    _country_tables,
    _covariate_sources,
    _merge_covariates,
    _published,
    _run_adapter,
    _truth,
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
        self.party_matching: Any = None

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
        frame = raw[0]
        if rg.parties_source(self.config) is not None:  # names linked once countries are known
            frame, n_named = rg.mark_name_only(frame)
            if n_named:
                self.notes.append(
                    f"[contacts] {n_named:,} party contact(s) give only a party_name: linked to "
                    "the party register by the name matcher (Party-name matching)"
                )
        contacts, accounts, report = normalise_contacts(
            frame, file=contacts_file, overrides=self.overrides, exclude=self.exclude
        )
        del raw, frame  # the file's text columns: not needed once normalised
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
        return self.party_country(contacts, parties, contacts_file, raw[1]), parties

    def party_country(
        self, contacts: pd.DataFrame, parties: pd.DataFrame, contacts_file: str, parties_file: str
    ) -> pd.DataFrame:
        """Every party contact's party is in the parties table; its country rule applied."""
        coded = _check_party_ids(contacts, parties, contacts_file, parties_file)
        section = self.section("contacts") or {}
        contacts, account = _party_country(
            contacts,
            parties,
            policy=str(section.get("party_country", "error")),
            file=contacts_file,
            parties_file=parties_file,
            config_file=self.config_file,
            coded=coded,
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
        return contacts

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
        """Party status from V-Party, the DPI or the study's own file: (parties, status)."""
        source = rg.status_source(self.config)
        if source is not None:
            return self.source_status(source, results, parties)
        raw = self.read("party_status")
        if raw is None:
            return parties, None
        party_status, accounts = normalise_party_status(raw[0], file=raw[1])
        self.ledger.extend(accounts)
        if parties is not None:
            party_status, account = _status_of_known_parties(party_status, parties, own_file=True)
            self.ledger.add(account)
        return parties, party_status

    def source_status(
        self, source: str, results: dict[str, Any], parties: pd.DataFrame | None
    ) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """``party_status = "vparty"``/``"dpi"``: status (and, without a parties table, the
        parties of that source)."""
        status, account = rg.source_status(results[source].table, source)
        self.ledger.add(account)
        if parties is not None:  # the study's own parties: the source's others are not used
            if source == "vparty":
                status, account = _status_of_known_parties(status, parties, own_file=False)
            else:
                status, account = rg.known_parties(status, parties, source)
            self.ledger.add(account)
        self.notes.append(f"[party_status] {rg.STATUS_NOTES[source]}")
        if parties is None:
            parties, accounts = normalise_parties(
                rg.source_parties(source, results[source]), file=str(results[source].path)
            )
            self.ledger.extend(accounts)
        return parties, status[["party_id", "year", "status"]].reset_index(drop=True)

    def registered(
        self, source: str, results: dict[str, Any], contacts: pd.DataFrame, contacts_file: str
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        """``[parties] source``: parties (and status) from a register; named contacts linked."""
        register = results.get("partyfacts")
        overrides = rg.party_overrides(self.config)
        status = None
        if (status_src := rg.status_source(self.config)) is not None:
            table = results[status_src].table
            if source == "partyfacts" and status_src == "dpi":
                table, by = rg.dpi_linked(results["dpi"], register, overrides)
                self.notes.append(f"[parties] DPI party-years linked to Party Facts: {by}")
                self.notes.append(rg.unlinked_note(table))
                if "leaders_global" in results:
                    note = rg.execme_agreement(table, results["dpi"], results["leaders_global"])
                    self.notes.append(f"[covariates] leaders_global: {note}")
            status, account = rg.source_status(table, status_src)
            self.ledger.add(account)
            if source == "partyfacts":
                status, account = rg.to_partyfacts_ids(status, status_src)
                self.ledger.add(account)
            rg.same_ids(source, status_src, file=self.config_file)
            self.notes.append(f"[party_status] {rg.STATUS_NOTES[status_src]}")
            status = status[["party_id", "year", "status"]].reset_index(drop=True)
        table = None if source == "partyfacts" else rg.source_parties(source, results[source])
        if table is not None and source == "dpi" and register is not None:
            table = rg.with_dpi_links(table, results["dpi"], register, overrides)
        contacts = self.link_names(contacts, register, table)
        if table is None:
            table = rg.register_parties(register.table, status, contacts, file=self.config_file)
            self.notes.append(f"[parties] from Party Facts: {rg.REGISTER_RULE}")
        parties, accounts = normalise_parties(table, file=str(results[source].path))
        self.ledger.extend(accounts)
        if status_src is None:
            parties, status = self.party_status(results, parties)
        return (
            self.party_country(contacts, parties, contacts_file, str(results[source].path)),
            parties,
            status,
        )

    def link_names(
        self, contacts: pd.DataFrame, register: Any, parties: pd.DataFrame | None
    ) -> pd.DataFrame:
        """Contacts named only by ``party_name``: linked to the register by the matcher."""
        named = contacts["party_id"].astype("string").str.startswith(rg.NAME_TOKEN).fillna(False)
        if not named.any():
            return contacts
        if register is None:
            raise SpecError(
                f"{int(named.sum()):,} party contact(s) give only a party_name; linking them "
                "needs the Party Facts register",
                file=self.config_file,
                column="partyfacts",
                fix='[covariates]\npartyfacts = "partyfacts_core_parties.csv"',
            )
        target = None if parties is None else rg.partyfacts_target(parties)
        contacts, account, report = rg.link_contact_names(
            contacts, register.table, target=target, overrides=rg.party_overrides(self.config)
        )
        self.ledger.add(account)
        self.party_matching = report
        return contacts

    def covariates(self, results: dict[str, Any]) -> pd.DataFrame | None:
        """The study's own covariates file (if any) merged with the country-year sources."""
        covariates = None
        section = self.config.get("covariates")
        own_file = isinstance(section, str) or (isinstance(section, dict) and "path" in section)
        if own_file and (raw := self.read("covariates")) is not None:
            rules = section if isinstance(section, dict) else {}
            frame, notes = cr.used_columns(raw[0], rules, config_file=self.config_file)
            frame, repeats = cr.identical_rows(frame, rules)
            covariates, accounts, report = normalise_covariates(
                frame, file=raw[1], overrides=self.overrides, exclude=self.exclude
            )
            self.ledger.extend([*([repeats] if repeats else []), *accounts])
            self.harmonisation["covariates"] = report
            covariates, more = cr.coverage(covariates, rules, config_file=self.config_file)
            self.notes += notes + more
        country_tables = _country_tables(results)
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
    if (source := rg.parties_source(config)) is None:
        contacts, parties = load.parties(contacts, contacts_file)
        results = load.sources()
        parties, party_status = load.party_status(results, parties)
    else:  # the register's parties need the sources first
        results = load.sources()
        contacts, parties, party_status = load.registered(source, results, contacts, contacts_file)
    tables = {
        "contacts": contacts,
        "parties": parties,
        "party_status": party_status,
        "covariates": load.covariates(results),
        **load.references(),
        "party_register": results["partyfacts"].table if "partyfacts" in results else None,
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
        "party_matching": load.party_matching,
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
