"""Joint inference for a specification curve (Simonsohn, Simmons & Nelson 2020).

SSN ask whether the curve *as a whole* (its median estimate, how many specifications are
significant) is more than the null would give, with every specification refitted on data
where the null is true.  Their OLS device (replace y by y - b x) has no counterpart under a
log link, so the null is imposed by permuting the treatment column within strata (e.g.
within country-year): under the null of no effect the treatment is exchangeable between
the rows of a stratum, and the permutation keeps each stratum's treatment count, the
outcome and every other covariate.

Why one task per draw (not per draw and specification): a draw permutes the panel once and
refits the subset on it; per-(draw, specification) tasks would repeat the permutation (or
ship a permuted panel) for every fit.  Draws are many more than workers, so one task per
draw keeps every worker busy.  Each draw's generator comes from
``SeedSequence(seed).spawn(draws)`` by position, so the null draws, and the p-values, do
not depend on the executor or the number of workers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from cpcstats.errors import SpecError
from cpcstats.execution import Executor, InProcessExecutor, spawn_seeds
from cpcstats.execution.base import ProgressCallback
from cpcstats.multiverse.config import Inference, Multiverse
from cpcstats.multiverse.expand import SpecTask, expand, option_base
from cpcstats.multiverse.tasks import fit_task
from cpcstats.panels import Panel

__all__ = [
    "STATISTICS",
    "InferenceOutcome",
    "NullDraw",
    "check_inference",
    "curve_statistics",
    "null_draw",
    "permute_within",
    "run_inference",
    "subset_tasks",
]

#: the curve statistics, in table order
STATISTICS = ("median", "share_sig_above", "share_sig_below", "mean_z")


@dataclass(frozen=True)
class NullDraw:
    """One null draw: its position, its seed and the specifications refitted on it."""

    index: int
    seed: np.random.SeedSequence
    tasks: tuple[SpecTask, ...]
    variable: str
    strata: tuple[str, ...]


@dataclass(frozen=True)
class InferenceOutcome:
    """Observed curve statistics, one row of statistics per null draw, and the p-values."""

    observed: dict[str, float]
    null: pd.DataFrame
    p_values: dict[str, float]
    specifications: int
    draws: int
    seconds: float
    settings: Inference


def _spec_error(problem: str, mv: Multiverse, key: str, fix: str) -> SpecError:
    return SpecError(problem, file=mv.source, column=f"inference.{key}", fix=fix)


def check_inference(mv: Multiverse, frame: pd.DataFrame) -> Inference:
    """The file's [inference], checked against the panel: a permutable column, strata there."""
    inf = mv.inference
    if inf is None:
        raise _spec_error(
            "the multiverse file has no [inference] table", mv, "method",
            'add [inference] with method = "permutation", draws = 200, strata = [...]',
        )  # fmt: skip
    if inf.variable not in frame.columns:
        raise _spec_error(
            f"the permuted variable {inf.variable!r} is not a column of the panel", mv,
            "variable", f"set variable = one of {', '.join(map(str, frame.columns[:15]))}, ...",
        )  # fmt: skip
    column = frame[inf.variable]
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        raise _spec_error(
            f"{inf.variable!r} is {column.dtype}, not a 0/1 or numeric column", mv, "variable",
            "permute a numeric treatment (a category's dummy column, not the category)",
        )  # fmt: skip
    missing = [s for s in inf.strata if s not in frame.columns]
    if missing:
        raise _spec_error(
            f"the strata {missing} are not columns of the panel", mv, "strata",
            'use panel columns, e.g. strata = ["iso3", "year"] (or [] for no strata)',
        )  # fmt: skip
    return inf


def subset_tasks(tasks: list[SpecTask], inference: Inference) -> list[SpecTask]:
    """The specifications refitted under the null: every subset key must match."""
    out = []
    for task in tasks:
        choice = {dim: option_base(option) for dim, option in task.choices}
        if all(choice.get(key, task.family) in values for key, values in inference.subset.items()):
            out.append(task)
    return out


def permute_within(
    frame: pd.DataFrame, variable: str, strata: tuple[str, ...], rng: np.random.Generator
) -> pd.DataFrame:
    """The frame with ``variable`` shuffled within each stratum (missing values stay put).

    Rows are sorted by stratum and, within it, by a uniform key: the values of a stratum
    in that random order are written back to its rows in their original order.
    """
    values = frame[variable]
    known = values.notna().to_numpy()
    if strata:
        group = frame.groupby(list(strata), sort=True, dropna=False).ngroup().to_numpy()
    else:
        group = np.zeros(len(frame), dtype=np.int64)
    rows = np.flatnonzero(known)
    keys = rng.random(len(rows))
    shuffled = rows[np.lexsort((keys, group[rows]))]
    ordered = rows[np.argsort(group[rows], kind="stable")]
    new = values.to_numpy(copy=True)
    new[ordered] = values.to_numpy()[shuffled]
    return frame.assign(**{variable: pd.Series(new, index=frame.index, dtype=values.dtype)})


