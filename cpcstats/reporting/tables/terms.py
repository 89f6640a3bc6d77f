"""Readable row labels for patsy term names, and the model parts a term belongs to.

Why separate from the table: the coefficient figure (`cpcstats.reporting.figures`)
labels its rows exactly as the table does, so both take their labels from here.
"""

from __future__ import annotations

import re

__all__ = ["COUNT_PART_TITLE", "PART_TITLES", "pretty_term", "split_part"]

#: Model parts other than the count (mean) equation, by the prefix of their term names.
PART_TITLES: dict[str, str] = {
    "inflate": "Inflation (logit)",
    "zero": "Zero hurdle (logit)",
}
#: Title of the count-equation block, shown only when another part is present.
COUNT_PART_TITLE = "Count model"


def split_part(term: str) -> tuple[str, str]:
    """Split ``"inflate:x"`` into ``("inflate", "x")``; mean-equation terms get part ``""``.

    Only the prefixes in `PART_TITLES` count, so an interaction such as
    ``ruling:C(fh_status)[T.PF]`` is not mistaken for a model part.
    """
    head, sep, rest = term.partition(":")
    if sep and head in PART_TITLES:
        return head, rest
    return "", term


def _split_top_level(text: str, sep: str = ":") -> list[str]:
    """Split on ``sep`` outside parentheses and brackets (patsy interaction syntax)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_CATEGORICAL = re.compile(r"^C\(\s*([^,()]+?)\s*(?:,.*)?\)\[(?:T\.)?(.*)\]$")
_PLAIN_LEVEL = re.compile(r"^([A-Za-z_][\w.]*)\[(?:T\.)?(.*)\]$")
_FUNCTION = re.compile(r"^(?:np|numpy)\.(\w+)\((.*)\)$")
_IDENTITY = re.compile(r"^I\((.*)\)$")


def _pretty_factor(factor: str) -> str:
    factor = factor.strip()
    if factor == "Intercept":
        return "Constant"
    for pattern in (_CATEGORICAL, _PLAIN_LEVEL):
        match = pattern.match(factor)
        if match:
            return f"{match.group(1)} = {match.group(2)}"
    match = _FUNCTION.match(factor)
    if match:
        return f"{match.group(1)}({match.group(2)})"
    match = _IDENTITY.match(factor)
    if match:
        return match.group(1)
    return factor


def pretty_term(term: str) -> str:
    """Readable label for a patsy term name.

    ``C(fh_status)[T.NF]`` becomes ``fh_status = NF``, interactions are joined
    with ``×`` and ``Intercept`` becomes ``Constant``.  A part prefix
    (``inflate:``) is dropped because the table shows the part as a block header.
    """
    _, body = split_part(term)
    return " × ".join(_pretty_factor(f) for f in _split_top_level(body))
