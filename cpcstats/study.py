"""A study: the input tables of one analysis, checked, harmonised and accounted for.

A study is either the embedded demo (``load_study("demo")``) or a TOML file
that names the input files and how their columns map onto the data contract.
Relative paths resolve against the TOML file's own folder.  Loading reads and
checks everything once; panels and models then work on the clean tables.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
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
from cpcstats.errors import InputError, SpecError
from cpcstats.io import InputFile, read_table
from cpcstats.reference import load_reference

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
    if not path.exists():
        raise SpecError(
            "the study file does not exist",
            file=str(path),
            fix="give a path to a .toml study file, or use --study demo",
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"is not valid TOML: {exc}",
            file=str(path),
            fix="check quotes and brackets near the reported line",
        ) from exc


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
    return frame


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
    path = demo_config_path() if str(study) == DEMO else Path(study).resolve()
    config = _read_config(path)
    base = path.parent
    config_file = str(path)
    meta = config.get("study", {})
    try:
        first_year = int(meta["first_year"])
        last_year = int(meta["last_year"])
    except KeyError as exc:
        raise SpecError(
            f"[study] needs {exc.args[0]}",
            file=config_file,
            fix="add first_year = 2002 and last_year = 2017 to [study]",
        ) from exc
    if first_year > last_year:
        raise SpecError(
            "[study] first_year is after last_year", file=config_file, fix="swap the two years"
        )
    break_year = int(meta.get("break_year", 2013))
    ledger = Ledger()
    inputs: list[InputFile] = []
    countries = config.get("countries", {})
    overrides = countries.get("overrides")
    exclude = countries.get("exclude")

    def read(key: str) -> tuple[pd.DataFrame, str] | None:
        section = _table_section(config, key, base, config_file)
        if section is None:
            return None
        frame, info = read_table(section["path"], sheet=section.get("sheet"))
        inputs.append(info)
        frame = _apply_mapping(frame, section, file=info.path, key=key, config_file=config_file)
        return frame, info.path

    raw = read("contacts")
    if raw is None:
        raise SpecError(
            "the study has no [contacts] table",
            file=config_file,
            fix='add [contacts] with path = "contacts.csv"',
        )
    contacts_file = raw[1]
    contacts, accounts, _ = normalise_contacts(
        raw[0], file=contacts_file, overrides=overrides, exclude=exclude
    )
    ledger.extend(accounts)
    contacts, account = _window(contacts, first_year, last_year)
    ledger.add(account)

    parties = party_status = covariates = None
    if (raw := read("parties")) is not None:
        parties, accounts = normalise_parties(raw[0], file=raw[1], overrides=overrides)
        ledger.extend(accounts)
        _check_party_ids(contacts, parties, contacts_file, raw[1])
    if (raw := read("party_status")) is not None:
        party_status, accounts = normalise_party_status(raw[0], file=raw[1])
        ledger.extend(accounts)
    if (raw := read("covariates")) is not None:
        covariates, accounts = normalise_covariates(raw[0], file=raw[1], overrides=overrides)
        ledger.extend(accounts)

    refs = config.get("reference", {})
    states = load_reference("states", _maybe(base, refs.get("states")))
    taiwan = load_reference("taiwan", _maybe(base, refs.get("taiwan")))
    bri = load_reference("bri", _maybe(base, refs.get("bri")))
    truth = None
    if "truth" in config:
        truth = json.loads(_resolve(base, config["truth"]["path"]).read_text(encoding="utf-8"))
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
    )


def _maybe(base: Path, value: str | None) -> Path | None:
    return None if value is None else _resolve(base, value)


def _window(contacts: pd.DataFrame, first: int, last: int) -> tuple[pd.DataFrame, StageAccount]:
    inside = contacts["year"].between(first, last)
    account = StageAccount(
        "contacts: study window",
        len(contacts),
        int(inside.sum()),
        {f"outside study window {first}-{last}": int((~inside).sum())},
    )
    return contacts[inside].reset_index(drop=True), account


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
