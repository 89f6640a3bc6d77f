"""The family and variance registries: every fact about a family or a variance in one object.

Why in the models layer, below `cpcstats.estimation`: model specifications
(`cpcstats.spec`) must check a family's name and needs (an ``inflation`` formula,
fixed effects after ``|``) and a variance's name before any data is seen, and must not
import the fitting machinery (statsmodels, patsy, linearmodels) to do so.  This module
imports only the standard library; a family's fit function and a variance's estimator
are named by ``"module:attribute"`` paths and imported on first use, so specs and
estimation both read this one registry and nothing here pulls in the estimators.
(`cpcstats.estimation.registry` re-exports its public names for older importers.)

Adding a family is one new module with its fit function ``(ModelData) -> CoreFit`` plus
one `register_family` call (for a built-in family: one entry in ``_BUILTIN``
below).  Everything else -- spec validation, the design matrix, variances, diagnostics,
post-estimation and table labels -- reads the traits of the `Family`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal, NamedTuple

__all__ = [
    "FAMILY_REGISTRY",
    "VARIANCE_REGISTRY",
    "Family",
    "FitFunctions",
    "Variance",
    "Vuong",
    "family_label",
    "family_names",
    "get_family",
    "register_family",
    "unregister_family",
    "variance_names",
]

Link = Literal["log", "zero-mixture", "log1p-identity"]
FixedEffects = Literal["dummies", "absorbed", "own"]


def _resolve(path: str) -> Any:
    """The object a ``"module:attribute"`` path names, imported on first use."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def _instance(path: str) -> Any:
    """One instance per estimator class path (estimators carry no state)."""
    return _resolve(path)()


class Vuong(NamedTuple):
    """One Vuong comparison a family takes part in as model 1.

    ``partner`` is a family name or a base ("poisson" / "negbin": every family with that
    base); ``order`` places the comparison among the diagnostics rows (the table keeps
    the order it has always had, so a reader's comparison across runs holds).
    """

    partner: str
    topic: str
    order: float


@dataclass(frozen=True)
class Family:
    """A count-model family: its name, label, traits and how it is fitted.

    Fields (each replaces a constant or a string test that used to live elsewhere):

    * ``label`` -- the column header in tables ("NB2");
    * ``fit`` -- the fit function or its ``"module:function"`` path (imported lazily);
    * ``link`` -- ``"log"``: E[y] = exp(X b + offset) (predictions and marginal effects
      use it); ``"zero-mixture"``: a logit zero part and a log count part;
      ``"log1p-identity"``: a linear model of log(1 + y), so the outcome need not be a
      count, all-zero groups carry information, coefficients are not on a log scale and
      there is no expected count E[y];
    * ``base`` -- ``"poisson"`` / ``"negbin"`` when the family is a plain Poisson / NB2
      model (quasi-Poisson variances, score tests, overdispersion and LR tests, Vuong
      parents);
    * ``zero_part`` -- ``"inflation"`` / ``"hurdle"`` when the family needs an
      ``inflation`` formula;
    * ``fe`` -- how fixed effects after ``|`` enter: ``"dummies"`` (columns of X),
      ``"absorbed"`` (demeaned by the HDFE solver, codes passed to the family) or
      ``"own"`` (the family's estimator absorbs them from the sample frame);
    * ``needs_fe`` -- the formula must have fixed effects after ``|``;
    * ``gee`` -- a GEE: the cluster (or unit) variable is its panel group;
    * ``no_likelihood`` -- why the fit has no count likelihood (None when it has one);
    * ``vuong`` -- the Vuong comparisons it takes part in as model 1;
    * ``own_variance_label`` -- table label of the family's own variance (None: the
      cluster or "robust" label);
    * ``warm_start`` -- bootstrap replications start from the full-sample fitted means.
    """

    name: str
    label: str
    fit: Callable[..., Any] | str
    link: Link = "log"
    base: Literal["poisson", "negbin"] | None = None
    zero_part: Literal["inflation", "hurdle"] | None = None
    fe: FixedEffects = "dummies"
    needs_fe: bool = False
    gee: bool = False
    no_likelihood: str | None = None
    vuong: tuple[Vuong, ...] = ()
    own_variance_label: str | None = None
    warm_start: bool = False

    @property
    def poisson_like(self) -> bool:
        """A plain Poisson model (pooled or FE): quasi variances and score tests apply."""
        return self.base == "poisson"

    @property
    def negbin_like(self) -> bool:
        """A plain NB2 model (pooled or FE): the alternative of the Poisson LR test."""
        return self.base == "negbin"

    @property
    def quasi(self) -> bool:
        """Whether se = 'quasi' (Pearson-scaled inverse information) applies."""
        return self.poisson_like

    @property
    def needs_inflation(self) -> bool:
        return self.zero_part is not None

    @property
    def log_mean(self) -> bool:
        return self.link == "log"

    @property
    def count_outcome(self) -> bool:
        """The outcome must be a count (and all-zero FE groups are uninformative)."""
        return self.link != "log1p-identity"

    @property
    def fe_in_design(self) -> bool:
        return self.fe == "dummies"

    @property
    def absorbs_fe(self) -> bool:
        return self.fe == "absorbed"

    def fit_function(self) -> Callable[..., Any]:
        """The fit function, imported from its path on first use."""
        if callable(self.fit):
            return self.fit
        return _resolve(self.fit)  # type: ignore[no-any-return]


