"""Model specification files (TOML) in ``models/``.

A file holds one model (top-level keys) or several (``[[model]]`` tables)::

    name = "party_ruling_regime"
    title = "Ruling status x regime type"
    level = "party-year"
    family = "negbin"
    formula = "contacts ~ ruling * C(fh_status) + left_roots | year"
    cluster = "iso3"
    sample = "year >= 2002"

Keys are checked strictly so that a typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpcstats.errors import SpecError
from cpcstats.formula import check_filter, parse_formula
from cpcstats.spec_registry import FAMILY_REGISTRY, variance_names
from cpcstats.tomlio import (
    NAME_PATTERN,
    check_keys,
    check_name,
    get_int,
    get_str,
    get_str_list,
    load_toml,
)

FILE_LEVELS = ("country-year", "party-year")
LEVELS = (*FILE_LEVELS, "custom")  # custom: a DataFrame given directly to fit()
KEYS = {
    "name",
    "title",
    "description",
    "level",
    "family",
    "formula",
    "fixed_effects",
    "cluster",
    "se",
    "sample",
    "inflation",
    "exposure",
    "offset",
    "correlation",
    "bootstrap_reps",
    "seed",
    "k_fixef",
}
CORRELATIONS = ("exchangeable", "ar1", "independence")
#: fixest's ssc(fixef.K = ...) choices; "full" (every FE level counted, as R's glm + vcovCL)
K_FIXEF = ("full", "nested", "none")
LABELS_FILE_NAME = "labels.toml"  # a models folder's reader's labels, not a spec (load_specs)
MAX_BOOTSTRAP_REPS = 100_000  # more replications never change a reported digit; bounds runtime


@dataclass(frozen=True)
class ModelSpec:
    """One model to fit: what, on which panel, with which inference.

    Read from a model TOML by `cpcstats.load_specs` (every key checked) or made
    by `cpcstats.fit` from its keyword arguments; frozen, so a specification
    in a results record is the one that was fitted.

    Parameters
    ----------
    name : str
        Unique name; it becomes output file names.
    level : {"party-year", "country-year", "custom"}
        The panel it is fitted on (``custom``: a DataFrame given to ``fit``).
    family : str
        A registered family (``poisson``, ``negbin``, ``zinb``, ``fe-poisson``, ...).
    formula : str
        ``"y ~ terms | fixed effects"``.
    cluster : tuple of str, default ()
        Cluster variables of the standard errors.
    se : str, optional
        The variance estimator; default ``cluster`` with clusters, else ``classical``.
    sample : str, optional
        A row filter such as ``"year >= 2002"``.
    title, description : str
        Shown in tables and reports.
    source : str, optional
        The TOML file it came from.
    inflation : str, optional
        Right-hand side of the zero / inflation equation (zip, zinb, hurdle).
    exposure, offset : str, optional
        A variable whose log enters as an offset; one entering with coefficient 1.
    correlation : str, default "exchangeable"
        GEE working correlation.
    bootstrap_reps : int, default 999
        Replications of the cluster bootstrap.
    seed : int, default 20200603
        Seed of the bootstrap.
    k_fixef : {"full", "nested", "none"}, default "full"
        How fixed effects enter K of the ``cluster`` / ``hc1`` small-sample factor, as
        fixest's ``ssc(fixef.K = ...)``; ``"nested"`` is fixest's default.
    extra : dict
        Further settings kept with the specification.

    Examples
    --------
    >>> from importlib.resources import files
    >>> spec = cpcstats.load_specs(files("cpcstats") / "project/models/party_year.toml")[0]
    >>> spec.name, spec.family, spec.se_type
    ('party_nb_ruling_fh', 'negbin', 'cluster')
    """

    name: str
    level: str
    family: str
    formula: str
    cluster: tuple[str, ...] = ()
    se: str | None = None
    sample: str | None = None
    title: str = ""
    description: str = ""
    source: str | None = None
    inflation: str | None = None  # right-hand side of the zero / inflation equation
    exposure: str | None = None  # variable whose log enters as an offset
    offset: str | None = None  # variable entering the linear predictor with coefficient 1
    correlation: str = "exchangeable"  # GEE working correlation
    bootstrap_reps: int = 999
    seed: int = 20200603
    k_fixef: str = "full"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def se_type(self) -> str:
        """The variance estimator in use: ``se``, else ``cluster`` or ``classical``."""
        return self.se or ("cluster" if self.cluster else "classical")


def _where(name: object, index: int | None) -> str:
    """How messages name a model: by its name once it is valid, else by its position."""
    if isinstance(name, str) and re.fullmatch(NAME_PATTERN, name):
        return f"model {name!r}"
    return f"model {index}" if index is not None else "the model"


def _in_model(exc: SpecError, where: str) -> SpecError:
    """The same error, with the model named (formula checks do not know the model)."""
    problem = exc.problem if exc.problem.startswith(where) else f"{where}: {exc.problem}"
    return SpecError(problem, file=exc.file, row=exc.row, column=exc.column, fix=exc.fix)


@dataclass(frozen=True)
class _Entry:
    """One model's table while it is checked: its keys, file and name for messages."""

    values: dict[str, Any]
    file: str | None
    name: str

    @property
    def where(self) -> str:
        return f"model {self.name!r}"

    def text(self, key: str, default: str | None = None) -> str | None:
        return get_str(self.values, key, file=self.file, where=self.where, default=default)

    def error(self, problem: str, column: str, fix: str) -> SpecError:
        return SpecError(f"model {self.name!r}{problem}", file=self.file, column=column, fix=fix)


