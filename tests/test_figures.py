"""Figures: Figure objects returned, both formats written, byte-identical reruns, demo data
marked, reader's labels in rows and legends, log-axis tick labels that never collide."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from matplotlib.figure import Figure

from cpcstats.estimation.results import FitResult
from cpcstats.reporting.figures import (
    log_axis_ticks,
    plot_irr,
    plot_yearly_contacts,
    tick_label_boxes,
)
from cpcstats.reporting.labels import Labels
from cpcstats.reporting.style import save_figure

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


def _check_outputs(fig: Figure, stem: Path) -> None:
    assert isinstance(fig, Figure)
    paths = fig.paths  # type: ignore[attr-defined]
    assert paths == [stem.parent / f"{stem.name}.pdf", stem.parent / f"{stem.name}.png"]
    pdf, png = paths
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 5_000
    assert not [p for p in stem.parent.iterdir() if p.name.endswith(".tmp")]


def test_yearly_contacts_written_and_deterministic(yearly: pd.DataFrame, tmp_path: Path) -> None:
    stem = tmp_path / "figs" / "yearly_contacts"
    fig = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=stem)
    _check_outputs(fig, stem)
    first = [p.read_bytes() for p in fig.paths]
    again = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=stem)
    assert [p.read_bytes() for p in again.paths] == first
    assert b"CreationDate" not in first[0]


def test_figure_without_stem_is_not_saved_and_saves_identically_later(
    yearly: pd.DataFrame, tmp_path: Path
) -> None:
    fig = plot_yearly_contacts(yearly, break_year=2013, simulated=True)
    assert isinstance(fig, Figure) and fig.paths == []
    assert list(tmp_path.iterdir()) == []
    later = save_figure(fig, tmp_path / "later")
    direct = plot_yearly_contacts(yearly, break_year=2013, simulated=True, stem=tmp_path / "now")
    assert [p.read_bytes() for p in later] == [p.read_bytes() for p in direct.paths]


def test_simulated_figures_are_marked(yearly: pd.DataFrame, tmp_path: Path) -> None:
    real = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=tmp_path / "real")
    demo = plot_yearly_contacts(yearly, break_year=2013, simulated=True, stem=tmp_path / "demo")
    assert real.paths[1].read_bytes() != demo.paths[1].read_bytes()
    texts = [t.get_text() for t in demo.texts]
    assert "SIMULATED DATA (demo study)" in texts
    assert not [t for t in real.texts if "SIMULATED" in t.get_text()]


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
    fig = plot_irr(models, stem=stem, simulated=True)
    _check_outputs(fig, stem)
    first = [p.read_bytes() for p in fig.paths]
    assert [p.read_bytes() for p in plot_irr(models, stem=stem, simulated=True).paths] == first


def test_irr_plot_terms_and_flags(models: list[FitResult], tmp_path: Path) -> None:
    few = plot_irr(models, stem=tmp_path / "few", terms=["gdp_pc", "ruling"], simulated=False)
    full = plot_irr(models, stem=tmp_path / "full", simulated=False)
    assert len(few.axes[0].get_yticklabels()) == 2
    assert len(full.axes[0].get_yticklabels()) == 4
    failed = [models[0], replace(models[1], converged=False)]
    flagged = plot_irr(failed, stem=tmp_path / "flagged", simulated=False)
    legend = [t.get_text() for t in flagged.axes[0].get_legend().get_texts()]
    assert legend[1].endswith("(did not converge)") and not legend[0].endswith("converge)")
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


# --------------------------------------------------------------------------- labels and ticks
LABELS = Labels(
    variables={"gdp_pc": "GDP per capita", "ruling": "Ruling party", "fh_status": "Regime"},
    levels={"fh_status": {"NF": "Not Free", "PF": "Partly Free"}},
    models={"Poisson": "Poisson, clustered SEs", "NB2": "Negative binomial"},
)


def test_irr_rows_and_legend_use_the_labels(models: list[FitResult]) -> None:
    fig = plot_irr(models, simulated=False, labels=LABELS)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["Not Free", "Partly Free", "GDP per capita", "Ruling party"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Poisson, clustered SEs", "Negative binomial"]
    assert not {"Poisson", "NB2"} & set(legend)


def test_irr_legend_falls_back_to_the_spec_title_not_the_internal_name(
    models: list[FitResult],
) -> None:
    titled = [
        replace(m, name=f"internal_{i}", extra={"title": f"Model {i} x regime"})
        for i, m in enumerate(models)
    ]
    fig = plot_irr(titled, simulated=False, labels=Labels())
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Model 0 × regime", "Model 1 × regime"]


def _scaled(model: FitResult, factor: float) -> FitResult:
    """The model with coefficients and SEs scaled: IRR axes of any span, narrow to wide."""
    return replace(model, params=model.params * factor, std_errors=model.std_errors * factor)


@pytest.mark.parametrize("factor", [0.05, 0.3, 1.0, 3.0, 8.0])
def test_irr_tick_labels_are_unique_and_never_overlap(
    models: list[FitResult], factor: float
) -> None:
    fig = plot_irr([_scaled(m, factor) for m in models], simulated=True)
    boxes = tick_label_boxes(fig, fig.axes[0])
    texts = [text for _, text, _ in boxes]
    assert len(texts) >= 2, texts
    assert len(set(texts)) == len(texts), texts
    assert "1" in texts
    for (_, a, box_a), (_, b, box_b) in itertools.pairwise(boxes):
        assert box_a.x1 < box_b.x0, f"tick labels {a!r} and {b!r} overlap"


def test_log_axis_ticks_come_from_the_log_locator() -> None:
    assert log_axis_ticks(0.15, 45.0) == [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
    narrow = log_axis_ticks(0.85, 1.3)
    assert 1.0 in narrow and all(0.85 <= t <= 1.3 for t in narrow) and len(narrow) >= 2
    assert log_axis_ticks(0.01, 100.0) == [0.01, 0.1, 1.0, 10.0, 100.0]


def test_callers_of_the_old_paths_api_still_get_the_paths(
    yearly: pd.DataFrame, tmp_path: Path
) -> None:
    """``files += plot_x(..., stem=...)`` and ``paths[1]`` (the designs, the writers) keep
    working while the figure is the return value."""
    files: list[Path] = []
    fig = plot_yearly_contacts(yearly, break_year=2013, simulated=False, stem=tmp_path / "y")
    files += fig
    assert files == [tmp_path / "y.pdf", tmp_path / "y.png"] == fig.paths
    assert fig[1] == tmp_path / "y.png" and fig[1].exists()


def test_returned_figures_display_in_notebooks() -> None:
    """A plot function's Figure has a PNG representation (IPython shows it without a
    pyplot backend): real PNG bytes of the figure's size at 100 dpi."""
    import struct

    from cpcstats.reporting.style import new_figure

    fig = new_figure(3.0, 2.0)
    fig.add_subplot().plot([0, 1], [0, 1])
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (300, 200)
