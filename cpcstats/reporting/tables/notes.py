"""The notes under a regression table, and the details that go beside it.

Why two lists: a note under a published table is read with the table, so it is short and
says only what a reader needs to read the numbers (simulated data, which fits are not
results, what the brackets and stars mean, the caller's sample line).  Everything else
(omitted terms, warnings, per-model SE wording) is a *detail*: kept in
``RegressionTable.details`` and written by `write_notes_file` to a companion
``tables/<name>.notes.md``, never dropped and never cluttering the table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cpcstats.estimation.results import FitResult
from cpcstats.io import write_atomic
from cpcstats.reporting.format import star_legend
from cpcstats.reporting.labels import Labels, default_labels, split_part
from cpcstats.reporting.tables.layout import Note

__all__ = [
    "FLAG",
    "IRR_NOTE",
    "SIMULATED_NOTE",
    "model_details",
    "model_notes",
    "notes_file_text",
    "write_notes_file",
]

SIMULATED_NOTE = (
    "SIMULATED DATA: estimates from the embedded demo study, not from the real ID-CPC data."
)
#: Marks a model whose fit is not a result, in its header and in its note.
FLAG = "†"
IRR_NOTE = (
    "Incidence-rate ratios exp(b) with delta-method standard errors exp(b)·se; stars test b = 0."
)
IRR_PARTS_NOTE = " Inflation/zero-hurdle coefficients are exponentiated to odds ratios."
_BRACKETS = {
    "se": "Standard errors in parentheses",
    "ci": "95% confidence intervals in brackets",
    "t": "z statistics in parentheses",
    "p": "p-values in parentheses",
}


_CLUSTER_COUNT = re.compile(r"\d[\d,]* clusters(; |\))")


def _se_text(model: FitResult, labels: Labels | None = None, *, counts: bool = True) -> str:
    """The model's SE wording, cluster variables by their labels; ``counts=False`` drops
    the cluster count (the Clusters row shows it), so models that differ only there
    share one note."""
    desc = (model.se_description or "").strip().rstrip(".")
    desc = re.sub(r"^(standard errors|SEs?)\s+", "", desc, flags=re.IGNORECASE)
    spec = getattr(model, "spec", None)
    for cluster in spec.cluster if spec is not None and spec.cluster else ():
        if labels is not None and not labels.identity:
            label = labels.variable(cluster)
            label = label[:1].lower() + label[1:] if label[1:2].islower() else label
            desc = re.sub(rf"\b{re.escape(cluster)}\b", label, desc)
    if not counts:
        desc = _CLUSTER_COUNT.sub(lambda m: "" if m.group(1) == "; " else ")", desc)
        desc = desc.replace(" ()", "")
    return desc


def _reading_note(
    models: Sequence[FitResult],
    statistic: str,
    irr: bool,
    has_parts: bool,
    ci_level: float,
    labels: Labels | None,
    se_row: bool = True,
) -> str:
    """One line: the scale, what the brackets show (and the SE type), in one sentence;
    without a Std. errors row (``se_row`` False) each column's kind is named here."""
    brackets = _BRACKETS[statistic]
    if statistic == "ci":
        brackets = f"{ci_level:.0%} confidence intervals in brackets"
    texts = (_se_text(m, labels, counts=len(models) == 1) for m in models)
    descs = list(dict.fromkeys(d for d in texts if d))
    if len(descs) == 1:
        se = f"; standard errors {descs[0]}" if statistic != "se" else f": {descs[0]}"
    elif descs and se_row:
        se = ", of the kind in the Std. errors row"
    elif descs:
        kinds = [_se_text(m, labels, counts=False) for m in models]
        by_kind = {d: [f"({i})" for i, k in enumerate(kinds, 1) if k == d] for d in kinds if d}
        se = "; standard errors " + "; ".join(f"{', '.join(c)} {d}" for d, c in by_kind.items())
    else:
        se = ""
    if irr:
        scale = IRR_NOTE + (IRR_PARTS_NOTE if has_parts else "")
        return f"{scale} {brackets}{se}."
    return f"Coefficients on the log scale. {brackets}{se}."


_PART_WORDS = {"inflate": "inflation", "zero": "zero hurdle"}


def _labelled_terms(text: str, model: FitResult, labels: Labels | None) -> str:
    """Raw term names in a problem's wording replaced by their labels."""
    if labels is None or labels.identity:
        return text
    for term in sorted(map(str, model.params.index), key=len, reverse=True):
        if term in text and term != "Intercept":
            part, _ = split_part(term)
            shown = labels.term(term) + (f" ({_PART_WORDS.get(part, part)})" if part else "")
            text = re.sub(rf"(?<![\w:]){re.escape(term)}(?![\w:\[])", shown, text)
    return text


