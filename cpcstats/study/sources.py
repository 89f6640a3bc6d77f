"""Sources a study file names besides its own tables: public covariate sources (through
the adapters), V-Party party status, the true parameters of a simulated study and the
published figures to compare with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.errors import InputError, SpecError
from cpcstats.study.config import COUNTRY_SOURCES, STUDY_SOURCES
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
        files = ["path", *(k for k in ("vparty_links", "dpi_links") if name == "partyfacts")]
        for key in (k for k in files if k in opts):
            opts[key] = _resolve(base, str(opts[key]))
            if not opts[key].exists():
                raise InputError(
                    f"the {name} file named in [covariates] does not exist",
                    file=str(opts[key]),
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
    from cpcstats.adapters import ADAPTERS, read_partyfacts

    if name == "partyfacts":  # a register: no years, no country rules of the study
        return read_partyfacts(
            opts["path"],
            vparty_links_path=opts.get("vparty_links"),
            dpi_links_path=opts.get("dpi_links"),
        )
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


LEADERS_COVARIATES = {
    "executive_party_id": "executive_party",
    "executive_party": "executive_party_name",
    "executive_office": "executive_office",
}
"""Leaders Global columns merged as country-year covariates, and their names there:
``executive_party`` is the Party Facts id of the executive's party (missing for a
non-party executive), ``executive_party_name`` its short name, ``executive_office``
``hog`` or ``hos`` (whose party it is)."""


def _country_tables(results: dict[str, Any]) -> list[pd.DataFrame]:
    """The country-year tables among the sources read: the covariate sources as they come,
    Leaders Global's executive party (`LEADERS_COVARIATES`); party sources are not merged."""
    tables = [r.table for n, r in results.items() if n in COUNTRY_SOURCES]
    if "leaders_global" in results:
        lg = results["leaders_global"].table
        tables.append(lg[["iso3", "year", *LEADERS_COVARIATES]].rename(columns=LEADERS_COVARIATES))
    return tables


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
