"""Fit statistics under the coefficients, as data (a "gof map" in modelsummary's words).

Why data: a new statistic (BIC, pseudo-R², ...) is one `Statistic` line, not a new
branch inside `cpcstats.reporting.tables.model_table.table`.  A caller chooses, orders
and relabels the rows with `resolve_gof` (``table(..., gof=["nobs", "aic"])`` or
``gof={"nobs": "Observations", "aic": {"label": "AIC", "digits": 1}}``) or passes its
own `Statistic` objects.

Pseudo-R² is McFadden's, 1 - ll/ll0, with ll0 the log-likelihood of the same family with
only an intercept in every part (and the same exposure / offset), on the same sample; for
FE-Poisson and FE-NB the null has no fixed effects either (fixest's ``pr2``, not its
"within" pseudo-R²).  `cpcstats.estimation.null_model` computes ll0 and ``fit`` stores it in
``FitResult.extra["loglik_null"]``.  Models without ll0 (GEE, OLS-FE) and flagged fits
show no number (the table's missing mark); the row is left out when no model has one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from cpcstats.estimation.results import FitResult
from cpcstats.estimation.vcov import variance_for_result
from cpcstats.reporting.format import MISSING
from cpcstats.reporting.labels import Labels
from cpcstats.reporting.tables.layout import Cell, Row

__all__ = [
    "GOF_CATALOGUE",
    "GOF_MAP",
    "Statistic",
    "gof_rows",
    "pseudo_r2",
    "resolve_gof",
    "se_label",
]


def se_label(model: FitResult, labels: Labels | None = None) -> str:
    """A short label of a model's standard errors for the statistics block, its cluster
    variables by their labels ("cluster: Country")."""
    spec = getattr(model, "spec", None)
    clusters = list(spec.cluster) if spec is not None and spec.cluster else []
    if labels is not None:
        clusters = [labels.variable(c) for c in clusters]
    kind = model.se_type
    estimator = variance_for_result(kind)  # the label comes from the variance object
    return kind if estimator is None else estimator.table_label(kind, clusters, model.family)


def pseudo_r2(model: FitResult) -> float | None:
    """McFadden's pseudo-R², 1 - ll/ll0, ll0 the intercept-only model of the same family
    (`FitResult.pseudo_r2`: None without ll0 -- GEE, OLS-FE --, without a finite
    log-likelihood, and for a flagged fit)."""
    return model.pseudo_r2


def _finite(value: Any) -> Any:
    """``value``, or None for NaN (a family without a likelihood has no AIC)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Statistic:
    """One statistics row: how to read it from a fit, how to show it, and when.

    ``value`` returns ``None`` (or NaN) when a model lacks the statistic; that model's cell
    is then ``missing`` (empty for ``""``).  ``when="any"`` shows the row only if some
    model has the statistic; ``after`` shows it only if the row with that key is shown.
    ``kind`` ``"count"`` is an integer with thousands separators, ``"float"`` uses
    ``digits`` (None: the table's digits; ``thousands`` adds separators), ``"text"`` is
    shown as it is.  ``se_of``: the row is a standard error (hidden for flagged fits,
    whose SEs mean nothing).
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
    digits: int | None = None
    se_of: str | None = None
    thousands: bool = False
    uses_labels: bool = False

    def read(self, model: FitResult, labels: Labels | None = None) -> Any:
        """The statistic of ``model`` (None when it has none); ``uses_labels``: the value
        function takes the table's labels too."""
        value = self.value(model, labels) if self.uses_labels else self.value(model)
        return _finite(value)

    def cell(self, model: FitResult, digits: int, labels: Labels | None = None) -> Cell:
        """The model's cell of this row."""
        value = self.read(model, labels)
        if value is None or (self.se_of is not None and model.flagged):
            return Cell(self.missing) if self.missing else Cell()
        if self.kind == "count":
            return Cell(int(value), thousands=True)
        if self.kind == "float":
            shown = digits if self.digits is None else self.digits
            return Cell(float(value), shown, paren=self.paren, thousands=self.thousands)
        return Cell(str(value))


