"""A break setting as arrays, built once, and the bootstrap test that uses them.

Why: the bootstraps of `cpcstats.methods.break_bootstrap` work on numpy arrays (outcome,
period, nuisance regressors, unit codes); building them once per setting, and fitting
the no-break model once, keeps every candidate date and every replicate free of formula
parsing and refits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.estimation.hdfe import Demeaner, fit_ppml_hdfe
from cpcstats.methods.break_bootstrap import (
    DEFAULT_REPS,
    DEFAULT_SEED,
    BootstrapTest,
    batch_poisson,
    break_columns,
    panel_score_bootstrap,
    series_bootstrap,
)
from cpcstats.methods.break_model import BreakSetting

__all__ = [
    "BootstrapOptions",
    "BreakArrays",
    "bootstrap_test",
    "break_arrays",
    "panel_to_series",
    "shared_break_arrays",
]

_T = TypeVar("_T")

#: inside `shared_break_arrays`: (what, id of the frame, columns ...) -> (frame, value)
_SHARED: ContextVar[dict[tuple[Any, ...], tuple[pd.DataFrame, Any]] | None] = ContextVar(
    "cpcstats_shared_break_arrays", default=None
)


@contextmanager
def shared_break_arrays() -> Iterator[None]:
    """Inside the block, settings on the same frame and columns share their arrays
    (`break_arrays`) and aggregated series (`panel_to_series`).

    Why (issue 17): a design runs the known-date test and two sup-Wald tests on each
    sample, and each rebuilt the same arrays and refitted the same no-break FE-Poisson
    model (23 array builds and 8 aggregations on the demo, now 3 and 4).  The frames
    must not be changed inside the block; outside it nothing is kept.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(s: BreakSetting, what: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
    """``compute()``, or inside `shared_break_arrays` the value of an earlier call with the
    same frame (the object itself, not an equal one), columns and ``what``."""
    cache = _SHARED.get()
    if cache is None:
        return compute()
    key = (*what, id(s.frame), s.yname, s.tname, s.idname, s.controls)
    hit = cache.get(key)
    if hit is not None and hit[0] is s.frame:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    cache[key] = (s.frame, value)  # the frame is kept alive: its id is not reused
    return value


@dataclass(frozen=True)
class BootstrapOptions:
    """Replicates, seed, wild weights and panel statistic of a break bootstrap.

    ``reps=0``: no bootstrap.  ``statistic`` (panels): ``"lm"`` (default), the score
    statistic with year-summed scores; ``"wald"``, a one-step Wald re-weighting the no-break
    scores; ``"wald-u"``, the same re-weighting the one-step scores.  Why LM: in 100 null
    panels with year shocks (40 units x 22 years; tests/reference/xi_break_panel_statistics.md) the
    rejection rates at 5 % were LM 3-9 %, Wald 3-11 %, Wald-u 9-17 % (the unrestricted
    variant over-rejects with few clusters, as MacKinnon and Webb report); the Wald forms
    have somewhat more power (0.60 vs 0.55 against a 0.55 step).

    ``serial`` (series and aggregated panels): the bootstrap's year shocks follow an AR(1)
    with the bias-corrected lag-1 autocorrelation of the break fit's residuals
    (`cpcstats.methods.break_bootstrap.residual_ar1`, 0 when negative) instead of being
    independent.  ``panel``: how an FE-Poisson panel is bootstrapped.  Why both: on the
    demo process without a break (100 draws; tests/reference/xi_break_demo_size.md) the
    units' persistent terms (party turnover, AR(1) regime scores) leave the year totals
    slightly autocorrelated, and the independent-years bootstraps rejected 6-10 % at 5 %
    (panel wild score bootstrap up to 10 %), the AR(1) bootstrap of the aggregates 4-6 %.
    """

    reps: int = DEFAULT_REPS
    seed: int = DEFAULT_SEED
    weights: str = "rademacher"
    statistic: str = "lm"
    #: FE-Poisson panels: ``"aggregate"`` (default) bootstraps the composition-adjusted
    #: year totals (`panel_to_series`) as a series; ``"wild"`` the wild score bootstrap
    serial: bool = True
    panel: str = "aggregate"


@dataclass(frozen=True)
class BreakArrays:
    """The rows a break model uses, as arrays: outcome, period, nuisance, unit codes."""

    y: np.ndarray
    time: np.ndarray
    nuisance: np.ndarray  # trend (t - first) and controls; an intercept first when no units
    units: np.ndarray | None


def break_arrays(s: BreakSetting) -> BreakArrays | None:
    """The setting's arrays, or None when a control is not numeric (no fast path)."""
    return _shared(s, ("arrays",), lambda: _build_arrays(s))


def _build_arrays(s: BreakSetting) -> BreakArrays | None:
    cols = [s.yname, s.tname, *s.controls, *([s.idname] if s.idname else [])]
    frame = s.frame[cols].dropna()
    if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in s.controls):
        return None
    time = pd.to_numeric(frame[s.tname]).to_numpy(dtype=float)
    parts = [time - time.min(), *(frame[c].to_numpy(dtype=float) for c in s.controls)]
    if not s.idname:
        parts.insert(0, np.ones(len(frame)))
    units = None
    if s.idname:
        units = pd.factorize(frame[s.idname])[0]
    return BreakArrays(frame[s.yname].to_numpy(dtype=float), time, np.column_stack(parts), units)


