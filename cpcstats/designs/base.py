"""What every research design returns, and the small helpers research designs share.

"Design" is ambiguous in a statistics package (a design *matrix*, a research design); the
result of running a research design is therefore `ResearchDesignResult`.
``DesignOutput`` is its old name, kept as an alias for the modules that still import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpcstats.estimation.results import FitResult
from cpcstats.study import Study


@dataclass
class ResearchDesignResult:
    """Files a research design wrote, its models and a JSON-ready record of its estimates."""

    name: str
    title: str
    files: list[Path] = field(default_factory=list)
    models: list[FitResult] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # reason, when the study lacks what the design needs


#: The old name of `ResearchDesignResult` (same class).
DesignOutput = ResearchDesignResult


def sample_note(study: Study, level: str, n: int, extra: str = "") -> str:
    """The notes line every design table carries: sample, window, simulated or not."""
    what = "SIMULATED embedded demo study" if study.simulated else study.name
    text = f"Sample: {what}, {level} panel {study.first_year}–{study.last_year}, N = {n:,}."
    return f"{text} {extra}".strip()


def country_year_panel(study: Study, panels: Any) -> Any:
    """The country-year panel a design runs on: given directly, from the replication's panels,
    or built from the study."""
    import pandas as pd

    from cpcstats.panels import Panel, country_year

    if isinstance(panels, Panel | pd.DataFrame):
        return panels
    if isinstance(panels, dict) and "country-year" in panels:
        return panels["country-year"]
    return country_year(study)


def planted_effect(study: Study, term: str) -> float | None:
    """The simulation's true country-year effect of ``term`` (demo studies only)."""
    truth = study.truth or {}
    value = truth.get("country_year_effects", {}).get(term)
    return None if value is None or not study.simulated else float(value)


def unit_word(study: Study) -> str:
    """What the study's counts are, for captions: ``[study] unit`` of the study file when
    it names one (e.g. "engagements"), else "contacts".

    Why: the BRI and Taiwan designs model every contact of a country-year, not party
    contact only, and a study counting state-level engagements should say so.
    """
    value = (getattr(study, "config", None) or {}).get("study", {}).get("unit")
    return value.strip() if isinstance(value, str) and value.strip() else "contacts"


def write_details(out: Path, stem: str, title: str, details: list[str], *, simulated: bool) -> Path:
    """Write the notes that do not fit under a table to ``out/tables/<stem>.notes.md``.

    A design table carries at most four notes (sample, estimator, SEs, simulated); the
    dropped cells, omitted terms, warnings and reasons go here, one bullet each, in the
    design's order (byte-stable: no timestamps).  Returns the path, which the design adds
    to its files so the replication's manifest lists it.
    """
    from cpcstats.reporting.tables.notes import write_notes_file

    path = write_notes_file(details, out, stem, f"Notes: {title}", simulated=simulated, always=True)
    assert path is not None  # always=True writes the file
    return path
