"""User regular expressions that finish in bounded time on any text.

Why this module exists: a study file (``[contacts.derive]`` patterns) and a topic
dictionary (``regex``, ``exclude_regex``) hold regular expressions a user wrote.  Python's
``re`` is a backtracking engine: ``(a+)+$`` on ``"aaa...ab"`` takes time exponential in the
text, so one careless pattern and one long news item hang a replication for ever.  Arrow's
regex engine is RE2, which runs in time linear in the text (times a factor bounded by the
pattern's size) and refuses outright what it cannot run that way (look-arounds,
back-references).  So every user pattern goes through here:

* `check_pattern` — at load time, before any text is read: the pattern must be short
  enough and compile in RE2, else a `cpcstats.errors.SpecError` naming the file,
  the key, the pattern and how to rewrite it.  Python ``re`` is only used to *word* the
  error for a pattern that is not a regular expression at all (it never matches user text).
* `contains` / `replace` — vectorised matching on Arrow strings with RE2 only;
  there is no fallback to Python ``re``.

Matching is case-insensitive (RE2's ``(?i)``), as it always was for both uses.  RE2's
``\\b``, ``\\w`` and ``\\d`` are ASCII classes (Python's are Unicode); the study's patterns
have always run on Arrow strings where RE2 could compile them, so results are unchanged.
"""

from __future__ import annotations

import re
import re._constants as _c  # Python's own regex parser: to measure a pattern, never to match
import re._parser as _parser
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cpcstats.errors import SpecError

MAX_PATTERN_CHARS = 1000
"""Longest user pattern accepted.  RE2's time per character grows with the pattern's
size, so a bound on the pattern is what makes the bound on time a bound on text length."""

MAX_EXPANDED_ATOMS = 300
"""Most characters and classes a pattern's counted repetitions may add once written out
(``[ab]{50}`` adds 49, ``(x{10}){10}`` adds 99; ``*``, ``+`` and ``?`` add nothing).
RE2 runs in linear time, but its time per character grows with the written-out size: on a
hostile text ``a[ab]{298}c`` costs about 5 s per MB, while ``(a|b){1000}`` repeated costs
about 50 s per MB.  What is written out by hand is bounded by `MAX_PATTERN_CHARS`;
ordinary counts (``\\d{4}``, ``.{0,100}``) stay well inside."""

_PROBE = pa.array([""], type=pa.large_string())
_COUNT = re.compile(r"\{(\d+)(?:,(\d*))?\}")  # fixed, linear: reads counts in the pattern text

_UNSAFE_FIX = (
    "RE2 (the engine cpcstats uses, so that every pattern runs in time linear in the text) "
    "does not support look-arounds or back-references; rewrite the pattern, e.g. {rewrite}, "
    "or list the alternatives instead of a back-reference"
)
TOPIC_REWRITE = (
    "use exclude_regex for a negative look-ahead or look-behind (the excluded spans are "
    "removed before matching)"
)
DERIVE_REWRITE = (
    "for a negative look-ahead or look-behind put a pattern for the exception first, with "
    "its own value (the first matching pattern wins)"
)
_SIZE_FIX = (
    f"RE2 expands counted repetitions such as {{n}}; use smaller counts (at most "
    f"{MAX_EXPANDED_ATOMS} characters' worth in all, nested counts multiply), or + / * "
    "instead of a large count"
)
_SYNTAX_FIX = "escape special characters, e.g. \\( for a parenthesis or \\. for a dot"


def runnable(pattern: str, *, ignore_case: bool = True) -> str:
    """The pattern exactly as RE2 runs it (checked and matched in the same form)."""
    return f"(?i){pattern}" if ignore_case else pattern


def _re2_error(pattern: str) -> str | None:
    """RE2's own reason for refusing ``pattern``, or None if it compiles."""
    try:
        pc.match_substring_regex(_PROBE, pattern)
    except pa.ArrowInvalid as exc:
        return str(exc).removeprefix("Invalid regular expression: ")
    return None


def _atoms(items: Any, *, expand: bool) -> int:
    """Characters and classes ``items`` (a parsed pattern) stands for, with counted
    repetitions written out (``expand``) or as written."""
    total = 0
    for op, av in items:
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            low, high, sub = av
            copies = max(low if high == _c.MAXREPEAT else high, 1) if expand else 1
            total += copies * _atoms(sub, expand=expand)
        elif op is _c.SUBPATTERN:
            total += _atoms(av[3], expand=expand)
        elif op is _c.ATOMIC_GROUP:
            total += _atoms(av, expand=expand)
        elif op is _c.BRANCH:
            total += sum(_atoms(branch, expand=expand) for branch in av[1])
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            total += _atoms(av[1], expand=expand)
        elif op is _c.GROUPREF_EXISTS:
            total += sum(_atoms(b, expand=expand) for b in av[1:] if b is not None)
        elif op is not _c.AT:
            total += 1
    return total


