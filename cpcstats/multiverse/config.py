"""Read a multiverse file: named dimensions of options, exclusions, the quantity of interest.

Why a file of its own (not a list of ``[[model]]`` tables): a specification curve of a
thousand models is the product of a few choices, and reviewers ask about the choices, not
the models.  Nothing a user writes is executed: formulas and sample filters go through
`cpcstats.formula` and `cpcstats.spec` exactly as in ``models/*.toml``, and an
option can only set the keys listed in `OPTION_KEYS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpcstats.errors import SpecError
from cpcstats.estimation.registry import FAMILY_REGISTRY
from cpcstats.formula import check_filter
from cpcstats.tomlio import (
    check_keys,
    check_name,
    get_int,
    get_str,
    get_table,
    get_typed,
    load_toml,
)

__all__ = ["OPTION_KEYS", "Dimension", "Inference", "Multiverse", "Option", "load_multiverse"]

TOP_KEYS = ("multiverse", "execution", "dimensions", "exclude", "groups", "inference")
MULTIVERSE_KEYS = (
    "name", "title", "level", "formula", "term", "scale", "family", "cluster", "se", "seed",
    "unit_column",
)  # fmt: skip
EXECUTION_KEYS = ("workers", "scheduler")
INFERENCE_KEYS = ("method", "draws", "strata", "variable", "subset", "seed")
INFERENCE_METHODS = ("permutation",)
#: what one option may set; ``text`` fills the ``{dimension}`` slot of the formula and term
OPTION_KEYS = (
    "text", "family", "fe", "inflation", "se", "cluster", "sample", "drop_top", "break_year",
    "leave_one_out",
)  # fmt: skip
#: keys several dimensions may set together (filters and-ed, drops and fixed effects joined)
COMBINABLE = ("sample", "drop_top", "leave_one_out", "fe")
SLOT = re.compile(r"\{([A-Za-z0-9_-]+)\}")
MAX_SPECIFICATIONS = 200_000


@dataclass(frozen=True)
class Option:
    """One choice of one dimension and the specification keys it sets."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dimension:
    """A named choice (estimator, sample, ...) with its options; the first is the default."""

    name: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Inference:
    """The joint inference of the curve (SSN 2020): how to build data where the null holds.

    ``variable`` is the panel column permuted within ``strata``; ``subset`` maps a dimension
    (or ``family``) to the options refitted under the null, because refitting every
    specification on every draw is usually too costly.
    """

    method: str
    draws: int
    strata: tuple[str, ...]
    variable: str
    subset: dict[str, tuple[str, ...]]
    seed: int


@dataclass(frozen=True)
class Multiverse:
    """A whole multiverse file, checked."""

    name: str
    title: str
    level: str
    formula: str
    term: str
    scale: str
    family: str
    cluster: tuple[str, ...]
    se: str | None
    seed: int
    unit_column: str
    dimensions: tuple[Dimension, ...]
    exclusions: tuple[dict[str, tuple[str, ...]], ...]
    groups: dict[str, dict[str, tuple[str, ...]]]
    workers: int | None
    scheduler: str | None
    source: str
    inference: Inference | None = None


def _error(problem: str, file: str, key: str, fix: str) -> SpecError:
    return SpecError(problem[:300], file=file, column=key, fix=fix)


def _str_tuple(table: dict[str, Any], key: str, file: str, where: str) -> tuple[str, ...]:
    value = get_typed(table, key, (str, list), file=file, where=where, default=())
    values = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) for v in values):
        raise _error(f"`{key}` in {where} must be strings", file, key, f'e.g. {key} = ["a", "b"]')
    return values


def _check_option(dim: str, name: str, raw: Any, file: str) -> Option:
    where = f"option {name!r} of dimension {dim!r}"
    check_name(name, key=f"dimensions.{dim}", file=file, where=f"dimension {dim!r}")
    if not isinstance(raw, dict):
        raise _error(
            f"{where} must be a table of settings, not {type(raw).__name__}",
            file, name, f'e.g. {name} = {{ family = "poisson" }}',
        )  # fmt: skip
    check_keys(raw, OPTION_KEYS, file=file, where=where)
    for key in ("text", "family", "fe", "inflation", "se", "sample", "leave_one_out"):
        get_str(raw, key, file=file, where=where)
    for key in ("drop_top", "break_year"):
        get_int(raw, key, file=file, where=where)
    family = raw.get("family")
    if family is not None and family not in FAMILY_REGISTRY:
        raise _error(
            f"{where}: unknown family {family!r}", file, "family",
            f"use one of {', '.join(FAMILY_REGISTRY)}",
        )  # fmt: skip
    if raw.get("sample"):
        check_filter(raw["sample"], file=file)
    settings = dict(raw)
    if "cluster" in settings:
        settings["cluster"] = _str_tuple(raw, "cluster", file, where)
    if settings.get("drop_top", 0) < 0:
        raise _error(f"{where}: drop_top must be 0 or more", file, "drop_top", "e.g. drop_top = 5")
    return Option(name, settings)


