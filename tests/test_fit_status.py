"""Failed and boundary fits are not results (issue 15).

`cpcstats.estimation.fit_status.fit_problems` fills `FitResult.problems`; a model with
any is flagged, never ranked or recommended by the diagnostics, and counted as flagged by
the replication's closing line.  What R returns for the same fits is in
``tests/reference/fixtures/fit_status.json`` (``tests/reference/make_fit_status.R``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.diagnostics import diagnostics_table, information_criteria
from cpcstats.estimation.base import CoreFit, ModelData
from cpcstats.estimation.fit_status import fit_problems
from cpcstats.estimation.results import FitResult
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.spec import load_specs

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "reference"
R_FIT = json.loads((REFERENCE / "fixtures" / "fit_status.json").read_text(encoding="utf-8"))


def _r_shows_a_problem(case: dict) -> bool:
    """What a reader of R's output sees: NaN SEs, a warning, theta at either end, or a
    standard error over 10 on the log/logit scale (an interval of e^±20: the likelihood is
    flat there).  On the real-universe demo R's hurdle-NB stops at theta = 0.0045 with
    SE(log theta) = 15.4 and a count intercept of -16.9 (SE 63), "converged" and without a
    warning: the boundary theta -> 0 that cpcstats flags."""
    theta = case["theta"]
    return bool(
        case["n_se_nan"]
        or case["warnings"]
        or theta < 1e-3
        or theta > 1e5
        or (case["max_se"] is not None and case["max_se"] > 10)
    )


@pytest.fixture(scope="module")
def demo_fits() -> dict[str, FitResult]:
    """The robustness battery and the families tour's zero-part models on the demo."""
    panel = cpcstats.party_year(cpcstats.load_study("demo"))
    specs = {s.name: s for s in load_specs(REPO / "models" / "robustness.toml")}
    specs.update({s.name: s for s in load_specs(REPO / "models" / "families.toml")})
    names = [
        "rob_poisson",
        "rob_negbin",
        "rob_zinb",
        "rob_hurdle_negbin",
        "rob_fe_poisson",
        "rob_ols_fe",
        "fam_zinb",
        "fam_hurdle_negbin",
        "fam_negbin1",
        "fam_zip",
        "fam_hurdle_poisson",
    ]
    return {n: cpcstats.fit(specs[n], panel) for n in names}


# ------------------------------------------------------------------ the demo, against R
@pytest.mark.parametrize(
    "name", ["rob_negbin", "rob_zinb", "rob_hurdle_negbin", "fam_zinb", "fam_hurdle_negbin"]
)
def test_demo_flags_agree_with_what_r_shows(name: str, demo_fits: dict[str, FitResult]) -> None:
    assert demo_fits[name].flagged == _r_shows_a_problem(R_FIT[name])


def test_demo_boundary_fits_reach_r_s_optimum(demo_fits: dict[str, FitResult]) -> None:
    """The zero-part models of the demo reach pscl's log-likelihood (the same optimum, or
    the same flat ridge where a coefficient is not identified), and where R's output shows
    a boundary cpcstats names it: theta -> 0 (alpha at its bound), a hurdle count part or
    a logit part at its limit.  Which fits sit at a boundary depends on the draw (the
    shipped one: both ZINBs' inflation equations, the robustness hurdle's count part with
    intercept -38 against recognizes_prc +35, pscl 16.6 with SE 225); this holds for any."""
    for name in ("rob_zinb", "fam_zinb", "rob_hurdle_negbin", "fam_hurdle_negbin"):
        m, r = demo_fits[name], R_FIT[name]
        assert abs(m.loglik - r["loglik"]) < 0.05, (name, m.loglik, r["loglik"])
        if r["theta"] < 1e-3:
            assert any("theta = 1/alpha → 0" in p for p in m.problems), name
        if _r_shows_a_problem(r):
            assert any("boundary" in p or "singular" in p for p in m.problems), name


@pytest.mark.parametrize(
    "name",
    [
        "rob_poisson",
        "rob_negbin",
        "rob_fe_poisson",
        "rob_ols_fe",
        "fam_negbin1",
        "fam_zip",
        "fam_hurdle_poisson",
    ],
)
def test_sound_demo_fits_are_not_flagged(name: str, demo_fits: dict[str, FitResult]) -> None:
    assert demo_fits[name].problems == []
    assert not demo_fits[name].flagged


