"""Bounds on what patsy will evaluate: literal arithmetic, exponents, labels, term count.

Why apart from the parser: patsy evaluates every term as Python, so after the token
checks of `cpcstats.formula.parse_formula` each top-level summand of the
right-hand side is read with Python's parser and its syntax tree checked here (see the
package docstring for the rules and why each one exists).
"""

from __future__ import annotations

import ast

from cpcstats.errors import SpecError
from cpcstats.formula.limits import (
    _TOKEN,
    MAX_EXPONENT,
    MAX_SUMMAND_TOKENS,
    MAX_TERMS,
    _short,
)


def _is_literal(node: ast.AST) -> bool:
    """A constant, possibly signed (``2``, ``-2``, ``'F'``)."""
    while isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant)


def _literal_value(node: ast.AST) -> object:
    sign = 1
    while isinstance(node, ast.UnaryOp):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    value = node.value if isinstance(node, ast.Constant) else None
    return sign * value if isinstance(value, int | float) else value


_FORMULA_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _summands(rhs: str) -> list[tuple[str, str]]:
    """The right-hand side split at its top-level binary ``+`` and ``-``: (sign, text).

    ``+`` and ``-`` bind loosest in patsy's formula algebra, so each summand can be
    checked alone; this keeps every piece handed to Python's parser short (a 200-term
    formula as one chain would exhaust the parser's recursion limit).
    """
    out: list[tuple[str, str]] = []
    pos, depth, start, sign, prev = 0, 0, 0, "+", "op"
    while pos < len(rhs):
        match = _TOKEN.match(rhs, pos)
        if not match or match.end() == pos:
            break
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "op" and value in "+-" and depth == 0 and prev != "op":
            out.append((sign, rhs[start : match.start(kind)]))
            sign, start = value, match.end()
        depth += value == "("
        depth -= value == ")"
        prev = "value" if kind != "op" or value == ")" else "op"
        pos = match.end()
    out.append((sign, rhs[start:]))
    return out


def _check_expression(rhs: str, *, text: str, file: str | None, key: str) -> None:
    """Bound what patsy will evaluate: literal arithmetic, exponents, labels, term count.

    Each top-level summand is read with Python's parser after ``:`` becomes ``*``.
    The number of terms is bounded by ``g = terms + 1``: summands add (a subtracted
    one may add at most one, ``- 1`` removing the intercept), and inside a summand
    ``*``, ``/`` and ``:`` all multiply ``g``, so their precedences do not matter.
    """
    bound = 1
    for sign, piece in _summands(rhs):
        piece = piece.strip()
        if len(_TOKEN.findall(piece)) > MAX_SUMMAND_TOKENS:
            raise SpecError(
                f"{key} {_short(text, 80)}: the term {_short(piece, 60)} has more than "
                f"{MAX_SUMMAND_TOKENS} tokens",
                file=file,
                column=key,
                fix="split it into simpler terms joined by +",
            )
        g = _check_summand(piece, text=text, file=file, key=key)
        bound = min(MAX_TERMS + 2, bound + (g - 1 if sign == "+" else 1))
    if bound - 1 > MAX_TERMS:
        raise SpecError(
            f"{key} {_short(text, 80)}: expands to more than {MAX_TERMS} terms",
            file=file,
            column=key,
            fix="interact fewer variables (a*b*c*d has 15 terms; every further factor doubles it)",
        )