# The paths name estimation modules as text, imported only when a family is fitted.
_FAMILIES = "cpcstats.estimation.families:"
_ZERO_INFLATED = "cpcstats.estimation.zero_inflated:"
_GEE = "cpcstats.estimation.gee:"
_LINEAR_FE = "cpcstats.estimation.linear_fe:"
_GEE_LIK = "no likelihood (GEE estimating equations)"
_BUILTIN = (
    Family("poisson", "Poisson", f"{_FAMILIES}fit_poisson", base="poisson"),
    Family("negbin", "NB2", f"{_FAMILIES}fit_negbin", base="negbin"),
    Family("negbin1", "NB1", "cpcstats.estimation.negbin1:fit_negbin1"),
    Family(
        "zip",
        "ZIP",
        f"{_ZERO_INFLATED}fit_zip",
        link="zero-mixture",
        zero_part="inflation",
        vuong=(Vuong("poisson", "zero inflation", 1), Vuong("hurdle-poisson", "zero process", 6)),
    ),
    Family(
        "zinb",
        "ZINB",
        f"{_ZERO_INFLATED}fit_zinb",
        link="zero-mixture",
        zero_part="inflation",
        vuong=(Vuong("negbin", "zero inflation", 2), Vuong("hurdle-negbin", "zero process", 5)),
    ),
    Family(
        "hurdle-poisson",
        "Hurdle Poisson",
        f"{_FAMILIES}fit_hurdle_poisson",
        link="zero-mixture",
        zero_part="hurdle",
        vuong=(Vuong("poisson", "hurdle", 3),),
    ),
    Family(
        "hurdle-negbin",
        "Hurdle NB2",
        f"{_FAMILIES}fit_hurdle_negbin",
        link="zero-mixture",
        zero_part="hurdle",
        vuong=(Vuong("negbin", "hurdle", 4),),
    ),
    Family(
        "fe-poisson",
        "FE Poisson",
        "cpcstats.estimation.fe_poisson:fit_fe_poisson",
        base="poisson",
        fe="absorbed",
        needs_fe=True,
        warm_start=True,
    ),
    Family("fe-negbin", "FE NB2", f"{_FAMILIES}fit_fe_negbin", base="negbin", needs_fe=True),
    Family(
        "gee-poisson",
        "GEE Poisson",
        f"{_GEE}fit_gee_poisson",
        gee=True,
        no_likelihood=_GEE_LIK,
        own_variance_label="GEE robust",
    ),
    Family(
        "gee-negbin",
        "GEE NB2",
        f"{_GEE}fit_gee_negbin",
        gee=True,
        no_likelihood=_GEE_LIK,
        own_variance_label="GEE robust",
    ),
    Family(
        "ols-fe",
        "OLS FE, log(1+y)",
        f"{_LINEAR_FE}fit_ols_fe",
        link="log1p-identity",
        fe="own",
        needs_fe=True,
        no_likelihood="Gaussian likelihood of log(1 + y): not comparable with count models",
    ),
)

