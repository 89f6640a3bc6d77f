"""Reviewer diagnostics for count models: dispersion, zeros, model choice.

Referees of count-model papers ask the same questions: is there overdispersion
(Cameron–Trivedi auxiliary regressions, the boundary-corrected LR test of
Poisson against NB2), are there excess zeros (observed against expected
zeros, hanging rootograms, Vuong tests of zero-inflated and hurdle models
against their parents), and which model do the information criteria favour.
Everything here reads only a :class:`~cpcstats.estimation.results.FitResult`
and its ``core`` (per-observation log-likelihoods and probabilities), so every
family that provides them is covered without family-specific code.

Conventions follow R so that the numbers can be checked against it
(``tests/reference``): the auxiliary regressions are ``lm`` fits, the Vuong
statistics are those of ``pscl::vuong`` (including its parameter count, which
leaves the NB dispersion out, and its one-sided p-value).  Decisions in
:func:`diagnostics_table` use the 5 % level; the rules are listed there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.registry import FAMILY_REGISTRY
from cpcstats.estimation.results import FitResult

__all__ = [
    "LEVEL",
    "diagnostics_table",
    "information_criteria",
    "lr_test_poisson_negbin",
    "outcome",
    "overdispersion_test",
    "rootogram_data",
    "vuong_test",
    "zero_counts",
]

#: Significance level of every decision in :func:`diagnostics_table`.
LEVEL = 0.05
#: Observed/expected zeros outside [1 - ZERO_TOLERANCE, 1 + ZERO_TOLERANCE] is flagged.
ZERO_TOLERANCE = 0.10


# The family facts below are read from the registry (one object per family); the
# functions are called at use, so a family registered later is covered too.
def _poisson_families() -> frozenset[str]:
    return frozenset(n for n, f in FAMILY_REGISTRY.items() if f.poisson_like)


def _negbin_families() -> frozenset[str]:
    return frozenset(n for n, f in FAMILY_REGISTRY.items() if f.negbin_like)


def _no_count_likelihood() -> dict[str, str]:
    """Families whose likelihood is not one of the count outcome, with the reason."""
    return {n: f.no_likelihood for n, f in FAMILY_REGISTRY.items() if f.no_likelihood}


def _vuong_pairs() -> tuple[tuple[frozenset[str], frozenset[str], str], ...]:
    """Vuong pairs formed by :func:`diagnostics_table`: (model 1 family, model 2 family,
    topic), in the order of the families' declared comparisons."""
    bases = {"poisson": _poisson_families(), "negbin": _negbin_families()}
    declared = [(v.order, name, v) for name, f in FAMILY_REGISTRY.items() for v in f.vuong]
    return tuple(
        (frozenset({name}), bases.get(v.partner, frozenset({v.partner})), v.topic)
        for _, name, v in sorted(declared, key=lambda item: item[0])
    )


#: kept for existing callers; derived from the registry's built-in families
POISSON_FAMILIES = _poisson_families()
NEGBIN_FAMILIES = _negbin_families()
NO_COUNT_LIKELIHOOD = _no_count_likelihood()
VUONG_PAIRS = _vuong_pairs()
_CORRECTIONS = ("raw", "aic", "bic")
_CORRECTION_TEXT = {"raw": "raw", "aic": "AIC-corrected", "bic": "BIC-corrected"}


# --------------------------------------------------------------------------- helpers
def _label(result: FitResult) -> str:
    return str(result.extra.get("family_label", result.family))


def _core(result: FitResult, need: str, purpose: str) -> Any:
    """The family's fit, checked to carry ``need`` (a likelihood-based quantity)."""
    core = getattr(result, "core", None)
    value = None if core is None else getattr(core, need, None)
    if value is None:
        why = _no_count_likelihood().get(result.family, "it was not estimated by cpcstats.fit")
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


def _sample_difference(a: FitResult, b: FitResult) -> str | None:
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


def _require_same_sample(a: FitResult, b: FitResult, test: str) -> None:
    why = _sample_difference(a, b)
    if why is not None:
        raise SpecError(
            f"{test}: models {a.name!r} and {b.name!r} were fitted on different samples ({why})",
            fix="fit both models on the same rows: same data, sample filter and variables "
            "(missing values in a variable used by only one model change its sample)",
        )


