"""The one long diagnostics table of several models of one outcome, with its decisions.

Why here and not in reporting: this computes (tests, decisions at the 5 % level) and
returns a DataFrame; rendering it is the reporting layer's job
(`cpcstats.reporting.tables.stats_table`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.diagnostics.common import (
    LEVEL,
    ZERO_TOLERANCE,
    Named,
    as_named,
    count_terms,
    family_label,
    negbin_families,
    poisson_families,
    response,
    sample_difference,
    vuong_pairs,
)
from cpcstats.diagnostics.criteria import criteria
from cpcstats.diagnostics.dispersion import lr_test_poisson_negbin, overdispersion_test
from cpcstats.diagnostics.vuong import vuong_test
from cpcstats.diagnostics.zeros import zero_counts
from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.results import FitResult

__all__ = ["diagnostics_table"]

_CORRECTIONS = ("raw", "aic", "bic")
_CORRECTION_TEXT = {"raw": "raw", "aic": "AIC-corrected", "bic": "BIC-corrected"}


def _row(
    test: str, models: str, statistic: str, value: float, p: float, text: str
) -> dict[str, Any]:
    return {
        "test": test,
        "models": models,
        "statistic": statistic,
        "value": value,
        "p_value": p,
        "interpretation": text,
    }


def _flagged(*pairs: tuple[str, FitResult]) -> str | None:
    """The note "model flagged (name: reason)" when a model of a comparison is flagged.

    Why: a fit at a boundary, with a singular Hessian or not converged is not a result;
    a test or a ranking involving it would read as a preference for or against it.
    """
    reasons = [f"{n}: {r.flag_summary}" for n, r in pairs if r.flagged]
    return f"model flagged ({'; '.join(reasons)})" if reasons else None


def _dispersion_rows(name: str, r: FitResult, level: float) -> list[dict[str, Any]]:
    flag = _flagged((name, r))
    if flag is not None:
        test = "Cameron–Trivedi (NB2 alternative)"
        return [_row(test, name, "t", np.nan, np.nan, f"not computed: {flag}")]
    res = overdispersion_test(r)
    out = []
    for key, form in (("nb2", "NB2"), ("nb1", "NB1")):
        part = res[key]
        reject = part["p_one_sided"] < level
        text = (
            f"overdispersion: {form} preferred"
            if reject
            else f"no evidence of overdispersion ({form} form): Poisson adequate"
        )
        test = f"Cameron–Trivedi ({form} alternative)"
        out.append(_row(test, name, "t", part["t"], part["p_one_sided"], text))
    return out


def diagnostics_table(
    results: Sequence[FitResult] | Mapping[str, FitResult],
    *,
    level: float = LEVEL,
    vuong_correction: str = "aic",
) -> pd.DataFrame:
    """One long table of the diagnostics above for several models of one outcome.

    Rows (columns ``models``, ``statistic``, ``value``, ``p_value``,
    ``interpretation``; index ``test``, ready for `stats_table`), with these
    rules at ``level`` (5 %):

    * every Poisson model: the Cameron–Trivedi tests (one-sided t p-value);
      p < level reads "overdispersion: NB2 (NB1) preferred".
    * every Poisson/NB2 pair with the same regressors and sample: the boundary-
      corrected LR test; p < level reads "overdispersion: NB2 preferred".
    * Vuong tests for the pairs in `VUONG_PAIRS` (ZIP vs Poisson, ZINB vs NB2,
      hurdle vs parent, ZINB vs hurdle NB2) with the same count regressors, using the
      ``vuong_correction`` statistic and the two-sided p-value: p < level and z > 0
      prefers model 1, z < 0 model 2, otherwise the two are indistinguishable.  A
      pair on different samples gets a row saying it was not computed.
    * every model with probabilities: observed/expected zeros; a ratio outside
      1 ± 10 % reads "model under-/over-predicts zeros" (descriptive, no test).
    * every model: AIC and BIC (value) with ΔAIC/ΔBIC in the interpretation; the
      lowest is "best".  Models on another sample are not ranked.
    * a *flagged* model (`cpcstats.FitResult.flagged`: at a boundary, a singular
      Hessian, not converged) is never ranked or recommended: its AIC/BIC rows read
      "not ranked: model flagged" and it is left out of "the best"; every LR or
      Vuong row involving it has no statistic and reads "not compared: model flagged
      (name: reason)"; its Cameron–Trivedi row reads "not computed: ..."; its zeros row
      says "model flagged, not a result".

    Long because the docstring states the rule of every row; the body is checks and one
    call per block of rows.

    Parameters
    ----------
    results : sequence of FitResult or mapping of str to FitResult
        The models; a mapping's keys are their display names (a sequence uses each
        result's ``name``, made unique with the family label).
    level : float, default 0.05
        The significance level of the decisions, in (0, 1).
    vuong_correction : {"aic", "bic", "raw"}, default "aic"
        Which Vuong statistic the decisions use.

    Returns
    -------
    pandas.DataFrame
        Index ``test``; ``models``, ``statistic``, ``value``, ``p_value``, ``interpretation``.

    Raises
    ------
    SpecError
        An invalid ``level`` or ``vuong_correction``, models of different outcomes,
        no model, or an item that is not a `cpcstats.FitResult`.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> pois = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="poisson")
    >>> nb2 = cpcstats.fit("contacts ~ ruling + left_roots", panel, family="negbin")
    >>> diag = cpcstats.diagnostics_table({"Poisson": pois, "NB2": nb2})
    >>> diag.loc["AIC", "interpretation"].tolist()
    ['ΔAIC = 6147.6 from the best', 'best (lowest AIC)']
    """
    if vuong_correction not in _CORRECTIONS:
        raise SpecError(
            f"vuong_correction must be one of {_CORRECTIONS}, not {vuong_correction!r}",
            fix="use 'aic' (default), 'bic' or 'raw'",
        )
    if not 0 < level < 1:
        raise SpecError(f"level must lie in (0, 1), not {level!r}", fix="use e.g. level=0.05")
    named = as_named(results)
    responses = {response(r) for _, r in named}
    if len(responses) > 1:
        raise SpecError(
            f"diagnostics_table compares models of one outcome; got {sorted(responses)}",
            fix="call it once per outcome",
        )
    rows = [
        *_overdispersion_rows(named, level),
        *_vuong_rows(named, level, vuong_correction),
        *_zero_rows(named),
        *_criteria_rows(named),
    ]
    frame = pd.DataFrame.from_records(
        rows, columns=["test", "models", "statistic", "value", "p_value", "interpretation"]
    )
    return frame.set_index("test")


def _overdispersion_rows(named: Named, level: float) -> list[dict[str, Any]]:
    """Cameron–Trivedi rows of every Poisson model, LR rows of every Poisson/NB2 pair."""
    rows: list[dict[str, Any]] = []
    pois = [(n, r) for n, r in named if r.family in poisson_families()]
    nbs = [(n, r) for n, r in named if r.family in negbin_families()]
    for name, r in pois:
        rows.extend(_dispersion_rows(name, r, level))
    for pname, p in pois:
        for nname, nb in nbs:
            if count_terms(p) != count_terms(nb) or sorted(p.fixed_effects) != sorted(
                nb.fixed_effects
            ):
                continue
            models = f"{pname} vs {nname}"
            test = "LR Poisson vs NB2 (boundary-corrected)"
            flag = _flagged((pname, p), (nname, nb))
            if flag is not None:
                rows.append(_row(test, models, "LR", np.nan, np.nan, f"not compared: {flag}"))
                continue
            why = sample_difference(p, nb)
            if why is not None:
                rows.append(_row(test, models, "LR", np.nan, np.nan, f"not computed: {why}"))
                continue
            lr = lr_test_poisson_negbin(p, nb)
            text = (
                "overdispersion: NB2 preferred"
                if lr["p"] < level
                else "no evidence of overdispersion: Poisson adequate"
            )
            rows.append(_row(test, models, "LR", lr["LR"], lr["p"], text))
    return rows


def _vuong_rows(named: Named, level: float, vuong_correction: str) -> list[dict[str, Any]]:
    """Vuong rows of the families' declared comparisons with the same count regressors."""
    rows: list[dict[str, Any]] = []
    for fam1, fam2, topic in vuong_pairs():
        for n1, m1 in named:
            if m1.family not in fam1:
                continue
            for n2, m2 in named:
                if m2.family not in fam2 or count_terms(m1) != count_terms(m2):
                    continue
                rows.append(_vuong_row(n1, m1, n2, m2, topic, level, vuong_correction))
    return rows


