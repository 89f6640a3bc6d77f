"""Sources a study file names besides its own tables: public covariate sources (through
the adapters), V-Party party status, the true parameters of a simulated study and the
published figures to compare with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.errors import InputError, SpecError
from cpcstats.study.config import STUDY_SOURCES
from cpcstats.study.mapping import _resolve
from cpcstats.study.model import PUBLISHED_DEFAULT


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
