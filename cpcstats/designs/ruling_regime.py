"""Design 1: ruling status x regime type (party-year).

Question: do governing parties receive more contact than opposition parties,
and does that premium depend on the regime?  Estimates: NB2 and FE-Poisson
(party and year fixed effects) of party-year contacts on ruling x Freedom
House status, and NB2 on ruling x the continuous democracy score; the ruling
premium (IRR) in each regime type as a linear combination; predicted contacts
for ruling and opposition parties in Free / Partly Free / Not Free countries
(by default *average predictions*: every observed party-year is set to the
cell's ruling status and regime and the model's E[y] is averaged over them,
so the other covariates keep their observed distribution instead of
impossible mean values such as recognizes_prc = 0.9; ``predictions =
"at_means"`` in the design entry gives the older predictions at covariate
means); and the descriptive shares the study reports.  Assumes the party-status and
regime measures are coded as in the data contract; the FE-Poisson identifies
the premium from parties that enter and leave government.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.descriptives import study_figures
from cpcstats.designs.base import ResearchDesignResult, sample_note, write_details
from cpcstats.errors import SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.numdiff import central_jacobian
from cpcstats.estimation.postestimation import (
    design_columns,
    design_matrices,
    model_view,
    predict_profiles,
)
from cpcstats.estimation.results import FitResult
from cpcstats.panels import Panel
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
)
from cpcstats.reporting.write import write_table
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

REGIMES = ("F", "PF", "NF")
PREDICTIONS = ("average", "at_means")
_PARAM_STEP = 1e-5  # relative step of the numeric gradient (non-log-link families only)


def average_predictions(
    result: FitResult, grid: Mapping[str, Sequence[Any]], *, level: float = 0.95
) -> pd.DataFrame:
    """Average predictions (counterfactual averages) of E[y] for each cell of ``grid``.

    Why: a prediction "at the means" evaluates the model at a party-year that
    does not exist (``recognizes_prc = 0.902``, ``bri_member = 0.35``); with a log
    link E[exp(x'b)] differs from exp(E[x]'b).  The average prediction sets the
    grid variables to the cell's values on *every* row of the estimation sample,
    keeps the other covariates as observed, and averages E[y_i]: the expected
    contacts per party-year if every party-year had that ruling status and
    regime (Stata's ``margins``, R's ``marginaleffects::avg_predictions``).

    Standard errors: delta method, ``sqrt(g' V g)`` with ``V = result.full_vcov``
    (the model's own variance choice, e.g. country-clustered) and ``g`` the
    gradient of the average, analytic for log links (``mean_i mu_i x_i``) and
    central differences otherwise.  Intervals are formed on the log scale,
    ``exp(log(A) ± z se(A) / A)``, so they stay positive (as `predict` does).
    Parameter uncertainty only: the observed covariates are treated as fixed.

    Returns one row per cell: the grid columns, ``predicted``, ``std_error``,
    ``ci_lower``, ``ci_upper``; ``attrs["kind"] = "average"`` and ``attrs["n"]``.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError(
            "grid must be a non-empty mapping of variable -> values",
            fix="e.g. {'ruling': [0, 1], 'fh_status': ['F', 'PF', 'NF']}",
        )
    if not 0 < level < 1:
        raise SpecError(f"level must be between 0 and 1, not {level!r}", fix="e.g. level=0.95")
    m = model_view(result, "average predictions")
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows = []
    # each cell's counterfactual copy holds the columns the design reads, and the grid's
    base = m.frame[list(dict.fromkeys([*design_columns(m), *grid]))]
    for cell in itertools.product(*grid.values()):
        frame = base.copy()
        for name, value in zip(grid, cell, strict=True):
            frame[name] = value
        d = design_matrices(m, frame)
        mu = np.asarray(m.mean(m.params, d.X, d.Z, d.offset), dtype=float)
        if m.log_link:
            grad = (mu @ d.X) / len(mu)
        else:
            grad = central_jacobian(
                lambda t, d=d: float(np.mean(m.mean(t, d.X, d.Z, d.offset))),
                m.params,
                rel_step=_PARAM_STEP,
            )
        estimate = float(mu.mean())
        se = float(np.sqrt(max(grad @ m.vcov @ grad, 0.0)))
        half = z * se / estimate
        rows.append(
            dict(zip(grid, cell, strict=True))
            | {
                "predicted": estimate,
                "std_error": se,
                "ci_lower": estimate * np.exp(-half),
                "ci_upper": estimate * np.exp(half),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(kind="average", n=len(m.frame), level=level, held_at={})
    return out


def predicted_contacts(
    result: FitResult, how: str = "average", *, level: float = 0.95
) -> pd.DataFrame:
    """Predicted contacts by ruling status and FH status: average predictions or at means."""
    grid = {"ruling": [0, 1], "fh_status": list(REGIMES)}
    if how == "average":
        return average_predictions(result, grid, level=level)
    if how == "at_means":
        out = predict_profiles(result, grid, level=level)
        out.attrs["kind"] = "at_means"
        return out
    raise SpecError(
        f"predictions must be one of {', '.join(PREDICTIONS)}, not {how!r}",
        fix='set predictions = "average" (the default) or "at_means" in the design entry',
    )


def ruling_premium(result: FitResult, level: float = 0.95) -> pd.DataFrame:
    """IRR of ruling vs opposition in each regime: exp(b_ruling + b_ruling:regime)."""
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for regime in REGIMES:
        terms = ["ruling"]
        inter = f"ruling:C(fh_status)[T.{regime}]"
        if inter in result.params.index:
            terms.append(inter)
        weights = pd.Series(1.0, index=terms)
        estimate = float(result.params[terms] @ weights)
        se = float(np.sqrt(weights @ result.vcov.loc[terms, terms] @ weights))
        rows.append(
            {
                "regime": regime,
                "log_irr": estimate,
                "std_error": se,
                "irr": np.exp(estimate),
                "ci_lower": np.exp(estimate - z * se),
                "ci_upper": np.exp(estimate + z * se),
                "p_value": 2 * stats.norm.sf(abs(estimate / se)),
            }
        )
    return pd.DataFrame(rows)


SHARES = {
    "share_ruling": "Party contacts: share with governing parties",
    "share_opposition_free": "Opposition contacts: share in Free countries",
    "share_opposition_not_free": "Opposition contacts: share in Not Free countries",
    "share_ruling_partly_free": "Partly Free: share with ruling parties",
}
PREDICTED_COLUMNS = ("ruling", "fh_status", "predicted", "std_error", "ci_lower", "ci_upper")


REGIME_LABELS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}


def _premium_panels(premium: dict[str, pd.DataFrame]) -> list[EstimatePanel]:
    """One panel of ruling premia (IRR, F / PF / NF) per model."""
    panels = []
    for name, frame in premium.items():
        short = name.split(":")[0].strip()
        rows = tuple(
            EstimateRow(
                REGIME_LABELS.get(r.regime, r.regime),
                float(r.irr),
                None,
                float(r.ci_lower),
                float(r.ci_upper),
                float(r.p_value),
            )
            for r in frame.itertuples()
        )
        panels.append(EstimatePanel(f"Ruling premium (IRR), {short}", rows))
    return panels


def _prediction_panel(predicted: pd.DataFrame) -> EstimatePanel:
    what = (
        "Average predicted contacts per year (NB2)"
        if predicted.attrs.get("kind") == "average"
        else "Predicted contacts per year at covariate means (NB2)"
    )
    rows = tuple(
        EstimateRow(
            f"{'Ruling' if r.ruling == 1 else 'Opposition'} party, "
            f"{REGIME_LABELS.get(r.fh_status, r.fh_status)}",
            float(r.predicted),
            float(r.std_error) if "std_error" in predicted.columns else None,
            float(r.ci_lower),
            float(r.ci_upper),
        )
        for r in predicted.itertuples()
    )
    return EstimatePanel(what, rows)


def _design_table(
    study: Study,
    models: tuple[FitResult, FitResult, FitResult],
    premium: dict[str, pd.DataFrame],
    predicted: pd.DataFrame,
    shares: dict[str, Any],
) -> DesignTable:
    """Premia, predicted contacts and ruling × polyarchy as panels; N and shares apart."""
    nb, fe, poly = models
    b, se = float(poly.params["ruling:polyarchy"]), float(poly.std_errors["ruling:polyarchy"])
    poly_row = EstimateRow(
        "Ruling × polyarchy",
        b,
        se,
        b - 1.96 * se,
        b + 1.96 * se,
        float(2 * stats.norm.sf(abs(b / se))),
    )
    panels = [
        *_premium_panels(premium),
        _prediction_panel(predicted),
        EstimatePanel("Ruling × polyarchy (NB2, log scale)", (poly_row,)),
    ]
    counts = [
        CountRow("N, NB2 (party-years)", int(nb.nobs)),
        CountRow("N, FE Poisson (party-years)", int(fe.nobs)),
        CountRow("Countries (clusters)", nb.n_clusters),
    ]
    counts += [CountRow(label, f"{shares[k]:.1%}") for k, label in SHARES.items() if k in shares]
    return DesignTable(
        title="Ruling status and regime type: premium, predicted contacts and descriptive shares",
        label="tab:design_ruling_regime",
        panels=tuple(panels),
        counts=tuple(counts),
        notes=(
            sample_note(study, "party-year", nb.nobs),
            "Estimators: NB2 and FE Poisson (party and year effects) of party contacts on "
            "ruling × Freedom House status; ruling premium = exp(b_ruling + b_ruling × "
            "status). Details: design_ruling_regime.notes.md.",
            "Standard errors clustered by country (CR1); delta-method intervals (premia and "
            "predictions on the log scale).",
        ),
        simulated=study.simulated,
    )


def _prediction_note(predicted: pd.DataFrame) -> str:
    """How the predicted contacts were computed (average predictions or at means)."""
    if predicted.attrs.get("kind") == "average":
        return (
            "Average predictions from the NB2: every one of the "
            f"{predicted.attrs['n']:,} observed party-years is set to the cell's ruling status "
            "and FH status, its other covariates kept as observed, and the predicted contacts "
            "are averaged; delta-method standard errors from the clustered variance, "
            "intervals on the log scale."
        )
    held = ", ".join(
        f"{k} = {v:.3g}"
        for k, v in predicted.attrs.get("held_at", {}).items()
        if isinstance(v, int | float)
    )
    return f"Predictions from the NB2 with other covariates at their sample means ({held})."


def _notes(study: Study, nb: FitResult, fe: FitResult, predicted: pd.DataFrame) -> list[str]:
    """The design's details (``design_ruling_regime.notes.md``, the record's ``details``)."""
    return [
        sample_note(study, "party-year", nb.nobs),
        f"NB2 (N = {nb.nobs:,}) and FE Poisson with party and year fixed effects (N = "
        f"{fe.nobs:,}; parties with no contact in the window carry no information and are "
        "dropped); standard errors clustered by country (CR1). Ruling premium = exp(b_ruling + "
        "b_ruling x regime), delta-method intervals.",
        _prediction_note(predicted),
    ]


def _record(
    premium: dict[str, pd.DataFrame],
    predicted: pd.DataFrame,
    poly: FitResult,
    shares: dict[str, Any],
) -> dict[str, Any]:
    """The JSON-ready record: premia, predictions, the polyarchy interaction, shares."""
    b, se = poly.params["ruling:polyarchy"], poly.std_errors["ruling:polyarchy"]
    return {
        "ruling_premium": {k: v.to_dict(orient="records") for k, v in premium.items()},
        "predicted_contacts": predicted.drop(
            columns=[c for c in predicted.columns if c not in PREDICTED_COLUMNS]
        ).to_dict(orient="records"),
        "predicted_contacts_kind": predicted.attrs.get("kind", "at_means"),
        "ruling_x_polyarchy": {"estimate": float(b), "std_error": float(se)},
        "shares": {k: shares[k] for k in SHARES if k in shares},
    }


def run(
    study: Study,
    panels: dict[str, Panel],
    out: Path,
    *,
    specs: list[ModelSpec],
    predictions: str = "average",
    **_: Any,
) -> ResearchDesignResult:
    """Fit the design's three models (NB2 x FH status, FE Poisson x FH status, NB2 x
    polyarchy, in that order, from models/designs.toml) and write its table and figure.

    ``predictions``: ``"average"`` (average predictions over the observed rows, the
    default) or ``"at_means"`` (other covariates at their sample means)."""
    if predictions not in PREDICTIONS:
        raise SpecError(
            f"predictions must be one of {', '.join(PREDICTIONS)}, not {predictions!r}",
            fix='set predictions = "average" (the default) or "at_means" in the design entry',
        )
    output = ResearchDesignResult(
        "design_ruling_regime", "Ruling status x regime type (party-year)"
    )
    panel = panels.get("party-year")
    if panel is None:
        output.skipped = "the study has no party-year panel (no parties / party-status tables)"
        return output
    nb, fe, poly = (fit(spec, panel) for spec in specs)
    premium = {m.extra.get("title") or m.name: ruling_premium(m) for m in (nb, fe)}
    predicted = predicted_contacts(nb, predictions)
    shares = study_figures(study)
    tab = _design_table(study, (nb, fe, poly), premium, predicted, shares)
    details = _notes(study, nb, fe, predicted)
    output.files += write_table(tab, out, "design_ruling_regime")
    output.files.append(
        write_details(out, "design_ruling_regime", tab.title, details, simulated=study.simulated)
    )
    output.files += _figure(predicted, study, out / "figures" / "design_ruling_regime")
    output.models = [nb, fe, poly]
    output.record = {**_record(premium, predicted, poly, shares), "details": details}
    return output


def _figure(predicted: pd.DataFrame, study: Study, stem: Path) -> list[Path]:
    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot(1, 1, 1)
        for offset, (ruling, label, colour) in zip(
            (-0.12, 0.12),
            ((0, "Opposition parties", "#4C72B0"), (1, "Ruling parties", "#C44E52")),
            strict=True,
        ):
            part = (
                predicted[predicted["ruling"] == ruling].set_index("fh_status").loc[list(REGIMES)]
            )
            x = np.arange(len(REGIMES)) + offset
            ax.errorbar(
                x,
                part["predicted"],
                yerr=[part["predicted"] - part["ci_lower"], part["ci_upper"] - part["predicted"]],
                fmt="o",
                capsize=4,
                color=colour,
                label=label,
            )
        ax.set_xticks(np.arange(len(REGIMES)), ["Free", "Partly Free", "Not Free"])
        average = predicted.attrs.get("kind") == "average"
        ax.set_ylabel(
            "Average predicted contacts per party-year"
            if average
            else "Predicted contacts per party-year (covariates at means)"
        )
        ax.set_xlabel("Freedom House status of the party's country")
        ax.set_title(
            ("Average predicted" if average else "Predicted")
            + " contacts by ruling status and regime type (NB2, 95 % CI)"
        )
        ax.legend(frameon=False)
        fig.subplots_adjust(bottom=0.2)  # room for the simulated-data caption
        if study.simulated:
            mark_simulated(fig)
        return save_figure(fig, stem)