def _count_terms(result: FitResult) -> list[str]:
    """Mean-equation terms (without inflation/hurdle parts)."""
    return [t for t in map(str, result.params.index) if not t.startswith(("inflate:", "zero:"))]


def _response(result: FitResult) -> str:
    return result.formula.split("~", 1)[0].strip()


def _as_named(results: Sequence[FitResult] | Mapping[str, FitResult]) -> list[tuple[str, Any]]:
    """(display name, result) pairs; repeated names get the family label appended."""
    if isinstance(results, Mapping):
        pairs = [(str(k), v) for k, v in results.items()]
    else:
        items = list(results)
        names = [r.name for r in items]
        pairs = [
            (f"{r.name} ({_label(r)})" if names.count(r.name) > 1 else r.name, r) for r in items
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


# --------------------------------------------------------------------------- dispersion
def _through_origin(y: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """OLS of y on x without intercept, as ``lm(y ~ 0 + x)``; one-sided test of b > 0."""
    n = len(y)
    coef = float(x @ y / (x @ x))
    resid = y - coef * x
    se = math.sqrt(float(resid @ resid) / (n - 1) / float(x @ x))
    t = coef / se
    return {
        "coef": coef,
        "se": se,
        "t": t,
        "df": n - 1,
        "p_one_sided": float(stats.t.sf(t, n - 1)),
        "p_one_sided_normal": float(stats.norm.sf(t)),
    }


def overdispersion_test(poisson_result: FitResult) -> dict[str, Any]:
    """Cameron–Trivedi (1990) regression tests of the Poisson variance assumption.

    With ``aux = ((y - mu)^2 - y) / mu``, the OLS regression of ``aux`` on ``mu``
    without intercept tests Var = mu + alpha·mu² (NB2 alternative) and the
    regression on a constant tests Var = mu(1 + alpha) (NB1 alternative).
    H0 alpha = 0 against alpha > 0: overdispersion only, hence one-sided
    p-values, from t(n - 1) as ``lm`` (``p_one_sided``) and from N(0, 1).
    The test needs the Poisson fit itself, since mu must be the Poisson mean.
    """
    if poisson_result.family not in _poisson_families():
        raise SpecError(
            f"the overdispersion test needs a Poisson fit; model {poisson_result.name!r} is "
            f"{poisson_result.family!r}",
            fix="refit the model with family='poisson' (or 'fe-poisson') and pass that result",
        )
    core = _core(poisson_result, "fitted", "the overdispersion test")
    y = outcome(poisson_result)
    mu = np.asarray(core.fitted, dtype=float)
    if len(y) != len(mu) or len(y) < 3:
        raise EstimationError(
            f"model {poisson_result.name!r}: {len(y)} outcomes for {len(mu)} fitted values",
            fix="pass a result returned by cpcstats.fit",
        )
    aux = ((y - mu) ** 2 - y) / mu
    nb2 = _through_origin(aux, mu)
    nb1 = _through_origin(aux, np.ones_like(mu))
    return {
        "model": poisson_result.name,
        "nobs": len(y),
        "nb2": nb2,
        "nb1": nb1,
        "h0": "equidispersion: Var(y) = mu",
        "h1": "nb2: Var(y) = mu + alpha mu^2, alpha > 0; nb1: Var(y) = mu (1 + alpha), alpha > 0",
    }


def lr_test_poisson_negbin(poisson_result: FitResult, negbin_result: FitResult) -> dict[str, Any]:
    """Likelihood-ratio test of Poisson (alpha = 0) against NB2 (alpha > 0).

    alpha = 0 lies on the boundary of the parameter space, so LR is not chi2(1)
    under H0 but the 50:50 mixture of a point mass at 0 and chi2(1)
    (Self & Liang 1987): p = 0.5·P(chi2_1 > LR) for LR > 0 and p = 1 at LR = 0
    (a numerically negative LR, NB2 at the boundary, counts as 0).
    """
    if poisson_result.family not in _poisson_families():
        raise SpecError(
            f"first model {poisson_result.name!r} is {poisson_result.family!r}, not Poisson",
            fix="call lr_test_poisson_negbin(poisson_fit, negbin_fit)",
        )
    if negbin_result.family not in _negbin_families():
        raise SpecError(
            f"second model {negbin_result.name!r} is {negbin_result.family!r}, not NB2",
            fix="call lr_test_poisson_negbin(poisson_fit, negbin_fit) with family='negbin'",
        )
    _require_same_sample(poisson_result, negbin_result, "LR test Poisson vs NB2")
    same_terms = _count_terms(poisson_result) == _count_terms(negbin_result) and sorted(
        poisson_result.fixed_effects
    ) == sorted(negbin_result.fixed_effects)
    same_offset = all(
        poisson_result.extra.get(k) == negbin_result.extra.get(k) for k in ("exposure", "offset")
    )
    if not (same_terms and same_offset):
        raise SpecError(
            f"LR test: {poisson_result.name!r} and {negbin_result.name!r} have different "
            "regressors, fixed effects or exposure, so Poisson is not nested in the NB2 model",
            fix="fit both with the same formula and exposure; use information_criteria() "
            "to compare non-nested models",
        )
    ll_p, ll_nb = float(poisson_result.loglik), float(negbin_result.loglik)
    lr = 2.0 * (ll_nb - ll_p)
    p = 1.0 if lr <= 0 else 0.5 * float(stats.chi2.sf(lr, 1))
    note = ""
    if lr < 0:
        note = (
            "LR < 0: the NB2 fit ended at (or short of) the alpha = 0 boundary, where it "
            "equals the Poisson model; read as LR = 0, no overdispersion"
        )
    return {
        "poisson": poisson_result.name,
        "negbin": negbin_result.name,
        "nobs": int(poisson_result.nobs),
        "loglik_poisson": ll_p,
        "loglik_nb": ll_nb,
        "LR": lr,
        "df": 1,
        "p": p,
        "alpha": negbin_result.alpha,
        "null_distribution": "0.5 chi2_0 + 0.5 chi2_1 (boundary; Self & Liang 1987)",
        "note": note,
    }


# --------------------------------------------------------------------------- Vuong
def _pscl_k(result: FitResult) -> int:
    """``length(coef(m))`` in R: every coefficient (FE dummies too), never the NB theta."""
    return int(result.core.k_dof)


def vuong_test(model1: FitResult, model2: FitResult) -> dict[str, Any]:
    """Vuong (1989) test of two non-nested models, exactly as ``pscl::vuong(model1, model2)``.

    m_i = log p1(y_i) - log p2(y_i); stat = sqrt(n)·mean(m - c)/sd(m - c) (sd with
    n - 1), where c = 0 (raw), (k1 - k2)/n (AIC) or (k1 - k2)·log(n)/(2n) (BIC) and k
    counts coefficients without the NB dispersion, as pscl does.  A positive stat
    favours model 1.  ``p`` is pscl's one-sided p-value in the direction of the sign,
    ``1 - pnorm(|stat|)`` (0 once that underflows); ``p_tail`` is the same tail
    computed accurately; ``p_two_sided`` (= 2·p_tail) is the test of "the models are
    equally close to the truth" against either being closer, which is what a 5 %
    decision should use (comparing pscl's ``p`` with 0.05 is a 10 % two-sided test).

    Caveat (Wilson 2015, Economics Letters 127): a zero-inflated model nests its
    parent at inflation probability 0, so the Vuong test of ZIP vs Poisson or ZINB
    vs NB2 is not strictly valid; report it as the literature does, with care.

    Length: mostly input checks, each naming its fix, around a few lines of arithmetic.
    """
    for m in (model1, model2):
        _core(m, "loglik_obs", "the Vuong test")
    _require_same_sample(model1, model2, "Vuong test")
    l1 = np.asarray(model1.core.loglik_obs, dtype=float)
    l2 = np.asarray(model2.core.loglik_obs, dtype=float)
    if l1.shape != l2.shape:
        raise EstimationError(
            f"Vuong test: {len(l1)} and {len(l2)} per-observation log-likelihoods",
            fix="fit both models on the same rows",
        )
    m = l1 - l2
    if np.max(np.abs(m)) < 1e-6:
        # e.g. a ZINB whose inflation collapsed onto its NB2: the two fits are the same model,
        # and the statistic would be noise divided by noise
        raise EstimationError(
            f"Vuong test: {model1.name!r} and {model2.name!r} give the same log-likelihood for "
            "every observation (to 1e-6): they are the same fitted model",
            fix="compare two different models",
        )
    if not np.isfinite(m).all():
        raise EstimationError(
            "Vuong test: a per-observation log-likelihood is not finite",
            fix="check that both models converged (result.converged, result.warnings)",
        )
    n = len(m)
    k1, k2 = _pscl_k(model1), _pscl_k(model2)
    corrections = {
        "raw": 0.0,
        "aic": (k1 - k2) / n,
        "bic": (k1 - k2) * math.log(n) / (2 * n),
    }
    stat: dict[str, float] = {}
    p: dict[str, float] = {}
    p_tail: dict[str, float] = {}
    direction: dict[str, str] = {}
    for key, c in corrections.items():
        d = m - c
        sd = float(np.std(d, ddof=1))
        if not sd > 0:
            raise EstimationError(
                f"Vuong test: {model1.name!r} and {model2.name!r} give the same "
                "log-likelihood for every observation",
                fix="compare two different models",
            )
        z = math.sqrt(n) * float(d.mean()) / sd
        stat[key] = z
        p[key] = 1.0 - float(stats.norm.cdf(z)) if z > 0 else float(stats.norm.cdf(z))
        p_tail[key] = float(stats.norm.sf(abs(z)))
        direction[key] = "model1 > model2" if z > 0 else "model2 > model1"
    return {
        "model1": model1.name,
        "model2": model2.name,
        "n": n,
        "k1": k1,
        "k2": k2,
        "mean_m": float(m.mean()),
        "sd_m": float(np.std(m, ddof=1)),
        "stat": stat,
        "p": p,
        "p_tail": p_tail,
        "p_two_sided": {k: min(1.0, 2.0 * v) for k, v in p_tail.items()},
        "direction": direction,
        "loglik1": float(l1.sum()),
        "loglik2": float(l2.sum()),
    }


# --------------------------------------------------------------------------- zeros
def zero_counts(result: FitResult) -> dict[str, Any]:
    """Observed zeros against the model's expected zeros, sum_i P(y_i = 0).

    A ratio above 1 means the model under-predicts zeros (the usual motive for
    zero-inflated or hurdle models); hurdle models reproduce it exactly when the
    zero part has an intercept.
    """
    core = _core(result, "pmf", "counting expected zeros")
    y = outcome(result)
    expected = float(np.asarray(core.pmf(np.array([0])))[:, 0].sum())
    observed = int((y == 0).sum())
    return {
        "model": result.name,
        "nobs": len(y),
        "observed": observed,
        "expected": expected,
        "ratio": observed / expected if expected > 0 else float("inf"),
    }


def rootogram_data(result: FitResult, max_count: int | None = None) -> pd.DataFrame:
    """Observed and expected count frequencies for a (hanging) rootogram (Kleiber & Zeileis 2016).

    One row for each k = 0..K plus a final pooled row, labelled ``"{K+1}+"``, for all
    counts above K: its observed frequency counts y > K and its expected frequency is
    n - sum of the expected frequencies over 0..K, so both columns sum to n.  The
    expected frequency of k is the column sum of ``core.pmf`` (sum_i P(y_i = k)).
    K defaults to the 99th percentile of y (rounded up), so that a long right tail
    does not squeeze the informative low counts.  ``bottom`` = sqrt(expected) -
    sqrt(observed) is where the hanging bar ends: below 0 the model under-predicts
    that count, above 0 it over-predicts it.  The index holds the row labels.
    """
    core = _core(result, "pmf", "a rootogram")
    y = np.rint(outcome(result)).astype(np.int64)
    n = len(y)
    if max_count is None:
        top = math.ceil(float(np.quantile(y, 0.99))) if n else 0
    else:
        if isinstance(max_count, bool) or not isinstance(max_count, (int, np.integer)):
            raise SpecError(
                f"max_count must be a whole number, not {max_count!r}",
                fix="pass e.g. max_count=20, or None for the 99th percentile of y",
            )
        top = int(max_count)
        if top < 0:
            raise SpecError(
                f"max_count must be >= 0, not {top}",
                fix="pass e.g. max_count=20, or None for the 99th percentile of y",
            )
    ks = np.arange(top + 1)
    expected = np.asarray(core.pmf(ks), dtype=float).sum(axis=0)
    observed = np.bincount(np.clip(y, 0, top + 1), minlength=top + 2)[: top + 2].astype(float)
    expected = np.append(expected, max(n - float(expected.sum()), 0.0))
    labels = [str(k) for k in ks] + [f"{top + 1}+"]
    frame = pd.DataFrame(
        {
            "k": np.arange(top + 2),
            "pooled": [False] * (top + 1) + [True],
            "observed": observed,
            "expected": expected,
            "sqrt_observed": np.sqrt(observed),
            "sqrt_expected": np.sqrt(expected),
        },
        index=pd.Index(labels, name="count"),
    )
    frame["bottom"] = frame["sqrt_expected"] - frame["sqrt_observed"]
    frame.attrs.update(
        {
            "model": result.name,
            "family": _label(result),
            "max_count": top,
            "nobs": n,
            "simulated": bool(result.simulated),
        }
    )
    return frame


# --------------------------------------------------------------------------- model choice
def information_criteria(
    results: Sequence[FitResult] | Mapping[str, FitResult], *, sort: bool = True
) -> pd.DataFrame:
    """AIC/BIC of several models with differences from the best one.

    Information criteria compare models only on the same observations of the
    same outcome.  The reference sample is the one shared by most models (ties:
    the first listed); ``comparable`` is False for models on another sample and
    their ΔAIC/ΔBIC are NaN, because a difference across samples means nothing.
    Models without a count likelihood (GEE; OLS of log(1 + y)) get NaN and a note.
    ``df`` counts every estimated parameter including the NB dispersion.  With
    ``sort`` the rows are ordered by AIC (models without one last).
    """
    return _criteria(_as_named(results), sort=sort)


def _criteria(named: list[tuple[str, Any]], *, sort: bool) -> pd.DataFrame:
    groups: list[list[int]] = []
    for i, (_, r) in enumerate(named):
        for group in groups:
            if _sample_difference(named[group[0]][1], r) is None:
                group.append(i)
                break
        else:
            groups.append([i])
    reference = max(groups, key=len)  # max keeps the first of equal-sized groups
    ref_n = named[reference[0]][1].nobs
    records = []
    for i, (name, r) in enumerate(named):
        notes = []
        no_likelihood = _no_count_likelihood()
        usable = r.family not in no_likelihood and np.isfinite(r.loglik)
        if not usable:
            notes.append(no_likelihood.get(r.family, "log-likelihood not finite"))
        comparable = i in reference
        if not comparable:
            notes.append(f"different estimation sample (N = {r.nobs}, reference N = {ref_n})")
        if not r.converged:
            notes.append("did not converge")
        records.append(
            {
                "name": name,
                "family": _label(r),
                "nobs": int(r.nobs),
                "df": int(r.df_model),
                "loglik": float(r.loglik) if usable else np.nan,
                "aic": float(r.aic) if usable else np.nan,
                "bic": float(r.bic) if usable else np.nan,
                "comparable": comparable,
                "note": "; ".join(notes),
            }
        )
    frame = pd.DataFrame.from_records(records)
    pool = frame["comparable"] & frame["aic"].notna()
    for crit in ("aic", "bic"):
        best = frame.loc[pool, crit].min() if pool.any() else np.nan
        frame[f"delta_{crit}"] = np.where(pool, frame[crit] - best, np.nan)
    frame = frame[
        [
            "name",
            "family",
            "nobs",
            "df",
            "loglik",
            "aic",
            "bic",
            "delta_aic",
            "delta_bic",
            "comparable",
            "note",
        ]
    ]
    if sort:
        frame = frame.sort_values("aic", kind="mergesort", na_position="last")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- summary table
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


def _dispersion_rows(name: str, r: FitResult, level: float) -> list[dict[str, Any]]:
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
    ``interpretation``; index ``test``, ready for :func:`stats_table`), with these
    rules at ``level`` (5 %):

    * every Poisson model: the Cameron–Trivedi tests (one-sided t p-value);
      p < level reads "overdispersion: NB2 (NB1) preferred".
    * every Poisson/NB2 pair with the same regressors and sample: the boundary-
      corrected LR test; p < level reads "overdispersion: NB2 preferred".
    * Vuong tests for the pairs in :data:`VUONG_PAIRS` (ZIP vs Poisson, ZINB vs NB2,
      hurdle vs parent, ZINB vs hurdle NB2) with the same count regressors, using the
      ``vuong_correction`` statistic and the two-sided p-value: p < level and z > 0
      prefers model 1, z < 0 model 2, otherwise the two are indistinguishable.  A
      pair on different samples gets a row saying it was not computed.
    * every model with probabilities: observed/expected zeros; a ratio outside
      1 ± 10 % reads "model under-/over-predicts zeros" (descriptive, no test).
    * every model: AIC and BIC (value) with ΔAIC/ΔBIC in the interpretation; the
      lowest is "best".  Models on another sample are flagged, not ranked.
    """
    if vuong_correction not in _CORRECTIONS:
        raise SpecError(
            f"vuong_correction must be one of {_CORRECTIONS}, not {vuong_correction!r}",
            fix="use 'aic' (default), 'bic' or 'raw'",
        )
    if not 0 < level < 1:
        raise SpecError(f"level must lie in (0, 1), not {level!r}", fix="use e.g. level=0.05")
    named = _as_named(results)
    responses = {_response(r) for _, r in named}
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


Named = list[tuple[str, FitResult]]


def _overdispersion_rows(named: Named, level: float) -> list[dict[str, Any]]:
    """Cameron–Trivedi rows of every Poisson model, LR rows of every Poisson/NB2 pair."""
    rows: list[dict[str, Any]] = []
    pois = [(n, r) for n, r in named if r.family in _poisson_families()]
    nbs = [(n, r) for n, r in named if r.family in _negbin_families()]
    for name, r in pois:
        rows.extend(_dispersion_rows(name, r, level))
    for pname, p in pois:
        for nname, nb in nbs:
            if _count_terms(p) != _count_terms(nb) or sorted(p.fixed_effects) != sorted(
                nb.fixed_effects
            ):
                continue
            models = f"{pname} vs {nname}"
            test = "LR Poisson vs NB2 (boundary-corrected)"
            why = _sample_difference(p, nb)
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
    for fam1, fam2, topic in _vuong_pairs():
        for n1, m1 in named:
            if m1.family not in fam1:
                continue
            for n2, m2 in named:
                if m2.family not in fam2 or _count_terms(m1) != _count_terms(m2):
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
    why = _sample_difference(m1, m2)
    if why is not None:
        return _row(test, models, "z", np.nan, np.nan, f"not computed: {why}")
    try:
        v = vuong_test(m1, m2)
    except EstimationError as exc:
        text = f"{topic}: not computed: {exc.problem.split(': ', 1)[-1]}"
        return _row(test, models, "z", np.nan, np.nan, text)
    z, p = v["stat"][vuong_correction], v["p_two_sided"][vuong_correction]
    l1, l2 = _label(m1), _label(m2)
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
        rows.append(_row("Zeros, observed / expected", name, "ratio", ratio, np.nan, text))
    return rows


def _criteria_rows(named: Named) -> list[dict[str, Any]]:
    """AIC and BIC of every model, ranked among the models on the reference sample."""
    rows: list[dict[str, Any]] = []
    ic = _criteria(named, sort=False)
    for crit, label in (("aic", "AIC"), ("bic", "BIC")):
        for rec in ic.itertuples(index=False):
            delta = getattr(rec, f"delta_{crit}")
            if np.isnan(getattr(rec, crit)):
                text = rec.note
            elif not rec.comparable:
                text = f"not ranked: {rec.note}"
            elif delta == 0:
                text = f"best (lowest {label})"
            else:
                text = f"Δ{label} = {delta:.1f} from the best"
            rows.append(_row(label, rec.name, label, getattr(rec, crit), np.nan, text))
    return rows
