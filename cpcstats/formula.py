"""Model formulas (``y ~ x1 * C(x2) | fe1 + fe2``) and sample filters, checked before use.

Formulas follow patsy with fixest's ``|`` for fixed effects.  Because
formulas and filters come from specification files written by other people,
they are treated as data: a formula may contain only panel variables,
numbers, quoted category labels, formula operators and a fixed list of
transforms; a filter may contain only variables, constants, comparisons and
boolean operators.  Anything else (attribute access, imports, other calls,
dunder names) is rejected *before* anything is evaluated.

Patsy evaluates every term and every transform argument as Python (``eval`` in the
data's namespace), so a grammar of allowed *names* is not enough: ``I(9**9**9)`` uses
only numbers and operators and still runs as Python integer arithmetic until killed.
The bounds below close every construct that reaches that ``eval``:

* a formula has at most :data:`MAX_FORMULA_CHARS` characters, :data:`MAX_TOKENS`
  tokens, :data:`MAX_DEPTH` nested parentheses and :data:`MAX_SUMMAND_TOKENS` tokens
  between top-level ``+`` signs (deep nesting exhausts Python's parser);
* a numeric literal has magnitude at most :data:`MAX_LITERAL`, a quoted label at most
  :data:`MAX_STRING` characters;
* there is no arithmetic between two literals (``9**9``, ``'a'*10``, ``1/0``), and a
  quoted label is never an operand (only an argument such as ``Treatment('F')``);
* ``**`` takes only a literal exponent of magnitude at most :data:`MAX_EXPONENT`;
* the formula algebra (``*``, ``:``, ``/``, ``**``) expands to at most
  :data:`MAX_TERMS` terms (``a*b*c*...`` doubles the terms with every factor).

With these rules every value patsy computes is a column operation of bounded size.
Sample filters are evaluated by walking their syntax tree (never ``eval``); they get
the same length, depth and literal bounds.
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
# what the bare transform names mean when patsy evaluates a checked formula (np.* as well)
FORMULA_NAMESPACE: dict[str, object] = {
    "np": np,
    "log": np.log,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
# bounds that keep every formula and filter a bounded column computation (see module doc)
MAX_FORMULA_CHARS = 20_000  # designs generate event-time formulas of a few hundred terms
MAX_FILTER_CHARS = 2000
MAX_TOKENS = 5_000
MAX_SUMMAND_TOKENS = 300  # one term between top-level + signs (Python's parser recurses)
MAX_DEPTH = 20
MAX_LITERAL = 1e12
MAX_EXPONENT = 10
MAX_STRING = 100
MAX_TERMS = 2_000  # additive terms grow only with the length; products double
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


def _short(text: str, limit: int = 120) -> str:
    """``repr`` of a possibly huge user string, cut so that a message stays readable."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


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
    hostile formula fails before any data is read.
    """
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
    cols = None if columns is None else set(columns)
    variables: list[str] = []
    depth = 0
    parens: list[bool] = []  # per open parenthesis: does it hold a call's arguments?
    for i, (kind, value) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "op":
            if value == "(":
                parens.append(i > 0 and tokens[i - 1][0] == "name")
            elif value == ")" and parens:
                parens.pop()
            elif value == ":" and any(parens):
                raise SpecError(
                    f"{key} {_short(text, 80)} has ':' inside a transform's parentheses, "
                    "where it would be Python code",
                    file=file,
                    column=key,
                    fix="interact terms outside calls, e.g. ruling:C(fh_status)",
                )
            if value == ")" and nxt == "(":
                raise SpecError(
                    f"formula {text!r} calls the result of an expression",
                    file=file,
                    column="formula",
                    fix="only the allowed transforms may be called, by name",
                )
            depth += value == "("
            depth -= value == ")"
            if depth > MAX_DEPTH:
                raise SpecError(
                    f"{key} {_short(text, 60)} nests parentheses more than {MAX_DEPTH} deep",
                    file=file,
                    column=key,
                    fix="remove redundant parentheses",
                )
            if depth < 0:
                raise SpecError(
                    f"formula {text!r} has an unmatched ')'",
                    file=file,
                    column="formula",
                    fix="balance the parentheses",
                )
            continue
        if kind == "number":
            _check_number(value, text=text, file=file, key=key)
        if kind == "string" and len(value) - 2 > MAX_STRING:
            raise SpecError(
                f"{key} {_short(text, 60)} has a quoted label of {len(value) - 2} characters",
                file=file,
                column=key,
                fix=f"category labels have at most {MAX_STRING} characters",
            )
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
    _check_expression(rhs, text=text, file=file, key=key)
    return Formula(text, lhs, rhs, fes, tuple(variables))


def _check_number(value: str, *, text: str, file: str | None, key: str) -> None:
    """A numeric literal is at most MAX_LITERAL in magnitude (``10**400`` never starts)."""
    number = float(value) if len(value) <= 40 else float("inf")
    if not number <= MAX_LITERAL:
        raise SpecError(
            f"{key} {_short(text, 60)} has the number {_short(value, 20)}, larger than "
            f"{MAX_LITERAL:g}",
            file=file,
            column=key,
            fix=f"rescale the variable instead (numbers in formulas are at most {MAX_LITERAL:g})",
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


def _check_summand(piece: str, *, text: str, file: str | None, key: str) -> int:
    """Check one summand (see :func:`_check_expression`); return its term bound ``g``."""
    source = piece.replace(":", "*")

    def fail(node: ast.AST | None, problem: str, fix: str) -> SpecError:
        part = ast.get_source_segment(piece, node) if node is not None else piece
        where = f" in {_short(part, 60)}" if part and part != text else ""
        return SpecError(
            f"{key} {_short(text, 80)}{where}: {problem}", file=file, column=key, fix=fix
        )

    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise fail(None, "is not a well-formed formula", 'e.g. "contacts ~ ruling + x"') from exc

    def walk(node: ast.AST, inside_call: bool) -> None:
        """Rules for every node; ``inside_call``: patsy evaluates it as Python."""
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, _FORMULA_OPS):
                raise fail(node, "uses an operator formulas do not allow", "use + - * / : **")
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    raise fail(
                        node,
                        "a quoted label is used in arithmetic",
                        "quoted labels may only be arguments, e.g. Treatment(reference='F')",
                    )
                if isinstance(side, ast.Tuple):  # (1, 2) * 10**12 would allocate for ever
                    raise fail(
                        node, "a tuple is used in arithmetic", "tuples may only be arguments"
                    )
            if _is_literal(node.left) and _is_literal(node.right):
                raise fail(
                    node,
                    "arithmetic between two numbers is not allowed (it would run as Python "
                    "before any data is used)",
                    "write the computed number instead, e.g. I(x / 100)",
                )
            if isinstance(node.op, ast.Pow):
                if any(
                    isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)
                    for n in ast.walk(node.left)
                ):  # (((x**10)**10)**10)... multiplies the exponents
                    raise fail(
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
                    raise fail(
                        node,
                        f"the exponent of ** must be a number of magnitude at most {MAX_EXPONENT}",
                        "e.g. I(polyarchy**2)",
                    )
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise fail(node, "uses an operator formulas do not allow", "use + - * / : **")
            inner = node.operand
            if isinstance(inner, ast.Tuple) or (
                isinstance(inner, ast.Constant) and isinstance(inner.value, str)
            ):
                raise fail(node, "a quoted label is used in arithmetic", "remove the sign")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str) and not inside_call:
                raise fail(
                    node,
                    "a quoted label stands as a term",
                    "quoted labels may only be arguments, e.g. Treatment(reference='F')",
                )
            if not isinstance(node.value, str | int | float) or isinstance(node.value, bool):
                raise fail(node, "has an unsupported constant", "use numbers")
        elif isinstance(node, ast.Call):
            for child in (*node.args, *(k.value for k in node.keywords)):
                walk(child, True)
            return
        elif isinstance(node, ast.Tuple) and not inside_call:
            raise fail(node, "a tuple stands as a term", "tuples may only be arguments")
        elif not isinstance(node, ast.Name | ast.Attribute | ast.Expression | ast.Tuple):
            raise fail(
                node,
                f"uses {type(node).__name__}, which a formula may not contain",
                "use variables, numbers, + - * / : ** ( ) and the allowed transforms",
            )
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.operator | ast.unaryop | ast.expr_context):
                walk(child, inside_call)

    walk(tree, False)
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
    """Parse a sample filter and reject anything but comparisons of variables and constants.

    Length, nesting depth and numbers are bounded first: Python's parser runs out of
    memory on ``- - - ... x`` thousands deep, and the tree walk that evaluates a filter
    must not exhaust the recursion limit or compare columns with 400-digit integers.
    """
    if not isinstance(text, str):
        raise SpecError(
            f"sample filter {text!r} must be a string"[:300],
            file=file,
            column="sample",
            fix="e.g. sample = \"year >= 2002\"",
        )
    if len(text) > MAX_FILTER_CHARS:
        raise SpecError(
            f"sample filter {_short(text, 60)} has {len(text)} characters; at most "
            f"{MAX_FILTER_CHARS} are allowed",
            file=file,
            column="sample",
            fix="a sample filter is a short condition, e.g. \"year >= 2002\"",
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