def _dimensions(data: dict[str, Any], file: str) -> tuple[Dimension, ...]:
    table = get_table(data, "dimensions", file=file, where="the multiverse file")
    if not table:
        raise _error("declares no [dimensions]", file, "dimensions", "add [dimensions.estimator]")
    dims = []
    for dim, options in table.items():
        check_name(dim, key="dimensions", file=file, where="[dimensions]")
        if not isinstance(options, dict) or not options:
            raise _error(
                f"dimension {dim!r} has no options", file, dim,
                f'e.g. [dimensions.{dim}] with poisson = {{ family = "poisson" }}',
            )  # fmt: skip
        dims.append(
            Dimension(dim, tuple(_check_option(dim, n, r, file) for n, r in options.items()))
        )
    setters: dict[str, str] = {}
    for dim in dims:
        for key in sorted(
            {k for o in dim.options for k in o.settings} - set(COMBINABLE) - {"text"}
        ):
            if key in setters:
                raise _error(
                    f"`{key}` is set by options of both {setters[key]!r} and {dim.name!r}",
                    file, key, "let one dimension own each setting",
                )  # fmt: skip
            setters[key] = dim.name
    return tuple(dims)


def _exclusions(data: dict[str, Any], dims: tuple[Dimension, ...], file: str) -> tuple:
    raw = get_typed(data, "exclude", list, file=file, where="the multiverse file", default=[])
    names = {d.name: {o.name for o in d.options} | {"*"} for d in dims}
    out = []
    for i, rule in enumerate(raw, 1):
        where = f"exclusion {i}"
        if not isinstance(rule, dict) or not rule:
            raise _error(f"{where} must be a table", file, "exclude", 'e.g. { fe = "none" }')
        check_keys(rule, names, file=file, where=where)
        parsed = {}
        for dim in rule:
            values = _str_tuple(rule, dim, file, where)
            unknown = [v for v in values if v not in names[dim]]
            if unknown:
                raise _error(
                    f"{where}: dimension {dim!r} has no option {unknown[0]!r}", file, dim,
                    f"use one of {', '.join(sorted(names[dim]))} ('*': any but the first)",
                )  # fmt: skip
            parsed[dim] = values
        out.append(parsed)
    return tuple(out)


def _groups(data: dict[str, Any], file: str) -> dict[str, dict[str, tuple[str, ...]]]:
    groups = {}
    for name, members in get_table(data, "groups", file=file, where="the file").items():
        if not isinstance(members, dict):
            raise _error(f"[groups.{name}] must map group names to lists", file, name, "see docs")
        groups[name] = {g: _str_tuple(members, g, file, f"[groups.{name}]") for g in members}
    return groups


def _check_slots(mv: dict[str, Any], dims: tuple[Dimension, ...], file: str) -> None:
    by_name = {d.name: d for d in dims}
    for key in ("formula", "term"):
        for slot in SLOT.findall(mv[key]):
            dim = by_name.get(slot)
            if dim is None or any("text" not in o.settings for o in dim.options):
                raise _error(
                    f"`{key}` has the slot {{{slot}}} but no dimension {slot!r} whose options "
                    "all give `text`", file, key, f'give every option of {slot} a text = "..."',
                )  # fmt: skip


def _subset(raw: Any, dims: tuple[Dimension, ...], file: str) -> dict[str, tuple[str, ...]]:
    """``{dimension = [options], family = [families]}``: which specifications to refit."""
    where = "[inference] subset"
    if not isinstance(raw, dict):
        raise _error(
            f"{where} must be a table", file, "subset", 'e.g. subset = { estimator = ["poisson"] }'
        )
    names = {d.name: {o.name for o in d.options} for d in dims}
    names.setdefault("family", set(FAMILY_REGISTRY))
    check_keys(raw, names, file=file, where=where)
    out = {}
    for key in raw:
        values = _str_tuple(raw, key, file, where)
        unknown = [v for v in values if v not in names[key]]
        if unknown or not values:
            raise _error(
                f"{where}: {key!r} has no option {(unknown or [''])[0]!r}", file, f"subset.{key}",
                f"use some of {', '.join(sorted(names[key]))}",
            )  # fmt: skip
        out[key] = values
    return out