def bootstrap_test(
    s: BreakSetting, candidates: Sequence[int], n_terms: int, options: BootstrapOptions
) -> BootstrapTest | None:
    """The bootstrap p-value of the setting's (sup) break test, or None when unavailable.

    A series (Poisson family) gets the parametric bootstrap of its quasi-Poisson
    sup-Wald (`series_bootstrap`; AR(1) year shocks with ``options.serial``); an
    FE-Poisson panel the same on its period totals with the no-break composition as
    offset (`panel_to_series`; ``options.panel="aggregate"``), else, and for a Poisson
    panel without unit effects, the wild score bootstrap over periods from one no-break
    fit.  None: ``reps`` 0, an NB series (its statistic is not the quasi-Poisson one) or
    non-numeric controls.
    """
    if options.reps <= 0 or s.family not in ("poisson", "fe-poisson"):
        return None
    arrays = break_arrays(s)
    if arrays is None:
        return None
    y, time, Z = arrays.y, arrays.time, arrays.nuisance
    boot = {"reps": options.reps, "seed": options.seed, "serial": options.serial}
    if s.series:
        return series_bootstrap(y, time, Z, candidates, n_terms, **boot)  # type: ignore[arg-type]
    if arrays.units is not None and options.panel == "aggregate":
        series = panel_to_series(s, None)
        if series is not None:
            t = series[s.tname].to_numpy(dtype=float)
            offset = series["log_composition"].to_numpy()
            Zs = np.column_stack([np.ones_like(t), t - t.min()])
            out = series_bootstrap(
                series[s.yname].to_numpy(dtype=float), t, Zs, candidates, n_terms,
                offset=offset, **boot,  # type: ignore[arg-type]
            )  # fmt: skip
            return replace(
                out,
                statistic_name=out.statistic_name + ", year totals with composition offset",
                method="year totals with the panel's composition (no-break FE-Poisson) "
                "as offset; " + out.method,
            )
    elif options.panel not in ("aggregate", "wild"):
        raise SpecError(f"panel must be 'aggregate' or 'wild', not {options.panel!r}")
    demean = None
    if arrays.units is not None:
        res = fit_ppml_hdfe(y, Z, [arrays.units])
        keep = res.keep
        y, time, Z, mu = y[keep], time[keep], Z[keep], res.mu
        demean = Demeaner([arrays.units[keep]])
    else:
        _, mus, _, _ = batch_poisson(Z[None], y[None, :])
        mu = mus[0, 0]
    return panel_score_bootstrap(
        y,
        time,
        mu,
        Z,
        candidates,
        n_terms,
        demean=demean,
        reps=options.reps,
        seed=options.seed,
        weights=options.weights,
        statistic=options.statistic,
    )


def panel_to_series(s: BreakSetting, break_year: int | None) -> pd.DataFrame | None:
    """The FE-Poisson panel aggregated to the period, with its composition as an offset.

    Why: the break terms vary by period only, so a panel's information about them is
    the ~20 period totals; a variance from the panel's rows (Driscoll-Kraay by year) with
    that few periods is far too small (demo process without a break, 100 draws: the
    panel level shift's 95 % interval excluded 0 in 27-28 % of draws, mean SE 0.70-0.73
    of the aggregate's; tests/reference/xi_break_demo_size.md).  With the unit
    effects a_i and controls of the panel's break fit at ``break_year``, the FE-Poisson
    scores of the period regressors are those of a Poisson regression of the period totals
    Y_t on the same regressors with offset log sum_i exp(a_i + z_it g) (the units present
    in t): the coefficients are the panel's exactly (intercept 0), and a quasi-Poisson
    variance of this series is the yearly series' inference, adjusted for units entering
    and leaving.  ``break_year`` None: the no-break fit (trend and controls), whose
    composition the bootstrap of `bootstrap_test` holds fixed under the null.  Columns:
    the period, the outcome (period total) and ``log_composition``.  None: no unit effects
    or non-numeric controls.
    """
    return _shared(s, ("series", break_year), lambda: _aggregate(s, break_year))


def _aggregate(s: BreakSetting, break_year: int | None) -> pd.DataFrame | None:
    arrays = break_arrays(s)
    if arrays is None or arrays.units is None:
        return None
    if break_year is None:
        X, n_period = arrays.nuisance, 1  # trend, controls
    else:
        shifts = break_columns(arrays.time, break_year, 2)
        X = np.column_stack([arrays.time - break_year, shifts, arrays.nuisance[:, 1:]])
        n_period = 3
    res = fit_ppml_hdfe(arrays.y, X, [arrays.units])
    beta = np.zeros(X.shape[1])
    beta[res.active] = res.beta
    time = arrays.time[res.keep]
    period_part = X[res.keep][:, :n_period] @ beta[:n_period]
    composition = pd.Series(res.mu * np.exp(-period_part)).groupby(time).sum()
    totals = pd.Series(arrays.y).groupby(arrays.time).sum().reindex(composition.index)
    return pd.DataFrame(
        {
            s.tname: composition.index.to_numpy(),
            s.yname: totals.to_numpy(),
            "log_composition": np.log(composition.to_numpy()),
        }
    )
