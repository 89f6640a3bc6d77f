"""Structural-break tests for count models on any series or panel, named by its columns.

Three tools, each taking the outcome (``yname``), the time (``tname``) and optionally the
unit (``idname``, for unit fixed effects), cluster and control columns as arguments:

* `known_break_test` — with the break date known: a linear trend centred at the
  break, ``post_break`` = 1{t >= break} (level shift) and ``post_trend`` =
  (t - break)·post_break (trend shift), and the joint Wald test of both shifts, as in
  segmented interrupted-time-series regression;
* `sup_wald_test` — the date unknown: the Wald statistic of the break terms at
  every candidate date of the trimmed range, its maximum (Andrews 1993 sup-Wald) with
  Andrews's asymptotic critical values (as corrected in Andrews 2003), a bootstrap
  p-value (`cpcstats.methods.break_bootstrap`: parametric, with AR(1) period shocks, of
  the series or of an FE-Poisson panel's composition-adjusted period totals; the
  simulated asymptotic one beside it) and a
  likelihood-ratio confidence set for the date (Hansen 2000);
* `break_interaction_test` — did a *pattern* change: ``moderators * post_break``
  and the joint Wald test of every term interacted with the post-break indicator.

A series (one row per period, no `cpcstats.panels.Panel`) is fitted with
quasi-Poisson (Pearson-scaled) SEs, or NB2 with HC1 SEs; a panel with ``fe-poisson``
(PPML) when ``idname`` is given, ``poisson`` otherwise, SEs clustered by ``cluster`` or
Driscoll-Kraay by period (``se="driscoll-kraay"``, robust to common period shocks).
Critical values and the null distribution are in `cpcstats.methods.break_critical`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.postestimation import WaldTest, wald_test
from cpcstats.estimation.results import FitResult
from cpcstats.methods.break_bootstrap import BootstrapTest
from cpcstats.methods.break_critical import (
    ANDREWS_1993_SOURCE,
    ANDREWS_1993_TABLE_I,
    ANDREWS_2003_SOURCE,
    HANSEN_2000_C95,
    andrews_critical_values,
    candidate_years,
    sup_wald_pvalue,
)
from cpcstats.methods.break_design import BootstrapOptions, bootstrap_test, panel_to_series
from cpcstats.methods.break_model import (
    LEVEL,
    SHIFT_TERMS,
    TREND,
    TREND_SHIFT,
    BreakSetting,
    break_setting,
    estimator_text,
    fit_break,
    with_break,
)
from cpcstats.methods.break_sup_wald import SupWald, dispersion_ratio, sup_wald_test
from cpcstats.panels import Panel

__all__ = [
    "ANDREWS_1993_SOURCE",
    "ANDREWS_1993_TABLE_I",
    "ANDREWS_2003_SOURCE",
    "HANSEN_2000_C95",
    "LEVEL",
    "SHIFT_TERMS",
    "TREND",
    "TREND_SHIFT",
    "BootstrapOptions",
    "BootstrapTest",
    "BreakInteractions",
    "BreakSetting",
    "KnownBreak",
    "SupWald",
    "andrews_critical_values",
    "break_interaction_test",
    "break_setting",
    "candidate_years",
    "dispersion_ratio",
    "fit_break",
    "is_post_interaction",
    "known_break_test",
    "sup_wald_pvalue",
    "sup_wald_test",
    "with_break",
]


@dataclass
class KnownBreak:
    """Level and trend shift at a given break date, with their joint Wald test."""

    break_year: int
    kind: str
    result: FitResult
    wald: WaldTest
    estimator: str
    #: bootstrap test of both shifts (series: parametric of this Wald; FE panel: of the
    #: Wald of its composition-adjusted year totals; other panels: wild
    #: score bootstrap over periods of the LM statistic); None: asymptotic only
    bootstrap: BootstrapTest | None = None
    #: FE-Poisson panel with Driscoll-Kraay SEs: the same model on the period totals with
    #: the panel's composition as offset (`panel_to_series`), whose quasi-Poisson SEs are
    #: the terms' SEs, CIs and the Wald test (the panel's Driscoll-Kraay ones with ~20
    #: periods are far too small); None for series and other variances
    aggregate: FitResult | None = None

    @property
    def inference(self) -> FitResult:
        """The fit whose SEs, CIs and Wald test are reported: the aggregate when there is
        one (same coefficients as ``result``), else ``result``."""
        return self.aggregate if self.aggregate is not None else self.result

    @property
    def p_value(self) -> float:
        """The bootstrap p-value of the joint test when there is one, else the Wald one."""
        return self.bootstrap.p_value if self.bootstrap is not None else self.wald.p_value

    def estimates(self) -> pd.DataFrame:
        """Trend, level shift and trend shift (log scale) with SEs, CIs and IRRs (SEs of
        `inference`; a panel's own, Driscoll-Kraay, SEs in ``std_error_panel``).

        With a quasi-Poisson variance (a series or a panel's year totals) the p-values and
        95 % CIs use Student's t with the residual degrees of freedom (T - 4, about 18), as
        R's ``summary.glm`` for quasi families: the Pearson dispersion is estimated from
        ~20 points (normal reference on the demo process without a break, 100 draws:
        level-shift z rejected 8-10 % at 5 %).
        """
        inf = self.inference
        table = inf.coef_table().loc[[TREND, LEVEL, TREND_SHIFT]]
        if inf.se_type == "quasi" and inf.df_resid:
            df = float(inf.df_resid)
            table["p_value"] = 2 * stats.t.sf(table["z"].abs(), df)
            half = stats.t.ppf(0.975, df) * table["std_error"]
            table["ci_lower"] = table["estimate"] - half
            table["ci_upper"] = table["estimate"] + half
        if self.aggregate is not None:
            table["std_error_panel"] = self.result.std_errors[table.index]
        return table

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record: date, sample, estimator, the three terms, the Wald test."""
        table = self.estimates()
        return {
            "break_year": self.break_year,
            "sample": self.kind,
            "estimator": self.estimator,
            "nobs": int(self.result.nobs),
            "n_clusters": self.result.n_clusters,
            "terms": {
                term: {k: float(v) for k, v in row.items()} for term, row in table.iterrows()
            },
            "wald_level_and_trend_shift": self.wald.to_dict(),
            "p_value": self.p_value,
            "bootstrap": self.bootstrap.to_record() if self.bootstrap else None,
        }


def known_break_test(
    data: Panel | pd.DataFrame,
    break_year: int,
    *,
    yname: str,
    tname: str,
    idname: str | None = None,
    family: str | None = None,
    cluster: str | None = None,
    controls: Sequence[str] = (),
    sample: str | None = None,
    se: str | None = None,
    bootstrap: BootstrapOptions | None = None,
) -> KnownBreak:
    """Trend + level shift + trend shift at ``break_year``; joint Wald test of both shifts.

    Why: with the date fixed, the joint test asks whether anything changed, the two
    coefficients say what.  ``trend`` is centred at the break, so ``post_break`` is the
    jump at the break date relative to the pre-break trend.  Model and SEs as decided by
    `cpcstats.methods.break_model.break_setting`; `KnownBreak.p_value` from the
    bootstrap (``bootstrap``, default 999 replicates; see `sup_wald_test`) when it applies.
    """
    columns = {"yname": yname, "tname": tname, "idname": idname}
    s = break_setting(
        data, **columns, family=family, cluster=cluster, controls=controls, sample=sample, se=se
    )
    result = fit_break(s, break_year, SHIFT_TERMS["level+trend"], f"known break {break_year}")
    aggregate = _aggregate_fit(s, break_year) if s.se == "driscoll-kraay" else None
    wald = wald_test(aggregate or result, list(SHIFT_TERMS["level+trend"]))
    boot = bootstrap_test(s, [break_year], 2, bootstrap or BootstrapOptions())
    text = estimator_text(result, s)
    if aggregate is not None:
        text += (
            "; shift SEs, CIs and Wald test quasi-Poisson from the period totals with the "
            "panel's composition as offset"
        )
    return KnownBreak(break_year, s.kind, result, wald, text, boot, aggregate)


def _aggregate_fit(s: BreakSetting, break_year: int) -> FitResult | None:
    """The break model on the panel's period totals (`panel_to_series`), quasi-Poisson."""
    if s.family != "fe-poisson":
        return None
    series = panel_to_series(s, break_year)
    if series is None:
        return None
    frame = with_break(series, s.tname, break_year)
    frame.attrs["simulated"] = s.simulated
    return fit(
        f"{s.yname} ~ {' + '.join([TREND, *SHIFT_TERMS['level+trend']])}",
        frame,
        family="poisson",
        se="quasi",
        offset="log_composition",
        name=f"known break {break_year}, {s.kind} aggregated to {s.tname}",
    )


@dataclass
class BreakInteractions:
    """A model interacted with the post-break indicator, and the joint test of the change."""

    break_year: int
    result: FitResult
    wald: WaldTest

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record: formula, estimator, the joint Wald test, every term."""
        return {
            "break_year": self.break_year,
            "formula": self.result.formula,
            "estimator": f"{self.result.extra.get('family_label')}; SEs "
            f"{self.result.se_description}",
            "nobs": int(self.result.nobs),
            "n_clusters": self.result.n_clusters,
            "joint_wald_post_interactions": self.wald.to_dict(),
            "terms": {
                t: {"estimate": float(self.result.params[t]), "std_error": float(s)}
                for t, s in self.result.std_errors.items()
            },
        }


def is_post_interaction(term: str) -> bool:
    """Whether a patsy term is an interaction that involves the post-break indicator."""
    parts = term.split(":")
    return len(parts) > 1 and LEVEL in parts


def break_interaction_test(
    data: Panel | pd.DataFrame,
    break_year: int,
    *,
    yname: str,
    tname: str,
    moderators: str,
    family: str = "negbin",
    cluster: str | None = None,
    controls: Sequence[str] = (),
    name: str | None = None,
) -> BreakInteractions:
    """Did the pattern ``moderators`` describe change after the break?

    Why: a pure level break multiplies every rate and leaves the interactions at zero; a
    change in what the outcome responds to shows in them.  Fits ``yname ~ moderators *
    post_break + controls`` (``moderators`` a formula term such as ``"x * C(g)"``) and
    tests every term interacted with ``post_break`` jointly.
    """
    frame = with_break(data.data if isinstance(data, Panel) else data, tname, break_year)
    rhs = " + ".join([f"{moderators} * {LEVEL}", *controls])
    source: Panel | pd.DataFrame
    source = replace(data, data=frame) if isinstance(data, Panel) else frame
    result = fit(
        f"{yname} ~ {rhs}",
        source,
        family=family,
        cluster=cluster,
        name=name or f"{moderators} x post {break_year}",
    )
    terms = [t for t in result.params.index if is_post_interaction(str(t))]
    if not terms:
        raise EstimationError("no post-break interaction terms were estimated")
    return BreakInteractions(break_year, result, wald_test(result, terms))
