"""Belt and Road membership as a staggered-adoption design: TWFE versus ETWFE Poisson.

Why: countries sign a BRI cooperation document in different years and the effect on
party contact need not be the same for every signing cohort or constant after signing.
The usual two-way fixed-effects (TWFE) Poisson coefficient on ``bri_member`` then mixes
clean comparisons (with not-yet and never signers) with "forbidden" ones (already signed
countries as controls); Wooldridge's extended TWFE (ETWFE) Poisson estimates every
cohort-by-year effect against not-yet/never signers only and aggregates afterwards.

ETWFE drops cohort-year cells without any contact (separated), which overstates the
effect; the imputation estimator (``designs/bri_imputation.py``) keeps them and is
reported beside it, with and without the ``recognizes_prc`` control.

This module binds the study's columns to the generic estimators
(`cpcstats.methods.cohorts`, `cpcstats.methods.etwfe`, `cpcstats.methods.imputation`):
`twfe_poisson`, `staggered_cohorts`, `etwfe_poisson` (aggregations with delta-method SEs,
a joint pre-trend score test and a leads model); `run` writes the ``design_bri`` and
``design_bri_imputation`` tables (``designs/bri_table.py``) and the figure
(``designs/bri_figure.py``).

ETWFE's delta method runs over the full parameter vector, the country and year effects
included, with analytic gradients (`cpcstats.methods.fe_mean`); the imputation SEs come
from the stacked influence function, the untreated model included, with leave-own-
country-out treated residuals (Borusyak, Jaravel & Spiess 2024) and t intervals with
(countries in the aggregation - 1) df: late event times and small cohorts rest on a few
early signers (`cpcstats.methods.imputation`).  The binned pre-trend test reports the
cluster-robust score p-value (the Wald p, oversized on the demo process, for comparison).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.designs.base import DesignOutput, country_year_panel, planted_effect, write_details
from cpcstats.designs.bri_figure import plot_event_time
from cpcstats.designs.bri_imputation import (
    compound_treatment,
    imputation_variants,
    wild_bootstrap_tests,
)
from cpcstats.designs.bri_table import aggregation_table, design_table, notes, notes_data
from cpcstats.errors import EstimationError
from cpcstats.estimation.results import FitResult
from cpcstats.methods import cohorts as generic
from cpcstats.methods.cohorts import Cohorts
from cpcstats.methods.etwfe import ETWFEResult, etwfe_fit, twfe
from cpcstats.methods.fe_mean import FEPoissonMean
from cpcstats.panels import Panel
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "Cohorts",
    "ETWFEResult",
    "etwfe_poisson",
    "no_variation_reason",
    "plot_event_time",
    "run",
    "staggered_cohorts",
    "twfe_poisson",
]

NAME = "design_bri"
TITLE = (
    "Belt and Road membership and contacts: staggered adoption (TWFE, ETWFE and imputation Poisson)"
)
UNIT = "iso3"
TIME = "year"
TREATMENT = "bri_member"
SIGNING = "bri_signing_year"
COLUMNS = {"idname": UNIT, "tname": TIME, "dname": TREATMENT, "gname": SIGNING}
_MeanModel = FEPoissonMean  # the name the tests know it by

DROP_ALWAYS = "signed in or before the window's first year (always treated)"
DROP_NO_PRE = "no panel row in the year before signing (no reference year)"
DROP_EXIT = "left the BRI within the window (treatment not absorbing)"
#: the generic drop reasons in this design's words
_REASONS = {
    generic.DROP_ALWAYS: DROP_ALWAYS,
    generic.DROP_NO_PRE: DROP_NO_PRE,
    generic.DROP_EXIT: DROP_EXIT,
}


def twfe_poisson(
    panel: Panel | pd.DataFrame,
    outcome: str = "contacts",
    controls: Sequence[str] = ("recognizes_prc",),
    cluster: str = UNIT,
) -> FitResult:
    """The usual TWFE Poisson: one ``bri_member`` coefficient with country and year FE."""
    return twfe(
        panel,
        yname=outcome,
        dname=TREATMENT,
        idname=UNIT,
        tname=TIME,
        controls=controls,
        cluster=cluster,
    )


def no_variation_reason(frame: pd.DataFrame) -> str | None:
    """Why a panel cannot identify a staggered BRI effect, or None when it can."""
    missing = [c for c in (UNIT, TIME, TREATMENT, SIGNING) if c not in frame.columns]
    if missing:
        return f"the panel has no {', '.join(missing)} column(s)"
    problem = generic.variation_problem(frame, **COLUMNS)
    if problem == generic.NO_ADOPTION:
        first, last = int(frame[TIME].min()), int(frame[TIME].max())
        return f"no country signed a BRI document within {first + 1}-{last}"
    if problem == generic.SAME_PERIOD:
        return "every country signs in the same year of the window: no comparison group"
    return None


def staggered_cohorts(panel: Panel | pd.DataFrame) -> Cohorts:
    """Cohorts g = signing year and the cohort-by-year cells ``bri_g{g}_y{s}``.

    Countries that signed in or before the window's first year are always treated (dropped
    and counted), as are countries without a row in the year before signing and
    countries that left within the window; later signers and never-signers are the
    comparison group (see `cpcstats.methods.cohorts.staggered_cohorts`).
    """
    frame = panel.data if isinstance(panel, Panel) else panel
    reason = no_variation_reason(frame)
    if reason is not None:
        raise EstimationError(f"no staggered BRI variation: {reason}", column=SIGNING)
    layout = generic.staggered_cohorts(panel, **COLUMNS, prefix="bri")
    reasons = dict(_REASONS)
    layout_notes: tuple[str, ...] = ()
    g = layout.comparison_cohort
    if g is not None:
        reasons[generic.comparison_cut_reason(g)] = (
            f"years from {g} on (no never or not-yet treated countries)"
        )
        layout_notes = (
            f"No country is untreated at the end of the window: the {g} cohort serves as "
            f"the comparison group and years from {g} on are dropped.",
        )
    return dataclasses.replace(
        layout,
        dropped_countries={reasons[k]: n for k, n in layout.dropped_countries.items()},
        dropped_rows={reasons[k]: n for k, n in layout.dropped_rows.items()},
        notes=layout_notes,
    )


def _cell_notes(et: ETWFEResult) -> list[str]:
    out = []
    if et.no_outcome_cells:
        out.append(
            f"{len(et.no_outcome_cells)} treatment cell(s) not estimated (the cohort's "
            "countries have no contact at all in the window, so they leave the sample): "
            + ", ".join(et.no_outcome_cells)
        )
    if et.separated_cells:
        out.append(
            f"{len(et.separated_cells)} treatment cell(s) not estimated (separated: all "
            "outcomes zero): " + ", ".join(et.separated_cells)
        )
    if et.pretrend_error is not None:
        out.append(f"Joint pre-trend test not computed: {et.pretrend_error}")
    return out


def etwfe_poisson(
    panel: Panel | pd.DataFrame,
    outcome: str = "contacts",
    controls: Sequence[str] = ("recognizes_prc",),
    cluster: str = UNIT,
    leads: bool = True,
) -> ETWFEResult:
    """Wooldridge's ETWFE Poisson with staggered BRI signing, aggregated to ATTs.

    See `cpcstats.methods.etwfe.etwfe`: one indicator per cohort and post-signing
    year with country and year FE and the controls (common slopes); a leads model for the
    pooled lead effect (1 df) and a clustered score test at the main model that all
    cohort-by-year leads are 0 (the Wald version over-rejects: each lead is identified by
    one cohort's countries, ``tests/test_design_bri.py``).
    """
    layout = staggered_cohorts(panel)
    result = etwfe_fit(
        layout,
        yname=outcome,
        idname=UNIT,
        tname=TIME,
        controls=controls,
        cluster=cluster,
        leads=leads,
    )
    result.notes.extend(_cell_notes(result))
    return result


def _twfe_record(twfe: FitResult) -> dict[str, Any]:
    return {
        "estimate": float(twfe.params[TREATMENT]),
        "std_error": float(twfe.std_errors[TREATMENT]),
        "ci": [float(v) for v in twfe.conf_int().loc[TREATMENT]],
        "p_value": float(twfe.pvalues[TREATMENT]),
        "nobs": int(twfe.nobs),
        "n_clusters": twfe.n_clusters,
    }


def run(study: Study, panels: Any, out: str | Path, **params: Any) -> DesignOutput:
    """Fit TWFE, ETWFE and the imputation estimator of contacts on BRI signing; write
    ``design_bri`` (estimates and tests), ``design_bri_imputation`` (cohort and calendar
    aggregations) and the event-time figure.

    ``panels`` is the replication's ``{level: Panel}`` mapping (the country-year panel is
    built when absent); ``params`` may set ``outcome``, ``controls``, ``cluster`` and
    ``wild_bootstrap`` (default True: wild cluster score bootstrap p-values of the binned
    lead test and of TWFE; each refits an FE-Poisson).  Skipped, with the reason, when no
    country signs within the window.
    """
    out = Path(out)
    panel = country_year_panel(study, panels)
    frame = panel.data if isinstance(panel, Panel) else panel
    reason = no_variation_reason(frame)
    if reason is not None:
        return DesignOutput(NAME, TITLE, skipped=f"no BRI variation in the window: {reason}")
    outcome = str(params.get("outcome", "contacts"))
    controls = tuple(params.get("controls", ("recognizes_prc",)))
    cluster = str(params.get("cluster", UNIT))
    twfe = twfe_poisson(panel, outcome, controls, cluster)
    et = etwfe_poisson(panel, outcome, controls, cluster)
    et_plain = etwfe_poisson(panel, outcome, (), cluster, leads=False) if controls else None
    imps, failed = imputation_variants(staggered_cohorts(panel), outcome, controls, cluster)
    wild = (
        wild_bootstrap_tests(imps["main"], panel, outcome, controls, cluster, TREATMENT)
        if params.get("wild_bootstrap", True)
        else {}
    )
    compound = compound_treatment(frame)
    planted = planted_effect(study, TREATMENT)
    table = design_table(study, twfe, et, TREATMENT, imps, et_plain, wild, controls)
    details = notes(study, twfe, et, controls, planted, imps["main"], compound)
    files = write_table(table, out, NAME)
    files.append(write_details(out, NAME, table.title, details, simulated=study.simulated))
    files += write_table(aggregation_table(study, imps["main"]), out, f"{NAME}_imputation")
    files += plot_event_time(
        et,
        stem=out / "figures" / NAME,
        simulated=study.simulated,
        planted=planted,
        imputation=imps["main"],
    )
    record = {
        "simulated": bool(study.simulated),
        "outcome": outcome,
        "controls": list(controls),
        "cluster": cluster,
        "planted_log_effect": planted,
        "twfe": _twfe_record(twfe),
        "etwfe": et.to_record(),
        "etwfe_no_control": None if et_plain is None else et_plain.to_record()["overall"],
        "imputation": {name: r.to_record() for name, r in imps.items()},
        "wild_bootstrap": wild,
        "compound_treatment": compound,
        "details": details,
        "notes_data": {**notes_data(et, imps["main"], compound), "variants_failed": failed},
        "se": f"{twfe.se_description}; ETWFE aggregates by the delta method over the full "
        "parameter vector (country and year effects included, analytic gradient, G/(G-1)); "
        "imputation SEs from the stacked influence function including the untreated model, "
        "leave-own-country-out treated residuals, t with (countries in the aggregation - 1) "
        "df",
    }
    models = [twfe, et.model] + ([et.leads_model] if et.leads_model is not None else [])
    return DesignOutput(NAME, TITLE, files=files, models=models, record=record)
