"""The analytic ZIP/ZINB likelihood and its Newton fit against statsmodels and the old path.

The old path (statsmodels' ``ZeroInflated*`` by BFGS, the bread from the central
difference of statsmodels' score) is the reference: the same optimum, the same variance,
and on the demo's boundary fit a log-likelihood at least as high.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.discrete.count_model import ZeroInflatedNegativeBinomialP, ZeroInflatedPoisson

import cpcstats
from cpcstats.estimation import zero_inflated
from cpcstats.estimation.numdiff import central_jacobian, symmetric_jacobian
from cpcstats.estimation.zi_likelihood import ZeroInflatedLikelihood, fit_newton
from cpcstats.spec import load_specs

REPO = Path(__file__).resolve().parents[1]
N = 5000
COUNT = np.array([0.4, 0.5, -0.4])
INFLATE = np.array([-0.6, 0.9])
ALPHA = 0.7


def _simulate(negbin: bool, offset: bool, seed: int = 3, n: int = N) -> pd.DataFrame:
    """A process with real excess zeros: a logit(-0.6 + 0.9 z) share of structural zeros,
    Poisson or NB2 counts otherwise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.binomial(1, 0.4, n).astype(float),
            "z": rng.normal(size=n),
            "expo": np.exp(rng.normal(scale=0.3, size=n)) if offset else np.ones(n),
        }
    )
    X = np.column_stack([np.ones(n), frame["x1"], frame["x2"]])
    mu = np.exp(X @ COUNT) * frame["expo"].to_numpy()
    if negbin:
        mu = mu * rng.gamma(1 / ALPHA, ALPHA, n)
    structural = rng.random(n) < 1 / (1 + np.exp(-(INFLATE[0] + INFLATE[1] * frame["z"])))
    frame["y"] = np.where(structural, 0, rng.poisson(mu))
    return frame


def _arrays(frame: pd.DataFrame, offset: bool) -> tuple[np.ndarray, ...]:
    n = len(frame)
    X = np.column_stack([np.ones(n), frame["x1"], frame["x2"]])
    Z = np.column_stack([np.ones(n), frame["z"]])
    off = np.log(frame["expo"].to_numpy()) if offset else None
    return frame["y"].to_numpy(dtype=float), X, Z, off


def _statsmodels(frame: pd.DataFrame, negbin: bool, offset: bool) -> object:
    y, X, Z, off = _arrays(frame, offset)
    if negbin:
        return ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z, offset=off, p=2)
    return ZeroInflatedPoisson(y, X, exog_infl=Z, offset=off)


def _truth(negbin: bool) -> np.ndarray:
    return np.concatenate([INFLATE, COUNT] + ([[ALPHA]] if negbin else []))


CASES = [(negbin, offset) for negbin in (False, True) for offset in (False, True)]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))


