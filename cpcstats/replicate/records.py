"""The run's two records: ``results.json`` (what was estimated) and ``manifest.json``.

The manifest lists exactly this run's files (relative to the output folder, so two runs
into different folders write identical manifests), the inputs, the configuration and
the row account of every stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpcstats.accounting import Ledger
from cpcstats.descriptives import study_figures
from cpcstats.outputs import OutputFolder, display_path, environment, file_record
from cpcstats.panels import Panel
from cpcstats.reference import reference_path
from cpcstats.replicate.config import ReplicationConfig
from cpcstats.replicate.project import PACKAGED_CONFIG
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.spec import ModelSpec
from cpcstats.study import Study


def results_record(
    study: Study,
    wanted: list[str],
    result: ReplicationResult,
    parts: dict[str, Any],
) -> dict[str, Any]:
    """``results.json``: the models, failures, skips, descriptives and the ``parts``
    (``diagnostics``, ``designs``, ``topics``) in the file's order."""
    results = {
        "study": study.name,
        "simulated": study.simulated,
        "models": [result.fitted[n].to_record() for n in wanted if n in result.fitted],
        "failed": [{"name": n, "error": e} for n, e in result.failed.items()],
        "skipped": [{"name": n, "reason": r} for n, r in result.skipped.items()],
        "descriptives": study_figures(study),
        "tables": {name: {"details": d} for name, d in result.table_details.items()},
        "diagnostics": parts["diagnostics"],
        "designs": parts["designs"],
        "topics": parts["topics"],
    }
    if study.simulated and study.truth is not None:
        results["true_parameters"] = {
            "party-year": study.truth.get("party_year_effects"),
            "country-year": study.truth.get("country_year_effects"),
        }
    return results


def _portable_stages(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stage records with the file paths in their notes shown as `display_path` does.

    Why: the notes name the file a stage read (``source``, ``dictionary``) as an absolute
    path, so the same run from two checkouts of the package wrote different manifests.
    """
    out = []
    for stage in stages:
        notes = dict(stage.get("notes", {}))
        for key in ("source", "dictionary"):
            if isinstance(notes.get(key), str) and Path(notes[key]).is_absolute():
                notes[key] = display_path(notes[key])
        out.append({**stage, "notes": notes} if "notes" in stage else stage)
    return out


def _study_record(study: Study) -> dict[str, Any]:
    return {
        "name": study.name,
        "simulated": study.simulated,
        "config": file_record(study.config_path) if study.config_path else None,
        "first_year": study.first_year,
        "last_year": study.last_year,
        "break_year": study.break_year,
        "seed": study.seed,
        "rules_applied": list(study.notes),
    }


def _panel_records(panels: dict[str, Panel]) -> dict[str, Any]:
    return {
        level: {
            "rows": len(p.data),
            "units": int(p.data[p.unit].nunique()),
            "contacts": int(p.data["contacts"].sum()),
        }
        for level, p in panels.items()
    }


def manifest_record(
    study: Study,
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    wanted: list[str],
    ledger: Ledger,
    result: ReplicationResult,
    panels: dict[str, Panel],
    folder: OutputFolder,
) -> dict[str, Any]:
    """``manifest.json``: what was read, how each stage accounted for its rows, what was
    written (exactly the staging folder's files) and the command that reproduces it."""
    spec_files = sorted({s.source for n, s in specs.items() if n in wanted and s.source})
    return {
        "study": _study_record(study),
        "inputs": [{**i.to_dict(), "path": display_path(i.path)} for i in study.inputs],
        "reference_tables": [file_record(reference_path(k)) for k in ("states", "taiwan", "bri")],
        "replication_config": file_record(cfg.path),
        "specifications": [file_record(f) for f in spec_files],
        "environment": environment(),
        "stages": _portable_stages(ledger.to_list()),
        "dropped_rows": {a.stage: a.dropped for a in ledger.stages if sum(a.dropped.values())},
        "panels": _panel_records(panels),
        "models": {
            "fitted": sorted(result.fitted),
            "design_models": {d: [m.name for m in ms] for d, ms in result.design_fits.items()},
            "flagged": result.flagged(),
            "failed": result.failed,
            "skipped": result.skipped,
        },
        "outputs": folder.output_records(),
        "reproduce": "cpcstats replicate --study <study> --out <dir>"
        + ("" if cfg.path == PACKAGED_CONFIG else f" --config {display_path(cfg.path)}"),
    }