# ------------------------------------------------------------------ constructed data
def test_zinb_inflation_at_the_boundary_is_flagged_as_r_shows() -> None:
    """Rows with g = 1 have no zeros: P(structural zero | g = 1) -> 0.  R's zeroinfl
    reports g = -19.7 with SE 1079; ours diverges further and is flagged."""
    data = pd.read_csv(REFERENCE / "data" / "fit_status_zinb.csv")
    m = cpcstats.fit("y ~ x", data, family="zinb", inflation="g")
    r = R_FIT["zinb_boundary"]
    assert r["std_errors"]["g"] > 100 and _r_shows_a_problem(r)
    assert m.params["inflate:g"] < -15
    assert m.flagged
    assert any("inflation probabilities at 0/1 (inflate:g" in p for p in m.problems)


def test_hurdle_negbin_without_overdispersion_fits_and_is_flagged() -> None:
    """Positives 1 + Binomial(2, 0.5): R's hurdle gives theta = 2.6e5 (SE 1e7)."""
    data = pd.read_csv(REFERENCE / "data" / "fit_status_hurdle.csv")
    m = cpcstats.fit("y ~ x", data, family="hurdle-negbin", inflation="x + g")
    r = R_FIT["hurdle_nodisp"]
    assert r["theta"] > 1e5
    assert m.alpha is not None and m.alpha < 1e-6
    assert m.flagged
    assert any("theta → ∞" in p for p in m.problems)
    assert abs(m.loglik - r["loglik"]) < 1e-3


def test_well_behaved_nb_is_not_flagged() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=1500)
    mu = np.exp(0.5 + 0.6 * x)
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu))
    m = cpcstats.fit("y ~ x", pd.DataFrame({"y": y, "x": x}), family="negbin")
    assert 0.3 < (m.alpha or 0) < 1.5
    assert m.problems == [] and not m.flagged


# ------------------------------------------------------------------ fit_problems itself
def _core(bread: np.ndarray, **kw: object) -> tuple[CoreFit, ModelData]:
    k = len(bread)
    X = np.column_stack([np.ones(50), np.linspace(-1, 1, 50)])[:, : min(k, 2)]
    names = ["Intercept", "x"][: X.shape[1]]
    core = CoreFit(names=names, params=np.zeros(len(names)), loglik=-1.0, bread=bread, **kw)  # type: ignore[arg-type]
    return core, ModelData(y=np.zeros(50), X=X, x_names=names)


def test_fit_problems_reads_the_information_matrix() -> None:
    healthy = np.array([[0.04, 0.01], [0.01, 0.09]])
    assert fit_problems("poisson", *_core(healthy, scores=None, k_dof=2)) == []
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert fit_problems("poisson", *_core(singular, scores=None, k_dof=2))[0].startswith(
        "singular Hessian (smallest eigenvalue"
    )
    nan = np.full((2, 2), np.nan)
    assert "cannot be inverted" in fit_problems("poisson", *_core(nan, scores=None, k_dof=2))[0]
    indefinite = np.array([[1.0, 0.0], [0.0, -1.0]])
    assert (
        "not negative definite"
        in fit_problems("poisson", *_core(indefinite, scores=None, k_dof=2))[0]
    )
    flat = np.diag([1e9])
    assert "huge standard error" in fit_problems("poisson", *_core(flat, scores=None, k_dof=1))[0]


def test_fit_problems_leaves_out_parameters_held_at_a_bound() -> None:
    """A held dispersion has an all-zero row: the rest is checked, the boundary said."""
    bread = np.zeros((3, 3))
    bread[:2, :2] = [[0.04, 0.01], [0.01, 0.09]]
    core, data = _core(bread, scores=None, k_dof=2, n_extra=1, alpha=1e4)
    problems = fit_problems("hurdle-negbin", core, data)
    assert len(problems) == 1 and problems[0].startswith("NB dispersion at the boundary")
    core.alpha = 2.0
    assert fit_problems("hurdle-negbin", core, data) == []
    core.alpha = 5e3
    assert fit_problems("negbin1", core, data) == []  # NB1's alpha is not theta's inverse