def _vuong_row(
    n1: str,
    m1: FitResult,
    n2: str,
    m2: FitResult,
    topic: str,
    level: float,
    vuong_correction: str,
) -> dict[str, Any]:
    corr = _CORRECTION_TEXT[vuong_correction]
    test = f"Vuong ({corr})"
    models = f"{n1} vs {n2}"
    flag = _flagged((n1, m1), (n2, m2))
    if flag is not None:
        return _row(test, models, "z", np.nan, np.nan, f"{topic}: not compared: {flag}")
    why = sample_difference(m1, m2)
    if why is not None:
        return _row(test, models, "z", np.nan, np.nan, f"not computed: {why}")
    try:
        v = vuong_test(m1, m2)
    except EstimationError as exc:
        text = f"{topic}: not computed: {exc.problem.split(': ', 1)[-1]}"
        return _row(test, models, "z", np.nan, np.nan, text)
    z, p = v["stat"][vuong_correction], v["p_two_sided"][vuong_correction]
    l1, l2 = family_label(m1), family_label(m2)
    if p < level:
        better, worse = (l1, l2) if z > 0 else (l2, l1)
        text = f"{topic}: {better} preferred over {worse} (Vuong, {corr})"
    else:
        text = f"{topic}: {l1} and {l2} indistinguishable (Vuong, {corr})"
    return _row(test, models, "z", z, p, text)


