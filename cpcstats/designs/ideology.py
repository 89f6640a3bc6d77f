"""Design 5: ideology and history (party-year).

Question: are communist, socialist and liberation-movement parties (left
roots) and parties further left contacted more, holding ruling status and
regime constant?  Estimates: NB2 of party-year contacts on left roots and the
left-right position with ruling x regime and period controls, and a Poisson
with country and year fixed effects that compares parties within the same
country and year (left roots are time-invariant, so party fixed effects would
absorb them).  Standard errors clustered by country.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpcstats.designs.base import ResearchDesignResult, sample_note
from cpcstats.estimation.fit import fit
from cpcstats.panels import Panel
from cpcstats.reporting.figures import plot_irr
from cpcstats.reporting.tables import table
from cpcstats.reporting.write import write_table
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

TERMS = ("left_roots", "lr_position", "ruling")


def run(
    study: Study, panels: dict[str, Panel], out: Path, *, specs: list[ModelSpec], **_: Any
) -> ResearchDesignResult:
    """Fit the design's models (from models/designs.toml) and write its table and figure."""
    output = ResearchDesignResult("design_ideology", "Ideology and history (party-year)")
    panel = panels.get("party-year")
    if panel is None:
        output.skipped = "the study has no party-year panel (no parties / party-status tables)"
        return output
    missing = [c for c in ("left_roots", "lr_position") if c not in panel.data.columns]
    if missing:
        output.skipped = f"the parties table lacks {', '.join(missing)}"
        return output
    nb, within = (fit(spec, panel) for spec in specs)
    notes = [
        sample_note(study, "party-year", nb.nobs),
        "NB2 with regime, period, BRI and Taiwan controls; FE Poisson with country and year "
        "fixed effects compares parties of the same country and year (countries whose parties "
        "were never contacted are dropped). Left roots: communist, socialist or liberation-"
        "movement origin; lr_position: higher = further right.",
    ]
    tab = table(
        [nb, within],
        irr=True,
        model_names=[spec.title or spec.name for spec in specs],
        title="Ideology and history: left roots and left-right "
        "position (party-year, incidence-rate ratios)",
        label="tab:design_ideology",
        notes=notes,
        coef_map={
            "left_roots": "Left roots",
            "lr_position": "Left-right position",
            "ruling": "Ruling party",
        },
    )
    output.files += write_table(tab, out, "design_ideology")
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
    return output
