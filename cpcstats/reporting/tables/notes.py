"""The notes under a regression table: alarms (simulated data, failed fits, dropped rows)
and how to read the numbers (standard errors, incidence-rate ratios, stars).

Order matters and is fixed by `model_notes`: alarms first, then reading aids, then
the caller's notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.format import star_legend
from cpcstats.reporting.tables.layout import Note

__all__ = ["FLAG", "IRR_NOTE", "SIMULATED_NOTE", "model_notes"]

SIMULATED_NOTE = (
    "SIMULATED DATA: estimates from the embedded demo study, not from the real ID-CPC data."
)
#: Marks a model that failed or warned, in its header and in its note.
FLAG = "†"
IRR_NOTE = (
    "Coefficients shown as incidence-rate ratios exp(b) with delta-method standard "
    "errors exp(b)·se; stars test b = 0."
)
IRR_PARTS_NOTE = " Inflation/zero-hurdle coefficients are exponentiated to odds ratios."


def _model_list(indices: Sequence[int]) -> str:
    nums = [str(i + 1) for i in indices]
    return f"Model {nums[0]}" if len(nums) == 1 else f"Models {', '.join(nums)}"


def _se_note(models: Sequence[FitResult]) -> str | None:
    """One note for all SE descriptions, listing models only when they differ."""
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        desc = (m.se_description or "").strip().rstrip(".")
        desc = re.sub(r"^(standard errors|SEs?)\s+", "", desc, flags=re.IGNORECASE)
        if desc:
            groups.setdefault(desc, []).append(i)
    if not groups:
        return None
    if len(groups) == 1:
        return f"Standard errors in parentheses: {next(iter(groups))}."
    parts = [f"{desc} in {_model_list(idx)}" for desc, idx in groups.items()]
    return "Standard errors in parentheses: " + "; ".join(parts) + "."


def _flag_notes(models: Sequence[FitResult], names: Sequence[str]) -> list[Note]:
    notes = []
    for i, (m, name) in enumerate(zip(models, names, strict=True)):
        who = f"{FLAG} Model {i + 1} ({name})"
        detail = "; ".join(str(w).strip().rstrip(".") for w in m.warnings)
        if not m.converged:
            reason = detail or "its estimates are not reliable"
            notes.append(Note(f"{who} did not converge: {reason}.", strong=True))
        elif detail:
            notes.append(Note(f"{who} warning: {detail}.", strong=True))
    return notes


def _missing_notes(models: Sequence[FitResult], names: Sequence[str]) -> list[Note]:
    """Per model, the rows its estimation sample lost to missing values, by variable.

    Why in the table: a reader comparing the N of two columns must see that one model
    lost rows to a missing covariate (rows are never dropped silently); the counts come
    from the model's sample account (``FitResult.sample.dropped``, keys ``missing x``).
    """
    notes = []
    for i, (m, name) in enumerate(zip(models, names, strict=True)):
        dropped = m.sample.dropped if m.sample is not None else {}
        per_variable = {
            reason.removeprefix("missing "): int(count)
            for reason, count in dropped.items()
            if reason.startswith("missing ") and count
        }
        if not per_variable:
            continue
        total = sum(per_variable.values())
        detail = ", ".join(f"{var}: {n:,}" for var, n in per_variable.items())
        rows = "row" if total == 1 else "rows"
        notes.append(
            Note(f"Model {i + 1} ({name}): {total:,} {rows} dropped for missing values ({detail}).")
        )
    return notes


def model_notes(
    models: Sequence[FitResult],
    names: Sequence[str],
    *,
    irr: bool,
    has_parts: bool,
    thresholds: Sequence[float],
    notes: Sequence[str] = (),
) -> tuple[Note, ...]:
    """All notes of a regression table: alarms first, then how to read the numbers, then
    the caller's notes.  ``has_parts``: the table shows an inflation/hurdle part."""
    out: list[Note] = []
    if any(m.simulated for m in models):
        out.append(Note(SIMULATED_NOTE, strong=True))
    out.extend(_flag_notes(models, names))
    out.extend(_missing_notes(models, names))
    se_note = _se_note(models)
    if se_note:
        out.append(Note(se_note))
    if irr:
        out.append(Note(IRR_NOTE + (IRR_PARTS_NOTE if has_parts else "")))
    if thresholds:
        out.append(Note(star_legend(thresholds)))
    out.extend(Note(str(n)) for n in notes)
    return tuple(out)