def _named_entry(
    entry: dict[str, Any], file: str | None, allow_custom: bool, index: int | None
) -> _Entry:
    """The table checked for its type, its keys and a valid name."""
    if not isinstance(entry, dict):
        raise SpecError(
            f"{_where(None, index)} is {type(entry).__name__} {entry!r}, not a table"[:300],
            file=file,
            fix="write each model as a [[model]] table of keys",
        )
    if allow_custom:  # keyword arguments of fit(): tuples and numpy integers are fine there
        entry = {
            k: list(v)
            if isinstance(v, tuple)
            else int(v)
            if isinstance(v, numbers.Integral) and not isinstance(v, bool)
            else v
            for k, v in entry.items()
        }
    where = _where(entry.get("name"), index)
    check_keys(entry, KEYS, file=file, where=where)
    for key in ("name", "level", "family", "formula"):
        if key not in entry:
            raise SpecError(
                f"{where}: the specification lacks `{key}`",
                file=file,
                column=key,
                fix=f'add {key} = "..."',
            )
    if allow_custom:
        name = str(entry["name"])
    else:
        name = check_name(entry["name"], key="name", file=file, where=where)
    return _Entry(entry, file, name)


def _level_and_family(e: _Entry, allow_custom: bool) -> tuple[str, str]:
    level = e.text("level")
    levels = LEVELS if allow_custom else FILE_LEVELS
    if level not in levels:
        raise e.error(f": unknown level {level!r}", "level", f"use one of {', '.join(levels)}")
    family = e.text("family")
    if family not in FAMILY_REGISTRY:
        raise e.error(
            f": unknown family {family!r}",
            "family",
            f"use one of {', '.join(FAMILY_REGISTRY)}",
        )
    return str(level), str(family)


def _formula(e: _Entry) -> str:
    """The formula with any ``fixed_effects`` appended after '|', parsed for safety."""
    formula = str(e.text("formula"))
    fes = get_str_list(e.values, "fixed_effects", file=e.file, where=e.where) or []
    if fes:
        if "|" in formula:
            raise e.error(
                " gives fixed effects both after '|' and in fixed_effects",
                "fixed_effects",
                "use one of the two",
            )
        formula = f"{formula} | {' + '.join(fes)}"
    try:
        parse_formula(formula, file=e.file)  # grammar and safety, before any data is seen
    except SpecError as exc:
        raise _in_model(exc, e.where) from exc
    return formula


def _cluster_and_se(e: _Entry) -> tuple[tuple[str, ...], str | None]:
    cluster = tuple(get_str_list(e.values, "cluster", file=e.file, where=e.where) or ())
    bad_cluster = [c for c in cluster if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c)]
    if bad_cluster:
        raise SpecError(
            f"model {e.name!r}: `cluster` {bad_cluster[0]!r} is not a variable name"[:300],
            file=e.file,
            column="cluster",
            fix='name panel variables, e.g. cluster = ["iso3", "year"]',
        )
    if len(cluster) > 2:
        raise e.error(": at most two-way clustering", "cluster", 'e.g. cluster = ["iso3", "year"]')
    se = e.text("se")
    if se is not None and se not in variance_names():
        raise e.error(f": unknown se {se!r}", "se", f"use one of {', '.join(variance_names())}")
    if se == "cluster" and not cluster:
        raise e.error(": se = 'cluster' needs `cluster`", "cluster", 'add cluster = "iso3"')
    return cluster, se


