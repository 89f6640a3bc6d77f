"""Driver 5, the Xi era: did contact break in level and/or trend when Xi took office?

Xi Jinping became General Secretary in November 2012, so the study expects a break in
2013.  This module binds the study's columns (``contacts`` or ``total`` by ``year``; units
``iso3`` / ``party_id``; clusters ``iso3``; ``ruling`` and ``fh_status``) to the generic
break tests of `cpcstats.methods.breaks`:

(a) `known_break` — the date taken as known: level shift, trend shift, joint Wald;
(b) `sup_wald` — the date unknown: Andrews (1993) sup-Wald over the trimmed range,
    its asymptotic critical values (Andrews 2003), a bootstrap p-value and a Hansen (2000)
    LR confidence set for the year;
(c) `break_interactions` — did the ruling-party premium or the regime gradient
    change, not just the level?

Inference (issue 14).  The break terms vary by year only, so every sample has about
T = 16-22 years of information, and a shock common to all countries in a year moves every
row of that year.  Country clusters ignored the year shocks (35 of 40 null draws
rejected), and Driscoll-Kraay SEs by year, with ~20 years, are far too small (demo process
without a break: the level shift's 95 % CI excluded 0 in 27-28 % of 100 draws).  So a panel is
tested on its year totals: with the panel's unit effects, the FE-Poisson coefficients of
the year-level terms are those of a Poisson regression of the year totals with the
panel's composition as offset (`cpcstats.methods.break_design.panel_to_series`); the
shift SEs, CIs and Wald test of (a) are that regression's quasi-Poisson ones (t(T - 4)
reference), and every test's p-value is a parametric bootstrap of the quasi-Poisson
(sup-)Wald of the year totals (series) or of the composition-adjusted totals (panels),
with AR(1) year shocks whose coefficient is estimated (the units' persistent terms --
party turnover, regime scores -- leave the totals autocorrelated; independent-years
bootstraps, NB2 or a wild score bootstrap over years, rejected 6-10 % at 5 % on the demo
process).  Asymptotic Andrews critical values (oversized, 7-11 % on a series and far more
with DK panels) are shown for reference.  Sizes: tests/reference/xi_break_demo_size.md
(demo process), xi_break_size.md and xi_break_size_ar1.md (synthetic).

`run` writes table (`.xi_break_table`) and figure (`.xi_break_figure`)
``design_xi``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.designs.base import ResearchDesignResult, write_details
from cpcstats.designs.xi_break_figure import xi_figure
from cpcstats.designs.xi_break_table import (
    SupTests,
    xi_notes,
    xi_record,
    xi_short_notes,
    xi_table,
)
from cpcstats.errors import SpecError
from cpcstats.methods.break_critical import prepare_null_draws
from cpcstats.methods.break_design import shared_break_arrays
from cpcstats.methods.breaks import (
    SHIFT_TERMS,
    BootstrapOptions,
    BreakInteractions,
    KnownBreak,
    SupWald,
    break_interaction_test,
    known_break_test,
    sup_wald_test,
)
from cpcstats.panels import Panel
from cpcstats.panels.build import yearly_totals
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = ["NAME", "TITLE", "break_interactions", "known_break", "run", "study_columns", "sup_wald"]

NAME = "design_xi"
TITLE = "The Xi era: level and trend breaks in contacts"


def study_columns(
    data: Panel | pd.DataFrame,
    *,
    unit_fe: bool | str,
    family: str | None,
    cluster: str | None,
    outcome: str | None,
) -> dict[str, Any]:
    """The study's columns for a break test on ``data``, as keyword arguments.

    Outcome ``contacts`` (``total`` on a yearly series); time ``year``; on a panel the unit
    fixed effects are the panel's unit (``unit_fe=True``), none (``False``) or the column
    named, clustered by ``cluster`` (default ``iso3``).
    """
    frame = data.data if isinstance(data, Panel) else data
    if not isinstance(frame, pd.DataFrame) or "year" not in frame.columns:
        raise SpecError(
            "break designs need a Panel or a DataFrame with a 'year' column",
            fix="pass cpcstats.country_year(study), cpcstats.party_year(study) or "
            "cpcstats.panels.build.yearly_totals(study)",
        )
    if outcome is None:
        outcome = "contacts" if "contacts" in frame.columns else "total"
    if outcome not in frame.columns:
        raise SpecError(f"no outcome column {outcome!r}", fix="pass outcome=...")
    if not isinstance(data, Panel) and not frame["year"].duplicated().any():
        if isinstance(unit_fe, str):
            raise SpecError(
                f"unit_fe={unit_fe!r} given for a yearly series (one row per year)",
                fix="use unit_fe=False for a series, or pass a panel",
            )
        return {"yname": outcome, "tname": "year", "sample": "yearly series"}
    default = (
        data.unit if isinstance(data, Panel) else ("party_id" if "party_id" in frame else "iso3")
    )
    unit = unit_fe if isinstance(unit_fe, str) else (default if unit_fe else None)
    if (family or ("fe-poisson" if unit else "poisson")) == "fe-poisson" and unit is None:
        raise SpecError("family 'fe-poisson' needs unit fixed effects", fix="set unit_fe=True")
    clus = cluster if cluster is not None else "iso3"
    return {"yname": outcome, "tname": "year", "idname": unit, "cluster": clus}


def known_break(
    data: Panel | pd.DataFrame,
    break_year: int,
    *,
    unit_fe: bool | str = True,
    family: str | None = None,
    cluster: str | None = None,
    outcome: str | None = None,
    controls: Sequence[str] = (),
    se: str | None = "driscoll-kraay",
    bootstrap: BootstrapOptions | None = None,
) -> KnownBreak:
    """Trend + level shift + trend shift at ``break_year`` on the study's columns.

    Panels: FE-Poisson (PPML) with the panel's unit fixed effects; the shift SEs, CIs and
    Wald test from its composition-adjusted year totals (`KnownBreak.aggregate`; the
    panel's Driscoll-Kraay SEs in ``std_error_panel``; ``se="cluster"``: clustered by
    ``cluster``, default country, no aggregate); a yearly series:
    quasi-Poisson SEs (``family="negbin"``: NB2 with HC1, no bootstrap).  The joint test's
    p-value (`KnownBreak.p_value`) is the bootstrap one (``bootstrap``: replicates, seed,
    weights).  ``controls`` are extra regressors (e.g. ``bri_member``; BRI is itself an
    Xi-era policy, so controlling for it removes part of the break).
    """
    cols = study_columns(data, unit_fe=unit_fe, family=family, cluster=cluster, outcome=outcome)
    if "idname" in cols:
        cols["se"] = se
    return known_break_test(
        data, break_year, family=family, controls=controls, bootstrap=bootstrap, **cols
    )


def sup_wald(
    data: Panel | pd.DataFrame,
    candidates: Sequence[int] | None = None,
    *,
    trim: float = 0.15,
    shift: str = "level",
    unit_fe: bool | str = True,
    family: str | None = None,
    cluster: str | None = None,
    outcome: str | None = None,
    controls: Sequence[str] = (),
    min_segment: int | None = None,
    scale_lr: bool = True,
    se: str | None = "driscoll-kraay",
    bootstrap: BootstrapOptions | None = None,
) -> SupWald:
    """Andrews (1993) sup-Wald test for a break at an unknown year, on the study's columns.

    Why: finding 2013 without being told is stronger evidence for a Xi-era break than
    testing 2013 alone (which invites date mining).  Columns, SEs and bootstrap as in
    `known_break`; the test itself is `cpcstats.methods.breaks.sup_wald_test`
    (`SupWald.p_value`: bootstrap; `SupWald.p_value_asymptotic`: Andrews).
    """
    cols = study_columns(data, unit_fe=unit_fe, family=family, cluster=cluster, outcome=outcome)
    if "idname" in cols:
        cols["se"] = se
    return sup_wald_test(
        data,
        candidates,
        family=family,
        controls=controls,
        trim=trim,
        shift=shift,
        min_segment=min_segment,
        scale_lr=scale_lr,
        bootstrap=bootstrap,
        **cols,
    )


def break_interactions(
    party_panel: Panel | pd.DataFrame,
    break_year: int,
    *,
    family: str = "negbin",
    cluster: str = "iso3",
    controls: Sequence[str] = (),
) -> BreakInteractions:
    """Does the ruling premium or the regime gradient change after the break?

    Why: the study expects the Xi era to change what the party channel is used for, not
    only how much.  Party-year NB2 of contacts on ``ruling * C(fh_status) * post_break``
    (+ ``controls``), SEs clustered by country; the joint Wald test covers every term
    interacted with ``post_break``.
    """
    return break_interaction_test(
        party_panel,
        break_year,
        yname="contacts",
        tname="year",
        moderators="ruling * C(fh_status)",
        family=family,
        cluster=cluster,
        controls=controls,
        name=f"ruling x regime x post {break_year}",
    )


def _samples(study: Study, panels: dict[str, Panel]) -> tuple[pd.DataFrame, Panel, Panel | None]:
    """The yearly total series, the country-year panel and the party-year panel (or None)."""
    yearly = yearly_totals(study)[["year", "total"]].rename(columns={"total": "contacts"})
    yearly.attrs["simulated"] = study.simulated
    country = panels.get("country-year")
    if country is None:
        from cpcstats.panels import country_year

        country = country_year(study)
    return yearly, country, panels.get("party-year")


def _fit_all(
    yearly: pd.DataFrame,
    country: Panel,
    party: Panel | None,
    break_year: int,
    trim: float,
    yearly_family: str,
    controls: Sequence[str],
    boot: BootstrapOptions,
    panel_se: str,
) -> tuple[dict[str, KnownBreak | None], SupTests, BreakInteractions | None]:
    """Parts (a)-(c) on the yearly series, the country-year and the party-year panel.

    The known-date and both sup-Wald tests of a sample share its arrays and no-break
    aggregation (`shared_break_arrays`), and the asymptotic p-values of both shifts read
    the limiting distributions of p = 1 and p = 2, simulated together from their one
    stream of normals (`prepare_null_draws`; the same draws as one at a time).
    """
    pan = {"se": panel_se, "bootstrap": boot}
    prepare_null_draws([len(terms) for terms in SHIFT_TERMS.values()], round(float(trim), 6))
    with shared_break_arrays():
        known = {
            "Yearly series": known_break(yearly, break_year, family=yearly_family, bootstrap=boot),
            "Country-year": known_break(country, break_year, **pan),  # type: ignore[arg-type]
            "Party-year": None if party is None else known_break(party, break_year, **pan),  # type: ignore[arg-type]
        }
        sups: SupTests = {}
        for shift in SHIFT_TERMS:
            on = {"trim": trim, "shift": shift}
            sups[shift] = {
                "Yearly series": sup_wald(yearly, **on, family=yearly_family, bootstrap=boot),  # type: ignore[arg-type]
                "Country-year": sup_wald(country, **on, **pan),  # type: ignore[arg-type]
                "Party-year": None if party is None else sup_wald(party, **on, **pan),  # type: ignore[arg-type]
            }
    inter = None if party is None else break_interactions(party, break_year, controls=controls)
    return known, sups, inter


def run(study: Study, panels: dict[str, Panel], out: Path, **params: Any) -> ResearchDesignResult:
    """Fit (a)-(c) on the study, write table and figure ``design_xi``, return the record.

    Parameters: ``break_year`` (default the study's), ``trim`` (0.15),
    ``yearly_family`` (``"poisson"``, or ``"negbin"``), ``interaction_controls``
    (extra regressors of the interaction model), ``panel_se`` (``"driscoll-kraay"``, or
    ``"cluster"`` for country clusters), ``bootstrap_reps`` (999), ``bootstrap_seed`` and
    ``bootstrap_weights`` (``"rademacher"`` or ``"webb"``) of every break bootstrap.
    """
    out = Path(out)
    break_year = int(params.get("break_year", study.break_year))
    trim = float(params.get("trim", 0.15))
    yearly_family = str(params.get("yearly_family", "poisson"))
    controls = tuple(params.get("interaction_controls", ()))
    boot = BootstrapOptions(
        reps=int(params.get("bootstrap_reps", BootstrapOptions.reps)),
        seed=int(params.get("bootstrap_seed", BootstrapOptions.seed)),
        weights=str(params.get("bootstrap_weights", BootstrapOptions.weights)),
    )
    panel_se = str(params.get("panel_se", "driscoll-kraay"))
    yearly, country, party = _samples(study, panels)
    skipped_party = None
    if party is None:
        skipped_party = (
            "no party-year panel (the study has no parties / party status): "
            "party-level break and interaction models skipped"
        )
    known, sups, inter = _fit_all(
        yearly, country, party, break_year, trim, yearly_family, controls, boot, panel_se
    )
    notes = xi_notes(study, yearly, country, party, known, sups, inter, break_year, trim)
    if skipped_party:
        notes.append(f"Party-year columns empty: {skipped_party}.")
    tab = xi_table(
        known,
        sups,
        inter,
        break_year=break_year,
        notes=xi_short_notes(study, yearly, known, break_year),
        title=TITLE,
        label=f"tab:{NAME}",
        simulated=study.simulated,
    )
    files = write_table(tab, out, NAME)
    files.append(write_details(out, NAME, TITLE, notes, simulated=study.simulated))
    figure_profiles = {
        "Level shift": sups["level"]["Country-year"],
        "Level and trend shift": sups["level+trend"]["Country-year"],
    }
    files += xi_figure(
        yearly,
        known["Yearly series"],  # type: ignore[arg-type]
        {k: v for k, v in figure_profiles.items() if v is not None},
        study.simulated,
        out / "figures" / NAME,
    )
    record = xi_record(study, break_year, trim, known, sups, inter, skipped_party)
    record["details"] = notes
    models = [kb.result for kb in known.values() if kb is not None]
    if inter is not None:
        models.append(inter.result)
    return ResearchDesignResult(NAME, TITLE, files=files, models=models, record=record)
