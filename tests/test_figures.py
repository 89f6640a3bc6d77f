"""Figures: both formats written, byte-identical reruns, demo data marked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.figures import plot_irr, plot_yearly_contacts

FORMULA = "contacts ~ gdp_pc + C(fh_status) + ruling"


@pytest.fixture(scope="module")
def models() -> list[FitResult]:
    rng = np.random.default_rng(11)
    n = 800
    df = pd.DataFrame(
        {
            "country": rng.integers(0, 30, n),
            "gdp_pc": rng.normal(size=n),
            "fh_status": rng.choice(["F", "PF", "NF"], n),
            "ruling": rng.integers(0, 2, n),
        }
    )
    mu = np.exp(0.2 + 0.4 * df.gdp_pc + 0.3 * (df.fh_status == "NF") - 0.2 * df.ruling)
    df["contacts"] = rng.negative_binomial(2, 2 / (2 + mu))
    pois = smf.glm(FORMULA, df, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": df["country"]}
    )
    nb = smf.negativebinomial(FORMULA, df).fit(disp=0, maxiter=200)
    out = []
    for res, name, family in ((pois, "Poisson", "Poisson"), (nb, "NB2", "NB2")):
        keep = [t for t in res.params.index if t != "alpha"]
        out.append(
            FitResult(
                name=name,
                family=family,
                level="country-year",
                formula=FORMULA,
                params=res.params[keep],
                std_errors=res.bse[keep],
                vcov=res.cov_params().loc[keep, keep],
                nobs=int(res.nobs),
                loglik=float(res.llf),
                df_model=len(res.params),
                se_type="test",
                se_description="test",
            )
        )
    return out


@pytest.fixture
def yearly() -> pd.DataFrame:
    years = np.arange(2002, 2018)
    return pd.DataFrame(
        {
            "year": years,
            "total": 100 + 8 * (years - 2002) + 30 * (years >= 2013),
            "ruling": 60 + 5 * (years - 2002),
            "opposition": 30 + 2 * (years - 2002),
            "non_party": 10 + (years - 2002),
        }
    )


def _check_outputs(paths: list[Path], stem: Path) -> None:
    assert paths == [stem.parent / f"{stem.name}.pdf", stem.parent / f"{stem.name}.png"]
    pdf, png = paths
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 5_000
    assert not [p for p in stem.parent.iterdir() if p.name.endswith(".tmp")]


def test_yearly_contacts_written_and_deterministic(yearly: pd.DataFrame, tmp_path: Path) -> None:
    stem = tmp_path / "figs" / "yearly_contacts"
    paths = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=stem)
    _check_outputs(paths, stem)
    first = [p.read_bytes() for p in paths]
    again = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=stem)
    assert [p.read_bytes() for p in again] == first
    assert b"CreationDate" not in first[0]


def test_simulated_figures_are_marked(yearly: pd.DataFrame, tmp_path: Path) -> None:
    real = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=tmp_path / "real")
    demo = plot_yearly_contacts(yearly, break_year=2013, simulated=True, stem=tmp_path / "demo")
    assert real[1].read_bytes() != demo[1].read_bytes()


def test_yearly_contacts_rejects_bad_input(yearly: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="year"):
        plot_yearly_contacts(
            yearly.drop(columns="year"), break_year=2013, simulated=False, stem=tmp_path / "x"
        )
    with pytest.raises(ValueError, match="count column"):
        plot_yearly_contacts(
            yearly[["year"]], break_year=2013, simulated=False, stem=tmp_path / "x"
        )


def test_irr_plot_written_and_deterministic(models: list[FitResult], tmp_path: Path) -> None:
    stem = tmp_path / "irr.main"  # a dot in the stem must not be taken as a suffix
    paths = plot_irr(models, stem=stem, simulated=True)
    _check_outputs(paths, stem)
    first = [p.read_bytes() for p in paths]
    assert [p.read_bytes() for p in plot_irr(models, stem=stem, simulated=True)] == first


def test_irr_plot_terms_and_flags(models: list[FitResult], tmp_path: Path) -> None:
    few = plot_irr(models, stem=tmp_path / "few", terms=["gdp_pc", "ruling"], simulated=False)
    full = plot_irr(models, stem=tmp_path / "full", simulated=False)
    assert few[1].read_bytes() != full[1].read_bytes()
    failed = [models[0], replace(models[1], converged=False)]
    flagged = plot_irr(failed, stem=tmp_path / "flagged", simulated=False)
    assert flagged[1].read_bytes() != full[1].read_bytes()
    with pytest.raises(ValueError, match="none of the requested terms"):
        plot_irr(models, stem=tmp_path / "none", terms=["no_such_term"], simulated=False)


def test_figures_leave_no_open_pyplot_figures_or_changed_rcparams(
    yearly: pd.DataFrame, models: list[FitResult], tmp_path: Path
) -> None:
    import matplotlib.pyplot as plt

    before = dict(mpl.rcParams)
    plot_yearly_contacts(yearly, break_year=2013, simulated=True, stem=tmp_path / "a")
    plot_irr(models, stem=tmp_path / "b", simulated=True)
    assert plt.get_fignums() == []
    assert dict(mpl.rcParams) == before
