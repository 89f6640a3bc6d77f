"""Number, p-value, sign and star formatting: the one place every table and note takes it from.

Why one module: the same figure must read the same in a regression table, a design's
note and a figure label; when each producer formats its own numbers, a p-value of 0.0004
becomes ``0.000`` in one table and ``< 0.001`` in the next, and ``-0.000`` slips in.
Everything here is pure text in, text out (no LaTeX): the renderers escape the result, so a
typographic minus ``−`` (U+2212) becomes ``$-$`` in LaTeX and stays ``−`` elsewhere.

Public API:

* `format_number` — fixed decimals, ``NA`` for missing, no ``-0.000``;
* `format_signed` — fixed decimals with a typographic minus, ``—`` when not finite;
* `format_compact` — fixed decimals with separators, significant digits from 1e6 on;
* `minus_sign` — every ASCII hyphen-minus of a label replaced by ``−``;
* `format_p_value` — ``< 0.001`` (or ``<0.001``) instead of a misleading ``0.000``;
* `star_string`, `star_legend` — significance stars and their legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "MINUS",
    "MISSING",
    "format_compact",
    "format_number",
    "format_p_value",
    "format_signed",
    "minus_sign",
    "star_legend",
    "star_string",
    "threshold_text",
]

#: The typographic minus sign (U+2212); LaTeX renderers write it as ``$-$``.
MINUS = "\u2212"
#: What a table shows for a statistic a model does not have (an em dash).
MISSING = "\u2014"


def format_number(value: float | int | None, digits: int = 3, *, thousands: bool = False) -> str:
    """Fixed-decimal text for a number; ``NA`` for missing and no ``-0.000``.

    Integers (not booleans) keep no decimals; ``thousands=True`` adds ``,`` separators.
    """
    if value is None:
        return "NA"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,d}" if thousands else f"{int(value):d}"
    number = float(value)
    if math.isnan(number):
        return "NA"
    if math.isinf(number):
        return "Inf" if number > 0 else "-Inf"
    text = f"{number:,.{digits}f}" if thousands else f"{number:.{digits}f}"
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text


def minus_sign(value: object) -> str:
    """``str(value)`` with every ``-`` as a typographic minus (labels such as ``e = -1``)."""
    return str(value).replace("-", MINUS)


def format_signed(value: float, digits: int = 3, *, missing: str = MISSING) -> str:
    """Fixed decimals with a typographic minus; ``missing`` (``—``) for NaN or infinity.

    Unlike `format_number` a rounded ``-0.000`` keeps its sign, as the design notes
    always printed it.
    """
    return minus_sign(f"{value:.{digits}f}") if np.isfinite(value) else missing


def format_compact(value: float, digits: int = 3) -> str:
    """``1,234.568`` below a million, ``1.23e+06`` from there on (test statistics of any size).

    A NaN is written as ``nan``, as the diagnostics table always printed it.
    """
    return f"{value:,.{digits}f}" if abs(value) < 1e6 else f"{value:.{digits}g}"


def format_p_value(p: float, digits: int = 3, *, space: bool = True) -> str:
    """A p-value with ``digits`` decimals, or ``< 0.001`` when it would round to zero.

    ``space=False`` writes ``<0.001`` (compact table cells).  A NaN p-value is ``NA``.
    """
    if math.isnan(p):
        return "NA"
    floor = 10.0**-digits
    if p >= floor:
        return f"{p:.{digits}f}"
    return f"{'< ' if space else '<'}{floor:.{digits}f}"


def star_string(pvalue: float, thresholds: Sequence[float]) -> str:
    """One ``*`` per threshold the p-value is below; none for a non-finite p-value."""
    if not np.isfinite(pvalue):
        return ""
    return "*" * sum(pvalue < t for t in thresholds)


def threshold_text(threshold: float) -> str:
    """A star threshold as text: ``0.10`` with two decimals, finer ones as ``0.001``."""
    return f"{threshold:.2f}" if round(threshold, 2) == threshold else f"{threshold:g}"


def star_legend(thresholds: Sequence[float]) -> str:
    """The note explaining the stars, e.g. ``* p<0.10, ** p<0.05, *** p<0.01``."""
    ordered = sorted(thresholds, reverse=True)
    return ", ".join(f"{'*' * (i + 1)} p<{threshold_text(t)}" for i, t in enumerate(ordered))