class _Summand:
    """The rules for every node of one summand's syntax tree (see `_check_summand`)."""

    def __init__(self, piece: str, *, text: str, file: str | None, key: str) -> None:
        self.piece, self.text, self.file, self.key = piece, text, file, key

    def fail(self, node: ast.AST | None, problem: str, fix: str) -> SpecError:
        part = ast.get_source_segment(self.piece, node) if node is not None else self.piece
        where = f" in {_short(part, 60)}" if part and part != self.text else ""
        return SpecError(
            f"{self.key} {_short(self.text, 80)}{where}: {problem}",
            file=self.file,
            column=self.key,
            fix=fix,
        )

    def walk(self, node: ast.AST, inside_call: bool) -> None:
        """Check ``node`` and its children; ``inside_call``: patsy evaluates it as Python."""
        if isinstance(node, ast.BinOp):
            self.binop(node)
        elif isinstance(node, ast.UnaryOp):
            self.unaryop(node)
        elif isinstance(node, ast.Constant):
            self.constant(node, inside_call)
        elif isinstance(node, ast.Call):
            for child in (*node.args, *(k.value for k in node.keywords)):
                self.walk(child, True)
            return
        elif isinstance(node, ast.Tuple) and not inside_call:
            raise self.fail(node, "a tuple stands as a term", "tuples may only be arguments")
        elif not isinstance(node, ast.Name | ast.Attribute | ast.Expression | ast.Tuple):
            raise self.fail(
                node,
                f"uses {type(node).__name__}, which a formula may not contain",
                "use variables, numbers, + - * / : ** ( ) and the allowed transforms",
            )
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.operator | ast.unaryop | ast.expr_context):
                self.walk(child, inside_call)

    def binop(self, node: ast.BinOp) -> None:
        if not isinstance(node.op, _FORMULA_OPS):
            raise self.fail(node, "uses an operator formulas do not allow", "use + - * / : **")
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                raise self.fail(
                    node,
                    "a quoted label is used in arithmetic",
                    "quoted labels may only be arguments, e.g. Treatment(reference='F')",
                )
            if isinstance(side, ast.Tuple):  # (1, 2) * 10**12 would allocate for ever
                raise self.fail(
                    node, "a tuple is used in arithmetic", "tuples may only be arguments"
                )
        if _is_literal(node.left) and _is_literal(node.right):
            raise self.fail(
                node,
                "arithmetic between two numbers is not allowed (it would run as Python "
                "before any data is used)",
                "write the computed number instead, e.g. I(x / 100)",
            )
        if isinstance(node.op, ast.Pow):
            self.power(node)

    def power(self, node: ast.BinOp) -> None:
        if any(
            isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.left)
        ):  # (((x**10)**10)**10)... multiplies the exponents
            raise self.fail(
                node,
                "a power of a power is not allowed",
                "write one power, e.g. I(x**4) instead of I((x**2)**2)",
            )
        exponent = _literal_value(node.right)
        if (
            not _is_literal(node.right)
            or not isinstance(exponent, int | float)
            or abs(exponent) > MAX_EXPONENT
        ):
            raise self.fail(
                node,
                f"the exponent of ** must be a number of magnitude at most {MAX_EXPONENT}",
                "e.g. I(polyarchy**2)",
            )

    def unaryop(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise self.fail(node, "uses an operator formulas do not allow", "use + - * / : **")
        inner = node.operand
        if isinstance(inner, ast.Tuple) or (
            isinstance(inner, ast.Constant) and isinstance(inner.value, str)
        ):
            raise self.fail(node, "a quoted label is used in arithmetic", "remove the sign")

    def constant(self, node: ast.Constant, inside_call: bool) -> None:
        if isinstance(node.value, str) and not inside_call:
            raise self.fail(
                node,
                "a quoted label stands as a term",
                "quoted labels may only be arguments, e.g. Treatment(reference='F')",
            )
        if not isinstance(node.value, str | int | float) or isinstance(node.value, bool):
            raise self.fail(node, "has an unsupported constant", "use numbers")


def _check_summand(piece: str, *, text: str, file: str | None, key: str) -> int:
    """Check one summand (see `_check_expression`); return its term bound ``g``."""
    checker = _Summand(piece, text=text, file=file, key=key)
    try:
        tree = ast.parse(piece.replace(":", "*"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise checker.fail(
            None, "is not a well-formed formula", 'e.g. "contacts ~ ruling + x"'
        ) from exc
    checker.walk(tree, False)
    return _term_bound(tree.body)


def _term_bound(node: ast.AST) -> int:
    """An upper bound on 1 + the number of patsy terms of a formula expression, capped.

    ``g = terms + 1`` multiplies under ``*``, ``/`` and ``:`` (``a*b`` has at most
    ``Ta + Tb + Ta*Tb`` terms) and adds under ``+``; the cap keeps the numbers small.
    """
    cap = MAX_TERMS + 2
    if isinstance(node, ast.BinOp):
        left = _term_bound(node.left)
        if isinstance(node.op, ast.Add):
            return min(cap, left + _term_bound(node.right) - 1)
        if isinstance(node.op, ast.Sub):
            return min(cap, left + 1)
        if isinstance(node.op, ast.Pow):
            power = _literal_value(node.right)
            times = int(power) if isinstance(power, int | float) and power >= 1 else 1
            out = 1
            for _ in range(times):
                out = min(cap, out * left)
            return min(out, cap, 2 ** min(left - 1, 20))
        return min(cap, left * _term_bound(node.right))
    if isinstance(node, ast.UnaryOp):
        return min(cap, _term_bound(node.operand) + 1)
    return 2