def _sample(e: _Entry) -> str | None:
    sample = e.text("sample")
    if sample is not None:
        try:
            check_filter(sample, file=e.file)
        except SpecError as exc:
            raise _in_model(exc, e.where) from exc
    return sample


def _inflation(e: _Entry, family: str, formula: str) -> str | None:
    """The zero-part formula the family needs (or refuses), and its fixed effects."""
    inflation = e.text("inflation")
    traits = FAMILY_REGISTRY[family]
    if traits.needs_inflation:
        if not inflation:
            raise e.error(
                f": family {family!r} needs an `inflation` formula",
                "inflation",
                'e.g. inflation = "polyarchy + left_roots" (the zero equation)',
            )
        inflation = inflation.lstrip("~ ").strip()
        try:
            parse_formula(f"y ~ {inflation}", file=e.file, key="inflation")
        except SpecError as exc:
            raise _in_model(exc, e.where) from exc
    elif inflation:
        raise e.error(
            ": `inflation` applies only to "
            f"{', '.join(sorted(f.name for f in FAMILY_REGISTRY.values() if f.needs_inflation))}",
            "inflation",
            "remove it or choose a zero-inflated or hurdle family",
        )
    if traits.needs_fe and "|" not in formula:
        raise e.error(
            f": family {family!r} needs fixed effects after '|'",
            "formula",
            'e.g. "contacts ~ ruling | party_id + year"',
        )
    return inflation


def _bootstrap(e: _Entry, se: str | None, cluster: tuple[str, ...]) -> tuple[int, int]:
    """Replications and seed of the cluster bootstrap (checked whatever the se)."""
    reps = get_int(e.values, "bootstrap_reps", file=e.file, where=e.where, default=999)
    if reps is None or not 2 <= reps <= MAX_BOOTSTRAP_REPS:
        raise e.error(
            f": bootstrap_reps must be a whole number from 2 to {MAX_BOOTSTRAP_REPS:,}, not {reps}",
            "bootstrap_reps",
            "e.g. bootstrap_reps = 999",
        )
    seed = get_int(e.values, "seed", file=e.file, where=e.where, default=20200603)
    if seed is None or seed < 0:
        raise e.error(
            f": seed must be a whole number >= 0, not {seed}", "seed", "e.g. seed = 20200603"
        )
    if se == "bootstrap" and not cluster:
        raise e.error(": the cluster bootstrap needs `cluster`", "cluster", 'add cluster = "iso3"')
    return int(reps), int(seed)


def spec_from_dict(
    entry: dict[str, Any],
    *,
    file: str | None = None,
    allow_custom: bool = False,
    index: int | None = None,
) -> ModelSpec:
    """Check one model's keys and values; ``custom`` level only for DataFrames given to fit().

    Every value is checked for its TOML type first (``formula = 5`` or ``seed = 'abc'``
    is a SpecError naming the file, the model, the key and the expected type, never a
    TypeError deep inside the fit).  Names from files (``allow_custom=False``) must be
    identifiers because they become output file names and LaTeX labels; ``index`` is
    the model's position in its file, used in messages before the name is known.  The
    checks run in a fixed order (one helper per group of keys), so the first error of a
    table with several is always the same one.
    """
    e = _named_entry(entry, file, allow_custom, index)
    level, family = _level_and_family(e, allow_custom)
    formula = _formula(e)
    cluster, se = _cluster_and_se(e)
    sample = _sample(e)
    inflation = _inflation(e, family, formula)
    exposure, offset = e.text("exposure"), e.text("offset")
    if exposure and offset:
        raise e.error(": give `exposure` or `offset`, not both", "exposure", "keep one")
    correlation = str(e.text("correlation", "exchangeable"))
    if correlation not in CORRELATIONS:
        raise e.error(
            f": unknown correlation {correlation!r}",
            "correlation",
            f"use one of {', '.join(CORRELATIONS)}",
        )
    reps, seed = _bootstrap(e, se, cluster)
    k_fixef = str(e.text("k_fixef", "full"))
    if k_fixef not in K_FIXEF:
        raise e.error(
            f": unknown k_fixef {k_fixef!r}",
            "k_fixef",
            'use k_fixef = "full" (every FE level counted), "nested" (as fixest) or "none"',
        )
    for key, value in (("exposure", exposure), ("offset", offset)):
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise SpecError(
                f"model {e.name!r}: `{key}` must name one variable"[:300],
                file=file,
                column=key,
                fix=f'e.g. {key} = "months"',
            )
    return ModelSpec(
        name=e.name,
        level=level,
        family=family,
        formula=formula,
        cluster=cluster,
        se=se,
        sample=sample,
        title=str(e.text("title", "")),
        description=str(e.text("description", "")),
        source=file,
        inflation=inflation,
        exposure=exposure,
        offset=offset,
        correlation=correlation,
        bootstrap_reps=reps,
        seed=seed,
        k_fixef=k_fixef,
    )