def null_draw(draw: NullDraw, panel: Panel) -> list[tuple[float, float]]:
    """Permute once, refit every specification of the draw: (estimate, p) each.

    A specification that fails on a permuted panel gives NaNs (never significant), so one
    degenerate fit does not discard the draw.
    """
    rng = np.random.default_rng(draw.seed)
    permuted = panel.with_data(permute_within(panel.data, draw.variable, draw.strata, rng))
    out = []
    for task in draw.tasks:
        try:
            record = fit_task(task, permuted)
            out.append((float(record["estimate"]), float(record["p_value"])))
        except Exception:  # a failed refit counts as a non-significant, missing estimate
            out.append((math.nan, math.nan))
    return out


def curve_statistics(estimate: np.ndarray, p_value: np.ndarray, null: float) -> dict[str, float]:
    """Median estimate, shares significant (p < 0.05) above / below the null, mean z.

    The z of a specification is rebuilt from its two-sided p and its sign, so observed and
    null curves use exactly the same numbers the results file holds.
    """
    estimate, p_value = np.asarray(estimate, float), np.asarray(p_value, float)
    n = len(estimate)
    sig = np.nan_to_num(p_value, nan=1.0) < 0.05
    sign = np.sign(estimate - null)
    z = sign * norm.isf(p_value / 2)
    finite = np.isfinite(estimate)
    return {
        "median": float(np.median(estimate[finite])) if finite.any() else math.nan,
        "share_sig_above": float((sig & (sign > 0)).sum() / n) if n else math.nan,
        "share_sig_below": float((sig & (sign < 0)).sum() / n) if n else math.nan,
        "mean_z": float(np.mean(z[np.isfinite(z)])) if np.isfinite(z).any() else math.nan,
        "failed": float((~finite).sum()),
    }


def _p_values(observed: dict[str, float], null: pd.DataFrame, center: float) -> dict[str, float]:
    """Share of null draws at least as extreme as observed, one-sided in the observed direction.

    The median and mean z are compared on the side the observed value lies (SSN); a share
    significant above (below) the null is extreme when at least as large.
    """
    out = {}
    for stat in STATISTICS:
        draws = null[stat].dropna().to_numpy()
        obs = observed[stat]
        if not len(draws) or not np.isfinite(obs):
            out[stat] = math.nan
            continue
        if stat in ("median", "mean_z"):
            ref = center if stat == "median" else 0.0
            side = 1.0 if obs >= ref else -1.0
            out[stat] = float(np.mean(side * (draws - ref) >= side * (obs - ref) - 1e-12))
        else:
            out[stat] = float(np.mean(draws >= obs - 1e-12))
    return out


def _observed(results: pd.DataFrame, tasks: list[SpecTask], mv: Multiverse) -> pd.DataFrame:
    """The results rows of the subset (failed fits included: they are not significant)."""
    rows = results.set_index("spec_id").reindex([t.spec_id for t in tasks])
    missing = int(rows["error"].isna().sum())
    if missing:
        raise SpecError(
            f"the results lack {missing} of the {len(tasks)} specifications of the "
            "[inference] subset",
            file=mv.source,
            column="inference.subset",
            fix="run the whole multiverse first (a rerun resumes)",
        )
    return rows


def run_inference(
    mv: Multiverse,
    panel: Panel,
    results: pd.DataFrame,
    executor: Executor | None = None,
    *,
    draws: int | None = None,
    progress: ProgressCallback | None = None,
    seed: int | None = None,
) -> InferenceOutcome:
    """Refit the [inference] subset on ``draws`` permuted panels and compare with ``results``.

    ``results`` is the run's results frame (the observed curve); ``draws`` overrides the
    file's number of draws (the first ``draws`` of the same spawned seeds: child ``i`` of
    ``SeedSequence(seed)`` is the same whatever the number spawned); ``seed`` is the run's
    (it names bootstrap-variance specifications), not the permutations'.
    """
    inf = check_inference(mv, panel.data)
    n = inf.draws if draws is None else draws
    if n < 1:
        raise _spec_error(f"{n} null draws asked for", mv, "draws", "ask for 1 or more draws")
    tasks = subset_tasks(expand(mv, panel.data, seed), inf)
    if not tasks:
        raise _spec_error(
            "the [inference] subset selects no specification", mv, "subset",
            "loosen subset (it keeps the specifications matching every key)",
        )  # fmt: skip
    center = 1.0 if mv.scale == "irr" else 0.0  # the null value of an IRR or a coefficient
    rows = _observed(results, tasks, mv)
    observed = curve_statistics(rows["estimate"].to_numpy(), rows["p_value"].to_numpy(), center)
    seeds = spawn_seeds(inf.seed, n)
    items = [NullDraw(i, s, tuple(tasks), inf.variable, inf.strata) for i, s in enumerate(seeds)]
    start = time.monotonic()
    stats: list[dict[str, Any]] = []
    for result in (executor or InProcessExecutor()).map(
        null_draw, items, shared=panel, progress=progress
    ):
        pairs = np.array(result.value if result.ok else [(math.nan, math.nan)] * len(tasks))
        stats.append({"draw": result.index, **curve_statistics(pairs[:, 0], pairs[:, 1], center)})
    null = pd.DataFrame(stats).sort_values("draw", kind="mergesort").reset_index(drop=True)
    return InferenceOutcome(
        observed=observed,
        null=null,
        p_values=_p_values(observed, null, center),
        specifications=len(tasks),
        draws=n,
        seconds=time.monotonic() - start,
        settings=inf,
    )
