"""Regression tables: several fitted models side by side (fixest::etable / modelsummary).

Extract, then shape: coefficients come from each `FitResult`, labels from
`cpcstats.reporting.labels`, the options are checked by
`cpcstats.reporting.tables.model_options`, the statistics rows come from the gof map
(`cpcstats.reporting.tables.gof`), the notes and details from
`cpcstats.reporting.tables.notes`; the result is layout data that every renderer reads.

The grid, top to bottom: optional spanning headers, model titles, the column numbers
(1)...(n) (a flagged fit marked ``†``); a block with the dependent variable and the
estimator; the coefficients, one block per model part; one Yes/No row per fixed effect;
the caller's added rows; the fit statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.format import MISSING, star_string
from cpcstats.reporting.labels import Labels
from cpcstats.reporting.tables.base import LayoutTable
from cpcstats.reporting.tables.foreign import as_fit_result
from cpcstats.reporting.tables.gof import GOF_MAP, Statistic, gof_rows, resolve_gof
from cpcstats.reporting.tables.layout import Block, Cell, HeaderCell, Layout, Note, Row
from cpcstats.reporting.tables.model_options import (
    IntervalCell,
    check_add_rows,
    check_digits,
    check_spans,
    check_stars,
    check_statistic,
    fe_block,
    info_block,
    model_titles,
    order_terms,
    resolve_labels,
    select_terms,
)
from cpcstats.reporting.tables.notes import FLAG, model_details, model_notes
from cpcstats.reporting.tables.terms import COUNT_PART_TITLE, PART_TITLES, split_part

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
    model_names : tuple of str
        The model titles (``†`` marks a fit that is not a result); shown as a header
        row unless ``show_titles`` is False.
    families : tuple of str
        The estimator of each model (the "Estimator" row).
    coef_blocks : tuple of Block
        One block per model part (count equation, inflation, ...).
    stats_block : Block
        The statistics rows (N, clusters, log-likelihood ...).
    notes : tuple of Note, default ()
        The notes below the table (at most a few lines).
    title, label : str, optional
        The caption and the LaTeX label.
    numbers : tuple of str
        The column numbers ``(1)`` ... ``(n)``.
    spans : tuple of HeaderCell, optional
        Spanning headers over the model columns.
    info_block, fe_block, added_block : Block, optional
        Dependent variable and estimator; one Yes/No row per fixed effect; the caller's rows.
    details : tuple of str
        What is not a note (warnings, omitted terms, rows lost): for a companion file.
    placement, decimal_align, raw_latex
        Layout options for the LaTeX renderer (`cpcstats.reporting.tables.layout.Layout`).

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
    numbers: tuple[str, ...] = ()
    spans: tuple[HeaderCell, ...] | None = None
    show_titles: bool = True
    info_block: Block | None = None
    fe_block: Block | None = None
    added_block: Block | None = None
    details: tuple[str, ...] = ()
    placement: str = "auto"
    decimal_align: bool = False
    raw_latex: bool = False

    def _layout(self) -> Layout:
        headers: list[tuple[Any, ...]] = []
        if self.spans:
            headers.append(("", *self.spans))
        if self.show_titles:
            headers.append(("", *self.model_names))
        if self.numbers:
            headers.append(("", *self.numbers))
        if not headers:
            headers.append(("", *self.model_names))
        blocks = [b for b in (self.info_block,) if b is not None and b.rows]
        blocks += list(self.coef_blocks)
        blocks += [b for b in (self.fe_block, self.added_block) if b is not None and b.rows]
        blocks.append(self.stats_block)
        return Layout(
            header_rows=tuple(headers),
            blocks=tuple(blocks),
            notes=self.notes,
            title=self.title,
            label=self.label,
            placement=self.placement,
            decimal_align=self.decimal_align,
            raw_latex=self.raw_latex,
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
        """The row with the given label in the statistics, fixed-effects, added or
        dependent-variable blocks (``"N"``, ``"Clusters"``, ``"Year"`` ...).

        Raises
        ------
        KeyError
            No such row has that label.
        """
        blocks = (self.stats_block, self.fe_block, self.added_block, self.info_block)
        for block in blocks:
            for row in block.rows if block is not None else ():
                if row.label == label:
                    return row
        raise KeyError(f"statistic {label!r} is not in the table")


def _collect_terms(
    models: Sequence[FitResult], coef_map: Mapping[str, str] | None, labels: Labels
) -> list[Entry]:
    """Display rows as ``(part, label, term per model)`` in display order.

    With a ``coef_map`` several raw names may share a label (one row), which
    harmonises differently named terms across models; a key that is a term of no model
    is a ValueError (a typo would silently drop a row).
    """
    rows: dict[tuple[str, str], list[str | None]] = {}
    names: dict[tuple[str, str], str] = {}
    if coef_map is None:
        for j, m in enumerate(models):  # by position: the same fit may stand twice
            for term in map(str, m.params.index):
                key = (split_part(term)[0], term)
                if key not in rows:
                    rows[key] = [None] * len(models)
                    names[key] = labels.term(term)
                rows[key][j] = term
    else:
        everywhere = {str(t) for m in models for t in m.params.index}
        unknown = [k for k in coef_map if k not in everywhere]
        if unknown:
            raise ValueError(
                f"coef_map key {unknown[0]!r} is a term of no model in the table; "
                f"the terms are: {', '.join(sorted(everywhere))}"
            )
        for term, label in coef_map.items():
            key = (split_part(term)[0], label)
            for j, m in enumerate(models):
                if term not in m.params.index:
                    continue
                slot = rows.setdefault(key, [None] * len(models))
                names[key] = label
                if slot[j] is not None:
                    raise ValueError(
                        f"coef_map maps both {slot[j]!r} and {term!r} to {label!r} in model {j + 1}"
                    )
                slot[j] = term
    part_order = [""] + [p for p in dict.fromkeys(k[0] for k in rows) if p]
    return [(part, names[key], rows[key]) for part in part_order for key in rows if key[0] == part]


def _shape_entries(entries: list[Entry], keep: Any, drop: Any, order: Any) -> list[Entry]:
    """``keep``/``drop`` then ``order`` (patterns on raw names and labels), parts kept apart."""
    if keep is None and drop is None and order is None:
        return entries
    raw = [next(t for t in e[2] if t is not None) for e in entries]
    shown = [e[1] for e in entries]
    selected = select_terms(raw, shown, keep, drop)
    entries = [e for e, s in zip(entries, selected, strict=True) if s]
    raw = [r for r, s in zip(raw, selected, strict=True) if s]
    shown = [e[1] for e in entries]
    if order is None:
        return entries
    positions = order_terms([split_part(r)[1] for r in raw], shown, order)
    ranked = [entries[i] for i in positions]
    parts = list(dict.fromkeys(e[0] for e in entries))
    return [e for part in parts for e in ranked if e[0] == part]


def _hidden_parts(every: Sequence[Entry], shown: Sequence[Entry]) -> list[str]:
    """A note when keep/drop left out a whole model part (the reader must know it exists)."""
    hidden = [p for p in dict.fromkeys(e[0] for e in every) if p and p not in {e[0] for e in shown}]
    if not hidden:
        return []
    names = " and ".join(PART_TITLES[p].split(" (")[0].lower() for p in hidden)
    return [f"Not shown: the {names} equation{'s' if len(hidden) > 1 else ''}."]


def _estimate_cells(
    models: Sequence[FitResult],
    terms: Sequence[str | None],
    opts: Mapping[str, Any],
) -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
    """One coefficient's estimate cells (with stars) and its bracketed row.

    ``irr``: exp(b), with the delta-method SE exp(b)·se and exp() of the interval; the
    stars still test b = 0.  A flagged fit shows its estimate without stars and ``—``
    below it: its standard errors mean nothing.
    """
    digits, irr, statistic = opts["digits"], opts["irr"], opts["statistic"]
    est_cells: list[Cell] = []
    low_cells: list[Cell] = []
    for m, term in zip(models, terms, strict=True):
        if term is None:
            est_cells.append(Cell())
            low_cells.append(Cell())
            continue
        b, se, p = float(m.params[term]), float(m.std_errors[term]), float(m.pvalues[term])
        if m.flagged:
            est_cells.append(Cell(math.exp(b) if irr else b, digits))
            low_cells.append(Cell(MISSING))
            continue
        est_cells.append(
            Cell(math.exp(b) if irr else b, digits, stars=star_string(p, opts["stars"]))
        )
        if statistic == "ci":
            lo, hi = m.conf_int(opts["ci_level"]).loc[term, ["lower", "upper"]]
            lo, hi = (math.exp(lo), math.exp(hi)) if irr else (float(lo), float(hi))
            low_cells.append(IntervalCell(digits=digits, lower=lo, upper=hi))
        elif statistic == "t":
            low_cells.append(Cell(b / se if se else math.nan, 2, paren=True))
        elif statistic == "p":
            low_cells.append(Cell(p, digits, paren=True))
        else:
            low_cells.append(Cell(math.exp(b) * se if irr else se, digits, paren=True))
    return tuple(est_cells), tuple(low_cells)


def _coef_blocks(
    models: Sequence[FitResult], entries: Sequence[Entry], opts: Mapping[str, Any]
) -> tuple[Block, ...]:
    """One block per model part (count equation first), two rows per coefficient."""
    parts = list(dict.fromkeys(part for part, _, _ in entries))
    blocks: list[Block] = []
    for part in parts:
        rows: list[Row] = []
        for _, row_label, terms in (e for e in entries if e[0] == part):
            est, err = _estimate_cells(models, terms, opts)
            key = next(t for t in terms if t is not None)
            rows.append(Row(row_label, est, "estimate", key))
            rows.append(Row("", err, "se", key))
        if part:
            title: str | None = PART_TITLES[part]
        else:
            title = COUNT_PART_TITLE if len(parts) > 1 else None
        blocks.append(Block(tuple(rows), title))
    return tuple(blocks)


def table(
    models: Sequence[Any],
    *,
    irr: bool = False,
    coef_map: Mapping[str, str] | None = None,
    keep: str | Sequence[str] | None = None,
    drop: str | Sequence[str] | None = None,
    order: str | Sequence[str] | None = None,
    stars: Sequence[float] | bool | None = (0.10, 0.05, 0.01),
    digits: int = 3,
    statistic: str = "se",
    ci_level: float = 0.95,
    title: str | None = None,
    label: str | None = None,
    notes: Sequence[str] = (),
    model_names: Sequence[str] | None = None,
    titles: Sequence[str] | bool | None = None,
    spans: Sequence[Any] | None = None,
    numbered: bool = True,
    labels: Labels | str | Path | Mapping[str, Any] | None = None,
    gof: Sequence[Statistic] | Sequence[str] | Mapping[str, Any] | None = GOF_MAP,
    add_rows: Mapping[str, Sequence[Any]] | Sequence[Sequence[Any]] | None = None,
    details: Sequence[str] = (),
    placement: str = "auto",
    decimal_align: bool = False,
) -> RegressionTable:
    """Lay out several fitted models side by side as a `RegressionTable`.

    Fits that are not results (`FitResult.flagged`: not converged, singular Hessian, a
    parameter at the boundary) are marked ``†`` in the header, shown without standard
    errors or stars, and named in a one-line note each; simulated estimates carry a bold
    banner note, so no rendering can lose them.  Warnings that leave a fit usable
    (omitted terms) go to ``details`` (for a companion notes file), not under the table.

    Long because it is the public signature: every option is documented here and
    checked in `cpcstats.reporting.tables.model_options`; the body only composes.

    Parameters
    ----------
    models : sequence of FitResult, statsmodels results or pyfixest Feols/Fepois
        The columns, in order (at least one); other libraries' results are read by
        `cpcstats.reporting.tables.foreign.as_fit_result` (their p-values kept).
    irr : bool, default False
        Show exp(b) with delta-method SEs exp(b)·se; the stars still test b = 0.
    coef_map : mapping of str to str, optional
        Raw term -> label: fixes the order and labels and drops unlisted terms; several
        terms may share a label (one row).  A key that is a term of no model is an error.
    keep, drop : str or sequence of str, optional
        Regular expressions (RE2, case-insensitive) searched in each term's raw name and
        its label: keep only matching terms / drop matching terms.  A pattern that
        matches no term is an error.
    order : str or sequence of str, optional
        Patterns: terms matching the first come first, then the second's ...; the rest after.
    stars : sequence of float, or False/None, default (0.10, 0.05, 0.01)
        The p-value thresholds of one, two, three stars; False or None: no stars.
    digits : int, default 3
        Decimals of estimates, brackets and statistics (a gof entry may set its own).
    statistic : {"se", "ci", "t", "p"}, default "se"
        What the row under each estimate shows: standard error, ``ci_level`` interval,
        z statistic or p-value.
    ci_level : float, default 0.95
        Level of the intervals of ``statistic="ci"``.
    title, label : str, optional
        The caption and the LaTeX ``\\label``.
    notes : sequence of str, default ()
        Short notes (the sample) shown after the alarms and before the reading line.
    model_names, titles : sequence of str, or False, optional
        Model titles (same meaning; ``titles`` wins).  Default: each model's label in
        the labels' ``[models]``, else its spec's title, else a readable name.  False:
        no titles row (the numbers remain).
    spans : sequence of (str, int), optional
        Spanning headers over the models, e.g. ``[("Party-year", 2), ("Country-year", 2)]``.
    numbered : bool, default True
        Show the column numbers (1) ... (n).
    labels : Labels, path, mapping or "raw", optional
        The labels (default: the packaged labels file); a mapping overrides some of them
        (sections as in the file); ``"raw"`` shows raw names.  Labels with LaTeX are
        written unescaped only if ``Labels.raw_latex`` is true.
    gof : sequence of Statistic or of keys, or mapping, default GOF_MAP
        The fit statistics (see `cpcstats.reporting.tables.gof.resolve_gof`): keys
        from ``GOF_CATALOGUE`` in display order, or key -> label / {label, digits}.
    add_rows : mapping or sequence, optional
        Extra rows above the statistics: ``{"Controls": ["Yes", "No"]}``.
    details : sequence of str, default ()
        Extra details for the companion notes (added to the table's own).
    placement : str, default "auto"
        How LaTeX places the table (`cpcstats.reporting.tables.layout.PLACEMENTS`).
    decimal_align : bool, default False
        Align the numbers on the decimal point (siunitx in LaTeX).

    Returns
    -------
    RegressionTable
        Layout data; render with ``to_latex``, ``to_markdown``, ``to_html``, ``to_frame``.

    Raises
    ------
    ValueError
        No model, a star threshold outside (0, 1), ``digits`` not an integer >= 0,
        titles of another length, a coef_map key in no model, two terms of a model mapped
        to one label, a keep/drop/order pattern that matches nothing, bad spans or rows.
    TypeError
        ``stars`` is a single number instead of a sequence, or an unsupported model.
    cpcstats.errors.SpecError
        A pattern RE2 cannot run, or a bad labels file or mapping.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> tab = cpcstats.table([pois, nb2], keep="ruling", statistic="ci", stars=False)
    >>> tab.to_latex("table.tex")  # doctest: +SKIP
    """
    models = [as_fit_result(m) for m in models]
    if not models:
        raise ValueError("table() needs at least one model")
    opts = {
        "stars": check_stars(stars),
        "digits": check_digits(digits),
        "statistic": check_statistic(statistic),
        "irr": bool(irr),
        "ci_level": float(ci_level),
    }
    lab = resolve_labels(labels)
    names, show_titles = model_titles(models, titles, model_names, lab)
    every = _collect_terms(models, coef_map, lab)
    entries = _shape_entries(every, keep, drop, order)
    blocks = _coef_blocks(models, entries, opts)
    parts = {part for part, _, _ in entries}
    numbers = [f"({i})" for i in range(1, len(models) + 1)]
    flagged = [m.flagged for m in models]
    marked = [f"{n} {FLAG}" if f else n for n, f in zip(names, flagged, strict=True)]
    shown_numbers = [
        f"{n}{FLAG}" if f and not show_titles else n for n, f in zip(numbers, flagged, strict=True)
    ]
    families = tuple(
        lab.family(m.family)
        if lab.identity or m.family in lab.families
        else str(m.extra.get("family_label") or lab.family(m.family))
        for m in models
    )
    added = check_add_rows(add_rows, len(models))
    statistics = resolve_gof(gof)
    return RegressionTable(
        model_names=tuple(marked),
        families=families,
        coef_blocks=blocks,
        stats_block=Block(gof_rows(models, opts["digits"], statistics, lab)),
        notes=model_notes(
            models,
            numbers,
            names,
            irr=opts["irr"],
            has_parts=bool(parts - {""}),
            thresholds=opts["stars"],
            statistic=opts["statistic"],
            ci_level=opts["ci_level"],
            notes=[*notes, *_hidden_parts(every, entries)],
            labels=lab,
            se_row=any(s.key == "se_type" for s in statistics),
        ),
        title=title,
        label=label,
        numbers=tuple(shown_numbers) if numbered else (),
        spans=check_spans(spans, len(models)),
        show_titles=show_titles,
        info_block=info_block(models, lab, families),
        fe_block=fe_block(models, lab),
        added_block=Block(
            tuple(Row(k, tuple(Cell(v) for v in vs), kind="added") for k, vs in added)
        ),
        details=model_details(models, numbers, names, lab) + tuple(str(d) for d in details),
        placement=placement,
        decimal_align=bool(decimal_align),
        raw_latex=lab.raw_latex,
    )
