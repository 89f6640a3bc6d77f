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
from cpcstats.errors import SpecError
from cpcstats.estimation.results import FitResult
from cpcstats.outputs import display_path
from cpcstats.panels import Panel
from cpcstats.replicate.config import ReplicationConfig, TableSpec
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.reporting.format import MISSING
from cpcstats.reporting.labels import Labels, load_labels
from cpcstats.reporting.tables import stats_table, table
from cpcstats.reporting.tables.notes import write_notes_file
from cpcstats.reporting.write import write_table
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

DIAGNOSTICS_NOTE = (
    "Tests at the 5 % level. Cameron-Trivedi: auxiliary regression on the Poisson "
    "fit; LR test of Poisson vs NB2 with the boundary (chi-bar-squared) correction; "
    "Vuong tests (pscl definitions, AIC-corrected): positive values favour the "
    "first model."
)


_LEVEL_TITLES = {"party-year": "Party-year", "country-year": "Country-year"}


def _sample_note(study: Study, levels: list[str], panels: dict[str, Panel]) -> str:
    """One line for all the table's panels: the study, the years and each panel's size."""
    sizes = "; ".join(f"{len(panels[lv].data):,} {lv}s" for lv in levels)
    return f"Sample: {study.label()}, {study.first_year}–{study.last_year} ({sizes})."


def run_labels(cfg: ReplicationConfig, spec: TableSpec | None = None) -> Labels:
    """The labels of a run (its labels file), with a table's own labels laid over them."""
    labels = load_labels(cfg.labels)
    if spec is None or spec.labels is None:
        return labels
    if isinstance(spec.labels, Path):
        return load_labels(spec.labels)
    return labels.merged(spec.labels, file=str(cfg.path))


def _level_spans(levels: list[str]) -> list[tuple[str, int]] | None:
    """Spanning headers by panel level when a table mixes levels (contiguous runs)."""
    if len(set(levels)) < 2:
        return None
    runs: list[tuple[str, int]] = []
    for level in levels:
        if runs and runs[-1][0] == level:
            runs[-1] = (level, runs[-1][1] + 1)
        else:
            runs.append((level, 1))
    return [(_LEVEL_TITLES.get(lv, lv), n) for lv, n in runs]


def _table_kwargs(
    t: TableSpec, models: list[FitResult], specs: dict[str, ModelSpec]
) -> dict[str, Any]:
    """The table's options: the configured ones, titles and spans by default."""
    kwargs = dict(t.options)
    shown = [m.name for m in models]
    if "titles" in kwargs:  # configured per model: keep those of the models shown
        by_name = dict(zip(t.models, kwargs["titles"], strict=True))
        kwargs["titles"] = [by_name[n] for n in shown]
    if "spans" not in kwargs or len(shown) != len(t.models):
        kwargs["spans"] = _level_spans([specs[n].level for n in shown])
    return kwargs


def write_model_tables(
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    result: ReplicationResult,
    study: Study,
    panels: dict[str, Panel],
) -> list[Path]:
    """One table per ``[[table]]`` of the models that were fitted (a missing one named in a
    note: the columns differ from the configuration), and ``tables/<name>.notes.md`` when
    the table has details (`cpcstats.reporting.tables.notes.write_notes_file`)."""
    files: list[Path] = []
    for t in cfg.tables:
        models = [result.fitted[m] for m in t.models if m in result.fitted]
        missing = [m for m in t.models if m not in result.fitted]
        if not models:
            continue
        levels = list(dict.fromkeys(specs[m.name].level for m in models))
        labels = run_labels(cfg, t)
        notes = [_sample_note(study, levels, panels)] + [
            f"Model {labels.model(m) if labels.has_model(m) else m} not shown: "
            f"{result.failed.get(m) or result.skipped.get(m)}."
            for m in missing
        ]
        try:
            tab = table(
                models,
                irr=t.irr,
                title=t.title,
                label=f"tab:{t.name}",
                notes=notes,
                labels=labels,
                **_table_kwargs(t, models, specs),
            )
        except ValueError as exc:
            raise SpecError(
                f"[[table]] {t.name!r}: {exc}",
                file=str(cfg.path),
                column=t.name,
                fix="correct the table's options (coef_map keys and patterns must name "
                "terms of its models)",
            ) from exc
        files += write_table(tab, result.out_dir, t.name)
        result.table_details[t.name] = list(tab.details)
        companion = write_notes_file(
            tab.details, result.out_dir, t.name, f"Notes to {t.title}", simulated=study.simulated
        )
        files += [companion] if companion is not None else []
    return files