#: Every statistic a table can show, by key (`resolve_gof` picks from these).
GOF_CATALOGUE: dict[str, Statistic] = {
    s.key: s
    for s in (
        Statistic("nobs", "N", lambda m: m.nobs, kind="count"),
        Statistic("n_clusters", "Clusters", lambda m: m.n_clusters, kind="count", when="any"),
        Statistic("loglik", "Log-likelihood", lambda m: m.loglik, digits=1, thousands=True),
        Statistic("aic", "AIC", lambda m: m.aic, digits=1, thousands=True),
        Statistic("bic", "BIC", lambda m: m.bic, digits=1, thousands=True),
        Statistic("pseudo_r2", "Pseudo-R² (McFadden)", pseudo_r2, when="any"),
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
            se_of="alpha",
        ),
        Statistic("se_type", "Std. errors", se_label, kind="text", uses_labels=True),
    )
}

#: The statistics block of every regression table, in display order.
_DEFAULT_KEYS = ("nobs", "n_clusters", "loglik", "aic", "bic", "pseudo_r2", "alpha", "alpha_se")
GOF_MAP: tuple[Statistic, ...] = tuple(GOF_CATALOGUE[k] for k in (*_DEFAULT_KEYS, "se_type"))


def _one(key: str, how: Any) -> Statistic:
    """The catalogue's statistic ``key``, relabelled / with its own digits per ``how``."""
    if key not in GOF_CATALOGUE:
        raise ValueError(
            f"unknown fit statistic {key!r} in gof; use one of {', '.join(GOF_CATALOGUE)}"
        )
    stat = GOF_CATALOGUE[key]
    if how is None:
        return stat
    if isinstance(how, str):
        return replace(stat, label=how)
    if isinstance(how, Mapping):
        unknown = sorted(set(how) - {"label", "digits"})
        if unknown:
            raise ValueError(f"gof entry {key!r}: unknown option {unknown[0]!r}; use label, digits")
        digits = how.get("digits", stat.digits)
        if digits is not None and (
            isinstance(digits, bool) or not isinstance(digits, int) or digits < 0
        ):
            raise ValueError(f"gof entry {key!r}: digits must be an integer >= 0, got {digits!r}")
        return replace(stat, label=str(how.get("label", stat.label)), digits=digits)
    raise ValueError(f"gof entry {key!r} must be a label or a table of label and digits")


def resolve_gof(gof: Any) -> tuple[Statistic, ...]:
    """The statistics rows a caller asked for, in the caller's order.

    ``gof`` is a sequence of `Statistic` (used as given), a sequence of catalogue keys
    (``["nobs", "aic"]``), or a mapping key -> label or key -> {label, digits}.  An
    ``alpha`` row brings its SE row (``alpha_se``) right after it when that is not listed.
    Unknown keys are a ValueError naming the key and the known ones.
    """
    if gof is None:
        return GOF_MAP
    if isinstance(gof, Mapping):
        items = list(gof.items())
    elif isinstance(gof, (str, bytes)):
        raise ValueError("gof must be a list of statistic keys, not one string")
    else:
        entries = list(gof)
        if all(isinstance(s, Statistic) for s in entries):
            return tuple(entries)
        items = [(s, None) for s in entries]
    out: list[Statistic] = []
    for key, how in items:
        if not isinstance(key, str):
            raise ValueError(f"gof entries must be statistic keys (strings), got {key!r}")
        out.append(_one(key, how))
        if key == "alpha" and "alpha_se" not in dict(items):
            out.append(GOF_CATALOGUE["alpha_se"])
    return tuple(out)


def gof_rows(
    models: Sequence[FitResult],
    digits: int,
    gof: Sequence[Statistic] = GOF_MAP,
    labels: Labels | None = None,
) -> tuple[Row, ...]:
    """The statistics rows of ``models``: one per statistic the rules above show."""
    shown: set[str] = set()
    rows = []
    for stat in gof:
        if stat.after is not None and stat.after not in shown:
            continue
        if stat.when == "any" and all(stat.read(m, labels) is None for m in models):
            continue
        shown.add(stat.key)
        cells = tuple(stat.cell(m, digits, labels) for m in models)
        rows.append(Row(stat.label, cells, kind=stat.row_kind))
    return tuple(rows)
