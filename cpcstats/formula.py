"""Model formulas (``y ~ x1 * C(x2) | fe1 + fe2``) and sample filters, checked before use.

Formulas follow patsy with fixest's ``|`` for fixed effects.  Because
formulas and filters come from specification files written by other people,
they are treated as data: a formula may contain only panel variables,
numbers, quoted category labels, formula operators and a fixed list of
transforms; a filter may contain only variables, constants, comparisons and
boolean operators.  Anything else (attribute access, imports, other calls,
dunder names) is rejected *before* anything is evaluated.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError

# transforms a formula may call (patsy evaluates them; nothing else is callable)
TRANSFORMS = frozenset(
    {
        "C",
        "Treatment",
        "Sum",
        "I",
        "center",
        "standardize",
        "scale",
        "log",
        "log1p",
        "exp",
        "sqrt",
        "abs",
        "np.log",
        "np.log1p",
        "np.exp",
        "np.sqrt",
        "np.abs",
    }
)
KEYWORDS = frozenset({"reference", "levels"})
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'[\w .\-/]*'|"[\w .\-/]*")
    | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<op>\*\*|[~+\-*/:|(),=])
    )""",
    re.VERBOSE,
)


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


def _suggest(name: str, columns: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=3)
    return f"did you mean {', '.join(close)}?" if close else "check the panel's column names"


def parse_formula(
    text: str, columns: Iterable[str] | None = None, *, file: str | None = None
) -> Formula:
    """Parse and check a formula; with ``columns``, every variable must be one of them."""
    if not isinstance(text, str) or "~" not in text:
        raise SpecError(
            f"formula {text!r} has no '~'",
            file=file,
            column="formula",
            fix='write it as "contacts ~ ruling + C(fh_status)"',
        )
    tokens = _tokens(text, where=f"formula {text!r}", file=file)
    cols = None if columns is None else set(columns)
    variables: list[str] = []
    depth = 0
    for i, (kind, value) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "op":
            if value == ")" and nxt == "(":
                raise SpecError(
                    f"formula {text!r} calls the result of an expression",
                    file=file,
                    column="formula",
                    fix="only the allowed transforms may be called, by name",
                )
            depth += value == "("
            depth -= value == ")"
            if depth < 0:
                raise SpecError(
                    f"formula {text!r} has an unmatched ')'",
                    file=file,
                    column="formula",
                    fix="balance the parentheses",
                )
            continue
        if kind in ("number", "string") and nxt == "(":
            raise SpecError(
                f"formula {text!r} calls {value}(), which is not an allowed transform",
                file=file,
                column="formula",
                fix="only the allowed transforms may be called, by name",
            )
        if kind != "name":
            continue
        if keyword.iskeyword(value) or keyword.issoftkeyword(value):
            raise SpecError(
                f"formula {text!r} uses the Python keyword {value!r}",
                file=file,
                column="formula",
                fix="use panel variables, numbers and the allowed transforms only",
            )
        if "__" in value:
            raise SpecError(
                f"formula {text!r} uses the name {value!r}; dunder names are not allowed",
                file=file,
                column="formula",
                fix="use panel variables only",
            )
        if nxt == "(":
            if value not in TRANSFORMS:
                raise SpecError(
                    f"formula {text!r} calls {value}(), which is not an allowed transform",
                    file=file,
                    column="formula",
                    fix="allowed: " + ", ".join(sorted(TRANSFORMS)),
                )
            continue
        if nxt == "=" and value in KEYWORDS:
            continue
        if "." in value:
            raise SpecError(
                f"formula {text!r} uses attribute access {value!r}",
                file=file,
                column="formula",
                fix="use panel variables only",
            )
        if cols is not None and value not in cols:
            raise SpecError(
                f"formula {text!r} uses the unknown variable {value!r}",
                file=file,
                column="formula",
                fix=_suggest(value, cols),
            )
        if value not in variables:
            variables.append(value)
    if depth != 0:
        raise SpecError(
            f"formula {text!r} has an unmatched '('",
            file=file,
            column="formula",
            fix="balance the parentheses",
        )
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
        bad = [f for f in fes if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f)]
        if bad or not fes:
            raise SpecError(
                f"fixed effects {fe_part!r} must be variable names joined by '+'",
                file=file,
                column="formula",
                fix='e.g. "| party_id + year"',
            )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", lhs):
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
    return Formula(text, lhs, rhs, fes, tuple(variables))


