"""Fit statistics under the coefficients, as data (a "gof map" in modelsummary's words).

Why data: a new statistic (BIC, pseudo-R², ...) is one `Statistic` line, not a new
branch inside `cpcstats.reporting.tables.model_table.table`; callers may pass their
own sequence as ``table(..., gof=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cpcstats.estimation.results import FitResult
from cpcstats.estimation.vcov import variance_for_result
from cpcstats.reporting.format import MISSING
from cpcstats.reporting.tables.layout import Cell, Row

__all__ = ["GOF_MAP", "Statistic", "gof_rows", "se_label"]


def se_label(model: FitResult) -> str:
    """A short label of a model's standard errors for the statistics block."""
    spec = getattr(model, "spec", None)
    clusters = list(spec.cluster) if spec is not None and spec.cluster else []
    kind = model.se_type
    estimator = variance_for_result(kind)  # the label comes from the variance object
    return kind if estimator is None else estimator.table_label(kind, clusters, model.family)


@dataclass(frozen=True)
class Statistic:
    """One statistics row: how to read it from a fit, how to show it, and when.

    ``value`` returns ``None`` when a model lacks the statistic; that model's cell is then
    ``missing`` (empty for ``""``).  ``when="any"`` shows the row only if some model has
    the statistic; ``after`` shows it only if the row with that key is shown.  ``kind``
    ``"count"`` is an integer with thousands separators, ``"float"`` uses the table's
    digits, ``"text"`` is shown as it is.
    """

    key: str
    label: str
    value: Callable[[FitResult], Any]
    kind: Literal["count", "float", "text"] = "float"
    when: Literal["always", "any"] = "always"
    missing: str = MISSING
    paren: bool = False
    row_kind: str = "stat"
    after: str | None = None

    def cell(self, model: FitResult, digits: int) -> Cell:
        """The model's cell of this row."""
        value = self.value(model)
        if value is None:
            return Cell(self.missing) if self.missing else Cell()
        if self.kind == "count":
            return Cell(int(value), thousands=True)
        if self.kind == "float":
            return Cell(float(value), digits, paren=self.paren)
        return Cell(str(value))


#: The statistics block of every regression table, in display order.
GOF_MAP: tuple[Statistic, ...] = (
    Statistic("nobs", "N", lambda m: m.nobs, kind="count"),
    Statistic("n_clusters", "Clusters", lambda m: m.n_clusters, kind="count", when="any"),
    Statistic("loglik", "Log-likelihood", lambda m: m.loglik),
    Statistic("aic", "AIC", lambda m: m.aic),
    Statistic("alpha", "NB dispersion α", lambda m: m.alpha, when="any"),
    Statistic(
        "alpha_se",
        "",
        lambda m: m.alpha_se,
        when="any",
        missing="",
        paren=True,
        row_kind="se",
        after="alpha",
    ),
    Statistic(
        "fixed_effects",
        "Fixed effects",
        lambda m: ", ".join(m.fixed_effects) if m.fixed_effects else None,
        kind="text",
    ),
    Statistic("se_type", "Std. errors", se_label, kind="text"),
)


def gof_rows(
    models: Sequence[FitResult], digits: int, gof: Sequence[Statistic] = GOF_MAP
) -> tuple[Row, ...]:
    """The statistics rows of ``models``: one per statistic the rules above show."""
    shown: set[str] = set()
    rows = []
    for stat in gof:
        if stat.after is not None and stat.after not in shown:
            continue
        if stat.when == "any" and all(stat.value(m) is None for m in models):
            continue
        shown.add(stat.key)
        cells = tuple(stat.cell(m, digits) for m in models)
        rows.append(Row(stat.label, cells, kind=stat.row_kind))
    return tuple(rows)
