"""What a formula or filter may contain and how large it may be (see `cpcstats.formula`).

Why one module: the token grammar, the allowed transforms and the size bounds are read
by the formula parser, the expression checks and the filter checks alike.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

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


def categorical(data: Any, contrast: Any = None, levels: Any = None) -> Any:
    """patsy's ``C``, except that a pandas Categorical with neither a contrast nor levels
    is passed to patsy as it is.

    Why: patsy codes a Categorical through its codes, but one inside ``C``'s box cell by
    cell (a Python NA check and a dict lookup per cell: 400,000 cells, 0.3 CPU-s, in a
    demo replication, whose text columns reach patsy as Categoricals,
    `cpcstats.estimation.design`).  Without a contrast or levels the box adds nothing:
    patsy takes the Categorical's categories as the levels and its default contrast
    either way, and names the columns after the formula's text (``C(fh_status)[T.Free]``),
    so the design is the same (tests/test_design_categorical.py).
    """
    from patsy.categorical import C

    if (
        contrast is None
        and levels is None
        and isinstance(getattr(data, "dtype", None), pd.CategoricalDtype)
    ):
        return data
    return C(data, contrast, levels)


# what the bare transform names mean when patsy evaluates a checked formula (np.* as well)
FORMULA_NAMESPACE: dict[str, object] = {
    "C": categorical,
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


def _suggest(name: str, columns: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=3)
    return f"did you mean {', '.join(close)}?" if close else "check the panel's column names"


def _short(text: str, limit: int = 120) -> str:
    """``repr`` of a possibly huge user string, cut so that a message stays readable."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


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
