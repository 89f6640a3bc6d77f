"""The options of a regression table, checked: labels, stars, brackets, term selection;
and the small blocks the table is built from (dependent variable, fixed effects, titles).

Why apart from `cpcstats.reporting.tables.model_table`: each option is refused here with
a message naming it and the fix, so the table builder only composes checked values.
Term patterns (``keep``, ``drop``, ``order``) are regular expressions run by RE2
(`cpcstats.saferegex`): nothing a user writes is executed, and matching ends in bounded
time.  A pattern (or a ``coef_map`` key) that matches no term is an error, not ignored:
a typo would otherwise silently show the wrong table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.format import format_number, minus_sign
from cpcstats.reporting.labels import Labels, default_labels, load_labels
from cpcstats.reporting.tables.layout import Block, Cell, HeaderCell, Row
from cpcstats.reporting.tables.text import latex_escape
from cpcstats.saferegex import check_pattern, contains

__all__ = [
    "STATISTICS",
    "IntervalCell",
    "check_add_rows",
    "check_digits",
    "check_spans",
    "check_stars",
    "check_statistic",
    "fe_block",
    "info_block",
    "model_titles",
    "order_terms",
    "resolve_labels",
    "select_terms",
]

#: What the bracketed row under each estimate shows.
STATISTICS = ("se", "ci", "t", "p")
_REWRITE = "match the term's raw name (e.g. '^ruling') or its label (e.g. 'Not Free')"


def resolve_labels(labels: Labels | str | Path | Mapping[str, Any] | None) -> Labels:
    """`Labels` from what a caller passed.

    None: the packaged labels; ``"raw"``: raw names; a path: that labels file; a mapping:
    the packaged labels with these sections laid over them (`Labels.merged`).
    """
    if labels is None:
        return default_labels()
    if isinstance(labels, Labels):
        return labels
    if isinstance(labels, str) and labels == "raw":
        return Labels.raw()
    if isinstance(labels, (str, Path)):
        return load_labels(labels)
    if isinstance(labels, Mapping):
        return default_labels().merged(labels)
    raise TypeError(
        f"labels must be a Labels, a path, a mapping or 'raw', not {type(labels).__name__}"
    )


def check_stars(stars: Sequence[float] | bool | None) -> tuple[float, ...]:
    """Star thresholds in descending order; ``False``/``None``/``()`` switch stars off."""
    if stars is None or stars is False:
        return ()
    if stars is True:
        return (0.10, 0.05, 0.01)
    if isinstance(stars, (int, float)):
        raise TypeError("stars must be a sequence of p-value thresholds, e.g. (0.10, 0.05, 0.01)")
    thresholds = tuple(sorted((float(t) for t in stars), reverse=True))
    if any(not 0 < t < 1 for t in thresholds):
        raise ValueError(f"star thresholds must lie in (0, 1), got {list(stars)}")
    return thresholds


def check_digits(digits: Any, what: str = "digits") -> int:
    """A non-negative whole number of decimals."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {digits!r}")
    return digits


def check_statistic(statistic: str) -> str:
    """One of `STATISTICS`."""
    if statistic not in STATISTICS:
        raise ValueError(
            f"statistic must be one of {', '.join(STATISTICS)} (what the brackets show), "
            f"got {statistic!r}"
        )
    return statistic


def _patterns(patterns: str | Sequence[str] | None, what: str) -> list[str]:
    if patterns is None:
        return []
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    for pattern in items:  # checked (a SpecError naming the option), then run as written
        check_pattern(pattern, file=None, where=f"{what} pattern", column=what, rewrite=_REWRITE)
    return items


def _hits(pattern: str, terms: Sequence[str], shown: Sequence[str]) -> list[bool]:
    """Whether ``pattern`` is found in each raw term or in its label (case-insensitive)."""
    raw = contains(pd.Series(list(terms), dtype=object), pattern)
    lab = contains(pd.Series(list(shown), dtype=object), pattern)
    return [bool(a or b) for a, b in zip(raw, lab, strict=True)]


def _unmatched(pattern: str, what: str, terms: Sequence[str]) -> ValueError:
    listed = ", ".join(terms[:12]) + (" ..." if len(terms) > 12 else "")
    return ValueError(
        f"{what} pattern {pattern!r} matches no term of the table; the terms are: {listed}"
    )


def select_terms(
    terms: Sequence[str],
    shown: Sequence[str],
    keep: str | Sequence[str] | None,
    drop: str | Sequence[str] | None,
) -> list[bool]:
    """Which terms stay: those matching any ``keep`` pattern (all without ``keep``),
    minus those matching any ``drop`` pattern.  A pattern matching nothing is a ValueError."""
    selected = [True] * len(terms)
    keeps = _patterns(keep, "keep")
    if keeps:
        selected = [False] * len(terms)
        for pattern in keeps:
            hits = _hits(pattern, terms, shown)
            if not any(hits):
                raise _unmatched(pattern, "keep", list(terms))
            selected = [s or h for s, h in zip(selected, hits, strict=True)]
    for pattern in _patterns(drop, "drop"):
        hits = _hits(pattern, terms, shown)
        if not any(hits):
            raise _unmatched(pattern, "drop", list(terms))
        selected = [s and not h for s, h in zip(selected, hits, strict=True)]
    return selected


