"""``replicate``: the run from the study to the swapped-in output folder, stage by stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cpcstats.accounting import Ledger
from cpcstats.execution.memory import release_free_memory, system_arrow_pool
from cpcstats.outputs import OutputFolder, write_json
from cpcstats.replicate.config import ReplicationConfig, default_config, load_replication_config
from cpcstats.replicate.exhibits import Exhibits, write_exhibits
from cpcstats.replicate.parallel import DesignRuns, replication_workers
from cpcstats.replicate.records import manifest_record, results_record
from cpcstats.replicate.stages import (
    ReplicationResult,
    build_panels,
    diagnosed_models,
    fit_models,
    study_warnings,
    wanted_models,
    write_panels,
)
from cpcstats.replicate.writers import write_diagnostics, write_model_tables
from cpcstats.reporting.figure_formats import figure_formats
from cpcstats.reporting.write import table_formats
from cpcstats.spec import load_specs
from cpcstats.study import Study, load_study

STEPS = 7


def replicate(
    study: str | Path | Study = "demo",
    out: str | Path = "reports",
    config: str | Path | None = None,
    progress: Callable[[str], None] = print,
    workers: int | None = None,
    keep_fits: bool = True,
) -> ReplicationResult:
    """Run the whole replication and write everything into ``out``.

    ``config`` None means `default_config` of the study (the packaged configuration
    for the demo, so the same call works from any folder).

    ``out`` is owned by this run while it lasts (a second run into it refuses) and
    changes only if the run completes: the files are written aside and swapped in, files
    of the previous run that this run did not write are removed (edited ones moved to
    ``out/.stale/``), and the manifest lists exactly this run's files (see
    `cpcstats.outputs`).  Files in ``out`` that no manifest lists are never touched.

    Parameters
    ----------
    study : str, pathlib.Path or Study, default "demo"
        ``"demo"``, a study TOML file, or a study already loaded.
    out : str or pathlib.Path, default "reports"
        The output folder (tables, figures, ``results.json``, ``manifest.json``).
    config : str or pathlib.Path, optional
        A ``replication.toml``: which models go into which table and figure.
    progress : callable, default print
        Receives one line per step (``lambda line: None`` for a quiet run).
    workers : int, optional
        Processes the run uses, this one included: the designs, the topics and the
        study's exhibits run on the others while this process fits the models and writes
        the tables and figures, and this one takes what is left when it would wait
        (`cpcstats.replicate.parallel`); default ``[execution] workers`` of the
        configuration, else every core; 1 runs everything here, one step after the
        other.  The files written are the same for any number.
    keep_fits : bool, default True
        False: a model's payload goes once read (`FitResult.without_payload`; the CLI's).

    Returns
    -------
    ReplicationResult
        ``fitted`` (name -> FitResult), ``failed`` and ``skipped`` (name -> reason),
        ``files`` written and ``out_dir``.  A model that fails does not stop the run:
        check ``failed``.

    Raises
    ------
    SpecError
        The study file, the replication configuration or a model specification is invalid.
    InputError
        A data file of the study is missing or breaks the data contract.
    cpcstats.errors.OutputError
        ``out`` is locked by another run, is not a folder, or cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "reports"
    >>> result = cpcstats.replicate("demo", out=out, progress=lambda line: None)  # doctest: +SKIP
    >>> result.failed  # doctest: +SKIP
    {}
    >>> sorted(p.name for p in (out / "tables").glob("*.tex"))[:2]  # doctest: +SKIP
    ['design_bri.tex', 'design_ideology.tex']
    """
    out = Path(out)
    cfg = load_replication_config(default_config(study) if config is None else config)
    with (
        system_arrow_pool(),  # freed text buffers returned to the system too
        OutputFolder(out, progress) as folder,
        table_formats(cfg.formats),
        figure_formats(cfg.figure_formats),
    ):
        processes = replication_workers(workers, cfg)
        result = _replicate(study, cfg, folder, progress, processes, keep_fits)
        folder.commit()
    result.out_dir = out
    result.files = [folder.final(p) for p in result.files]
    progress(result.closing_line(out))
    return result


def _load(study: str | Path | Study, progress: Callable[[str], None]) -> Study:
    """The study, its row accounts and its warnings reported."""
    progress(f"[1/{STEPS}] loading study {study if not isinstance(study, Study) else study.name}")
    study_obj = study if isinstance(study, Study) else load_study(study)
    for account in study_obj.ledger.stages:
        progress(f"      {account.summary()}")
    for note in study_warnings(study_obj):
        progress(f"      {note}")
    return study_obj


def _replicate(
    study: str | Path | Study,
    cfg: ReplicationConfig,
    folder: OutputFolder,
    progress: Callable[[str], None],
    workers: int,
    keep_fits: bool = True,
) -> ReplicationResult:
    """The replication proper, written into ``folder.staging`` (swapped in by the caller).

    The designs and the topics start on ``workers`` processes once the panels exist; with
    more than one, the figures are drawn while they run and their progress lines held
    back, so the console and the file list read as in the serial run (designs, topics,
    figures).
    """
    out = folder.staging
    study_obj = _load(study, progress)
    result = ReplicationResult(out)
    ledger = Ledger(list(study_obj.ledger.stages))
    progress(f"[2/{STEPS}] building panels")
    panels = build_panels(study_obj, ledger, result, progress, write=False)
    specs = {s.name: s for s in load_specs(cfg.models_dir)}
    wanted = wanted_models(cfg, specs)
    keep = None if keep_fits else diagnosed_models(cfg)
    with DesignRuns(cfg, specs, study_obj, panels, out, workers, keep_fits) as runs:
        write_panels(panels, result)  # while the workers start
        progress(f"[3/{STEPS}] fitting {len(wanted)} models")
        fit_models(wanted, specs, panels, ledger, result, progress, keep)
        progress(f"[4/{STEPS}] writing tables")
        result.files += write_model_tables(cfg, specs, result, study_obj, panels)
        result.files += runs.published()
        diagnostic_files, diagnostics = write_diagnostics(cfg, result, study_obj)
        result.files += diagnostic_files
        if not keep_fits:  # nothing after the diagnostics reads a model's payload
            result.fitted = {n: m.without_payload() for n, m in result.fitted.items()}
            release_free_memory()
        if runs.parallel:  # the figures while the designs run; their lines held back
            held: list[str] = []
            mark = len(result.files)
            _figures(cfg, result, study_obj, held.append, runs.study_exhibits())
            figures, result.files[mark:] = result.files[mark:], []
            designs = runs.collect(result, progress)
            topics = runs.topics(result, ledger, progress)
            result.files += figures
            for line in held:
                progress(line)
        else:
            designs = runs.collect(result, progress)
            topics = runs.topics(result, ledger, progress)
            _figures(cfg, result, study_obj, progress, runs.study_exhibits())

    progress(f"[6/{STEPS}] writing results.json")
    parts = {"diagnostics": diagnostics, "designs": designs, "topics": topics}
    results = results_record(study_obj, wanted, result, parts)
    result.files.append(write_json(out / "results.json", results))

    ledger.extend(result.design_samples)
    progress(f"[7/{STEPS}] writing manifest.json")
    manifest = manifest_record(study_obj, cfg, specs, wanted, ledger, result, panels, folder)
    result.files.append(write_json(out / "manifest.json", manifest))
    return result


def _figures(
    cfg: ReplicationConfig,
    result: ReplicationResult,
    study: Study,
    progress: Callable[[str], None],
    drawn: list[Exhibits],
) -> None:
    """Step 5: the study's exhibits (`write_exhibits`; Figures 1-5 and Table 1 ``drawn``
    by a worker, or here when the run is serial), added to the run's files."""
    progress(f"[5/{STEPS}] drawing figures")
    result.files += write_exhibits(cfg, result, study, progress, drawn)
