"""Compatibility shim: the Xi-era break design is `cpcstats.designs.xi_break`.

The generic tests are in `cpcstats.methods.breaks`; this module only re-exports the
old public names (and ``_null_draws``, which tests/test_design_xi.py reads) for code that
still imports ``cpcstats.designs.breaks``.
"""

from __future__ import annotations

from cpcstats.designs.xi_break import (
    NAME,
    TITLE,
    break_interactions,
    known_break,
    run,
    sup_wald,
)
from cpcstats.methods.break_critical import (
    ANDREWS_1993_TABLE_I,
    HANSEN_2000_C95,
    andrews_critical_values,
    candidate_years,
    null_draws,
    sup_wald_pvalue,
)
from cpcstats.methods.breaks import (
    LEVEL,
    SHIFT_TERMS,
    TREND,
    TREND_SHIFT,
    BreakInteractions,
    KnownBreak,
    SupWald,
)

__all__ = [
    "ANDREWS_1993_TABLE_I",
    "HANSEN_2000_C95",
    "LEVEL",
    "NAME",
    "SHIFT_TERMS",
    "TITLE",
    "TREND",
    "TREND_SHIFT",
    "BreakInteractions",
    "KnownBreak",
    "SupWald",
    "andrews_critical_values",
    "break_interactions",
    "candidate_years",
    "known_break",
    "run",
    "sup_wald",
    "sup_wald_pvalue",
]

_null_draws = null_draws
