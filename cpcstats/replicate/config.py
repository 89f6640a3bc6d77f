"""``replication.toml``: its schema, how it is read and checked, and which one a run uses.

Why so strict: table, diagnostics and model names become file names under ``--out``;
each is checked to be a plain name (``cpcstats.tomlio.check_name``), every key's TOML
type is checked, and an unknown key (a typo that would silently do nothing) is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpcstats.designs import DESIGNS  # kind -> module with run(study, panels, out, **params)
from cpcstats.errors import SpecError
from cpcstats.replicate.project import PACKAGED_CONFIG, PUBLISHED_NAME
from cpcstats.reporting.write import DEFAULT_FORMATS, check_formats
from cpcstats.study import DEMO, Study
from cpcstats.tomlio import (
    check_keys,
    check_name,
    get_str,
    get_str_list,
    get_table,
    get_typed,
    load_toml,
)


@dataclass(frozen=True)
class TableSpec:
    """One ``[[table]]``: the models (by name) shown side by side in one table file."""

    name: str
    title: str
    models: tuple[str, ...]
    irr: bool = False


@dataclass(frozen=True)
class ReplicationConfig:
    """A checked ``replication.toml``; paths are absolute."""

    path: Path
    models_dir: Path
    tables: tuple[TableSpec, ...]
    irr_models: tuple[str, ...]
    published: Path | None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    designs: tuple[dict[str, Any], ...] = ()
    formats: tuple[str, ...] = DEFAULT_FORMATS  # table files per table, in this order


CONFIG_KEYS = ("models", "formats", "table", "figures", "diagnostics", "design")
TABLE_KEYS = ("name", "title", "models", "irr")
FIGURE_KEYS = ("irr_models",)
DIAGNOSTIC_KEYS = ("name", "title", "models", "rootograms")
_WHERE = "the replication configuration"


def _entries(data: dict[str, Any], key: str, *, file: str) -> list[dict[str, Any]]:
    """An array of tables (``[[table]]``), each checked to be a table."""
    value = get_typed(data, key, list, file=file, where=_WHERE)
    entries = list(value or [])
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise SpecError(
                f"entry {i} of `{key}` must be a table ([[{key}]]), not {type(entry).__name__}",
                file=file,
                column=key,
                fix=f"write each entry as a [[{key}]] section",
            )
    return entries


def _names(table: dict[str, Any], key: str, *, file: str, where: str) -> tuple[str, ...]:
    """A list of model names, each a valid name (names become file names)."""
    names = get_str_list(table, key, file=file, where=where) or []
    return tuple(check_name(n, key=key, file=file, where=where) for n in names)


def _tables(data: dict[str, Any], file: str) -> tuple[TableSpec, ...]:
    """The ``[[table]]`` entries."""
    tables = []
    for i, t in enumerate(_entries(data, "table", file=file), 1):
        where = f"[[table]] number {i}"
        check_keys(t, TABLE_KEYS, file=file, where=where)
        if "name" not in t or "models" not in t:
            raise SpecError(
                f"{where} needs `name` and `models`",
                file=file,
                column="name" if "name" not in t else "models",
                fix='e.g. name = "table1" and models = ["model_a", "model_b"]',
            )
        name = check_name(t["name"], key="name", file=file, where=where)
        tables.append(
            TableSpec(
                name,
                get_str(t, "title", file=file, where=where, default=name) or name,
                _names(t, "models", file=file, where=where),
                bool(get_typed(t, "irr", bool, file=file, where=where, default=False)),
            )
        )
    return tuple(tables)


def _diagnostics(data: dict[str, Any], file: str) -> dict[str, Any]:
    """The ``[diagnostics]`` table, its names checked (empty when absent)."""
    diagnostics = get_table(data, "diagnostics", file=file, where=_WHERE)
    where = "[diagnostics]"
    check_keys(diagnostics, DIAGNOSTIC_KEYS, file=file, where=where)
    if not diagnostics:
        return diagnostics
    return {
        "name": check_name(
            diagnostics.get("name", "diagnostics"), key="name", file=file, where=where
        ),
        "title": get_str(diagnostics, "title", file=file, where=where, default="Diagnostics"),
        "models": list(_names(diagnostics, "models", file=file, where=where)),
        "rootograms": list(_names(diagnostics, "rootograms", file=file, where=where)),
    }


def _designs(data: dict[str, Any], file: str) -> tuple[dict[str, Any], ...]:
    """The ``[[design]]`` entries: a kind, a plain name, model names; other keys are params."""
    designs = []
    for i, d in enumerate(_entries(data, "design", file=file), 1):
        where = f"[[design]] number {i}"
        kind = get_str(d, "kind", file=file, where=where, default="")
        if not kind:
            raise SpecError(
                f"{where} needs `kind`",
                file=file,
                column="kind",
                fix=f"use one of {', '.join(DESIGNS)}",
            )
        entry = dict(d)
        entry["kind"] = kind
        entry["name"] = check_name(d.get("name", kind), key="name", file=file, where=where)
        if "models" in d:
            entry["models"] = list(_names(d, "models", file=file, where=where))
        designs.append(entry)
    return tuple(designs)


def load_replication_config(path: str | Path = PACKAGED_CONFIG) -> ReplicationConfig:
    """Read and check the replication configuration (tables, figures, diagnostics, designs).

    Checked in the order of the file's sections, so the first error a user sees is the
    first in the file.
    """
    path = Path(path).resolve()
    if not path.exists():
        raise SpecError(
            "the replication configuration does not exist",
            file=str(path),
            fix="pass --config PATH of an existing file, or leave --config out to use the "
            "packaged configuration",
        )
    data = load_toml(path, "replication configuration")
    file = str(path)
    check_keys(data, CONFIG_KEYS, file=file, where=_WHERE)
    tables = _tables(data, file)
    figures = get_table(data, "figures", file=file, where=_WHERE)
    check_keys(figures, FIGURE_KEYS, file=file, where="[figures]")
    diagnostics = _diagnostics(data, file)
    designs = _designs(data, file)
    published = path.parent / PUBLISHED_NAME
    models = get_str(data, "models", file=file, where=_WHERE)
    formats = get_str_list(data, "formats", file=file, where=_WHERE)
    return ReplicationConfig(
        path=path,
        models_dir=(path.parent / (models or "../models")).resolve(),
        tables=tables,
        irr_models=_names(figures, "irr_models", file=file, where="[figures]"),
        published=published if published.exists() else None,
        diagnostics=diagnostics,
        designs=designs,
        formats=DEFAULT_FORMATS if formats is None else check_formats(formats, file=file),
    )


def default_config(study: str | Path | Study) -> Path:
    """The configuration ``replicate`` uses when none is given.

    A study file's own ``replication.toml`` beside it (the layout ``cpcstats init``
    writes) if there is one, else the packaged configuration; always the packaged one for
    the demo.  Why not a path relative to the working folder, as before: it made the
    command work only from the repository's root.
    """
    if isinstance(study, Study):
        where = Path(study.config_path) if study.config_path else None
    elif str(study) == DEMO:
        where = None
    else:
        where = Path(study)
    if where is not None and (beside := where.parent / "replication.toml").is_file():
        return beside.resolve()
    return PACKAGED_CONFIG