_DIAGNOSTIC_COLUMNS = {
    "models": "Models",
    "statistic": "Statistic",
    "value": "Value",
    "p_value": "p-value",
    "interpretation": "Interpretation",
}


def _model_pair(text: str, labels: Labels) -> str:
    """``"rob_zinb vs rob_negbin"`` -> ``"Zero-inflated NB2 vs NB2"`` (names via labels)."""
    return " vs ".join(labels.model(part.strip()) for part in str(text).split(" vs "))


def _interpretation(text: str, fitted: dict[str, FitResult], labels: Labels) -> str:
    """An interpretation with model names by their labels; a comparison skipped because
    a model is flagged says so in a few words (the full reason is in the notes file)."""
    head, sep, _ = str(text).partition("not compared: model flagged")
    if sep:
        flagged = [labels.model(n) for n, m in fitted.items() if m.flagged and n in text]
        return f"{head}not compared: {' and '.join(flagged) or 'a model'} not a result"
    for name in sorted(fitted, key=len, reverse=True):
        text = str(text).replace(name, labels.model(name))
    return str(text)


def _shown_diagnostics(
    frame: pd.DataFrame, labels: Labels, fitted: dict[str, FitResult]
) -> pd.DataFrame:
    """The diagnostics frame as the table prints it: values, p-values, model labels."""
    shown = frame.copy()
    if "models" in shown.columns:
        shown["models"] = [_model_pair(v, labels) for v in shown["models"]]
    if "interpretation" in shown.columns:
        shown["interpretation"] = [
            _interpretation(v, fitted, labels) for v in shown["interpretation"]
        ]
    shown["value"] = [
        MISSING if pd.isna(v) else (f"{v:,.3f}" if abs(v) < 1e6 else f"{v:.3g}")
        for v in shown["value"]
    ]
    shown["p_value"] = [
        "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in shown["p_value"]
    ]
    shown = shown.rename(columns=_DIAGNOSTIC_COLUMNS)
    shown.index.name = "Test" if shown.index.name == "test" else shown.index.name
    return shown


def _skipped(frame: pd.DataFrame, labels: Labels) -> list[str]:
    """The comparisons not made (a flagged model), in full, for the companion notes."""
    return [
        f"{_model_pair(m, labels)}: {t}"
        for m, t in zip(frame["models"], frame["interpretation"], strict=True)
        if "not compared" in str(t)
    ]


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
        labels = run_labels(cfg)
        tab = stats_table(
            _shown_diagnostics(frame, labels, fitted),
            title=spec.get("title", "Diagnostics"),
            label=f"tab:{spec.get('name', 'diagnostics')}",
            notes=[DIAGNOSTICS_NOTE],
            simulated=study.simulated,
        )
        name = str(spec.get("name", "diagnostics"))
        files += write_table(tab, out, name)
        companion = write_notes_file(
            _skipped(frame, labels), out, name, f"Notes to {tab.title}", simulated=study.simulated
        )
        files += [companion] if companion is not None else []
    for name in spec.get("rootograms", []):
        if name in result.fitted:
            data = rootogram_data(result.fitted[name])
            files += plot_rootogram(
                data,
                stem=out / "figures" / f"rootogram_{name}",
                simulated=study.simulated,
                title=f"Hanging rootogram: {run_labels(cfg).model(name)}",
            )
    return files, records


def write_topics(
    study: Study,
    result: ReplicationResult,
    ledger: Ledger,
    progress: Callable[[str], None],
) -> dict[str, Any] | None:
    """The yearly topic table and figure, when the study's contacts carry texts."""
    return merge_topics(topic_outputs(study, result.out_dir), result, ledger, progress)


#: what `topic_outputs` returns: the files, the yearly table and the tagging's account
TopicOutputs = tuple[list[Path], pd.DataFrame, Any]


def topic_outputs(study: Study, out: Path) -> TopicOutputs | None:
    """Tag the contacts and write the topic files into ``out`` (None: no texts).

    Why apart from `merge_topics`: this half needs only the study, so the replication
    runs it on a worker process beside the designs (`cpcstats.replicate.parallel`).
    """
    from cpcstats.reporting.topics import write_topic_outputs
    from cpcstats.topics import has_texts

    if not has_texts(study.contacts):
        return None
    return write_topic_outputs(study, out)


def merge_topics(
    outputs: TopicOutputs | None,
    result: ReplicationResult,
    ledger: Ledger,
    progress: Callable[[str], None],
) -> dict[str, Any] | None:
    """Add the topic files and account to the run and report them; the results.json record."""
    if outputs is None:
        progress("      topics: skipped, the contacts have no texts")
        return None
    files, table, account = outputs
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