# --------------------------------------------------------------------------- sample filters
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
)


def check_filter(
    text: str, columns: Iterable[str] | None = None, *, file: str | None = None
) -> ast.Expression:
    """Parse a sample filter and reject anything but comparisons of variables and constants."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(
            f"sample filter {text!r} is not a valid expression",
            file=file,
            column="sample",
            fix="e.g. \"year >= 2002 and fh_status != 'NF'\"",
        ) from exc
    cols = None if columns is None else set(columns)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise SpecError(
                f"sample filter {text!r} uses {type(node).__name__}, which is not allowed",
                file=file,
                column="sample",
                fix="use variables, numbers, quoted labels, comparisons, and/or/not, in [...]",
            )
        if isinstance(node, ast.Name):
            if "__" in node.id:
                raise SpecError(
                    f"sample filter {text!r} uses the name {node.id!r}",
                    file=file,
                    column="sample",
                    fix="use panel variables only",
                )
            if cols is not None and node.id not in cols:
                raise SpecError(
                    f"sample filter {text!r} uses the unknown variable {node.id!r}",
                    file=file,
                    column="sample",
                    fix=_suggest(node.id, cols),
                )
        if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | float | bool):
            raise SpecError(
                f"sample filter {text!r} has an unsupported constant",
                file=file,
                column="sample",
                fix="use numbers or quoted labels",
            )
    return tree


def evaluate_filter(text: str, data: pd.DataFrame, *, file: str | None = None) -> pd.Series:
    """Evaluate a checked filter on a frame by walking its syntax tree (no ``eval``)."""
    tree = check_filter(text, data.columns, file=file)

    def value(node: ast.AST) -> object:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Name):
            return data[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [value(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp):
            inner = value(node.operand)
            return ~_as_bool(inner) if isinstance(node.op, ast.Not) else -inner  # type: ignore
        if isinstance(node, ast.BoolOp):
            parts = [_as_bool(value(v)) for v in node.values]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if isinstance(node.op, ast.And) else (out | p)
            return out
        if isinstance(node, ast.Compare):
            left = value(node.left)
            result = pd.Series(True, index=data.index)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = value(comp)
                result &= _compare(op, left, right)
                left = right
            return result
        raise SpecError(f"sample filter {text!r} cannot be evaluated", file=file)

    try:
        out = value(tree)
    except (TypeError, ValueError) as exc:
        raise SpecError(
            f"sample filter {text!r} compares values of different kinds ({exc})",
            file=file,
            column="sample",
            fix="compare numbers with numbers and labels with quoted labels, "
            "e.g. year >= 2005, fh_status in ['F', 'PF']",
        ) from exc
    if not isinstance(out, pd.Series):
        out = pd.Series(bool(out), index=data.index)
    return _as_bool(out)


def _as_bool(x: object) -> pd.Series:
    series = x if isinstance(x, pd.Series) else pd.Series(x)
    return series.fillna(False).astype(bool)


def _compare(op: ast.cmpop, left: object, right: object) -> pd.Series:
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(right, list):
            raise TypeError("'in' needs a list such as [2005, 2006]")
        member = pd.Series(left).isin(right)
        return member if isinstance(op, ast.In) else ~member
    ops = {
        ast.Eq: np.equal,
        ast.NotEq: np.not_equal,
        ast.Lt: np.less,
        ast.LtE: np.less_equal,
        ast.Gt: np.greater,
        ast.GtE: np.greater_equal,
    }
    return _as_bool(ops[type(op)](left, right))
