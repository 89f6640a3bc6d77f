"""Parsing a model formula: tokens, names, parentheses and the ``~`` / ``|`` structure.

Why token by token: a formula comes from a specification file written by someone else,
so every token is checked (allowed transforms, no keywords, dunders or attribute
access, bounded literals and nesting) before `cpcstats.formula.expression` bounds
what patsy will evaluate; nothing is evaluated here.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cpcstats.errors import SpecError
from cpcstats.formula.expression import _check_expression
from cpcstats.formula.limits import (
    _TOKEN,
    KEYWORDS,
    MAX_DEPTH,
    MAX_FORMULA_CHARS,
    MAX_STRING,
    MAX_TOKENS,
    TRANSFORMS,
    _check_number,
    _short,
    _suggest,
)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Formula:
    """A parsed formula: response, right-hand side and fixed effects."""

    raw: str
    response: str
    rhs: str
    fixed_effects: tuple[str, ...]
    variables: tuple[str, ...]

    def patsy(self, *, fe_as_dummies: bool = False) -> str:
        """The patsy formula; fixed effects become ``C(fe)`` dummies when asked."""
        rhs = self.rhs
        if fe_as_dummies and self.fixed_effects:
            rhs += " + " + " + ".join(f"C({fe})" for fe in self.fixed_effects)
        return f"{self.response} ~ {rhs}"


def _tokens(text: str, *, where: str, file: str | None) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SpecError(
                f"{where} contains {text[pos : pos + 12]!r}, which a formula may not contain",
                file=file,
                column="formula",
                fix="use variables, numbers, + - * / : ** ( ) | and the transforms "
                + ", ".join(sorted(TRANSFORMS)),
            )
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _checked_tokens(text: object, *, file: str | None, key: str) -> list[tuple[str, str]]:
    """The formula's tokens, after its type, ``~``, length and token count are checked."""
    if not isinstance(text, str) or "~" not in text:
        raise SpecError(
            f"formula {text!r} has no '~'"[:300],
            file=file,
            column=key,
            fix='write it as "contacts ~ ruling + C(fh_status)"',
        )
    if len(text) > MAX_FORMULA_CHARS:
        raise SpecError(
            f"{key} {_short(text, 60)} has {len(text)} characters; at most "
            f"{MAX_FORMULA_CHARS} are allowed",
            file=file,
            column=key,
            fix="a model formula is short: list the variables, not generated terms",
        )
    tokens = _tokens(text, where=f"formula {text!r}", file=file)
    if len(tokens) > MAX_TOKENS:
        raise SpecError(
            f"{key} {_short(text, 60)} has {len(tokens)} tokens; at most {MAX_TOKENS} are allowed",
            file=file,
            column=key,
            fix="shorten the formula",
        )
    return tokens


@dataclass
class _Scan:
    """The state of the token scan: nesting depth and, per open parenthesis, whether it
    holds a call's arguments (where ``:`` would be Python code)."""

    text: str
    file: str | None
    key: str
    depth: int = 0
    parens: list[bool] = field(default_factory=list)

    def error(self, problem: str, fix: str, *, column: str = "formula") -> SpecError:
        return SpecError(problem, file=self.file, column=column, fix=fix)

    def operator(self, value: str, after_name: bool, nxt: str) -> None:
        """Parentheses and ``:``: calls, nesting depth and balance."""
        parens, text, key = self.parens, self.text, self.key
        if value == "(":
            parens.append(after_name)
        elif value == ")" and parens:
            parens.pop()
        elif value == ":" and any(parens):
            raise self.error(
                f"{key} {_short(text, 80)} has ':' inside a transform's parentheses, "
                "where it would be Python code",
                "interact terms outside calls, e.g. ruling:C(fh_status)",
                column=key,
            )
        if value == ")" and nxt == "(":
            raise self.error(
                f"formula {text!r} calls the result of an expression",
                "only the allowed transforms may be called, by name",
            )
        self.depth += value == "("
        self.depth -= value == ")"
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"{key} {_short(text, 60)} nests parentheses more than {MAX_DEPTH} deep",
                "remove redundant parentheses",
                column=key,
            )
        if self.depth < 0:
            raise self.error(f"formula {text!r} has an unmatched ')'", "balance the parentheses")

    def literal(self, kind: str, value: str, nxt: str) -> None:
        """A number or a quoted label: bounded, and never called."""
        text, key = self.text, self.key
        if kind == "number":
            _check_number(value, text=text, file=self.file, key=key)
        if kind == "string" and len(value) - 2 > MAX_STRING:
            raise self.error(
                f"{key} {_short(text, 60)} has a quoted label of {len(value) - 2} characters",
                f"category labels have at most {MAX_STRING} characters",
                column=key,
            )
        if nxt == "(":
            raise self.error(
                f"formula {text!r} calls {value}(), which is not an allowed transform",
                "only the allowed transforms may be called, by name",
            )

    def name(self, value: str, nxt: str, cols: set[str] | None) -> bool:
        """Check a name; True when it is a variable (not a transform or a keyword)."""
        text = self.text
        if keyword.iskeyword(value) or keyword.issoftkeyword(value):
            raise self.error(
                f"formula {text!r} uses the Python keyword {value!r}",
                "use panel variables, numbers and the allowed transforms only",
            )
        if "__" in value:
            raise self.error(
                f"formula {text!r} uses the name {value!r}; dunder names are not allowed",
                "use panel variables only",
            )
        if nxt == "(":
            if value not in TRANSFORMS:
                raise self.error(
                    f"formula {text!r} calls {value}(), which is not an allowed transform",
                    "allowed: " + ", ".join(sorted(TRANSFORMS)),
                )
            return False
        if nxt == "=" and value in KEYWORDS:
            return False
        if "." in value:
            raise self.error(
                f"formula {text!r} uses attribute access {value!r}", "use panel variables only"
            )
        if cols is not None and value not in cols:
            raise self.error(
                f"formula {text!r} uses the unknown variable {value!r}", _suggest(value, cols)
            )
        return True