def repetition_growth(pattern: str) -> int:
    """How many characters and classes ``pattern``'s counted repetitions add once written
    out (``[ab]{50}`` adds 49; see `MAX_EXPANDED_ATOMS`).

    Parsed with Python's regex parser (parsing only, nothing is matched).  Syntax only RE2
    knows (``\\pL``, ``[[:alpha:]]``) is estimated from the text instead, conservatively:
    the pattern's length times every count in it.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. FutureWarning for "[[" in a class
            parsed = _parser.parse(pattern)
        return _atoms(parsed, expand=True) - _atoms(parsed, expand=False)
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        counts = [max(int(high or low), 1) for low, high in _COUNT.findall(pattern)]
        if not counts:
            return 0
        estimate = len(pattern)
        for count in counts:
            estimate *= count
            if estimate > 1 << 40:
                break
        return estimate


def _python_error(pattern: str) -> str | None:
    """Python's wording of a syntax error (compiling only: nothing is matched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. FutureWarning for "[[" in a class
        try:
            re.compile(pattern)
        except re.error as exc:
            return str(exc)
        except (RecursionError, OverflowError, ValueError) as exc:  # absurd nesting / counts
            return f"{type(exc).__name__}: {exc}"
    return None


def check_pattern(
    pattern: object,
    *,
    file: str | None,
    where: str,
    column: str | None = None,
    ignore_case: bool = True,
    max_chars: int = MAX_PATTERN_CHARS,
    max_atoms: int | None = MAX_EXPANDED_ATOMS,
    rewrite: str = TOPIC_REWRITE,
) -> str:
    """Validate a user's pattern and return it in the form it runs (see `runnable`).

    ``where`` names the key in the user's words (``topic 'learning': regex`` or
    ``[contacts.derive.direction] pattern``); ``column`` is the error's column field.
    Raises a `SpecError` if the pattern is not a string, is longer than
    ``max_chars``, is not a regular expression, uses what RE2 cannot run in linear time, or
    expands to more than ``max_atoms`` characters (None: no such bound, for literal terms
    and for patterns joined from checked parts).  ``rewrite`` is the advice, in the fix,
    for saying without a look-around what the user meant.
    """
    if not isinstance(pattern, str):
        raise SpecError(
            f"{where} {pattern!r} must be a string (a regular expression in quotes)",
            file=file,
            column=column,
            fix="write the pattern in quotes, e.g. 'travel+ed to'",
        )
    shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
    if len(pattern) > max_chars:
        raise SpecError(
            f"{where} {shown!r} is {len(pattern):,} characters long; patterns may have at "
            f"most {max_chars:,} (matching time grows with the pattern's size)",
            file=file,
            column=column,
            fix="split it into several shorter patterns (any of them may match), or use "
            "`terms` for long lists of literal words",
        )
    compiled = runnable(pattern, ignore_case=ignore_case)
    reason = _re2_error(compiled)
    if reason is None:
        if max_atoms is not None and (growth := repetition_growth(pattern)) > max_atoms:
            raise SpecError(
                f"{where} {shown!r} grows by {growth:,} characters once its counted "
                f"repetitions ({{n}}) are written out; at most {max_atoms:,} are allowed "
                "(matching time per character grows with the pattern's written-out size)",
                file=file,
                column=column,
                fix=_SIZE_FIX,
            )
        return compiled
    syntax = _python_error(pattern)
    if syntax is not None:
        raise SpecError(
            f"{where} {shown!r} is not a valid regular expression: {syntax}",
            file=file,
            column=column,
            fix=_SYNTAX_FIX,
        )
    too_big = "repetition" in reason or "too large" in reason
    raise SpecError(
        f"{where} {shown!r} cannot be run safely: RE2 refuses it ({reason})",
        file=file,
        column=column,
        fix=_SIZE_FIX if too_big else _UNSAFE_FIX.format(rewrite=rewrite),
    )


def arrow_strings(texts: pd.Series) -> pd.Series:
    """The texts as Arrow-backed strings (missing stays missing, other values become text).

    Arrow strings are UTF-8; a Python string holding lone surrogates (undecodable bytes
    kept by ``surrogateescape``) cannot be, so each such character becomes ``?`` *for
    matching only*: the user's data is not changed.
    """
    try:
        strings = texts.astype("string[pyarrow]")
    except UnicodeEncodeError:
        cleaned = texts.map(
            lambda v: v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v
        )
        strings = cleaned.astype("string[pyarrow]")
    return strings


def _arrow(texts: pd.Series) -> pa.Array | pa.ChunkedArray:
    return pa.array(arrow_strings(texts).array)


def contains(texts: pd.Series, pattern: str, *, ignore_case: bool = True) -> np.ndarray:
    """Whether each text contains a match of ``pattern`` (missing text: False), with RE2.

    ``pattern`` should have passed `check_pattern`; a pattern RE2 refuses raises a
    SpecError here too, never a fallback to a backtracking engine.
    """
    compiled = runnable(pattern, ignore_case=ignore_case)
    try:
        hits = pc.match_substring_regex(_arrow(texts), compiled)
    except pa.ArrowInvalid:
        check_pattern(pattern, file=None, where="pattern", ignore_case=ignore_case)
        raise
    return hits.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def replace(
    texts: pd.Series, pattern: str, replacement: str, *, ignore_case: bool = True
) -> pd.Series:
    """Every match of ``pattern`` in each text replaced by ``replacement`` (RE2 rewrite
    syntax: ``\\1`` is the first group), as Arrow strings with the texts' index."""
    compiled = runnable(pattern, ignore_case=ignore_case)
    try:
        out = pc.replace_substring_regex(_arrow(texts), compiled, replacement)
    except pa.ArrowInvalid:
        check_pattern(pattern, file=None, where="pattern", ignore_case=ignore_case)
        raise
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks()
    return pd.Series(pd.arrays.ArrowStringArray(out), index=texts.index)
