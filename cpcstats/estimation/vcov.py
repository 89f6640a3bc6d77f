"""Sandwich variance estimators, one implementation for every family.

A family supplies per-observation scores ``S`` (n x q) and its model-based
variance ``B`` (q x q, the inverse information, with any dispersion
parameter either held fixed, as R's ``glm.nb`` + ``sandwich`` do, or
included jointly).  Variants:

* ``classical`` — ``B``;
* ``hc0`` / ``hc1`` — ``B S'S B``, HC1 scaled by n/(n-k);
* ``cluster`` — one-way or two-way (Cameron, Gelbach & Miller 2011) with
  G/(G-1) for each clustering and (n-1)/(n-k) overall: R's
  ``sandwich::vcovCL(type = "HC1")`` and Stata's defaults.

Each variance is one `VarianceEstimator` object in one registry
(`VARIANCES`, `register_variance`): its name (the ``se`` key of a
spec), how it is computed and the label tables show.  Besides the sandwiches the
registry holds ``quasi`` (Pearson-scaled), ``bootstrap`` (the pairs cluster
bootstrap) and ``model`` (a family's own variance: GEE robust, linearmodels' PanelOLS),
which is not selectable but used whenever a family brings its own.  The names live in
`cpcstats.spec_registry.VARIANCE_REGISTRY` (specs check them without importing
this module); `VARIANCES` is that registry seen as ``name -> estimator``.

``k`` counts every estimated coefficient, fixed-effect dummies included, as R does for a
GLM with factor dummies: the spec's default ``k_fixef = "full"`` (see `fixef_k`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.registry import (
    FAMILY_REGISTRY,
    VARIANCE_REGISTRY,
    Variance,
    variance_names,
)

if TYPE_CHECKING:
    from cpcstats.estimation.base import CoreFit
    from cpcstats.estimation.design import Design
    from cpcstats.spec import ModelSpec

__all__ = [
    "QUASI_FAMILIES",
    "SE_TYPES",
    "VARIANCES",
    "VarianceEstimator",
    "VarianceRequest",
    "Vcov",
    "check_cluster_levels",
    "register_variance",
    "sandwich",
    "unregister_variance",
    "variance_estimator",
    "variance_for_result",
    "variance_names",
]


@dataclass(frozen=True)
class Vcov:
    matrix: np.ndarray
    se_type: str
    description: str
    n_clusters: int | None


@dataclass(frozen=True)
class VarianceRequest:
    """What a variance estimator may use: the spec, the fit, its design and sample rows."""

    spec: ModelSpec
    core: CoreFit
    design: Design
    frame: pd.DataFrame  # the rows the family used (after its own drops)


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, int]:
    _, dense = np.unique(codes, return_inverse=True)
    g = int(dense.max()) + 1 if len(dense) else 0
    if g < 2:  # G/(G-1) divides by zero; fit() names the variable before it gets here
        raise ValueError(f"a clustered variance needs at least 2 clusters, the sample has {g}")
    summed = np.zeros((g, scores.shape[1]))
    np.add.at(summed, dense, scores)
    return (g / (g - 1)) * summed.T @ summed, g


def _codes(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby(list(frame.columns), sort=True, observed=True).ngroup().to_numpy()


def check_cluster_levels(spec: ModelSpec, frame: pd.DataFrame, stage: str) -> None:
    """A clustered (or cluster-bootstrap, or GEE) variance needs >= 2 clusters.

    Why: with one cluster the G/(G-1) factor divides by zero and the "clustered" variance
    is meaningless; the user asked for something the sample cannot give.
    """
    if not spec.cluster:
        return
    family = FAMILY_REGISTRY.get(spec.family)
    estimator = VARIANCES.get(spec.se_type)
    uses = (estimator is not None and estimator.uses_clusters) or (
        family is not None and family.gee
    )
    if not uses:
        return
    for column in spec.cluster:
        levels = frame[column].nunique(dropna=True)
        if levels < 2:
            only = frame[column].dropna().iloc[0] if levels else None
            raise SpecError(
                f"model {spec.name!r}: the cluster variable {column!r} has {levels} level(s) "
                f"{stage}"
                + (f" (all rows are {only!r})" if levels else "")
                + "; clustered standard errors need at least 2 clusters (ideally 30 or more)",
                file=spec.source,
                column="cluster",
                fix=f"cluster by a variable with several levels, drop cluster = {column!r} and "
                "use se = 'hc1', or widen the sample",
            )


_AFTER_DROPS = "in the estimation sample (after the family's drops)"


def fixef_k(
    k_full: int, frame: pd.DataFrame, fes: Sequence[str], clusters: Sequence[str], how: str
) -> int:
    """K of the cluster (n-1)/(n-K) and HC1 n/(n-K) factors, fixed effects counted ``how``.

    As fixest's ``ssc(fixef.K)`` (``force_exact = FALSE``): ``"full"``: ``k_full`` (FE as
    sum(levels) - (#FE - 1)); ``"none"``: no FE parameter; ``"nested"``: less levels - 1 of
    each FE whose every level (rows used) lies in one cluster of a cluster variable -- it is
    estimated within a cluster, so counting it (hundreds of party dummies) over-corrects.
    """
    if how == "full" or not fes:
        return k_full
    sizes = {fe: int(frame[fe].nunique(dropna=False)) for fe in fes}
    if how == "none":
        return k_full - (sum(sizes.values()) - (len(sizes) - 1))

    def nested(fe: str) -> bool:  # every level of fe lies in one cluster of some variable
        one = (frame.groupby(fe, observed=True)[c].nunique(dropna=False) <= 1 for c in clusters)
        return fe in clusters or any(bool(v.all()) for v in one)

    return k_full - sum(sizes[fe] - 1 for fe in fes if nested(fe))


class VarianceEstimator:
    """One variance: its ``se`` name, how it is computed and its table label.

    ``result_types`` are the ``se_type`` values of the `Vcov` it produces (the
    cluster estimator produces ``cluster`` and ``cluster2``); ``selectable`` says whether
    a spec may ask for it by name (a family's own variance is used, not chosen).
    """

    name: ClassVar[str] = ""
    result_types: ClassVar[tuple[str, ...]] = ()
    selectable: ClassVar[bool] = True
    uses_clusters: ClassVar[bool] = False  # needs >= 2 levels of each cluster variable
    # used even when the family brings its own variance (which replaces every other one)
    over_family_own: ClassVar[bool] = False

    def compute(self, request: VarianceRequest) -> Vcov:
        raise NotImplementedError

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        """The short label of the statistics block ("HC1", "cluster: iso3")."""
        return se_type

    def produces(self) -> tuple[str, ...]:
        return self.result_types or (self.name,)


class SandwichEstimator(VarianceEstimator):
    """A variance from the family's scores and bread (``sandwich``)."""

    #: K of the small-sample factor follows the spec's ``k_fixef`` (hc1, cluster)
    counts_fixef: ClassVar[bool] = False

    def k_for(self, request: VarianceRequest) -> int:
        """K of the small-sample factor: ``core.k_dof``, or as the spec's ``k_fixef`` says."""
        core, spec, how = request.core, request.spec, getattr(request.spec, "k_fixef", "full")
        if not self.counts_fixef or how == "full":
            return core.k_dof
        fes = request.design.data.fe_names if core.fixed_effects is None else core.fixed_effects
        clusters = spec.cluster if self.uses_clusters else ()
        return fixef_k(core.k_dof, request.frame, fes, clusters, how)

    def compute(self, request: VarianceRequest) -> Vcov:
        spec, core = request.spec, request.core
        check_cluster_levels(spec, request.frame, _AFTER_DROPS)
        clusters = request.frame[list(spec.cluster)] if spec.cluster else None
        k = self.k_for(request)
        try:
            vc = self.from_scores(
                core.scores, core.bread, k_dof=k, clusters=clusters, cluster_names=spec.cluster
            )
        except ValueError as exc:
            raise SpecError(
                f"model {spec.name!r}: {exc}",
                file=spec.source,
                column="se",
                fix="use se = 'classical' for this family",
            ) from exc
        if k == core.k_dof:
            return vc
        return replace(vc, description=f"{vc.description}; K = {k} (k_fixef = {spec.k_fixef!r})")

    def from_scores(
        self,
        scores: np.ndarray | None,
        bread: np.ndarray,
        *,
        k_dof: int,
        clusters: pd.DataFrame | None = None,
        cluster_names: Sequence[str] = (),
    ) -> Vcov:
        raise NotImplementedError

    @staticmethod
    def _checked(scores: np.ndarray | None, k: int) -> tuple[np.ndarray, int]:
        if scores is None:
            raise ValueError("this family provides no scores for a sandwich variance")
        n = scores.shape[0]
        if n <= k:  # n/(n-k) and (n-1)/(n-k) are not defined
            raise ValueError(
                f"a sandwich variance needs more observations than parameters (n = {n}, k = {k})"
            )
        return scores, n


class Classical(SandwichEstimator):
    """The model-based variance ``B`` (inverse information)."""

    name = "classical"

    def from_scores(
        self,
        scores: np.ndarray | None,
        bread: np.ndarray,
        *,
        k_dof: int,
        clusters: pd.DataFrame | None = None,
        cluster_names: Sequence[str] = (),
    ) -> Vcov:
        return Vcov(bread, "classical", "classical (inverse information)", None)

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        return "classical"


class HC0(SandwichEstimator):
    """Heteroskedasticity-robust ``B S'S B``."""

    name = "hc0"
    factor_text = "HC0"
    table_text = "HC0"

    def small_sample(self, n: int, k: int) -> float:
        return 1.0

    def from_scores(
        self,
        scores: np.ndarray | None,
        bread: np.ndarray,
        *,
        k_dof: int,
        clusters: pd.DataFrame | None = None,
        cluster_names: Sequence[str] = (),
    ) -> Vcov:
        scores, n = self._checked(scores, k_dof)
        meat = scores.T @ scores
        factor = self.small_sample(n, k_dof)
        return Vcov(
            factor * bread @ meat @ bread,
            self.name,
            f"heteroskedasticity-robust ({self.factor_text})",
            None,
        )

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        return self.table_text


class HC1(HC0):
    """HC0 scaled by n/(n-k)."""

    name = "hc1"
    factor_text = "HC1, n/(n-k)"
    table_text = "HC1"
    counts_fixef = True

    def small_sample(self, n: int, k: int) -> float:
        return n / (n - k)


class Cluster(SandwichEstimator):
    """One-way or two-way (Cameron, Gelbach & Miller 2011) clustered sandwich, CR1."""

    name = "cluster"
    result_types = ("cluster", "cluster2")
    uses_clusters = True
    counts_fixef = True

    def from_scores(
        self,
        scores: np.ndarray | None,
        bread: np.ndarray,
        *,
        k_dof: int,
        clusters: pd.DataFrame | None = None,
        cluster_names: Sequence[str] = (),
    ) -> Vcov:
        assert clusters is not None and len(cluster_names) in (1, 2)
        scores, n = self._checked(scores, k_dof)
        small = (n - 1) / (n - k_dof)
        if len(cluster_names) == 1:
            meat, g = _cluster_meat(scores, _codes(clusters[[cluster_names[0]]]))
            description = (
                f"clustered by {cluster_names[0]} ({g} clusters; CR1: G/(G-1)·(n-1)/(n-k))"
            )
            return Vcov(small * bread @ meat @ bread, "cluster", description, g)
        a, b = cluster_names
        meat_a, ga = _cluster_meat(scores, _codes(clusters[[a]]))
        meat_b, gb = _cluster_meat(scores, _codes(clusters[[b]]))
        meat_ab, _ = _cluster_meat(scores, _codes(clusters[[a, b]]))
        matrix = small * bread @ (meat_a + meat_b - meat_ab) @ bread
        description = (
            f"two-way clustered by {a} ({ga}) and {b} ({gb}) (Cameron-Gelbach-Miller; "
            "each G/(G-1), (n-1)/(n-k))"
        )
        return Vcov(matrix, "cluster2", description, min(ga, gb))

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        if se_type == "cluster" and clusters:
            return f"cluster: {clusters[0]}"
        if se_type == "cluster2" and len(clusters) == 2:
            return f"cluster: {clusters[0]} + {clusters[1]}"
        return se_type


class Bootstrap(VarianceEstimator):
    """Pairs cluster bootstrap (`cpcstats.estimation.bootstrap`), imported on use."""

    name = "bootstrap"
    uses_clusters = True

    def compute(self, request: VarianceRequest) -> Vcov:
        from cpcstats.estimation.bootstrap import cluster_bootstrap

        spec = request.spec
        check_cluster_levels(spec, request.frame, _AFTER_DROPS)
        return cluster_bootstrap(
            spec, request.design, request.core, reps=spec.bootstrap_reps, seed=spec.seed
        )

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        return f"bootstrap: {clusters[0]}" if clusters else "bootstrap"


class Quasi(VarianceEstimator):
    """Quasi-Poisson variance: the inverse information times the Pearson dispersion.

    Why: for a short aggregated series (one count per year) heteroskedasticity-robust
    variances are badly biased downwards (n of 11-22 with 2-4 parameters), while the
    overdispersion of an aggregate is well described by one scale factor
    phi = sum((y - mu)^2 / mu) / (n - k) — the standard choice for segmented
    (interrupted time series) Poisson regression.  As in R's ``quasipoisson``.
    """

    name = "quasi"
    over_family_own = True  # a property of the Poisson likelihood, checked as such

    def compute(self, request: VarianceRequest) -> Vcov:
        spec, core, design = request.spec, request.core, request.design
        family = FAMILY_REGISTRY.get(spec.family)
        if family is None or not family.quasi or core.fitted is None:
            raise SpecError(
                f"model {spec.name!r}: se = 'quasi' needs a Poisson family "
                f"({', '.join(quasi_families())}), not {spec.family!r}",
                file=spec.source,
                column="se",
                fix="use family 'poisson' or 'fe-poisson', or another se type",
            )
        y = design.data.y if core.keep is None else design.data.y[core.keep]
        mu = np.asarray(core.fitted, dtype=float)
        dof = len(y) - core.k_dof
        if dof <= 0:
            raise EstimationError(
                f"model {spec.name!r}: no residual degrees of freedom for the dispersion "
                f"({len(y)} rows, {core.k_dof} parameters)",
                file=spec.source,
                fix="use more observations or fewer parameters",
            )
        phi = float(((y - mu) ** 2 / mu).sum() / dof)
        return Vcov(
            phi * core.bread,
            "quasi",
            f"quasi-Poisson (Pearson dispersion {phi:.3g} on n-k = {dof})",
            None,
        )


class FamilyOwn(VarianceEstimator):
    """A family's own variance (GEE robust, linearmodels' clustered PanelOLS).

    Used, not chosen: whenever the fit carries ``core.vcov`` it replaces every se type
    but ``quasi``.
    """

    name = "model"
    selectable = False

    def compute(self, request: VarianceRequest) -> Vcov:
        core = request.core
        assert core.vcov is not None
        return Vcov(core.vcov, "model", core.vcov_description or "", core.n_clusters)

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        found = FAMILY_REGISTRY.get(family)
        if found is not None and found.own_variance_label:
            return found.own_variance_label
        return f"cluster: {clusters[0]}" if clusters else "robust"


class _Estimators(Mapping[str, VarianceEstimator]):
    """The variance registry seen as ``name -> estimator`` (estimators built on first use)."""

    def __getitem__(self, name: str) -> VarianceEstimator:
        return VARIANCE_REGISTRY[name].estimator_object()  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(VARIANCE_REGISTRY)

    def __len__(self) -> int:
        return len(VARIANCE_REGISTRY)


#: every variance estimator by name, in the order error messages list them
VARIANCES: Mapping[str, VarianceEstimator] = _Estimators()


def register_variance(estimator: VarianceEstimator, *, replace_existing: bool = False) -> None:
    """Make ``estimator`` selectable as ``se = estimator.name`` in specs and ``fit``."""
    if estimator.name in VARIANCE_REGISTRY and not replace_existing:
        raise ValueError(f"variance {estimator.name!r} is already registered")
    VARIANCE_REGISTRY[estimator.name] = Variance(
        estimator.name, estimator, selectable=estimator.selectable
    )


def unregister_variance(name: str) -> None:
    VARIANCE_REGISTRY.pop(name)


def variance_estimator(name: str) -> VarianceEstimator:
    return VARIANCES[name]


def variance_for_result(se_type: str) -> VarianceEstimator | None:
    """The estimator that produced a `Vcov` of ``se_type`` (None when unknown)."""
    for estimator in VARIANCES.values():
        if se_type in estimator.produces():
            return estimator
    return None


def quasi_families() -> tuple[str, ...]:
    return tuple(name for name, f in FAMILY_REGISTRY.items() if f.quasi)


#: the built-in se names (derived from the registry; `variance_names` is live)
SE_TYPES = variance_names()
#: families whose variance can be scaled by the Pearson dispersion (se = "quasi")
QUASI_FAMILIES = quasi_families()


def sandwich(
    scores: np.ndarray | None,
    bread: np.ndarray,
    *,
    se_type: str,
    k_dof: int,
    clusters: pd.DataFrame | None = None,
    cluster_names: Sequence[str] = (),
) -> Vcov:
    """Variance of all parameters the scores/bread cover."""
    estimator = VARIANCES.get(se_type)
    if not isinstance(estimator, SandwichEstimator):
        raise ValueError(f"unknown se_type {se_type!r}")
    return estimator.from_scores(
        scores, bread, k_dof=k_dof, clusters=clusters, cluster_names=cluster_names
    )
