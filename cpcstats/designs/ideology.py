"""Design 5: ideology and history (party-year).

Question: are communist, socialist and liberation-movement parties (left
roots) and parties further left contacted more, holding ruling status and
regime constant?  Estimates: NB2 of party-year contacts on left roots and the
left-right position with ruling x regime and period controls, and a Poisson
with country x year fixed effects that compares parties of the same country
in the same year (left roots are time-invariant, so party fixed effects would
absorb them).  Standard errors clustered by country.

Why country x year and not additive country + year effects: the claim is a
within-country-year comparison.  Additive effects leave every shock common to
one country in one year (an election, a state visit, a crisis) in the error,
and they bias the ideology terms whenever such shocks move with the
country's party mix in that year (e.g. more contacts with a country in the
years its left parties are active or in government).  The within-country-year
Poisson removes them; country-years in which no party was contacted carry no
information and are dropped.  The FE Poisson spec of ``models/designs.toml``
is fitted with its fixed effects replaced by the column ``country_year``
(iso3 and year) unless it already names that column; ``fixed_effects =
"as_specified"`` in the design entry fits the spec as written, and the
table's notes always state the effects that were fitted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from cpcstats.designs.base import ResearchDesignResult, sample_note, write_details
from cpcstats.errors import SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.formula import parse_formula
from cpcstats.panels import Panel
from cpcstats.reporting.figures import plot_irr
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
)
from cpcstats.reporting.write import write_table
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

TERMS = ("left_roots", "lr_position", "ruling")
COUNTRY_YEAR = "country_year"
FIXED_EFFECTS = ("country_year", "as_specified")


def with_country_year(panel: Panel) -> Panel:
    """The panel with a ``country_year`` id (``"<iso3>:<year>"``) for country x year effects.

    Why a column: the formula's ``|`` part takes variable names joined by ``+``
    (additive effects); an interacted effect is one id per country-year.
    """
    if COUNTRY_YEAR in panel.data.columns:
        return panel
    data = panel.data.assign(
        **{COUNTRY_YEAR: panel.data["iso3"].astype(str) + ":" + panel.data["year"].astype(str)}
    )
    return dataclasses.replace(panel, data=data)


def within_spec(spec: ModelSpec, fixed_effects: str = "country_year") -> ModelSpec:
    """The FE Poisson spec with country x year effects (or as specified).

    The spec's right-hand side is kept; only the fixed-effects part becomes
    ``| country_year``, and the title says so.
    """
    if fixed_effects not in FIXED_EFFECTS:
        raise SpecError(
            f"fixed_effects must be one of {', '.join(FIXED_EFFECTS)}, not {fixed_effects!r}",
            fix='set fixed_effects = "country_year" (the default) or "as_specified"',
        )
    parsed = parse_formula(spec.formula)
    if fixed_effects == "as_specified" or parsed.fixed_effects == (COUNTRY_YEAR,):
        return spec
    lhs_rhs = spec.formula.split("|", 1)[0].rstrip()
    return dataclasses.replace(
        spec, formula=f"{lhs_rhs} | {COUNTRY_YEAR}", title="FE Poisson (country × year)"
    )


def fe_note(spec: ModelSpec) -> str:
    """What the fitted FE Poisson compares, from the effects it actually has."""
    effects = parse_formula(spec.formula).fixed_effects
    if effects == (COUNTRY_YEAR,):
        return (
            "FE Poisson with country x year fixed effects compares parties of the same "
            "country in the same year (country-years in which no party was contacted are "
            "dropped)."
        )
    if set(effects) == {"iso3", "year"}:
        return (
            "FE Poisson with additive country and year fixed effects: it compares parties "
            "within a country net of common year effects, not within the same country-year "
            "(shocks to one country in one year stay in the error)."
        )
    return f"FE Poisson with fixed effects of {' + '.join(effects) or 'none'}."


def run(
    study: Study,
    panels: dict[str, Panel],
    out: Path,
    *,
    specs: list[ModelSpec],
    fixed_effects: str = "country_year",
    **_: Any,
) -> ResearchDesignResult:
    """Fit the design's models (from models/designs.toml) and write its table and figure.

    ``fixed_effects``: ``"country_year"`` (default; the FE Poisson gets country x year
    effects) or ``"as_specified"`` (the spec's own fixed effects)."""
    output = ResearchDesignResult("design_ideology", "Ideology and history (party-year)")
    panel = panels.get("party-year")
    if panel is None:
        output.skipped = "the study has no party-year panel (no parties / party-status tables)"
        return output
    missing = [c for c in ("left_roots", "lr_position") if c not in panel.data.columns]
    if missing:
        output.skipped = f"the parties table lacks {', '.join(missing)}"
        return output
    specs = [specs[0], within_spec(specs[1], fixed_effects)]
    nb, within = fit(specs[0], panel), fit(specs[1], with_country_year(panel))
    names = [_short_title(spec.title or spec.name) for spec in specs]
    details = [
        sample_note(study, "party-year", nb.nobs),
        "NB2 with regime, period, BRI and Taiwan controls. "
        + fe_note(specs[1])
        + f" (N = {within.nobs:,}.) Left roots: communist, socialist or liberation-"
        "movement origin; lr_position: higher = further right.",
        *(
            f"{n}: standard errors {m.se_description}."
            for n, m in zip(names, (nb, within), strict=True)
        ),
        *(
            f"{n}: warning: {w}"
            for n, m in zip(names, (nb, within), strict=True)
            for w in m.warnings
        ),
    ]
    tab = ideology_table(study, nb, within, names)
    output.files += write_table(tab, out, "design_ideology")
    output.files.append(
        write_details(out, "design_ideology", tab.title, details, simulated=study.simulated)
    )
    output.files += plot_irr(
        [nb, within],
        stem=out / "figures" / "design_ideology",
        terms=list(TERMS),
        simulated=study.simulated,
    )
    output.models = [nb, within]
    output.record = {
        (m.extra.get("title") or m.name): {
            t: {"estimate": float(m.params[t]), "std_error": float(m.std_errors[t])} for t in TERMS
        }
        for m in (nb, within)
    }
    output.record["details"] = details
    return output


TERM_LABELS = {
    "left_roots": "Left roots",
    "lr_position": "Left-right position",
    "ruling": "Ruling party",
}


def _short_title(title: str) -> str:
    return title.replace(" x ", " × ")


def _irr_panel(title: str, m: FitResult) -> EstimatePanel:
    """IRRs exp(b) with delta-method SEs exp(b)·se, intervals exp(CI of b), p of b = 0."""
    ci = m.conf_int()
    rows = tuple(
        EstimateRow(
            TERM_LABELS[t],
            float(np.exp(m.params[t])),
            float(np.exp(m.params[t]) * m.std_errors[t]),
            float(np.exp(ci.loc[t].iloc[0])),
            float(np.exp(ci.loc[t].iloc[1])),
            float(m.pvalues[t]),
        )
        for t in TERMS
    )
    return EstimatePanel(f"{title} (incidence-rate ratios)", rows)


def ideology_table(study: Study, nb: FitResult, within: FitResult, names: list[str]) -> DesignTable:
    """The ``design_ideology`` table: one IRR panel per model, fit statistics apart."""
    counts = []
    for name, m in zip(names, (nb, within), strict=True):
        counts += [CountRow(f"N, {name}", int(m.nobs)), CountRow(f"Clusters, {name}", m.n_clusters)]
        if np.isfinite(m.loglik):
            counts.append(CountRow(f"Log-likelihood, {name}", float(m.loglik)))
        if m.alpha is not None:
            counts.append(CountRow(f"NB dispersion α, {name}", float(m.alpha)))
    return DesignTable(
        title="Ideology and history: left roots and left-right position (party-year)",
        label="tab:design_ideology",
        panels=tuple(_irr_panel(n, m) for n, m in zip(names, (nb, within), strict=True)),
        counts=tuple(counts),
        notes=(
            sample_note(study, "party-year", nb.nobs),
            "Estimators: NB2 of party contacts with regime, period, BRI and Taiwan controls; "
            "FE Poisson with country × year effects (parties of one country-year compared). "
            "Details: design_ideology.notes.md.",
            "Standard errors clustered by country (CR1); IRR = exp(b), SE exp(b)·se, "
            "95% CI exp(CI of b), p-value of b = 0.",
        ),
        simulated=study.simulated,
    )
