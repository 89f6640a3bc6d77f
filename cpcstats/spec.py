"""Model specification files (TOML) in ``models/``.

A file holds one model (top-level keys) or several (``[[model]]`` tables)::

    name = "party_ruling_regime"
    title = "Ruling status x regime type"
    level = "party-year"
    family = "negbin"
    formula = "contacts ~ ruling * C(fh_status) + left_roots | year"
    cluster = "iso3"
    sample = "year >= 2002"

Keys are checked strictly so that a typo is an error, not a silently ignored
setting.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpcstats.errors import SpecError
from cpcstats.estimation.families import FAMILIES, NEEDS_FE, NEEDS_INFLATION
from cpcstats.estimation.vcov import SE_TYPES
from cpcstats.formula import check_filter, parse_formula

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
}
CORRELATIONS = ("exchangeable", "ar1", "independence")


@dataclass(frozen=True)
class ModelSpec:
    """One model to fit: what, on which panel, with which inference."""

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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def se_type(self) -> str:
        return self.se or ("cluster" if self.cluster else "classical")


def spec_from_dict(
    entry: dict[str, Any], *, file: str | None = None, allow_custom: bool = False
) -> ModelSpec:
    """Check one model's keys and values; ``custom`` level only for DataFrames given to fit()."""
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise SpecError(
            f"unknown key(s) {', '.join(unknown)}",
            file=file,
            column=unknown[0],
            fix=f"allowed keys: {', '.join(sorted(KEYS))}",
        )
    for key in ("name", "level", "family", "formula"):
        if key not in entry:
            raise SpecError(
                f"the specification lacks `{key}`", file=file, column=key, fix=f'add {key} = "..."'
            )
    name = str(entry["name"])
    levels = LEVELS if allow_custom else FILE_LEVELS
    if entry["level"] not in levels:
        raise SpecError(
            f"model {name!r}: unknown level {entry['level']!r}",
            file=file,
            column="level",
            fix=f"use one of {', '.join(levels)}",
        )
    if entry["family"] not in FAMILIES:
        raise SpecError(
            f"model {name!r}: unknown family {entry['family']!r}",
            file=file,
            column="family",
            fix=f"use one of {', '.join(FAMILIES)}",
        )
    formula = str(entry["formula"])
    fes = entry.get("fixed_effects", [])
    if isinstance(fes, str):
        fes = [fes]
    if fes:
        if "|" in formula:
            raise SpecError(
                f"model {name!r} gives fixed effects both after '|' and in fixed_effects",
                file=file,
                column="fixed_effects",
                fix="use one of the two",
            )
        formula = f"{formula} | {' + '.join(fes)}"
    parse_formula(formula, file=file)  # grammar and safety, before any data is seen
    cluster = entry.get("cluster", ())
    cluster = (cluster,) if isinstance(cluster, str) else tuple(cluster)
    if len(cluster) > 2:
        raise SpecError(
            f"model {name!r}: at most two-way clustering",
            file=file,
            column="cluster",
            fix='e.g. cluster = ["iso3", "year"]',
        )
    se = entry.get("se")
    if se is not None and se not in SE_TYPES:
        raise SpecError(
            f"model {name!r}: unknown se {se!r}",
            file=file,
            column="se",
            fix=f"use one of {', '.join(SE_TYPES)}",
        )
    if se == "cluster" and not cluster:
        raise SpecError(
            f"model {name!r}: se = 'cluster' needs `cluster`",
            file=file,
            column="cluster",
            fix='add cluster = "iso3"',
        )
    sample = entry.get("sample")
    if sample is not None:
        check_filter(str(sample), file=file)
    family = entry["family"]
    inflation = entry.get("inflation")
    if family in NEEDS_INFLATION:
        if not inflation:
            raise SpecError(
                f"model {name!r}: family {family!r} needs an `inflation` formula",
                file=file,
                column="inflation",
                fix='e.g. inflation = "polyarchy + left_roots" (the zero equation)',
            )
        inflation = str(inflation).lstrip("~ ").strip()
        parse_formula(f"y ~ {inflation}", file=file)
    elif inflation:
        raise SpecError(
            f"model {name!r}: `inflation` applies only to {', '.join(sorted(NEEDS_INFLATION))}",
            file=file,
            column="inflation",
            fix="remove it or choose a zero-inflated or hurdle family",
        )
    if family in NEEDS_FE and "|" not in formula:
        raise SpecError(
            f"model {name!r}: family {family!r} needs fixed effects after '|'",
            file=file,
            column="formula",
            fix='e.g. "contacts ~ ruling | party_id + year"',
        )
    if entry.get("exposure") and entry.get("offset"):
        raise SpecError(
            f"model {name!r}: give `exposure` or `offset`, not both",
            file=file,
            column="exposure",
            fix="keep one",
        )
    correlation = str(entry.get("correlation", "exchangeable"))
    if correlation not in CORRELATIONS:
        raise SpecError(
            f"model {name!r}: unknown correlation {correlation!r}",
            file=file,
            column="correlation",
            fix=f"use one of {', '.join(CORRELATIONS)}",
        )
    reps = entry.get("bootstrap_reps", 999)
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 2:
        raise SpecError(
            f"model {name!r}: bootstrap_reps must be a whole number >= 2",
            file=file,
            column="bootstrap_reps",
            fix="e.g. bootstrap_reps = 999",
        )
    if se == "bootstrap" and not cluster:
        raise SpecError(
            f"model {name!r}: the cluster bootstrap needs `cluster`",
            file=file,
            column="cluster",
            fix='add cluster = "iso3"',
        )
    for key in ("exposure", "offset"):
        value = entry.get(key)
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(value)):
            raise SpecError(
                f"model {name!r}: `{key}` must name one variable",
                file=file,
                column=key,
                fix=f'e.g. {key} = "months"',
            )
    return ModelSpec(
        name=name,
        level=entry["level"],
        family=family,
        formula=formula,
        cluster=cluster,
        se=se,
        sample=sample,
        title=str(entry.get("title", "")),
        description=str(entry.get("description", "")),
        source=file,
        inflation=inflation,
        exposure=entry.get("exposure"),
        offset=entry.get("offset"),
        correlation=correlation,
        bootstrap_reps=int(reps),
        seed=int(entry.get("seed", 20200603)),
    )