def _zero_rows(named: Named) -> list[dict[str, Any]]:
    """Observed against expected zeros of every model with probabilities."""
    rows: list[dict[str, Any]] = []
    for name, r in named:
        if getattr(r.core, "pmf", None) is None:
            continue
        z = zero_counts(r)
        ratio = z["ratio"]
        if ratio > 1 + ZERO_TOLERANCE:
            text = "model under-predicts zeros"
        elif ratio < 1 - ZERO_TOLERANCE:
            text = "model over-predicts zeros"
        else:
            text = "zeros reproduced within 10 %"
        text += f" (observed {z['observed']}, expected {z['expected']:.1f})"
        if r.flagged:
            text += "; model flagged, not a result"
        rows.append(_row("Zeros, observed / expected", name, "ratio", ratio, np.nan, text))
    return rows


def _criteria_rows(named: Named) -> list[dict[str, Any]]:
    """AIC and BIC of every model, ranked among the models on the reference sample."""
    rows: list[dict[str, Any]] = []
    ic = criteria(named, sort=False)
    for crit, label in (("aic", "AIC"), ("bic", "BIC")):
        for rec in ic.itertuples(index=False):
            delta = getattr(rec, f"delta_{crit}")
            if np.isnan(getattr(rec, crit)):
                text = rec.note
            elif rec.flagged:  # the reason is in the Vuong/LR rows and the models' table
                text = "not ranked: model flagged"
            elif not rec.comparable:
                text = f"not ranked: {rec.note}"
            elif delta == 0:
                text = f"best (lowest {label})"
            else:
                text = f"Δ{label} = {delta:.1f} from the best"
            rows.append(_row(label, rec.name, label, getattr(rec, crit), np.nan, text))
    return rows
