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
from cpcstats.reporting.figure_formats import FIGURE_FORMATS, check_figure_formats
from cpcstats.reporting.labels import PACKAGED_LABELS, check_labels, load_labels
from cpcstats.reporting.tables.gof import resolve_gof
from cpcstats.reporting.tables.model_options import STATISTICS, check_spans, check_stars
from cpcstats.reporting.write import DEFAULT_FORMATS, check_formats
from cpcstats.saferegex import check_pattern
from cpcstats.spec import LABELS_FILE_NAME
from cpcstats.study import DEMO, Study
from cpcstats.tomlio import (
    check_keys,
    check_name,
    get_int,
    get_str,
    get_str_list,
    get_table,
    get_typed,
    load_toml,
)


@dataclass(frozen=True)
class TableSpec:
    """One ``[[table]]``: the models (by name) shown side by side in one table file.

    The optional keys are `cpcstats.table`'s options (checked here, so a typo is an error
    naming the file and key before any model is fitted): ``titles`` (one per model),
    ``spans`` (``[["Party-year", 2], ...]`` or ``[{text = "...", span = 2}]``), ``keep``,
    ``drop``, ``order`` (patterns), ``coef_map`` (term = "label"), ``gof`` (keys, or
    key = "label" / {label, digits}), ``statistic``, ``stars`` (false or thresholds),
    ``digits`` and ``labels`` (a labels file beside the configuration, or an inline
    table of sections laid over the run's labels).
    """

    name: str
    title: str
    models: tuple[str, ...]
    irr: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    labels: Path | dict[str, Any] | None = None


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
    figure_formats: tuple[str, ...] = tuple(FIGURE_FORMATS)  # [figures] formats
    labels: Path = PACKAGED_LABELS  # the run's labels file (see `labels_file`)
    workers: int | None = None  # [execution] workers: processes (None: every core)
    timeout: float | None = None  # [execution] timeout: seconds for the designs (None: none)


CONFIG_KEYS = (
    "models",
    "formats",
    "labels",
    "execution",
    "table",
    "figures",
    "diagnostics",
    "design",
)
EXECUTION_KEYS = ("workers", "timeout")
TABLE_OPTION_KEYS = (
    "titles",
    "spans",
    "keep",
    "drop",
    "order",
    "coef_map",
    "gof",
    "statistic",
    "stars",
    "digits",
)
TABLE_KEYS = ("name", "title", "models", "irr", "labels", *TABLE_OPTION_KEYS)
LABELS_NAME = LABELS_FILE_NAME  # the labels file of a models folder (`load_specs` skips it)
FIGURE_KEYS = ("irr_models", "formats")
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
        models = _names(t, "models", file=file, where=where)
        tables.append(
            TableSpec(
                name,
                get_str(t, "title", file=file, where=where, default=name) or name,
                models,
                bool(get_typed(t, "irr", bool, file=file, where=where, default=False)),
                table_options(t, len(models), file=file, where=where),
                _table_labels(t, file=file, where=where),
            )
        )
    return tuple(tables)


def _table_labels(t: dict[str, Any], *, file: str, where: str) -> Path | dict[str, Any] | None:
    """A table's ``labels``: a labels file (relative to the configuration) or overrides."""
    if "labels" not in t:
        return None
    value = get_typed(t, "labels", (str, dict), file=file, where=where)
    if isinstance(value, dict):
        return check_labels(value, file=file)
    path = (Path(file).parent / value).resolve()
    load_labels(path)  # checked now: a bad file fails before any model is fitted
    return path


def labels_file(data: dict[str, Any], path: Path, models_dir: Path | None = None) -> Path:
    """The run's labels: ``labels = PATH`` of the configuration, else ``labels.toml`` in
    the models folder (where the shipped one lives: ``models/labels.toml``), else one
    beside the configuration, else the packaged labels."""
    given = get_str(data, "labels", file=str(path), where=_WHERE)
    if given is not None:
        chosen = (path.parent / given).resolve()
        load_labels(chosen)  # a missing or bad file is a SpecError naming it
        return chosen
    for folder in (models_dir, path.parent):
        if folder is not None and (folder / LABELS_NAME).is_file():
            return (folder / LABELS_NAME).resolve()
    return PACKAGED_LABELS


def _option_error(key: str, where: str, file: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"`{key}` in {where}: {problem}", file=file, column=key, fix=fix)


def _spans(value: Any, n_models: int, *, file: str, where: str) -> list[tuple[str, int]]:
    """``spans = [["Party-year", 2], ...]`` or ``[{text = "...", span = 2}, ...]``."""
    fix = 'write spans = [["Party-year", 2], ["Country-year", 2]] (spans add up to the models)'
    if not isinstance(value, list):
        raise _option_error("spans", where, file, "must be an array", fix)
    spans = []
    for item in value:
        if isinstance(item, dict) and set(item) == {"text", "span"}:
            item = [item["text"], item["span"]]
        ok = isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
        if not ok or isinstance(item[1], bool) or not isinstance(item[1], int):
            raise _option_error("spans", where, file, f"{item!r} is not [text, columns]", fix)
        spans.append((item[0], item[1]))
    try:
        check_spans(spans, n_models)
    except ValueError as exc:
        raise _option_error("spans", where, file, str(exc), fix) from exc
    return spans


