"""The replication's presentation stages: model tables, diagnostics, figures, topics.

Each writer takes what the computing stages produced (`cpcstats.replicate.stages`)
and returns the files it wrote, through `cpcstats.reporting.write.write_table` (so
every table format the configuration asks for is written) and the figure functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.accounting import Ledger
from cpcstats.outputs import display_path
from cpcstats.panels import Panel, yearly_totals
from cpcstats.replicate.config import ReplicationConfig
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.reporting.figures import plot_irr, plot_yearly_contacts
from cpcstats.reporting.tables import stats_table, table
from cpcstats.reporting.write import write_table
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

DIAGNOSTICS_NOTE = (
    "Tests at the 5 % level. Cameron-Trivedi: auxiliary regression on the Poisson "
    "fit; LR test of Poisson vs NB2 with the boundary (chi-bar-squared) correction; "
    "Vuong tests (pscl definitions, AIC-corrected): positive values favour the "
    "first model."
)


def _sample_note(study: Study, spec_level: str, panel: Panel) -> str:
    return (
        f"Sample: {study.label()}, {spec_level} panel, {study.first_year}-{study.last_year} "
        f"({len(panel.data):,} {spec_level}s)."
    )


def write_model_tables(
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    result: ReplicationResult,
    study: Study,
    panels: dict[str, Panel],
) -> list[Path]:
    """One table per ``[[table]]`` of the models that were fitted (missing ones noted)."""
    files: list[Path] = []
    for t in cfg.tables:
        models = [result.fitted[m] for m in t.models if m in result.fitted]
        missing = [m for m in t.models if m not in result.fitted]
        if not models:
            continue
        levels = sorted({specs[m].level for m in t.models if m in result.fitted})
        notes = [_sample_note(study, level, panels[level]) for level in levels]
        notes += [
            f"Model {m} not shown: {result.failed.get(m) or result.skipped.get(m)}."
            for m in missing
        ]
        notes.append(
            "Coefficients are on the log scale." if not t.irr else "Incidence-rate ratios exp(b)."
        )
        tab = table(
            models,
            irr=t.irr,
            title=t.title,
            label=f"tab:{t.name}",
            notes=notes,
            model_names=[m.name for m in models],
        )
        files += write_table(tab, result.out_dir, t.name)
    return files


def _shown_diagnostics(frame: pd.DataFrame) -> pd.DataFrame:
    """The diagnostics frame with its values and p-values as the table prints them."""
    shown = frame.copy()
    shown["value"] = [f"{v:,.3f}" if abs(v) < 1e6 else f"{v:.3g}" for v in shown["value"]]
    shown["p_value"] = [
        "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in shown["p_value"]
    ]
    return shown


def write_diagnostics(
    cfg: ReplicationConfig, result: ReplicationResult, study: Study
) -> tuple[list[Path], list[dict[str, Any]]]:
    """Diagnostics table and rootograms of the configured models (those that were fitted)."""
    from cpcstats.diagnostics import diagnostics_table, rootogram_data
    from cpcstats.reporting.rootogram import plot_rootogram

    spec = cfg.diagnostics
    out = result.out_dir
    files: list[Path] = []
    fitted = {m: result.fitted[m] for m in spec.get("models", []) if m in result.fitted}
    records: list[dict[str, Any]] = []
    if len(fitted) >= 2:
        frame = diagnostics_table(fitted)
        records = frame.reset_index().to_dict(orient="records")
        tab = stats_table(
            _shown_diagnostics(frame),
            title=spec.get("title", "Diagnostics"),
            label=f"tab:{spec.get('name', 'diagnostics')}",
            notes=[DIAGNOSTICS_NOTE],
            simulated=study.simulated,
        )
        files += write_table(tab, out, str(spec.get("name", "diagnostics")))
    for name in spec.get("rootograms", []):
        if name in result.fitted:
            data = rootogram_data(result.fitted[name])
            files += plot_rootogram(
                data,
                stem=out / "figures" / f"rootogram_{name}",
                simulated=study.simulated,
                title=f"Hanging rootogram: {name}",
            )
    return files, records


def write_figures(cfg: ReplicationConfig, result: ReplicationResult, study: Study) -> list[Path]:
    """Contacts per year, and the incidence-rate-ratio figure of ``[figures] irr_models``."""
    out = result.out_dir
    files = plot_yearly_contacts(
        yearly_totals(study),
        break_year=study.break_year,
        simulated=study.simulated,
        stem=out / "figures" / "yearly_contacts",
        title=f"Contacts per year: {study.label()}",
    )
    models = [result.fitted[m] for m in cfg.irr_models if m in result.fitted]
    if models:
        files += plot_irr(models, stem=out / "figures" / "irr_main", simulated=study.simulated)
    return list(files)


def write_topics(
    study: Study,
    result: ReplicationResult,
    ledger: Ledger,
    progress: Callable[[str], None],
) -> dict[str, Any] | None:
    """The yearly topic table and figure, when the study's contacts carry texts."""
    from cpcstats.reporting.topics import write_topic_outputs
    from cpcstats.topics import has_texts

    if not has_texts(study.contacts):
        progress("      topics: skipped, the contacts have no texts")
        return None
    files, table, account = write_topic_outputs(study, result.out_dir)
    result.files += files
    ledger.add(account)
    progress(f"      topics: {account.notes['units_tagged']:,} {account.notes['unit']}s tagged")
    return {
        "unit": account.notes["unit"],
        "dictionary": display_path(account.notes["dictionary"]),
        "yearly": [
            {"year": int(y), **{k: float(v) for k, v in row.items()}} for y, row in table.iterrows()
        ],
    }