def _variables(scan: _Scan, tokens: list[tuple[str, str]], cols: set[str] | None) -> list[str]:
    """Check every token in order; the variables the formula uses, first use first."""
    variables: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "op":
            scan.operator(value, i > 0 and tokens[i - 1][0] == "name", nxt)
        elif kind in ("number", "string"):
            scan.literal(kind, value, nxt)
        elif kind == "name" and scan.name(value, nxt, cols) and value not in variables:
            variables.append(value)
    if scan.depth != 0:
        raise scan.error(f"formula {scan.text!r} has an unmatched '('", "balance the parentheses")
    return variables


def _parts(
    text: str, tokens: list[tuple[str, str]], *, file: str | None
) -> tuple[str, str, tuple[str, ...]]:
    """Outcome, right-hand side and fixed effects: one ``~``, at most one ``|``."""
    if sum(1 for _, v in tokens if v == "~") != 1 or sum(1 for _, v in tokens if v == "|") > 1:
        raise SpecError(
            f"formula {text!r} must have one '~' and at most one '|'",
            file=file,
            column="formula",
            fix='e.g. "contacts ~ ruling | party_id + year"',
        )
    lhs, rhs = (s.strip() for s in text.split("~"))
    fes: tuple[str, ...] = ()
    if "|" in rhs:
        rhs, fe_part = (s.strip() for s in rhs.split("|"))
        fes = tuple(s.strip() for s in fe_part.split("+") if s.strip())
        bad = [f for f in fes if not re.fullmatch(_NAME, f)]
        if bad or not fes:
            raise SpecError(
                f"fixed effects {fe_part!r} must be variable names joined by '+'",
                file=file,
                column="formula",
                fix='e.g. "| party_id + year"',
            )
    if not re.fullmatch(_NAME, lhs):
        raise SpecError(
            f"the outcome {lhs!r} must be one variable",
            file=file,
            column="formula",
            fix="put transformations on the right-hand side only",
        )
    if not rhs:
        raise SpecError(
            f"formula {text!r} has no right-hand side",
            file=file,
            column="formula",
            fix='use "y ~ 1" for an intercept-only model',
        )
    return lhs, rhs, fes


def parse_formula(
    text: str,
    columns: Iterable[str] | None = None,
    *,
    file: str | None = None,
    key: str = "formula",
) -> Formula:
    """Parse and check a formula; with ``columns``, every variable must be one of them.

    ``key`` names the specification key the text came from (``formula`` or
    ``inflation``) in error messages.  Everything is checked on the text alone, so a
    hostile formula fails before any data is read; the checks run in a fixed order
    (size, then each token in turn, then the ``~`` / ``|`` structure, then the
    expression bounds), so a formula with several faults always reports the same one.
    """
    tokens = _checked_tokens(text, file=file, key=key)
    cols = None if columns is None else set(columns)
    variables = _variables(_Scan(text, file, key), tokens, cols)
    lhs, rhs, fes = _parts(text, tokens, file=file)
    _check_expression(rhs, text=text, file=file, key=key)
    return Formula(text, lhs, rhs, fes, tuple(variables))
