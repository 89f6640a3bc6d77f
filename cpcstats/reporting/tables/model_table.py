"""Regression tables: several fitted models side by side (modelsummary-like).

Extract, then shape: coefficients come from each `FitResult`, the statistics rows
from the gof map (`cpcstats.reporting.tables.gof`), the notes from
`cpcstats.reporting.tables.notes`; the result is layout data that every renderer reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.format import star_string
from cpcstats.reporting.tables.base import LayoutTable
from cpcstats.reporting.tables.foreign import as_fit_result
from cpcstats.reporting.tables.gof import GOF_MAP, Statistic, gof_rows
from cpcstats.reporting.tables.layout import Block, Cell, Layout, Note, Row
from cpcstats.reporting.tables.notes import FLAG, model_notes
from cpcstats.reporting.tables.terms import COUNT_PART_TITLE, PART_TITLES, pretty_term, split_part

__all__ = ["RegressionTable", "table"]

#: A display row: (model part, label, the raw term of each model or None).
Entry = tuple[str, str, list[str | None]]


@dataclass(frozen=True)
class RegressionTable(LayoutTable):
    """Side-by-side models: headers, coefficient blocks, statistics block and notes.

    Made by `cpcstats.table`.  Why data, not text: one layout feeds every
    renderer (LaTeX, Markdown, HTML, a DataFrame), so the formats cannot disagree.

    Parameters
    ----------
    model_names, families : tuple of str
        The two header rows (``†`` marks a failed or warned fit).
    coef_blocks : tuple of Block
        One block per model part (count equation, inflation, ...).
    stats_block : Block
        The statistics rows (N, clusters, log-likelihood ...).
    notes : tuple of Note, default ()
        The notes below the table.
    title, label : str, optional
        The caption and the LaTeX label.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> tab = cpcstats.table([pois, nb2], model_names=["Poisson", "NB2"])
    >>> print(tab.to_markdown().splitlines()[0])
    |  | Poisson | NB2 |
    """

    model_names: tuple[str, ...]
    families: tuple[str, ...]
    coef_blocks: tuple[Block, ...]
    stats_block: Block
    notes: tuple[Note, ...] = ()
    title: str | None = None
    label: str | None = None

    def _layout(self) -> Layout:
        return Layout(
            header_rows=(("", *self.model_names), ("", *self.families)),
            blocks=(*self.coef_blocks, self.stats_block),
            notes=self.notes,
            title=self.title,
            label=self.label,
        )

    def find_row(self, term: str, kind: str = "estimate") -> Row:
        """The estimate (or ``kind="se"``) row of a raw term name, e.g. ``"inflate:x"``.

        Raises
        ------
        KeyError
            The term (of that kind) is not in the table.
        """
        for block in self.coef_blocks:
            for row in block.rows:
                if row.term == term and row.kind == kind:
                    return row
        raise KeyError(f"term {term!r} ({kind}) is not in the table")

    def stat_row(self, label: str) -> Row:
        """The statistics row with the given label (``"N"``, ``"Clusters"``, ...).

        Raises
        ------
        KeyError
            No statistics row has that label.
        """
        for row in self.stats_block.rows:
            if row.label == label:
                return row
        raise KeyError(f"statistic {label!r} is not in the table")


def _collect_terms(models: Sequence[FitResult], coef_map: Mapping[str, str] | None) -> list[Entry]:
    """Display rows as ``(part, label, term per model)`` in display order.

    With a ``coef_map`` several raw names may share a label (one row), which
    harmonises differently named terms across models.
    """
    rows: dict[tuple[str, str], list[str | None]] = {}
    labels: dict[tuple[str, str], str] = {}
    if coef_map is None:
        for m in models:
            for term in m.params.index:
                key = (split_part(str(term))[0], str(term))
                if key not in rows:
                    rows[key] = [None] * len(models)
                    labels[key] = pretty_term(str(term))
        for key in rows:
            for j, m in enumerate(models):
                if key[1] in m.params.index:
                    rows[key][j] = key[1]
    else:
        for term, label in coef_map.items():
            key = (split_part(term)[0], label)
            for j, m in enumerate(models):
                if term not in m.params.index:
                    continue
                slot = rows.setdefault(key, [None] * len(models))
                labels[key] = label
                if slot[j] is not None:
                    raise ValueError(
                        f"coef_map maps both {slot[j]!r} and {term!r} to {label!r} in model {j + 1}"
                    )
                slot[j] = term
    part_order = [""] + [p for p in dict.fromkeys(k[0] for k in rows) if p]
    return [(part, labels[key], rows[key]) for part in part_order for key in rows if key[0] == part]


def _estimate_cells(
    models: Sequence[FitResult],
    terms: Sequence[str | None],
    irr: bool,
    digits: int,
    thresholds: Sequence[float],
) -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
    """One coefficient's estimate cells (with stars) and SE cells (in parentheses).

    ``irr``: exp(b) with the delta-method SE exp(b)·se; the stars still test b = 0.
    """
    est_cells: list[Cell] = []
    se_cells: list[Cell] = []
    for m, term in zip(models, terms, strict=True):
        if term is None:
            est_cells.append(Cell())
            se_cells.append(Cell())
            continue
        b = float(m.params[term])
        se = float(m.std_errors[term])
        p = float(m.pvalues[term])
        est, err = (math.exp(b), math.exp(b) * se) if irr else (b, se)
        est_cells.append(Cell(est, digits, stars=star_string(p, thresholds)))
        se_cells.append(Cell(err, digits, paren=True))
    return tuple(est_cells), tuple(se_cells)


def _coef_blocks(
    models: Sequence[FitResult],
    entries: Sequence[Entry],
    parts: Sequence[str],
    *,
    irr: bool,
    digits: int,
    thresholds: Sequence[float],
) -> tuple[Block, ...]:
    """One block per model part (count equation first), two rows per coefficient."""
    blocks: list[Block] = []
    for part in parts:
        rows: list[Row] = []
        for _, row_label, terms in (e for e in entries if e[0] == part):
            est, err = _estimate_cells(models, terms, irr, digits, thresholds)
            key = next(t for t in terms if t is not None)
            rows.append(Row(row_label, est, "estimate", key))
            rows.append(Row("", err, "se", key))
        if part:
            title: str | None = PART_TITLES[part]
        else:
            title = COUNT_PART_TITLE if len(parts) > 1 else None
        blocks.append(Block(tuple(rows), title))
    return tuple(blocks)


def _check_options(
    models: Sequence[FitResult],
    stars: Sequence[float],
    digits: int,
    model_names: Sequence[str] | None,
) -> tuple[list[float], list[str]]:
    """The star thresholds (descending) and model names, refusing what cannot be shown."""
    if not models:
        raise ValueError("table() needs at least one model")
    if isinstance(stars, (int, float)):
        raise TypeError("stars must be a sequence of p-value thresholds, e.g. (0.10, 0.05, 0.01)")
    thresholds = sorted((float(t) for t in stars), reverse=True)
    if any(not 0 < t < 1 for t in thresholds):
        raise ValueError(f"star thresholds must lie in (0, 1), got {list(stars)}")
    if int(digits) != digits or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    names = [m.name for m in models] if model_names is None else [str(n) for n in model_names]
    if len(names) != len(models):
        raise ValueError(f"{len(names)} model_names for {len(models)} models")
    return thresholds, names


def table(
    models: Sequence[Any],
    *,
    irr: bool = False,
    coef_map: Mapping[str, str] | None = None,
    stars: Sequence[float] = (0.10, 0.05, 0.01),
    digits: int = 3,
    title: str | None = None,
    label: str | None = None,
    notes: Sequence[str] = (),
    model_names: Sequence[str] | None = None,
    gof: Sequence[Statistic] = GOF_MAP,
) -> RegressionTable:
    """Lay out several fitted models side by side as a `RegressionTable`.

    Failed or warned fits are flagged in the header (``†``) and in bold notes, and
    simulated estimates carry a bold banner note, so no rendering can lose them.

    Parameters
    ----------
    models : sequence of FitResult, statsmodels results or pyfixest Feols/Fepois
        The columns, in order (at least one); other libraries' results are read by
        `cpcstats.reporting.tables.foreign.as_fit_result` (their p-values kept).
    irr : bool, default False
        Show exp(b) with delta-method SEs exp(b)·se; the stars still test b = 0.
    coef_map : mapping of str to str, optional
        Raw term → label: fixes the order and labels and drops unlisted terms;
        several terms may share a label (one row across differently named terms).
    stars : sequence of float, default (0.10, 0.05, 0.01)
        The p-value thresholds of one, two, three stars.
    digits : int, default 3
        Decimals of estimates, SEs and statistics.
    title, label : str, optional
        The caption and the LaTeX ``\\label``.
    notes : sequence of str, default ()
        Extra notes below the automatic ones.
    model_names : sequence of str, optional
        Column headers (default: each model's ``name``).
    gof : sequence of Statistic, default GOF_MAP
        The statistics rows (`cpcstats.reporting.tables.gof.GOF_MAP`).

    Returns
    -------
    RegressionTable
        Layout data; render with ``to_latex``, ``to_markdown``, ``to_html``, ``to_frame``.

    Raises
    ------
    ValueError
        No model, a star threshold outside (0, 1), ``digits`` not an integer >= 0,
        ``model_names`` of another length, or two terms of a model mapped to one label.
    TypeError
        ``stars`` is a single number instead of a sequence, or an unsupported model.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> tab = cpcstats.table([pois, nb2], model_names=["Poisson", "NB2"])
    >>> tab.to_latex("table.tex")  # doctest: +SKIP
    """
    models = [as_fit_result(m) for m in models]
    thresholds, names = _check_options(models, stars, digits, model_names)
    flagged = [(not m.converged) or bool(m.warnings) for m in models]
    entries = _collect_terms(models, coef_map)
    parts = list(dict.fromkeys(part for part, _, _ in entries))
    blocks = _coef_blocks(models, entries, parts, irr=irr, digits=digits, thresholds=thresholds)
    has_parts = len(parts) > 1 or bool(parts and parts[0])
    return RegressionTable(
        model_names=tuple(f"{n} {FLAG}" if f else n for n, f in zip(names, flagged, strict=True)),
        families=tuple(str(m.extra.get("family_label", m.family)) for m in models),
        coef_blocks=blocks,
        stats_block=Block(gof_rows(models, digits, gof)),
        notes=model_notes(
            models, names, irr=irr, has_parts=has_parts, thresholds=thresholds, notes=notes
        ),
        title=title,
        label=label,
    )
