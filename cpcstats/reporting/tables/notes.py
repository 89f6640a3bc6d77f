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


def _se_text(model: FitResult) -> str:
    desc = (model.se_description or "").strip().rstrip(".")
    return re.sub(r"^(standard errors|SEs?)\s+", "", desc, flags=re.IGNORECASE)


def _reading_note(
    models: Sequence[FitResult], statistic: str, irr: bool, has_parts: bool, ci_level: float
) -> str:
    """One line: the scale, what the brackets show (and the SE type), in one sentence."""
    brackets = _BRACKETS[statistic]
    if statistic == "ci":
        brackets = f"{ci_level:.0%} confidence intervals in brackets"
    descs = list(dict.fromkeys(d for d in (_se_text(m) for m in models) if d))
    if len(descs) == 1:
        se = f"; standard errors {descs[0]}" if statistic != "se" else f": {descs[0]}"
    elif descs:
        se = " (standard errors as in the Std. errors row)"
    else:
        se = ""
    if irr:
        scale = IRR_NOTE + (IRR_PARTS_NOTE if has_parts else "")
        return f"{scale} {brackets}{se}."
    return f"Coefficients on the log scale. {brackets}{se}."


def _flag_notes(models: Sequence[FitResult], numbers: Sequence[str]) -> list[Note]:
    """One line per flagged fit: it is not a result, and why."""
    notes = []
    for m, number in zip(models, numbers, strict=True):
        if m.flagged:
            reason = (m.flag_reason or "its estimates are not reliable").rstrip(".")
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
) -> tuple[Note, ...]:
    """The notes under a table: the simulated banner, flagged fits, rows lost to missing
    values (a reader comparing the N of two columns must see it; usually none), the
    caller's notes (the sample), then one line on reading the numbers and the stars."""
    out: list[Note] = []
    if any(m.simulated for m in models):
        out.append(Note(SIMULATED_NOTE, strong=True))
    out.extend(_flag_notes(models, numbers))
    for i, (m, title) in enumerate(zip(models, titles, strict=True), 1):
        if (missing := _missing_detail(m)) is not None:
            out.append(Note(f"Model {i} ({title}): {missing}."))
    out.extend(Note(str(n)) for n in notes)
    reading = _reading_note(models, statistic, irr, has_parts, ci_level)
    if thresholds:
        reading += " " + star_legend(thresholds) + "."
    out.append(Note(reading))
    return tuple(out)


def _missing_detail(model: FitResult) -> str | None:
    """The rows the model's sample lost to missing values, by variable."""
    dropped = model.sample.dropped if model.sample is not None else {}
    per_variable = {
        reason.removeprefix("missing "): int(count)
        for reason, count in dropped.items()
        if reason.startswith("missing ") and count
    }
    if not per_variable:
        return None
    total = sum(per_variable.values())
    detail = ", ".join(f"{var}: {n:,}" for var, n in per_variable.items())
    rows = "row" if total == 1 else "rows"
    return f"{total:,} {rows} dropped for missing values ({detail})"


def model_details(
    models: Sequence[FitResult], numbers: Sequence[str], titles: Sequence[str]
) -> tuple[str, ...]:
    """Per model, what a reader of the table may want but need not see under it:
    warnings (omitted terms, separation) and the full wording of its standard errors
    when the models differ."""
    out: list[str] = []
    differ = len({_se_text(m) for m in models}) > 1
    for m, number, title in zip(models, numbers, titles, strict=True):
        who = f"{number} {title} ({m.name})" if title else f"{number} {m.name}"
        for warning in m.warnings:
            out.append(f"{who}: {str(warning).strip().rstrip('.')}.")
        if differ and _se_text(m):
            out.append(f"{who}: standard errors {_se_text(m)}.")
    return tuple(out)


def notes_file_text(details: Sequence[str], title: str) -> str:
    """The companion notes file: a heading and one bullet per detail (byte-stable)."""
    lines = [f"# {title}", ""] + [f"- {d}" for d in details]
    return "\n".join(lines) + "\n"


def write_notes_file(details: Sequence[str], out: Path, stem: str, title: str) -> Path | None:
    """Write ``out/tables/<stem>.notes.md`` when there are details; None when there are none.

    Shared by the regression tables and the design tables, so every companion file has
    the same form.
    """
    if not details:
        return None
    path = Path(out) / "tables" / f"{stem}.notes.md"
    write_atomic(path, notes_file_text(details, title))
    return path
