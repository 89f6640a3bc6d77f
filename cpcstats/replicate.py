"""The replication: study -> panels -> models -> tables, figures, results and manifest.

What is produced is configured in a TOML file (``replication/replication.toml``; the
package ships a copy with the specifications it names, see :data:`PROJECT_DIR`):
which models (by name, from the specification folder) go into which table,
and which go into the coefficient figure.  A model that fails is reported
with its reason and the replication goes on; the caller learns from
``ReplicationResult.failed`` (the CLI's exit code) that something failed.

The output folder never lies: a run locks ``--out`` (a second run refuses), writes
into a staging folder inside it and swaps its files in only when it completes; files of
the previous run's manifest that this run did not write are deleted (or moved to
``.stale/`` when edited since); the manifest lists exactly this run's files and their
SHA-256; files cpcstats never wrote are never touched.  The mechanics and reasons are in
:class:`cpcstats.outputs.OutputFolder`.  Names from the configuration become file names,
so they are checked to be plain names when it is read, and the writer refuses any path
outside the output folder as a last line of defence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.accounting import Ledger
from cpcstats.descriptives import (
    compare_published,
    compare_top_partners,
    load_published,
    load_published_partners,
    published_period,
    study_figures,
)
from cpcstats.errors import CpcError, OutputError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.io import write_frame
from cpcstats.outputs import OutputFolder, display_path, environment, file_record, write_json
from cpcstats.panels import Panel, country_year, party_year, yearly_totals
from cpcstats.reference import reference_path
from cpcstats.reporting.figures import plot_irr, plot_yearly_contacts
from cpcstats.reporting.tables import stats_table, table
from cpcstats.reporting.write import DEFAULT_FORMATS, check_formats, table_formats, write_table
from cpcstats.spec import ModelSpec, load_specs
from cpcstats.study import DEMO, PUBLISHED_DEFAULT, Study, load_study
from cpcstats.tomlio import (
    check_keys,
    check_name,
    get_str,
    get_str_list,
    get_table,
    get_typed,
    load_toml,
)

#: The demo's replication configuration and model specifications, shipped inside the
#: package so that a wheel is enough (no checkout, any working folder).  The folder mirrors
#: the repository's ``models/`` and ``replication/`` (so ``models = "../models"`` means the
#: same in both); tests/test_project_init.py fails if the two copies drift.
PROJECT_DIR = Path(__file__).resolve().parent / "project"
PACKAGED_MODELS = PROJECT_DIR / "models"
PACKAGED_CONFIG = PROJECT_DIR / "replication" / "replication.toml"
DEFAULT_CONFIG = PACKAGED_CONFIG
# design kinds -> modules with a ``run(study, panels, out, **params)`` function
DESIGNS = {
    "ruling_regime": "cpcstats.designs.ruling_regime",
    "bri": "cpcstats.designs.staggered",
    "taiwan": "cpcstats.designs.event_study",
    "xi_break": "cpcstats.designs.breaks",
    "ideology": "cpcstats.designs.ideology",
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    models: tuple[str, ...]
    irr: bool = False


@dataclass(frozen=True)
class ReplicationConfig:
    path: Path
    models_dir: Path
    tables: tuple[TableSpec, ...]
    irr_models: tuple[str, ...]
    published: Path | None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    designs: tuple[dict[str, Any], ...] = ()
    formats: tuple[str, ...] = DEFAULT_FORMATS  # table files per table, in this order


@dataclass
class ReplicationResult:
    out_dir: Path
    fitted: dict[str, FitResult] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    design_samples: list[Any] = field(default_factory=list)


CONFIG_KEYS = ("models", "formats", "table", "figures", "diagnostics", "design")
TABLE_KEYS = ("name", "title", "models", "irr")
FIGURE_KEYS = ("irr_models",)
DIAGNOSTIC_KEYS = ("name", "title", "models", "rootograms")


def _entries(data: dict[str, Any], key: str, *, file: str) -> list[dict[str, Any]]:
    """An array of tables (``[[table]]``), each checked to be a table."""
    value = get_typed(data, key, list, file=file, where="the replication configuration")
    entries = list(value or [])
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise SpecError(
                f"entry {i} of `{key}` must be a table ([[{key}]]), not {type(entry).__name__}",
                file=file,
                column=key,
                fix=f"write each entry as a [[{key}]] section",
            )
    return entries


def _names(table: dict[str, Any], key: str, *, file: str, where: str) -> tuple[str, ...]:
    """A list of model names, each a valid name (names become file names)."""
    names = get_str_list(table, key, file=file, where=where) or []
    return tuple(check_name(n, key=key, file=file, where=where) for n in names)


def load_replication_config(path: str | Path = DEFAULT_CONFIG) -> ReplicationConfig:
    """Read and check the replication configuration (tables, figures, diagnostics, designs).

    Why so strict: table, diagnostics and model names become file names under ``--out``;
    each is checked to be a plain name (``cpcstats.tomlio.check_name``), every key's TOML
    type is checked, and an unknown key (a typo that would silently do nothing) is an error.
    """
    path = Path(path).resolve()
    if not path.exists():
        raise SpecError(
            "the replication configuration does not exist",
            file=str(path),
            fix="pass --config PATH of an existing file, or leave --config out to use the "
            "packaged configuration",
        )
    data = load_toml(path, "replication configuration")
    file = str(path)
    check_keys(data, CONFIG_KEYS, file=file, where="the replication configuration")
    tables = []
    for i, t in enumerate(_entries(data, "table", file=file), 1):
        where = f"[[table]] number {i}"
        check_keys(t, TABLE_KEYS, file=file, where=where)
        if "name" not in t or "models" not in t:
            raise SpecError(
                f"{where} needs `name` and `models`",
                file=file,
                column="name" if "name" not in t else "models",
                fix='e.g. name = "table1" and models = ["model_a", "model_b"]',
            )
        name = check_name(t["name"], key="name", file=file, where=where)
        tables.append(
            TableSpec(
                name,
                get_str(t, "title", file=file, where=where, default=name) or name,
                _names(t, "models", file=file, where=where),
                bool(get_typed(t, "irr", bool, file=file, where=where, default=False)),
            )
        )
    figures = get_table(data, "figures", file=file, where="the replication configuration")
    check_keys(figures, FIGURE_KEYS, file=file, where="[figures]")
    diagnostics = get_table(data, "diagnostics", file=file, where="the replication configuration")
    check_keys(diagnostics, DIAGNOSTIC_KEYS, file=file, where="[diagnostics]")
    if diagnostics:
        where = "[diagnostics]"
        diagnostics = {
            "name": check_name(
                diagnostics.get("name", "diagnostics"), key="name", file=file, where=where
            ),
            "title": get_str(diagnostics, "title", file=file, where=where, default="Diagnostics"),
            "models": list(_names(diagnostics, "models", file=file, where=where)),
            "rootograms": list(_names(diagnostics, "rootograms", file=file, where=where)),
        }
    designs = []
    for i, d in enumerate(_entries(data, "design", file=file), 1):
        where = f"[[design]] number {i}"
        kind = get_str(d, "kind", file=file, where=where, default="")
        if not kind:
            raise SpecError(
                f"{where} needs `kind`",
                file=file,
                column="kind",
                fix=f"use one of {', '.join(DESIGNS)}",
            )
        entry = dict(d)
        entry["kind"] = kind
        entry["name"] = check_name(d.get("name", kind), key="name", file=file, where=where)
        if "models" in d:
            entry["models"] = list(_names(d, "models", file=file, where=where))
        designs.append(entry)
    published = path.parent / "published.toml"
    models = get_str(data, "models", file=file, where="the replication configuration")
    formats = get_str_list(data, "formats", file=file, where="the replication configuration")
    return ReplicationConfig(
        path=path,
        models_dir=(path.parent / (models or "../models")).resolve(),
        tables=tuple(tables),
        irr_models=_names(figures, "irr_models", file=file, where="[figures]"),
        published=published if published.exists() else None,
        diagnostics=diagnostics,
        designs=tuple(designs),
        formats=DEFAULT_FORMATS if formats is None else check_formats(formats, file=file),
    )


def default_config(study: str | Path | Study) -> Path:
    """The configuration ``replicate`` uses when none is given.

    A study file's own ``replication.toml`` beside it (the layout ``cpcstats init``
    writes) if there is one, else the packaged configuration; always the packaged one for
    the demo.  Why not a path relative to the working folder, as before: it made the
    command work only from the repository's root.
    """
    if isinstance(study, Study):
        where = Path(study.config_path) if study.config_path else None
    elif str(study) == DEMO:
        where = None
    else:
        where = Path(study)
    if where is not None and (beside := where.parent / "replication.toml").is_file():
        return beside.resolve()
    return PACKAGED_CONFIG


def _notes(study: Study, spec_level: str, panel: Panel) -> list[str]:
    return [
        f"Sample: {study.label()}, {spec_level} panel, {study.first_year}-{study.last_year} "
        f"({len(panel.data):,} {spec_level}s)."
    ]


def replicate(
    study: str | Path | Study = "demo",
    out: str | Path = "reports",
    config: str | Path | None = None,
    progress: Callable[[str], None] = print,
) -> ReplicationResult:
    """Run the whole replication and write everything into ``out``.

    ``config`` None means :func:`default_config` of the study (the packaged configuration
    for the demo, so the same call works from any folder).

    ``out`` is owned by this run while it lasts (a second run into it refuses) and
    changes only if the run completes: the files are written aside and swapped in, files
    of the previous run that this run did not write are removed (edited ones moved to
    ``out/.stale/``), and the manifest lists exactly this run's files (see
    :mod:`cpcstats.outputs`).  Files in ``out`` that no manifest lists are never touched.
    """
    out = Path(out)
    cfg = load_replication_config(default_config(study) if config is None else config)
    with OutputFolder(out, progress) as folder, table_formats(cfg.formats):
        result = _replicate(study, cfg, folder, progress)
        folder.commit()
    result.out_dir = out
    result.files = [folder.final(p) for p in result.files]
    status = "all models fitted" if not result.failed else f"{len(result.failed)} model(s) FAILED"
    progress(
        f"done: {len(result.fitted)} fitted, {len(result.skipped)} skipped; {status}; "
        f"outputs in {out}/"
    )
    return result


def _replicate(
    study: str | Path | Study,
    cfg: ReplicationConfig,
    folder: OutputFolder,
    progress: Callable[[str], None],
) -> ReplicationResult:
    """The replication proper, written into ``folder.staging`` (swapped in by the caller)."""
    out = folder.staging
    steps = 7
    progress(f"[1/{steps}] loading study {study if not isinstance(study, Study) else study.name}")
    study_obj = study if isinstance(study, Study) else load_study(study)
    for account in study_obj.ledger.stages:
        progress(f"      {account.summary()}")
    for note in study_obj.notes:
        if "WARNING" in note:
            progress(f"      {note}")
    result = ReplicationResult(out)
    ledger = Ledger(list(study_obj.ledger.stages))

    progress(f"[2/{steps}] building panels")
    panels: dict[str, Panel] = {"country-year": country_year(study_obj)}
    if study_obj.has_parties:
        panels["party-year"] = party_year(study_obj)
    for level, panel in panels.items():
        ledger.extend(list(panel.accounts))
        for account in panel.accounts:
            progress(f"      {account.summary()}")
        result.files.append(
            write_frame(panel.data, out / "panels" / f"{level.replace('-', '_')}.csv")
        )

    specs = {s.name: s for s in load_specs(cfg.models_dir)}
    wanted = list(
        dict.fromkeys(
            [m for t in cfg.tables for m in t.models]
            + list(cfg.irr_models)
            + list(cfg.diagnostics.get("models", []))
            + list(cfg.diagnostics.get("rootograms", []))
        )
    )
    unknown = [m for m in wanted if m not in specs]
    if unknown:
        raise SpecError(
            f"the replication names unknown model(s) {', '.join(unknown)}",
            file=str(cfg.path),
            fix=f"define them in {cfg.models_dir}",
        )
    progress(f"[3/{steps}] fitting {len(wanted)} models")
    for i, name in enumerate(wanted, 1):
        spec = specs[name]
        if spec.level not in panels:
            result.skipped[name] = f"the study has no {spec.level} data (no parties table)"
            progress(f"      ({i}/{len(wanted)}) {name}: skipped, {result.skipped[name]}")
            continue
        try:
            fitted = fit(spec, panels[spec.level])
        except (CpcError, np.linalg.LinAlgError, ValueError) as exc:
            result.failed[name] = str(exc).splitlines()[0]
            progress(f"      ({i}/{len(wanted)}) {name}: FAILED, {result.failed[name]}")
            continue
        result.fitted[name] = fitted
        if fitted.sample is not None:
            ledger.add(fitted.sample)
        flag = "" if fitted.converged and not fitted.warnings else "  [flagged: see notes]"
        progress(f"      ({i}/{len(wanted)}) {name}: {spec.family}, N = {fitted.nobs:,}{flag}")

    progress(f"[4/{steps}] writing tables")
    result.files += _write_tables(cfg, specs, result, study_obj, panels, out)
    diagnostics = _write_diagnostics(cfg, result, study_obj, out)
    result.files += diagnostics.pop("files")
    designs = _run_designs(cfg, specs, result, study_obj, panels, out, progress)
    topics = _write_topics(study_obj, out, result, ledger, progress)
    progress(f"[5/{steps}] drawing figures")
    result.files += _write_figures(cfg, result, study_obj, out)

    progress(f"[6/{steps}] writing results.json")
    descriptives = study_figures(study_obj)
    results = {
        "study": study_obj.name,
        "simulated": study_obj.simulated,
        "models": [result.fitted[n].to_record() for n in wanted if n in result.fitted],
        "failed": [{"name": n, "error": e} for n, e in result.failed.items()],
        "skipped": [{"name": n, "reason": r} for n, r in result.skipped.items()],
        "descriptives": descriptives,
        "diagnostics": diagnostics.get("records", []),
        "designs": designs,
        "topics": topics,
    }
    if study_obj.simulated and study_obj.truth is not None:
        results["true_parameters"] = {
            "party-year": study_obj.truth.get("party_year_effects"),
            "country-year": study_obj.truth.get("country_year_effects"),
        }
    result.files.append(write_json(out / "results.json", results))

    ledger.extend(result.design_samples)
    progress(f"[7/{steps}] writing manifest.json")
    manifest = _manifest(study_obj, cfg, specs, wanted, ledger, result, panels, folder)
    result.files.append(write_json(out / "manifest.json", manifest))
    return result


def _write_tables(
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    result: ReplicationResult,
    study: Study,
    panels: dict[str, Panel],
    out: Path,
) -> list[Path]:
    files: list[Path] = []
    for t in cfg.tables:
        models = [result.fitted[m] for m in t.models if m in result.fitted]
        missing = [m for m in t.models if m not in result.fitted]
        if not models:
            continue
        levels = sorted({specs[m].level for m in t.models if m in result.fitted})
        notes = [n for level in levels for n in _notes(study, level, panels[level])]
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
        files += write_table(tab, out, t.name)
    published = _published_file(study, cfg)
    if published is not None:
        first, last = published_period(published)
        frame = compare_published(
            study, load_published(published), first_year=first, last_year=last
        )
        frame = frame.set_index("figure")[["published", "computed", "comparison"]]
        notes = ["Published: Hackenesch and Bader (2020), ISQ 64(3); shares as proportions."]
        if first is not None or last is not None:
            notes.append(
                f"Computed from this study's contacts in {first or study.first_year}-"
                f"{last or study.last_year}, the period the published figures cover "
                f"(the study's own window is {study.first_year}-{study.last_year})."
            )
        if study.simulated:
            notes.append(
                "The demo study is simulated and calibrated to these published "
                "figures; differences show the calibration, not a replication."
            )
        tab = stats_table(
            frame,
            title="Published figures and the values computed from this study's data",
            label="tab:published",
            notes=notes,
            simulated=study.simulated,
        )
        files += write_table(tab, out, "published_figures")
        files += _write_partner_table(study, published, out, first, last)
    return files


def _write_partner_table(
    study: Study, published: Path, out: Path, first: int | None, last: int | None
) -> list[Path]:
    """Table 1 of the paper (top partners) against this study's party contacts."""
    partners = load_published_partners(published)
    if not partners:
        return []
    frame = compare_top_partners(
        study.contacts, study.parties, partners, first_year=first, last_year=last
    )
    shown = pd.DataFrame(
        {
            "rank": frame["published_rank"].astype(int).to_numpy(),
            "party (published)": frame["published_party"].to_numpy(),
            "country": frame["published_country"].to_numpy(),
            "published": frame["published_contacts"].astype(int).to_numpy(),
            "computed": frame["computed_contacts"].astype(object).to_numpy(),
            "comparison": frame["comparison"].to_numpy(),
        }
    )
    shown["computed"] = shown["computed"].where(shown["computed"].notna(), None)
    notes = [
        "Published: Table 1 of Hackenesch and Bader (2020), the CPC's most important partners "
        "(ties share a rank). Parties are matched within the published country by name "
        "(case, accents and punctuation ignored; a parenthesised abbreviation counts as an "
        "alias); a party the data name differently is reported as not found, never dropped.",
    ]
    if study.simulated:
        notes.append(
            "The demo study's parties are simulated and carry no real names, so no published "
            "partner can be found in it; the table shows the check a replicator gets on real "
            "data."
        )
    hints = [h for h in frame.get("hint", pd.Series(dtype=object)).dropna() if h]
    if hints and not study.simulated:
        notes.append("Not found: " + "; ".join(hints) + ".")
    tab = stats_table(
        shown.set_index("rank"),
        title="Published top partners (Table 1) and this study's counts",
        label="tab:published_partners",
        notes=notes,
        simulated=study.simulated,
    )
    return write_table(tab, out, "published_partners")