def short_reason(model: FitResult, labels: Labels | None = None) -> str:
    """Why a flagged fit is not a result, in a few words: each problem up to its first
    colon (the full wording goes to the details), terms by their labels."""
    reasons = ([] if model.converged else ["the optimiser did not converge"]) + [
        str(p).split(": ", 1)[0].strip().rstrip(".") for p in model.problems
    ]
    text = "; ".join(dict.fromkeys(r for r in reasons if r)) or "its estimates are not reliable"
    return _labelled_terms(text, model, labels)


def _flag_notes(
    models: Sequence[FitResult], numbers: Sequence[str], labels: Labels | None
) -> list[Note]:
    """One line per flagged fit: it is not a result, and why."""
    notes = []
    for m, number in zip(models, numbers, strict=True):
        if m.flagged:
            reason = short_reason(m, labels)
            notes.append(
                Note(
                    f"{FLAG} {number} Not a result: {reason}; no standard errors shown.",
                    strong=True,
                )
            )
    return notes


def model_notes(
    models: Sequence[FitResult],
    numbers: Sequence[str],
    titles: Sequence[str],
    *,
    irr: bool,
    has_parts: bool,
    thresholds: Sequence[float],
    statistic: str = "se",
    ci_level: float = 0.95,
    notes: Sequence[str] = (),
    labels: Labels | None = None,
    se_row: bool = True,
) -> tuple[Note, ...]:
    """The notes under a table: the simulated banner, flagged fits, rows lost to missing
    values (a reader comparing the N of two columns must see it; usually none), the
    caller's notes (the sample), then one line on reading the numbers and the stars."""
    out: list[Note] = []
    if any(m.simulated for m in models):
        out.append(Note(SIMULATED_NOTE, strong=True))
    out.extend(_flag_notes(models, numbers, labels))
    for i, (m, title) in enumerate(zip(models, titles, strict=True), 1):
        if (missing := _missing_detail(m, labels)) is not None:
            out.append(Note(f"Model {i} ({title}): {missing}."))
    out.extend(Note(str(n)) for n in notes)
    reading = _reading_note(models, statistic, irr, has_parts, ci_level, labels, se_row)
    if thresholds:
        reading += " " + star_legend(thresholds) + "."
    out.append(Note(reading))
    return tuple(out)


def _missing_detail(model: FitResult, labels: Labels | None = None) -> str | None:
    """The rows the model's sample lost to missing values, by variable (its label)."""
    dropped = model.sample.dropped if model.sample is not None else {}
    per_variable = {
        reason.removeprefix("missing "): int(count)
        for reason, count in dropped.items()
        if reason.startswith("missing ") and count
    }
    if not per_variable:
        return None
    total = sum(per_variable.values())
    name = labels.variable if labels is not None else str
    detail = ", ".join(f"{name(var)}: {n:,}" for var, n in per_variable.items())
    rows = "row" if total == 1 else "rows"
    return f"{total:,} {rows} dropped for missing values ({detail})"


def model_details(
    models: Sequence[FitResult],
    numbers: Sequence[str],
    titles: Sequence[str],
    labels: Labels | None = None,
) -> tuple[str, ...]:
    """Per model, what a reader of the table may want but need not see under it:
    warnings (omitted terms, separation) and the full wording of its standard errors
    when the models differ."""
    out: list[str] = []
    differ = len({_se_text(m, labels, counts=False) for m in models}) > 1
    for m, number, title in zip(models, numbers, titles, strict=True):
        who = f"{number} {title} ({m.name})" if title else f"{number} {m.name}"
        if m.flagged:
            out.append(f"{who}: not a result: {m.flag_reason}.")
        for warning in m.warnings:
            out.append(f"{who}: {str(warning).strip().rstrip('.')}.")
        if differ and _se_text(m, labels):
            out.append(f"{who}: standard errors {_se_text(m, labels)}.")
    return tuple(out)


#: the banner of a companion notes file made from simulated data
SIMULATED_NOTES_BANNER = "**SIMULATED DATA: notes of the embedded demo study.**"


def notes_file_text(details: Sequence[str], title: str, *, simulated: bool = False) -> str:
    """The companion notes file: a heading, the SIMULATED banner when the data are
    simulated, and one bullet per detail (whitespace collapsed; byte-stable)."""
    lines = [f"# {title}", ""]
    if simulated:
        lines += [SIMULATED_NOTES_BANNER, ""]
    relabel = default_labels().relabel_text  # raw variable names read as their labels
    lines += [f"- {relabel(' '.join(str(d).split()))}" for d in details] or ["- (none)"]
    return "\n".join(lines) + "\n"


def write_notes_file(
    details: Sequence[str],
    out: Path,
    stem: str,
    title: str,
    *,
    simulated: bool = False,
    always: bool = False,
) -> Path | None:
    """Write ``out/tables/<stem>.notes.md``; None when there are no details (unless
    ``always``: a design writes its file even when it has nothing to add).

    Shared by the regression, diagnostics and design tables, so every companion file has
    the same form and every one made from simulated data says so.
    """
    if not details and not always:
        return None
    path = Path(out) / "tables" / f"{stem}.notes.md"
    write_atomic(path, notes_file_text(details, title, simulated=simulated))
    return path