# ------------------------------------------------------------------ diagnostics
def _flag(m: FitResult, why: str = "constructed problem") -> FitResult:
    return dataclasses.replace(m, problems=[why])


def test_diagnostics_never_recommend_a_flagged_model(demo_fits: dict[str, FitResult]) -> None:
    models = {k: demo_fits[f"rob_{k}"] for k in ("poisson", "negbin", "zinb", "hurdle_negbin")}
    # unflagged, a boundary fit (the ZINB on the demo) has the lowest AIC: it would be "best"
    assert min(models, key=lambda k: models[k].aic) in {"zinb", "hurdle_negbin"}
    diag = diagnostics_table(models)
    aic = diag.loc["AIC"].set_index("models")["interpretation"]
    assert aic["negbin"] == "best (lowest AIC)"
    for name in ("zinb", "hurdle_negbin"):
        assert aic[name] == "not ranked: model flagged"
    vuong = diag.loc[diag.index.str.startswith("Vuong")]
    involving = vuong["models"].str.contains("zinb|hurdle")
    assert involving.any()
    assert (
        vuong.loc[involving.to_numpy(), "interpretation"]
        .str.contains("not compared: model flagged")
        .all()
    )
    assert vuong.loc[involving.to_numpy(), "value"].isna().all()
    assert not diag["interpretation"].str.contains("preferred over (?:ZINB|Hurdle)").any()


def test_a_flagged_best_model_loses_its_rank_and_its_lr_test(
    demo_fits: dict[str, FitResult],
) -> None:
    pois, nb = demo_fits["rob_poisson"], demo_fits["rob_negbin"]
    before = diagnostics_table({"P": pois, "NB": nb})
    assert before.loc["AIC"].set_index("models").loc["NB", "interpretation"] == "best (lowest AIC)"
    after = diagnostics_table({"P": pois, "NB": _flag(nb)})
    aic = after.loc["AIC"].set_index("models")["interpretation"]
    assert aic["NB"] == "not ranked: model flagged"
    assert aic["P"] == "best (lowest AIC)"
    lr = after.loc["LR Poisson vs NB2 (boundary-corrected)"]
    assert np.isnan(lr["value"])
    assert lr["interpretation"] == "not compared: model flagged (NB: constructed problem)"
    ic = information_criteria({"P": pois, "NB": _flag(nb)}).set_index("name")
    assert bool(ic.loc["NB", "flagged"]) and np.isnan(ic.loc["NB", "delta_aic"])
    assert ic.loc["P", "delta_aic"] == 0.0 and np.isfinite(ic.loc["NB", "aic"])
    assert ic.loc["NB", "note"] == "model flagged (constructed problem)"


# ------------------------------------------------------------------ the closing line
def test_closing_line_counts_tables_and_designs(demo_fits: dict[str, FitResult]) -> None:
    result = ReplicationResult(Path("out"))
    result.fitted = {n: demo_fits[n] for n in ("rob_poisson", "rob_negbin", "rob_zinb")}
    result.design_fits = {"design_x": [demo_fits["rob_fe_poisson"], _flag(demo_fits["rob_negbin"])]}
    result.failed = {"broken": "estimation failed"}
    result.skipped = {"design_y": "no parties"}
    line = result.closing_line("out")
    assert line == (
        "done: 5 models fitted (2 flagged: rob_zinb, design_x/rob_negbin), 1 failed, "
        "1 skipped; outputs in out/"
    )
    assert set(result.flagged()) == {"rob_zinb", "design_x/rob_negbin"}
    assert ReplicationResult(Path("o")).closing_line("o") == (
        "done: 0 models fitted (0 flagged), 0 failed, 0 skipped; outputs in o/"
    )


def test_records_carry_flagged_and_problems(demo_fits: dict[str, FitResult]) -> None:
    record = demo_fits["rob_hurdle_negbin"].to_record()
    assert (
        record["flagged"] is True and record["problems"] == demo_fits["rob_hurdle_negbin"].problems
    )
    assert demo_fits["rob_negbin"].to_record()["flagged"] is False