def _write_topics(
    study: Study,
    out: Path,
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
    files, table, account = write_topic_outputs(study, out)
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


def _published_file(study: Study, cfg: ReplicationConfig) -> Path | None:
    """The published figures a study asked to be compared with (``[published]``), if any.

    ``enabled = true`` means the reference study's figures shipped beside the replication
    configuration; ``path = FILE`` a user's own file.
    """
    if study.published is None:
        return None
    if study.published == PUBLISHED_DEFAULT:
        return cfg.published
    return study.published


def _run_designs(
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    result: ReplicationResult,
    study: Study,
    panels: dict[str, Panel],
    out: Path,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run each configured design; a failure is recorded and the others go on."""
    import importlib

    records: dict[str, Any] = {}
    for entry in cfg.designs:
        kind = str(entry.get("kind", ""))
        name = str(entry.get("name", kind))
        if kind not in DESIGNS:
            raise SpecError(
                f"unknown design kind {kind!r}",
                file=str(cfg.path),
                column="kind",
                fix=f"use one of {', '.join(DESIGNS)}",
            )
        params = {k: v for k, v in entry.items() if k not in ("kind", "name", "models")}
        names = list(entry.get("models", []))
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise SpecError(
                f"design {name!r} names unknown model(s) {', '.join(unknown)}",
                file=str(cfg.path),
                column="models",
                fix=f"define them in {cfg.models_dir}",
            )
        params["specs"] = [specs[n] for n in names]
        try:
            module = importlib.import_module(DESIGNS[kind])
            output = module.run(study, panels, out, **params)
        except (CpcError, np.linalg.LinAlgError, ValueError) as exc:
            result.failed[name] = str(exc).splitlines()[0]
            progress(f"      design {name}: FAILED, {result.failed[name]}")
            continue
        if output.skipped:
            result.skipped[name] = output.skipped
            progress(f"      design {name}: skipped, {output.skipped}")
            continue
        result.files += output.files
        for model in output.models:
            if model.sample is not None:
                result.design_samples.append(model.sample)
        records[name] = {
            "title": output.title,
            **output.record,
            "models": [m.to_record() for m in output.models],
        }
        progress(f"      design {name}: {len(output.models)} models, {len(output.files)} files")
    return records


def _write_diagnostics(
    cfg: ReplicationConfig, result: ReplicationResult, study: Study, out: Path
) -> dict[str, Any]:
    """Diagnostics table and rootograms of the configured models (those that were fitted)."""
    from cpcstats.diagnostics import diagnostics_table, rootogram_data
    from cpcstats.reporting.rootogram import plot_rootogram

    spec = cfg.diagnostics
    files: list[Path] = []
    fitted = {m: result.fitted[m] for m in spec.get("models", []) if m in result.fitted}
    records: list[dict[str, Any]] = []
    if len(fitted) >= 2:
        frame = diagnostics_table(fitted)
        records = frame.reset_index().to_dict(orient="records")
        shown = frame.copy()
        shown["value"] = [f"{v:,.3f}" if abs(v) < 1e6 else f"{v:.3g}" for v in shown["value"]]
        shown["p_value"] = [
            "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in shown["p_value"]
        ]
        notes = [
            "Tests at the 5 % level. Cameron-Trivedi: auxiliary regression on the Poisson "
            "fit; LR test of Poisson vs NB2 with the boundary (chi-bar-squared) correction; "
            "Vuong tests (pscl definitions, AIC-corrected): positive values favour the "
            "first model."
        ]
        tab = stats_table(
            shown,
            title=spec.get("title", "Diagnostics"),
            label=f"tab:{spec.get('name', 'diagnostics')}",
            notes=notes,
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
    return {"files": files, "records": records}


def _write_figures(
    cfg: ReplicationConfig, result: ReplicationResult, study: Study, out: Path
) -> list[Path]:
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


def _portable_stages(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stage records with the file paths in their notes shown as :func:`display_path` does.

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


def _manifest(
    study: Study,
    cfg: ReplicationConfig,
    specs: dict[str, ModelSpec],
    wanted: list[str],
    ledger: Ledger,
    result: ReplicationResult,
    panels: dict[str, Panel],
    folder: OutputFolder,
) -> dict[str, Any]:
    spec_files = sorted({s.source for n, s in specs.items() if n in wanted and s.source})
    # exactly the files of this run (the staging folder holds nothing else), relative to
    # the output folder, so two runs into different folders write identical manifests
    outputs = folder.output_records()
    return {
        "study": {
            "name": study.name,
            "simulated": study.simulated,
            "config": file_record(study.config_path) if study.config_path else None,
            "first_year": study.first_year,
            "last_year": study.last_year,
            "break_year": study.break_year,
            "seed": study.seed,
            "rules_applied": list(study.notes),
        },
        "inputs": [{**i.to_dict(), "path": display_path(i.path)} for i in study.inputs],
        "reference_tables": [file_record(reference_path(k)) for k in ("states", "taiwan", "bri")],
        "replication_config": file_record(cfg.path),
        "specifications": [file_record(f) for f in spec_files],
        "environment": environment(),
        "stages": _portable_stages(ledger.to_list()),
        "dropped_rows": {a.stage: a.dropped for a in ledger.stages if sum(a.dropped.values())},
        "panels": {
            level: {
                "rows": len(p.data),
                "units": int(p.data[p.unit].nunique()),
                "contacts": int(p.data["contacts"].sum()),
            }
            for level, p in panels.items()
        },
        "models": {
            "fitted": sorted(result.fitted),
            "failed": result.failed,
            "skipped": result.skipped,
        },
        "outputs": outputs,
        "reproduce": "cpcstats replicate --study <study> --out <dir>"
        + ("" if cfg.path == PACKAGED_CONFIG else f" --config {display_path(cfg.path)}"),
    }


#: what ``cpcstats init`` writes, relative to the new folder, from the packaged files
_INIT_FILES = ("README.txt", "study.toml", "replication.toml", "published.toml")


def init_project(folder: str | Path, *, demo: bool = False) -> list[Path]:
    """Write an editable project folder for one's own study; return the files written.

    ``folder`` gets ``study.toml`` (a commented template naming the files to fill in; with
    ``demo`` one that reads the packaged demo data, and ``truth.json``, the simulation's
    true values, so the folder replicates at once and as the demo does),
    ``models/`` (the shipped specifications), ``replication.toml`` (the shipped
    configuration, its ``models`` pointing at ``models/``), ``published.toml`` (the
    reference study's figures, for ``[published] enabled = true``) and ``README.txt``
    with the next commands.  Why refuse a folder that exists and is not empty: writing
    templates over a user's edited files would destroy work, and merging is guesswork.
    Nothing is written outside ``folder`` (file names are the package's, not the user's).
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise OutputError(
            "the project folder is a file, not a folder",
            file=str(root),
            fix="give the path of a new folder: cpcstats init NEW_FOLDER",
        )
    if root.is_dir() and any(root.iterdir()):
        raise OutputError(
            "the project folder exists and is not empty; cpcstats init writes only new folders",
            file=str(root),
            fix="give the path of a new or empty folder: cpcstats init NEW_FOLDER",
        )
    config = PACKAGED_CONFIG.read_text(encoding="utf-8")
    if 'models = "../models"\n' not in config:  # the packaged file is ours: a test checks
        raise AssertionError("the packaged replication.toml no longer names ../models")
    texts = {
        "README.txt": (PROJECT_DIR / "README.txt")
        .read_text(encoding="utf-8")
        .replace("{dir}", root.as_posix()),
        "study.toml": (PROJECT_DIR / ("study_demo.toml" if demo else "study.toml")).read_text(
            encoding="utf-8"
        ),
        "replication.toml": config.replace('models = "../models"\n', 'models = "models"\n'),
        "published.toml": (PROJECT_DIR / "replication" / "published.toml").read_text(
            encoding="utf-8"
        ),
    }
    (root / "models").mkdir(parents=True, exist_ok=True)
    written = []
    for name in _INIT_FILES:
        (root / name).write_text(texts[name], encoding="utf-8")
        written.append(root / name)
    if demo:  # the simulation's true values, so the design tables note them as the demo's do
        truth = Path(str(resources.files("cpcstats.demo").joinpath("data", "truth.json")))
        (root / "truth.json").write_bytes(truth.read_bytes())
        written.append(root / "truth.json")
    for spec in sorted(PACKAGED_MODELS.glob("*.toml")):
        target = root / "models" / spec.name
        target.write_bytes(spec.read_bytes())
        written.append(target)
    return written