# ------------------------------------------------------------------ derivatives
@pytest.mark.parametrize(("negbin", "offset"), CASES)
def test_score_and_hessian_are_the_derivatives(negbin: bool, offset: bool) -> None:
    """Score = central difference of the log-likelihood, Hessian = central difference of
    the score (relative 1e-6), at random points and at the optimum."""
    frame = _simulate(negbin, offset, n=1500)
    lik = ZeroInflatedLikelihood(*_arrays(frame, offset), negbin=negbin)
    rng = np.random.default_rng(11)
    fit = fit_newton(lik, _truth(negbin))
    assert fit is not None
    points = [_truth(negbin) + rng.normal(scale=0.3, size=lik.k_params) for _ in range(3)]
    if negbin:
        for p in points:
            p[-1] = abs(p[-1]) + 0.05
    for p in [*points, fit.params]:
        ll, g, H = lik.derivatives(p)
        assert ll == pytest.approx(lik.loglike(p), abs=1e-9)
        numeric_g = central_jacobian(lik.loglike, p, rel_step=1e-6)
        assert np.max(np.abs(g - numeric_g)) <= 1e-6 * max(np.max(np.abs(g)), 1.0)
        assert _relative(H, central_jacobian(lik.score, p, rel_step=1e-6)) < 1e-6
        assert np.allclose(lik.score_obs(p).sum(axis=0), g, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize(("negbin", "offset"), CASES)
def test_likelihood_and_scores_equal_statsmodels(negbin: bool, offset: bool) -> None:
    frame = _simulate(negbin, offset, n=1500)
    lik = ZeroInflatedLikelihood(*_arrays(frame, offset), negbin=negbin)
    model = _statsmodels(frame, negbin, offset)
    p = _truth(negbin) + 0.1
    assert lik.loglike(p) == pytest.approx(model.loglike(p), rel=1e-12)  # type: ignore[attr-defined]
    assert np.allclose(lik.score_obs(p), model.score_obs(p), rtol=1e-9, atol=1e-11)  # type: ignore[attr-defined]


def test_nb2_terms_are_exact_near_the_poisson_limit() -> None:
    """The cumulative-sum form of the gamma terms: at alpha = 1e-9 the ZINB is its ZIP limit
    to 1e-6 in the log-likelihood and score (the gammaln form loses every digit there),
    and non-integer counts (the special-function form) agree with it at a moderate alpha."""
    frame = _simulate(False, False, n=1500)
    y, X, Z, off = _arrays(frame, False)
    zinb = ZeroInflatedLikelihood(y, X, Z, off, negbin=True)
    zip_ = ZeroInflatedLikelihood(y, X, Z, off, negbin=False)
    p = np.concatenate([INFLATE, COUNT])
    tiny = np.append(p, 1e-9)
    assert zinb.loglike(tiny) == pytest.approx(zip_.loglike(p), abs=1e-6)
    assert np.allclose(zinb.score(tiny)[:-1], zip_.score(p), atol=1e-5)
    H = zinb.hessian(tiny)
    assert np.isfinite(H).all() and H[-1, -1] < 0
    shifted = ZeroInflatedLikelihood(np.where(y > 0, y + 1e-12, 0.0), X, Z, off, negbin=True)
    assert not shifted.integer and zinb.integer
    moderate = np.append(p, 0.5)
    assert shifted.loglike(moderate) == pytest.approx(zinb.loglike(moderate), abs=1e-6)
    assert _relative(shifted.hessian(moderate), zinb.hessian(moderate)) < 1e-6


@pytest.mark.parametrize("negbin", [False, True])
def test_frequency_weights_equal_repeated_rows(negbin: bool) -> None:
    """weights = k is k copies of the row: the same log-likelihood, score, Hessian and fit
    (what the null model's cells of identical observations need)."""
    frame = _simulate(negbin, True, n=600)
    y, X, Z, off = _arrays(frame, True)
    k = np.random.default_rng(2).integers(1, 4, len(y))
    rows = np.repeat(np.arange(len(y)), k)
    assert off is not None
    weighted = ZeroInflatedLikelihood(y, X, Z, off, negbin=negbin, weights=k)
    repeated = ZeroInflatedLikelihood(y[rows], X[rows], Z[rows], off[rows], negbin=negbin)
    p = _truth(negbin)
    for a, b in zip(weighted.derivatives(p), repeated.derivatives(p), strict=True):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-9)
    fw, fr = fit_newton(weighted, p), fit_newton(repeated, p)
    assert fw is not None and fr is not None
    assert np.allclose(fw.params, fr.params, atol=1e-8)