#: every known family by name, in the order error messages list them
FAMILY_REGISTRY: dict[str, Family] = {f.name: f for f in _BUILTIN}


def register_family(family: Family, *, replace_existing: bool = False) -> Family:
    """Make ``family`` known to specs, ``fit``, variances, diagnostics and tables."""
    if family.name in FAMILY_REGISTRY and not replace_existing:
        raise ValueError(f"family {family.name!r} is already registered")
    FAMILY_REGISTRY[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family registered with `register_family` (tests, plug-ins)."""
    FAMILY_REGISTRY.pop(name)


def get_family(name: str) -> Family:
    """The family called ``name``; KeyError when unknown (specs check names first)."""
    return FAMILY_REGISTRY[name]


def family_names() -> tuple[str, ...]:
    return tuple(FAMILY_REGISTRY)


def family_label(name: str) -> str:
    """The table label of ``name``, or the name itself for a family no longer known."""
    found = FAMILY_REGISTRY.get(name)
    return name if found is None else found.label


class FitFunctions(MutableMapping[str, Callable[..., Any]]):
    """The registry seen as ``name -> fit function`` (the old ``families.FAMILIES``).

    Why: code and tests that replace a family's fit function by item assignment keep
    working, and the change lands in the one registry (assigning keeps the traits).
    """

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return FAMILY_REGISTRY[name].fit_function()

    def __setitem__(self, name: str, fit: Callable[..., Any]) -> None:
        FAMILY_REGISTRY[name] = replace(FAMILY_REGISTRY[name], fit=fit)

    def __delitem__(self, name: str) -> None:
        unregister_family(name)

    def __iter__(self) -> Iterator[str]:
        return iter(FAMILY_REGISTRY)

    def __len__(self) -> int:
        return len(FAMILY_REGISTRY)


@dataclass(frozen=True)
class Variance:
    """A variance estimator as a specification sees it: its ``se`` name and its object.

    ``estimator`` is a `cpcstats.estimation.vcov.VarianceEstimator` or the
    ``"module:Class"`` path of one (instantiated once, on first use: the sandwich code
    stays in estimation); ``selectable`` says whether a spec may ask for it by name (a
    family's own variance is used, not chosen).  How it is computed and its table label
    are the estimator's.
    """

    name: str
    estimator: Any
    selectable: bool = True

    def estimator_object(self) -> Any:
        if isinstance(self.estimator, str):
            return _instance(self.estimator)
        return self.estimator


_VCOV = "cpcstats.estimation.vcov:"

#: every variance estimator by name, in the order error messages list them
VARIANCE_REGISTRY: dict[str, Variance] = {
    v.name: v
    for v in (
        Variance("classical", f"{_VCOV}Classical"),
        Variance("hc0", f"{_VCOV}HC0"),
        Variance("hc1", f"{_VCOV}HC1"),
        Variance("cluster", f"{_VCOV}Cluster"),
        Variance("bootstrap", f"{_VCOV}Bootstrap"),
        Variance("quasi", f"{_VCOV}Quasi"),
        # cross-sectionally robust (common period shocks); cluster = the period column
        Variance("driscoll-kraay", "cpcstats.estimation.vcov_driscoll_kraay:DriscollKraay"),
        Variance("model", f"{_VCOV}FamilyOwn", selectable=False),
    )
}


def variance_names() -> tuple[str, ...]:
    """The ``se`` values a spec may give (the registry's selectable estimators)."""
    return tuple(name for name, v in VARIANCE_REGISTRY.items() if v.selectable)
