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

* a formula has at most `MAX_FORMULA_CHARS` characters, `MAX_TOKENS`
  tokens, `MAX_DEPTH` nested parentheses and `MAX_SUMMAND_TOKENS` tokens
  between top-level ``+`` signs (deep nesting exhausts Python's parser);
* a numeric literal has magnitude at most `MAX_LITERAL`, a quoted label at most
  `MAX_STRING` characters;
* there is no arithmetic between two literals (``9**9``, ``'a'*10``, ``1/0``), and a
  quoted label is never an operand (only an argument such as ``Treatment('F')``);
* ``**`` takes only a literal exponent of magnitude at most `MAX_EXPONENT`;
* the formula algebra (``*``, ``:``, ``/``, ``**``) expands to at most
  `MAX_TERMS` terms (``a*b*c*...`` doubles the terms with every factor).

With these rules every value patsy computes is a column operation of bounded size.
Sample filters are evaluated by walking their syntax tree (never ``eval``); they get
the same length, depth and literal bounds.

The package: `cpcstats.formula.limits` (the grammar's tokens, the transforms and the
bounds), `cpcstats.formula.parse` (`parse_formula`),
`cpcstats.formula.expression` (the bounds on what patsy evaluates) and
`cpcstats.formula.filters` (`check_filter`, `evaluate_filter`).
"""

from __future__ import annotations

from cpcstats.formula.filters import check_filter, evaluate_filter
from cpcstats.formula.limits import (
    FORMULA_NAMESPACE,
    KEYWORDS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_FILTER_CHARS,
    MAX_FORMULA_CHARS,
    MAX_LITERAL,
    MAX_STRING,
    MAX_SUMMAND_TOKENS,
    MAX_TERMS,
    MAX_TOKENS,
    TRANSFORMS,
)
from cpcstats.formula.parse import Formula, parse_formula

__all__ = [
    "FORMULA_NAMESPACE",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FILTER_CHARS",
    "MAX_FORMULA_CHARS",
    "MAX_LITERAL",
    "MAX_STRING",
    "MAX_SUMMAND_TOKENS",
    "MAX_TERMS",
    "MAX_TOKENS",
    "TRANSFORMS",
    "Formula",
    "check_filter",
    "evaluate_filter",
    "parse_formula",
]