def _inference(
    data: dict[str, Any], dims: tuple[Dimension, ...], mv: dict[str, Any], file: str
) -> Inference | None:
    """The checked ``[inference]`` table, or None; the panel columns are checked at run time."""
    table = get_table(data, "inference", file=file, where="the multiverse file")
    if not table:
        return None
    where = "[inference]"
    check_keys(table, INFERENCE_KEYS, file=file, where=where)
    method = get_str(table, "method", file=file, where=where, default="permutation")
    if method not in INFERENCE_METHODS:
        raise _error(
            f"{where}: method {method!r} is unknown", file, "inference.method",
            'use method = "permutation" (the treatment permuted within strata)',
        )  # fmt: skip
    draws = get_int(table, "draws", file=file, where=where, default=200)
    if draws is None or draws < 1:
        raise _error(
            f"{where}: draws must be 1 or more", file, "inference.draws", "e.g. draws = 200"
        )
    variable = get_str(table, "variable", file=file, where=where, default=mv["term"]) or ""
    if SLOT.search(variable) or not variable.isidentifier():
        raise _error(
            f"{where}: the permuted variable {variable!r} is not a column name", file,
            "inference.variable", 'name the panel column behind the term, e.g. variable = "ruling"',
        )  # fmt: skip
    strata = _str_tuple(table, "strata", file, where)
    if variable in strata:
        raise _error(
            f"{where}: {variable!r} is both permuted and a stratum", file, "inference.strata",
            'stratify by other columns, e.g. strata = ["iso3", "year"]',
        )  # fmt: skip
    seed = get_int(table, "seed", file=file, where=where)
    return Inference(
        method=method or "permutation",
        draws=draws,
        strata=strata,
        variable=variable,
        subset=_subset(table.get("subset", {}), dims, file),
        seed=get_int(mv, "seed", file=file, where="[multiverse]", default=20200603)
        if seed is None
        else seed,
    )


def load_multiverse(path: str | Path) -> Multiverse:
    """Parse and check a multiverse file; every mistake is a SpecError naming key and fix."""
    file = str(path)
    data = load_toml(path, "multiverse file")
    check_keys(data, TOP_KEYS, file=file, where="the multiverse file")
    mv = get_table(data, "multiverse", file=file, where="the multiverse file")
    where = "[multiverse]"
    check_keys(mv, MULTIVERSE_KEYS, file=file, where=where)
    for key in ("name", "formula", "term"):
        if not get_str(mv, key, file=file, where=where):
            raise _error(f"{where} needs `{key}`", file, key, 'e.g. term = "ruling"')
    check_name(mv["name"], key="name", file=file, where=where)
    scale = get_str(mv, "scale", file=file, where=where, default="coef")
    if scale not in ("coef", "irr"):
        raise _error(f"scale {scale!r} is unknown", file, "scale", 'use "coef" or "irr"')
    execution = get_table(data, "execution", file=file, where="the multiverse file")
    check_keys(execution, EXECUTION_KEYS, file=file, where="[execution]")
    dims = _dimensions(data, file)
    _check_slots(mv, dims, file)
    return Multiverse(
        name=mv["name"],
        title=get_str(mv, "title", file=file, where=where, default="") or "",
        level=get_str(mv, "level", file=file, where=where, default="party-year") or "",
        formula=mv["formula"],
        term=mv["term"],
        scale=scale,
        family=get_str(mv, "family", file=file, where=where, default="poisson") or "poisson",
        cluster=_str_tuple(mv, "cluster", file, where),
        se=get_str(mv, "se", file=file, where=where),
        seed=get_int(mv, "seed", file=file, where=where, default=20200603) or 0,
        unit_column=get_str(mv, "unit_column", file=file, where=where, default="iso3") or "",
        dimensions=dims,
        exclusions=_exclusions(data, dims, file),
        groups=_groups(data, file),
        workers=get_int(execution, "workers", file=file, where="[execution]"),
        scheduler=get_str(execution, "scheduler", file=file, where="[execution]"),
        source=file,
        inference=_inference(data, dims, mv, file),
    )
