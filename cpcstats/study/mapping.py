"""A table section of the study file applied to the file it names: path, renames, recodes,
defaults and derived columns.

Why a module of its own: these rules are the only place where a user's column names and
codes meet the data contract, so their error messages (which name both) live together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats import saferegex
from cpcstats.errors import SpecError
from cpcstats.study.model import DEMO, demo_config_path


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


def _maybe(base: Path, value: str | None) -> Path | None:
    return None if value is None else _resolve(base, value)