def _gof(value: Any, *, file: str, where: str) -> list[str] | dict[str, Any]:
    """``gof = ["nobs", "aic"]`` or ``[table.gof] nobs = "Observations"``: checked keys."""
    fix = 'e.g. gof = ["nobs", "n_clusters", "loglik", "aic"] (keys of GOF_CATALOGUE)'
    if not isinstance(value, (list, dict)):
        raise _option_error("gof", where, file, "must be an array of keys or a table", fix)
    try:
        resolve_gof(value)
    except ValueError as exc:
        raise _option_error("gof", where, file, str(exc), fix) from exc
    return value


def _patterns_option(t: dict[str, Any], key: str, *, file: str, where: str) -> list[str] | None:
    patterns = get_str_list(t, key, file=file, where=where)
    for pattern in patterns or []:
        check_pattern(pattern, file=file, where=f"{where} `{key}`", column=key)
    return patterns


def table_options(t: dict[str, Any], n_models: int, *, file: str, where: str) -> dict[str, Any]:
    """The ``[[table]]`` keys that are `cpcstats.table` options, checked, as its kwargs.

    Long because each option has its own type and message; none is shared.
    """
    out: dict[str, Any] = {}
    if "titles" in t:
        titles = get_str_list(t, "titles", file=file, where=where) or []
        if len(titles) != n_models:
            raise _option_error(
                "titles",
                where,
                file,
                f"{len(titles)} titles for {n_models} models",
                "give one title per model, in the order of `models`",
            )
        out["titles"] = titles
    if "spans" in t:
        out["spans"] = _spans(t["spans"], n_models, file=file, where=where)
    for key in ("keep", "drop", "order"):
        if key in t:
            out[key] = _patterns_option(t, key, file=file, where=where)
    if "coef_map" in t:
        coef_map = get_table(t, "coef_map", file=file, where=where)
        bad = [k for k, v in coef_map.items() if not isinstance(v, str)]
        if bad:
            raise _option_error(
                "coef_map",
                where,
                file,
                f"the label of {bad[0]!r} is not a string",
                'write [table.coef_map] with lines such as "ruling" = "Ruling party"',
            )
        out["coef_map"] = coef_map
    if "gof" in t:
        out["gof"] = _gof(t["gof"], file=file, where=where)
    if "statistic" in t:
        statistic = get_str(t, "statistic", file=file, where=where)
        if statistic not in STATISTICS:
            raise _option_error(
                "statistic",
                where,
                file,
                f"unknown statistic {statistic!r}",
                f"use one of {', '.join(STATISTICS)}",
            )
        out["statistic"] = statistic
    if "stars" in t:
        stars = get_typed(t, "stars", (bool, list), file=file, where=where)
        try:
            out["stars"] = check_stars(stars)
        except (TypeError, ValueError) as exc:
            raise _option_error(
                "stars", where, file, str(exc), "write stars = false or stars = [0.10, 0.05, 0.01]"
            ) from exc
    if "digits" in t:
        digits = get_int(t, "digits", file=file, where=where)
        if digits is None or digits < 0 or digits > 10:
            raise _option_error("digits", where, file, f"{digits!r} is not 0-10", "e.g. digits = 3")
        out["digits"] = digits
    return out


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
    workers, timeout = _execution(data, file)
    formats = get_str_list(data, "formats", file=file, where=_WHERE)
    models_dir = (path.parent / (models or "../models")).resolve()
    return ReplicationConfig(
        path=path,
        models_dir=models_dir,
        tables=tables,
        irr_models=_names(figures, "irr_models", file=file, where="[figures]"),
        published=published if published.exists() else None,
        diagnostics=diagnostics,
        designs=designs,
        formats=DEFAULT_FORMATS if formats is None else check_formats(formats, file=file),
        figure_formats=_figure_formats(figures, file),
        labels=labels_file(data, path, models_dir),
        workers=workers,
        timeout=timeout,
    )


def _figure_formats(figures: dict[str, Any], file: str) -> tuple[str, ...]:
    """``[figures] formats``: the files of every figure (default PDF and PNG)."""
    formats = get_str_list(figures, "formats", file=file, where="[figures]")
    if formats is None:
        return tuple(FIGURE_FORMATS)
    return check_figure_formats(formats, file=file)


def _execution(data: dict[str, Any], file: str) -> tuple[int | None, float | None]:
    """``[execution]``: ``workers`` (processes, at least 1; 1 is the serial run) and
    ``timeout`` (seconds the run waits for its designs, more than 0).

    Neither changes a number or a file of the run, only how long it takes.
    """
    execution = get_table(data, "execution", file=file, where=_WHERE)
    check_keys(execution, EXECUTION_KEYS, file=file, where="[execution]")
    workers = get_int(execution, "workers", file=file, where="[execution]")
    if workers is not None and workers < 1:
        raise SpecError(
            f"[execution] workers must be at least 1, not {workers}",
            file=file,
            column="workers",
            fix="workers = 1 runs everything in one process; leave it out to use every core",
        )
    timeout = get_typed(execution, "timeout", (int, float), file=file, where="[execution]")
    if timeout is not None and not timeout > 0:
        raise SpecError(
            f"[execution] timeout must be a number of seconds above 0, not {timeout}",
            file=file,
            column="timeout",
            fix="e.g. timeout = 3600, or leave it out for no limit",
        )
    return workers, None if timeout is None else float(timeout)


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