def load_specs(path: str | Path) -> list[ModelSpec]:
    """All model specifications in a TOML file, or in every ``*.toml`` of a folder.

    A file is read through `cpcstats.tomlio.load_toml` (FIFOs, devices, link
    loops, huge or non-UTF-8 files are SpecErrors).  Model names must be unique in a
    file and across a folder: every name becomes output file names, so a second model
    of the same name would silently overwrite the first one's outputs.

    Long because each malformed-file case (folder, stray keys, [[model]] shape,
    duplicate names) gets its own message; no branch is shared.

    Parameters
    ----------
    path : str or pathlib.Path
        A model TOML (one model as top-level keys, or ``[[model]]`` tables), or a
        folder whose ``*.toml`` files (but ``labels.toml``) are read in name order.

    Returns
    -------
    list of ModelSpec
        The models in file order (folder: file by file).

    Raises
    ------
    SpecError
        The file is missing, unreadable or not TOML; a key is unknown or of the wrong
        type; keys stand outside the ``[[model]]`` tables; a formula, family, se type
        or filter is invalid; or two models share a name.

    Examples
    --------
    >>> from importlib.resources import files
    >>> specs = cpcstats.load_specs(files("cpcstats") / "project" / "models" / "party_year.toml")
    >>> [s.name for s in specs][:2]
    ['party_nb_ruling_fh', 'party_poisson_ruling_fh']
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(f for f in path.glob("*.toml") if f.name != LABELS_FILE_NAME)
        per_file = [(f, load_specs(f)) for f in files]
        where: dict[str, list[str]] = {}
        for f, specs in per_file:
            for s in specs:
                where.setdefault(s.name, []).append(f.name)
        dupes = {n: files for n, files in where.items() if len(files) > 1}
        if dupes:
            listed = "; ".join(f"{n!r} in {' and '.join(files)}" for n, files in dupes.items())
            raise SpecError(
                f"model name(s) defined twice: {listed}",
                file=str(path),
                fix="give every model a unique name (each name becomes output file names)",
            )
        return [s for _, specs in per_file for s in specs]
    data = load_toml(path, "specification file")
    if "model" in data and set(data) - {"model"}:
        stray = sorted(set(data) - {"model"})
        raise SpecError(
            f"key(s) {', '.join(stray)} stand outside the [[model]] tables and would be ignored",
            file=str(path),
            column=stray[0],
            fix="move them into each [[model]] table",
        )
    if "model" not in data:
        entries: list[Any] = [data]
    else:
        entries = data["model"]
        if not isinstance(entries, list) or not entries:
            raise SpecError(
                f"[[model]] must be an array of tables, not {type(entries).__name__} {entries!r}"[
                    :300
                ],
                file=str(path),
                column="model",
                fix="write each model under its own [[model]] header",
            )
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                raise SpecError(
                    f"model {i} of the [[model]] array is {type(entry).__name__} "
                    f"{entry!r}, not a table"[:300],
                    file=str(path),
                    column="model",
                    fix="write each model under its own [[model]] header with its keys",
                )
    specs = [spec_from_dict(e, file=str(path), index=i) for i, e in enumerate(entries, start=1)]
    first: dict[str, int] = {}
    for i, spec in enumerate(specs, start=1):
        if spec.name in first:
            raise SpecError(
                f"models {first[spec.name]} and {i} are both named {spec.name!r}; the second "
                "would overwrite the first one's outputs",
                file=str(path),
                column="name",
                fix="give every [[model]] a unique name",
            )
        first[spec.name] = i
    return specs


def find_spec(name: str, folder: str | Path) -> ModelSpec:
    for spec in load_specs(folder):
        if spec.name == name:
            return spec
    raise SpecError(
        f"no model named {name!r}", file=str(folder), fix="list the models with `cpcstats models`"
    )