def order_terms(
    terms: Sequence[str], shown: Sequence[str], order: str | Sequence[str] | None
) -> list[int]:
    """Positions of ``terms`` in display order: those matching the first ``order``
    pattern first (in their own order), then the second's, ...; the rest after."""
    positions: list[int] = []
    for pattern in _patterns(order, "order"):
        hits = _hits(pattern, terms, shown)
        if not any(hits):
            raise _unmatched(pattern, "order", list(terms))
        positions += [i for i, h in enumerate(hits) if h and i not in positions]
    return positions + [i for i in range(len(terms)) if i not in positions]


def check_spans(spans: Sequence[Any] | None, n_models: int) -> tuple[HeaderCell, ...] | None:
    """Spanning headers over the model columns: ``[("Party-year", 2), ("Country-year", 2)]``.

    The spans must add up to the number of models; a ``("", k)`` leaves k columns blank.
    """
    if not spans:
        return None
    cells = []
    for item in spans:
        if isinstance(item, HeaderCell):
            cells.append(item)
            continue
        if (
            not isinstance(item, Sequence)
            or isinstance(item, str)
            or len(item) != 2
            or not isinstance(item[1], int)
        ):
            raise ValueError(f"each span is (text, number of columns), got {item!r}")
        cells.append(HeaderCell(str(item[0]), int(item[1])))
    total = sum(c.span for c in cells)
    if total != n_models:
        raise ValueError(f"spans cover {total} columns but the table has {n_models} models")
    return tuple(cells)


def check_add_rows(
    add_rows: Mapping[str, Sequence[Any]] | Sequence[Sequence[Any]] | None, n_models: int
) -> list[tuple[str, list[str]]]:
    """Extra rows ``{label: [one value per model]}`` or ``[(label, v1, v2, ...)]``."""
    if not add_rows:
        return []
    if isinstance(add_rows, Mapping):
        items = [(str(k), list(v)) for k, v in add_rows.items()]
    else:
        items = []
        for row in add_rows:
            if isinstance(row, str) or not isinstance(row, Sequence) or len(row) < 1:
                raise ValueError(f"each added row is (label, value per model...), got {row!r}")
            values = row[1] if len(row) == 2 and not isinstance(row[1], str) else row[1:]
            items.append((str(row[0]), list(values)))
    for label, values in items:
        if isinstance(values, str) or len(values) != n_models:
            raise ValueError(f"added row {label!r} has {len(values)} values for {n_models} models")
    return [(label, ["" if v is None else str(v) for v in values]) for label, values in items]


@dataclass(frozen=True)
class IntervalCell(Cell):
    """A confidence interval ``[lower, upper]``, formatted as the estimates are."""

    lower: float = math.nan
    upper: float = math.nan

    def text(self) -> str:
        lo = minus_sign(format_number(self.lower, self.digits))
        hi = minus_sign(format_number(self.upper, self.digits))
        return f"[{lo}, {hi}]"  # a typographic minus in every format, as the estimates

    def latex(self) -> str:
        return latex_escape(self.text())


def _dependent(model: FitResult) -> str:
    return model.formula.split("~", 1)[0].strip() if "~" in model.formula else ""


def info_block(models: Sequence[FitResult], labels: Labels, families: Sequence[str]) -> Block:
    """The dependent variable and the estimator of each model."""
    deps = tuple(Cell(labels.variable(_dependent(m)) if _dependent(m) else "") for m in models)
    return Block(
        (
            Row("Dependent variable", deps, kind="info"),
            Row("Estimator", tuple(Cell(f) for f in families), kind="info"),
        )
    )


def fe_block(models: Sequence[FitResult], labels: Labels) -> Block:
    """One Yes/No row per fixed effect any model has, in order of first appearance."""
    effects = list(dict.fromkeys(fe for m in models for fe in m.fixed_effects))
    rows = tuple(
        Row(
            labels.fixed_effect(fe),
            tuple(Cell("Yes" if fe in m.fixed_effects else "No") for m in models),
            kind="fixed_effect",
            term=fe,
        )
        for fe in effects
    )
    return Block(rows, "Fixed effects" if rows else None)


def model_titles(
    models: Sequence[FitResult], titles: Any, model_names: Any, labels: Labels
) -> tuple[list[str], bool]:
    """The model titles and whether they are shown (``titles=False`` hides them).

    By default a model's title is its label, else its spec's title, else its name; the
    row is left out when no model has any of them (a fit named by its formula, as
    ``cpcstats.fit("y ~ x", ...)`` makes, has no title: the numbers suffice).
    """
    given = titles if titles is not None and titles is not True else model_names
    if given is False:
        return [labels.model(m.name) for m in models], False
    if given is None:
        specs = [getattr(getattr(m, "spec", None), "title", None) or None for m in models]
        shown = [labels.model(m.name, default=s) for m, s in zip(models, specs, strict=True)]
        titled = any(
            labels.has_model(m.name) or s is not None or "~" not in m.name
            for m, s in zip(models, specs, strict=True)
        )
        return shown, titled
    names = [str(n) for n in given]
    if len(names) != len(models):
        raise ValueError(f"{len(names)} model titles (model_names) for {len(models)} models")
    return names, True
