"""Expand a multiverse into specifications: the product of the options minus exclusions.

Why ids are hashes of the resolved specification (not positions): a rerun after an
interrupt, or after options were added, must recognise the fits it already has, and a
changed option (another filter, another family) must not reuse a stale result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.formula import parse_formula
from cpcstats.multiverse.config import MAX_SPECIFICATIONS, SLOT, Dimension, Multiverse, Option

__all__ = ["SpecTask", "expand", "option_base"]

BREAK_COLUMN = "post_break"


@dataclass(frozen=True)
class SpecTask:
    """Everything one fit needs besides the panel: small, picklable, hashable."""

    spec_id: str
    choices: tuple[tuple[str, str], ...]
    family: str
    formula: str
    term: str
    scale: str
    inflation: str | None
    se: str | None
    cluster: tuple[str, ...]
    sample: str | None
    drop_column: str
    drop_values: tuple[str, ...]
    break_year: int | None
    seed: int = 0


def option_base(name: str) -> str:
    """``loco:AFG`` -> ``loco``: leave-one-out options match exclusions by their base name."""
    return name.split(":", 1)[0]


def _leave_one_out(option: Option, mv: Multiverse, frame: pd.DataFrame) -> list[Option]:
    """One option per left-out level (a panel column's values, or a [groups] table)."""
    target = option.settings["leave_one_out"]
    settings = {k: v for k, v in option.settings.items() if k != "leave_one_out"}
    if target in mv.groups:
        levels = {g: members for g, members in mv.groups[target].items()}
    elif target == mv.unit_column and target in frame.columns:
        levels = {str(v): (str(v),) for v in sorted(frame[target].dropna().astype(str).unique())}
    else:
        raise SpecError(
            f"option {option.name!r}: leave_one_out = {target!r} is neither [groups.{target}] "
            f"nor the unit column {mv.unit_column!r}",
            file=mv.source,
            column="leave_one_out",
            fix=f'use leave_one_out = "{mv.unit_column}" or define [groups.{target}]',
        )
    return [Option(f"{option.name}:{k}", {**settings, "_drop": v}) for k, v in levels.items()]


def _options(dim: Dimension, mv: Multiverse, frame: pd.DataFrame) -> list[Option]:
    out: list[Option] = []
    for option in dim.options:
        out += _leave_one_out(option, mv, frame) if "leave_one_out" in option.settings else [option]
    return out


def _excluded(choice: dict[str, str], first: dict[str, str], rules: tuple) -> bool:
    for rule in rules:
        if all(
            option_base(choice[dim]) in values or ("*" in values and choice[dim] != first[dim])
            for dim, values in rule.items()
        ):
            return True
    return False


def _fill(template: str, texts: dict[str, str]) -> str:
    text = SLOT.sub(lambda m: texts[m.group(1)], template)
    text = re.sub(r"\+\s*(?=\+|\||$)", "", text)
    text = re.sub(r"~\s*\+", "~ ", text)
    return re.sub(r"\s+", " ", text).strip()


def _top_units(frame: pd.DataFrame, mv: Multiverse, n: int) -> tuple[str, ...]:
    response = mv.formula.split("~", 1)[0].strip()
    ranked = (
        frame.groupby(mv.unit_column)[response].sum().sort_values(ascending=False, kind="mergesort")
    )
    return tuple(str(u) for u in ranked.index[:n])


def _resolve(
    choice: tuple[Option, ...], names: list[str], mv: Multiverse, frame: pd.DataFrame, seed: int
) -> SpecTask:
    settings: dict[str, Any] = {}
    texts: dict[str, str] = {}
    samples: list[str] = []
    drops: set[str] = set()
    fixed: list[str] = []
    for dim, option in zip(names, choice, strict=True):
        for key, value in option.settings.items():
            if key == "text":
                texts[dim] = value
            elif key == "sample":
                samples.append(f"({value})")
            elif key == "_drop":
                drops |= set(value)
            elif key == "fe":
                fixed += [value] if value else []
            elif key == "drop_top":
                drops |= set(_top_units(frame, mv, value))
            else:
                settings[key] = value
    formula = _fill(mv.formula, texts)
    if fixed:
        formula = f"{formula} | {' + '.join(fixed)}"
    resolved = {
        "family": settings.get("family", mv.family),
        "formula": formula,
        "term": _fill(mv.term, texts),
        "scale": mv.scale,
        "inflation": settings.get("inflation"),
        "se": settings.get("se", mv.se),
        "cluster": tuple(settings.get("cluster", mv.cluster)),
        "sample": " and ".join(samples) or None,
        "drop_column": mv.unit_column,
        "drop_values": tuple(sorted(drops)),
        "break_year": settings.get("break_year"),
    }
    choices = tuple((dim, o.name) for dim, o in zip(names, choice, strict=True))
    key = json.dumps({"choices": choices, **resolved}, sort_keys=True, default=list)
    digest = hashlib.sha256(key.encode()).hexdigest()
    # the task's seed is spawned from the user's by the specification itself (not its
    # position), so a rerun, a resumed run or a larger multiverse gives it the same stream
    child = np.random.SeedSequence(seed, spawn_key=(int(digest[:15], 16),))
    task_seed = int(child.generate_state(1, np.uint32)[0])
    # only a random variance depends on the seed: then (only) another seed means another id
    salted = f"{digest}:{seed}" if resolved["se"] == "bootstrap" else None
    spec_id = hashlib.sha256(salted.encode()).hexdigest()[:16] if salted else digest[:16]
    return SpecTask(spec_id=spec_id, choices=choices, seed=task_seed, **resolved)


def _combinations(
    names: list[str], options: list[list[Option]], mv: Multiverse
) -> Iterator[tuple[Option, ...]]:
    """The product minus exclusions, pruned as soon as a rule's dimensions are all chosen.

    Why pruned: a product of ten dimensions can have millions of combinations of which the
    exclusions keep a thousand; checking each rule at the depth of its last dimension
    never visits the excluded subtrees.
    """
    position = {n: i for i, n in enumerate(names)}
    first = {n: o[0].name for n, o in zip(names, options, strict=True)}
    rules_at: list[list[dict]] = [[] for _ in names]
    for rule in mv.exclusions:
        rules_at[max(position[d] for d in rule)].append(rule)
    chosen: dict[str, str] = {}
    picked: list[Option] = []

    def walk(depth: int) -> Iterator[tuple[Option, ...]]:
        if depth == len(names):
            yield tuple(picked)
            return
        for option in options[depth]:
            chosen[names[depth]] = option.name
            if not _excluded(chosen, first, tuple(rules_at[depth])):
                picked.append(option)
                yield from walk(depth + 1)
                picked.pop()
        del chosen[names[depth]]

    return walk(0)


def expand(mv: Multiverse, frame: pd.DataFrame, seed: int | None = None) -> list[SpecTask]:
    """Every specification of the multiverse, sorted by id; formulas checked on the panel.

    ``seed`` (default: the file's) seeds every specification's random parts (a bootstrap
    variance); it is part of the ids of those specifications, so another seed refits them.
    """
    seed = mv.seed if seed is None else seed
    names = [d.name for d in mv.dimensions]
    options = [_options(d, mv, frame) for d in mv.dimensions]
    tasks = []
    for choice in _combinations(names, options, mv):
        tasks.append(_resolve(choice, names, mv, frame, seed))
        if len(tasks) > MAX_SPECIFICATIONS:
            raise SpecError(
                f"the multiverse has more than {MAX_SPECIFICATIONS:,} specifications",
                file=mv.source,
                column="dimensions",
                fix="add exclusions or split the multiverse",
            )
    if not tasks:
        raise SpecError(
            "the exclusions remove every specification",
            file=mv.source,
            column="exclude",
            fix="loosen the [[exclude]] rules",
        )
    columns = [*frame.columns, BREAK_COLUMN]
    for formula in sorted({t.formula for t in tasks}):
        parse_formula(formula, columns, file=mv.source)
    ids = [t.spec_id for t in tasks]
    if len(set(ids)) != len(ids):  # pragma: no cover - a sha256 prefix collision
        raise SpecError("two specifications share an id", file=mv.source, fix="report this")
    return sorted(tasks, key=lambda t: t.spec_id)


def task_dict(task: SpecTask) -> dict[str, Any]:
    """The task as a flat dict (for records and messages)."""
    return asdict(task)