def load_specs(path: str | Path) -> list[ModelSpec]:
    """All model specifications in a TOML file, or in every ``*.toml`` of a folder."""
    path = Path(path)
    if path.is_dir():
        specs = [s for f in sorted(path.glob("*.toml")) for s in load_specs(f)]
        names = [s.name for s in specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(
                f"model name(s) {', '.join(dupes)} defined twice",
                file=str(path),
                fix="give every model a unique name",
            )
        return specs
    if not path.exists():
        raise SpecError(
            "the specification file does not exist", file=str(path), fix="check the path"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"is not valid TOML: {exc}", file=str(path), fix="check quotes and brackets"
        ) from exc
    if "model" in data and set(data) - {"model"}:
        stray = sorted(set(data) - {"model"})
        raise SpecError(
            f"key(s) {', '.join(stray)} stand outside the [[model]] tables and would be ignored",
            file=str(path),
            column=stray[0],
            fix="move them into each [[model]] table",
        )
    entries = data.get("model") if "model" in data else [data]
    if not isinstance(entries, list):
        raise SpecError(
            "[[model]] must be an array of tables",
            file=str(path),
            fix="write each model under its own [[model]] header",
        )
    return [spec_from_dict(e, file=str(path)) for e in entries]


def find_spec(name: str, folder: str | Path) -> ModelSpec:
    for spec in load_specs(folder):
        if spec.name == name:
            return spec
    raise SpecError(
        f"no model named {name!r}", file=str(folder), fix="list the models with `cpcstats models`"
    )
