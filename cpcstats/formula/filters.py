"""Sample filters (``year >= 2002 and fh_status != 'NF'``): checked, then evaluated by
walking their syntax tree (never ``eval``).

Why a tree walk: a filter comes from a specification file written by someone else, so
it may hold only variables, constants, comparisons, ``in [...]`` and boolean operators,
with the same length, depth and literal bounds as formulas.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.formula.limits import MAX_DEPTH, MAX_FILTER_CHARS, MAX_LITERAL, _short, _suggest

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


def _parse_filter(text: object, *, file: str | None) -> ast.Expression:
    """The filter's syntax tree, after its type, length and nesting depth are checked."""
    if not isinstance(text, str):
        raise SpecError(
            f"sample filter {text!r} must be a string"[:300],
            file=file,
            column="sample",
            fix='e.g. sample = "year >= 2002"',
        )
    if len(text) > MAX_FILTER_CHARS:
        raise SpecError(
            f"sample filter {_short(text, 60)} has {len(text)} characters; at most "
            f"{MAX_FILTER_CHARS} are allowed",
            file=file,
            column="sample",
            fix='a sample filter is a short condition, e.g. "year >= 2002"',
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise SpecError(
            f"sample filter {_short(text)} is not a valid expression",
            file=file,
            column="sample",
            fix="e.g. \"year >= 2002 and fh_status != 'NF'\"",
        ) from exc
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH * 2:
            raise SpecError(
                f"sample filter {_short(text)} nests more than {MAX_DEPTH * 2} levels deep",
                file=file,
                column="sample",
                fix="simplify the condition (remove repeated not/- and parentheses)",
            )
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return tree


def _check_filter_node(node: ast.AST, text: str, cols: set[str] | None, file: str | None) -> None:
    """One node of a filter: an allowed kind, a known variable, a bounded constant."""
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
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and not abs(node.value) <= MAX_LITERAL
    ):
        raise SpecError(
            f"sample filter {_short(text)} has the number {_short(str(node.value), 20)}, "
            f"larger than {MAX_LITERAL:g}",
            file=file,
            column="sample",
            fix=f"compare with numbers of magnitude at most {MAX_LITERAL:g}",
        )


def check_filter(
    text: str, columns: Iterable[str] | None = None, *, file: str | None = None
) -> ast.Expression:
    """Parse a sample filter and reject anything but comparisons of variables and constants.

    Length, nesting depth and numbers are bounded first: Python's parser runs out of
    memory on ``- - - ... x`` thousands deep, and the tree walk that evaluates a filter
    must not exhaust the recursion limit or compare columns with 400-digit integers.
    """
    tree = _parse_filter(text, file=file)
    cols = None if columns is None else set(columns)
    for node in ast.walk(tree):
        _check_filter_node(node, text, cols, file)
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
