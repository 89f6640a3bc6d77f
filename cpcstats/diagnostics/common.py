"""What every diagnostic shares: the 5 % level, the family facts read from the registry,
and the checks that a model carries what a test needs and that two models share a sample.

Why one module: each test (dispersion, Vuong, zeros, criteria) refuses a model the same
way, with an error naming the fix, so the checks live once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.estimation.results import FitResult
from cpcstats.spec_registry import FAMILY_REGISTRY

__all__ = [
    "LEVEL",
    "NEGBIN_FAMILIES",
    "NO_COUNT_LIKELIHOOD",
    "POISSON_FAMILIES",
    "VUONG_PAIRS",
    "ZERO_TOLERANCE",
    "Named",
    "as_named",
    "count_terms",
    "family_label",
    "negbin_families",
    "no_count_likelihood",
    "outcome",
    "poisson_families",
    "require_core",
    "require_same_sample",
    "response",
    "sample_difference",
    "vuong_pairs",
]

#: (display name, result) pairs, the form every multi-model diagnostic works on.
Named = list[tuple[str, FitResult]]

#: Significance level of every decision in `diagnostics_table`.
LEVEL = 0.05
#: Observed/expected zeros outside [1 - ZERO_TOLERANCE, 1 + ZERO_TOLERANCE] is flagged.
ZERO_TOLERANCE = 0.10


# The family facts below are read from the registry (one object per family); the
# functions are called at use, so a family registered later is covered too.
def poisson_families() -> frozenset[str]:
    """Names of the Poisson-like families (Cameron–Trivedi needs their mean)."""
    return frozenset(n for n, f in FAMILY_REGISTRY.items() if f.poisson_like)


def negbin_families() -> frozenset[str]:
    """Names of the NB2-like families (the alternative of the LR test)."""
    return frozenset(n for n, f in FAMILY_REGISTRY.items() if f.negbin_like)


def no_count_likelihood() -> dict[str, str]:
    """Families whose likelihood is not one of the count outcome, with the reason."""
    return {n: f.no_likelihood for n, f in FAMILY_REGISTRY.items() if f.no_likelihood}


def vuong_pairs() -> tuple[tuple[frozenset[str], frozenset[str], str], ...]:
    """Vuong pairs formed by `diagnostics_table`: (model 1 family, model 2 family,
    topic), in the order of the families' declared comparisons."""
    bases = {"poisson": poisson_families(), "negbin": negbin_families()}
    declared = [(v.order, name, v) for name, f in FAMILY_REGISTRY.items() for v in f.vuong]
    return tuple(
        (frozenset({name}), bases.get(v.partner, frozenset({v.partner})), v.topic)
        for _, name, v in sorted(declared, key=lambda item: item[0])
    )


#: kept for existing callers; derived from the registry's built-in families
POISSON_FAMILIES = poisson_families()
NEGBIN_FAMILIES = negbin_families()
NO_COUNT_LIKELIHOOD = no_count_likelihood()
VUONG_PAIRS = vuong_pairs()


def family_label(result: FitResult) -> str:
    """The family as tables show it (``NB2``, ``ZIP``, ...)."""
    return str(result.extra.get("family_label", result.family))


def require_core(result: FitResult, need: str, purpose: str) -> Any:
    """The family's fit, checked to carry ``need`` (a likelihood-based quantity)."""
    core = getattr(result, "core", None)
    value = None if core is None else getattr(core, need, None)
    if value is None:
        why = no_count_likelihood().get(result.family, "it was not estimated by cpcstats.fit")
        raise SpecError(
            f"{purpose} needs per-observation means, probabilities or log-likelihoods, "
            f"which model {result.name!r} ({result.family}) does not provide: {why}",
            fix="pass a likelihood-based count model fitted with cpcstats.fit "
            "(poisson, negbin, zip, zinb, hurdle-*, fe-poisson, fe-negbin)",
        )
    return core


def outcome(result: FitResult) -> np.ndarray:
    """The outcome of the rows the model actually used.

    ``design.data.y`` holds the sample before the family's own exclusions
    (FE-Poisson drops separated rows), so the family's ``keep`` mask is applied.
    """
    design = getattr(result, "design", None)
    if design is None:
        raise SpecError(
            f"model {result.name!r} carries no design (outcome data)",
            fix="fit it with cpcstats.fit so diagnostics can see the estimation sample",
        )
    y = np.asarray(design.data.y, dtype=float)
    keep = getattr(result.core, "keep", None)
    return y if keep is None else y[keep]


def _rows(result: FitResult) -> pd.Index | None:
    design = getattr(result, "design", None)
    frame = getattr(design, "frame", None)
    if frame is None:
        return None
    keep = getattr(result.core, "keep", None)
    return frame.index if keep is None else frame.index[keep]


def sample_difference(a: FitResult, b: FitResult) -> str | None:
    """Why two models were not fitted on the same rows (None when they were).

    Results built by hand (no design) can only be compared by their N.
    """
    if a.nobs != b.nobs:
        return f"N = {a.nobs} against N = {b.nobs}"
    if a.design is None or b.design is None:
        return None
    if not np.array_equal(outcome(a), outcome(b)):
        return "the outcome values differ (a different outcome or different rows)"
    rows_a, rows_b = _rows(a), _rows(b)
    if rows_a is not None and rows_b is not None and not rows_a.equals(rows_b):
        return "the estimation samples contain different rows"
    return None


def require_same_sample(a: FitResult, b: FitResult, test: str) -> None:
    why = sample_difference(a, b)
    if why is not None:
        raise SpecError(
            f"{test}: models {a.name!r} and {b.name!r} were fitted on different samples ({why})",
            fix="fit both models on the same rows: same data, sample filter and variables "
            "(missing values in a variable used by only one model change its sample)",
        )


def count_terms(result: FitResult) -> list[str]:
    """Mean-equation terms (without inflation/hurdle parts)."""
    return [t for t in map(str, result.params.index) if not t.startswith(("inflate:", "zero:"))]


def response(result: FitResult) -> str:
    """The outcome name, the left side of the formula."""
    return result.formula.split("~", 1)[0].strip()


def as_named(results: Sequence[FitResult] | Mapping[str, FitResult]) -> list[tuple[str, Any]]:
    """(display name, result) pairs; repeated names get the family label appended."""
    if isinstance(results, Mapping):
        pairs = [(str(k), v) for k, v in results.items()]
    else:
        items = list(results)
        names = [r.name for r in items]
        pairs = [
            (f"{r.name} ({family_label(r)})" if names.count(r.name) > 1 else r.name, r)
            for r in items
        ]
        labels = [p[0] for p in pairs]
        pairs = [
            (f"{lab} #{i + 1}" if labels.count(lab) > 1 else lab, r)
            for i, (lab, r) in enumerate(pairs)
        ]
    if not pairs:
        raise SpecError("no models given", fix="pass one or more fitted models")
    for name, r in pairs:
        if not isinstance(r, FitResult):
            raise SpecError(
                f"{name!r} is a {type(r).__name__}, not a FitResult",
                fix="pass models returned by cpcstats.fit",
            )
    return pairs
