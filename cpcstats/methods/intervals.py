"""Normal and few-cluster Student-t intervals: the one place their critical values come from.

Why one module: the designs report intervals from several estimators (imputation, event
studies, interaction-weighted aggregation, ETWFE), some with t(G − 1) reference
distributions for few clusters (Bell and McCaffrey 2002; Cameron, Gelbach and Miller 2008)
and some with the normal.  Written once, the rule "t with ``df`` when ``df`` is known and
positive, else the normal" cannot drift between them.
"""

from __future__ import annotations

import math

from scipy import stats

__all__ = ["Z95", "critical_value", "t_interval"]

#: the two-sided 95 % normal critical value
Z95 = float(stats.norm.ppf(0.975))


def critical_value(df: float | None = None, level: float = 0.95) -> float:
    """The two-sided critical value: Student t with ``df`` degrees of freedom when ``df`` is
    positive, else the standard normal (``df`` None, 0 or negative)."""
    q = 0.5 + level / 2
    if df is not None and df > 0:
        return float(stats.t.ppf(q, df))
    return float(stats.norm.ppf(q))


def t_interval(
    estimate: float, std_error: float, df: float | None, level: float = 0.95
) -> tuple[float, float, float]:
    """``(lower, upper, p_value)`` of an estimate with the reference distribution of
    `critical_value` (p-value NaN when the standard error is not positive)."""
    crit = critical_value(df, level)
    if std_error > 0:
        z = abs(estimate / std_error)
        p = float(2 * (stats.t.sf(z, df) if df is not None and df > 0 else stats.norm.sf(z)))
    else:
        p = math.nan
    return estimate - crit * std_error, estimate + crit * std_error, p