# ------------------------------------------------------------------ the fit
@pytest.mark.parametrize(("negbin", "offset"), CASES)
def test_fit_equals_statsmodels_and_the_old_variance(negbin: bool, offset: bool) -> None:
    """cpcstats.fit reaches statsmodels' optimum at gtol = 1e-10 (parameters to 1e-6, the
    log-likelihood to 1e-8 and never below it by more than 1e-9), and its bread is the
    old path's (the inverse of the central difference of statsmodels' score) to 1e-6."""
    frame = _simulate(negbin, offset)
    family = "zinb" if negbin else "zip"
    kw = {"exposure": "expo"} if offset else {}
    m = cpcstats.fit("y ~ x1 + x2", frame, family=family, inflation="z", **kw)
    model = _statsmodels(frame, negbin, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.fit(  # type: ignore[attr-defined]
            start_params=_truth(negbin), method="bfgs", maxiter=5000, gtol=1e-10, disp=0
        )
    theirs = np.asarray(ref.params)
    ours = np.concatenate(
        [m.params[["inflate:Intercept", "inflate:z"]], m.params[["Intercept", "x1", "x2"]]]
        + ([[m.alpha]] if negbin else [])
    )
    assert np.max(np.abs(ours - theirs)) < 1e-6
    assert m.loglik >= ref.llf - 1e-9
    assert m.loglik == pytest.approx(ref.llf, abs=1e-8)
    old = np.linalg.inv(-symmetric_jacobian(model.score, theirs, rel_step=1e-5))  # type: ignore[attr-defined]
    kx, kz = 3, 2
    order = np.r_[kz : kz + kx, 0:kz, kz + kx : len(theirs)]
    assert m.core is not None
    assert _relative(m.core.bread, old[np.ix_(order, order)]) < 1e-6
    se_old = np.sqrt(np.diag(old[np.ix_(order, order)]))[: kx + kz]
    assert np.allclose(m.std_errors.to_numpy(), se_old, rtol=1e-6)


def test_newton_declines_at_the_dispersion_boundary() -> None:
    """Equidispersed counts without excess zeros: alpha runs to 0, the Newton fit returns
    None and the fit is statsmodels' chain's (its boundary notes), as before."""
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.2 + 0.3 * x)).astype(float)
    X = np.column_stack([np.ones(n), x])
    Z = np.column_stack([np.ones(n), rng.normal(size=n)])
    lik = ZeroInflatedLikelihood(y, X, Z, negbin=True)
    assert fit_newton(lik, np.array([-2.0, 0.0, 0.2, 0.3, 1.0])) is None


def test_an_inflation_coefficient_running_off_converges_and_is_flagged() -> None:
    """Rows with g = 1 have no zeros: P(structural zero | g = 1) -> 0.  Newton stops where
    the score is below tolerance (no endless walk), beyond the flag's +-15, and at a
    log-likelihood no lower than statsmodels' BFGS reaches."""
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "g": rng.binomial(1, 0.3, n)})
    mu = np.exp(0.8 + 0.3 * frame["x"])
    structural = (frame["g"] == 0) & (rng.random(n) < 0.4)
    counts = rng.poisson(mu * rng.gamma(2.0, 0.5, n))
    frame["y"] = np.where(structural, 0, np.where(frame["g"] == 1, np.maximum(counts, 1), counts))
    m = cpcstats.fit("y ~ x", frame, family="zinb", inflation="g")
    assert m.params["inflate:g"] < -15 and m.converged
    assert any("inflation probabilities at 0/1 (inflate:g" in p for p in m.problems)
    y, X = frame["y"].to_numpy(float), np.column_stack([np.ones(n), frame["x"]])
    Z = np.column_stack([np.ones(n), frame["g"]])
    model = ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z, p=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.fit(method="bfgs", maxiter=1000, gtol=1e-10, disp=0)
    assert m.loglik >= ref.llf - 1e-6


def test_demo_zinb_reaches_at_least_the_old_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's rob_zinb (inflation coefficients at the boundary): the Newton fit's
    log-likelihood is at least the old statsmodels path's - 1e-6, with the same flags."""
    panel = cpcstats.party_year(cpcstats.load_study("demo"))
    spec = {s.name: s for s in load_specs(REPO / "models" / "robustness.toml")}["rob_zinb"]
    new = cpcstats.fit(spec, panel)
    monkeypatch.setattr(zero_inflated, "fit_newton", lambda lik, start: None)
    old = cpcstats.fit(spec, panel)
    assert new.loglik >= old.loglik - 1e-6
    assert new.flagged and old.flagged
    assert [p.split("(")[0] for p in new.problems] == [p.split("(")[0] for p in old.problems]
    shared = [n for n in new.params.index if not n.startswith("inflate:ruling")]
    assert np.allclose(new.params[shared], old.params[shared], atol=1e-4)
