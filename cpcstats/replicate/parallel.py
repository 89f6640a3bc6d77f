"""The replication's designs, topics and published-figure tables on worker processes,
merged back in the run's order.

Why: the designs are most of a replication's time (the Taiwan design's wild bootstraps,
the Xi-era break search, the BRI event studies) and, like the topic tagging and the
comparison with the published figures, need nothing the run makes after its panels, so
they are started right after the panels (`cpcstats.execution.BackgroundTasks`) while
this process fits the models and writes the tables and figures; their results are then
merged in the configuration's order, with the progress lines, ``failed``/``skipped``
entries and file list of the serial run.  Nothing a run writes depends on the number of
workers (``tests/test_replicate_parallel.py`` compares every file).

``workers`` counts this process: ``workers - 1`` are forked, and this one, when it would
wait for a task no worker has begun, runs it itself (``here_too``).  The workers take
the tasks longest first (`DESIGN_SECONDS`, `_TASK_SECONDS`) and this process the
shortest, so no long design starts last.  With ``[execution] timeout`` every task stays
on the ``workers`` forked processes, which can be stopped.

What comes back from a worker: the design's files (written by the worker into the same
staging folder), title, record and models.  A model's post-estimation payload (its
``core`` fit and ``design`` matrices, which patsy refuses to pickle) stays in the worker;
every field the records, the tables and the console read comes back.

Failures are the serial run's: an error a design may fail with (`FIT_ERRORS`) is its
``failed`` entry and the run goes on; any other exception is raised in this process with
the worker's traceback chained.  A worker that dies (killed, out of memory) does not
lose its design: it is run again here, with a line saying so.  ``[execution] timeout``
bounds the wait; a design not done by then is ``failed`` and the workers are stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpcstats.accounting import Ledger
from cpcstats.designs import DESIGN_SECONDS
from cpcstats.designs.base import ResearchDesignResult
from cpcstats.execution import BackgroundTasks, TaskTimeout
from cpcstats.execution.threads import one_blas_thread
from cpcstats.panels import Panel
from cpcstats.replicate.config import DESIGNS, ReplicationConfig
from cpcstats.replicate.exhibits import STUDY_EXHIBITS, Exhibits, write_study_exhibit
from cpcstats.replicate.published import write_published_tables
from cpcstats.replicate.stages import FIT_ERRORS, ReplicationResult, design_params
from cpcstats.replicate.writers import merge_topics, topic_outputs
from cpcstats.reporting.figure_formats import figure_formats
from cpcstats.reporting.style import load_figure_savers
from cpcstats.reporting.write import current_formats, table_formats
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

__all__ = [
    "DesignOutcome",
    "DesignRuns",
    "preload",
    "replication_workers",
    "run_design",
    "run_task",
]


def replication_workers(workers: int | None = None, cfg: ReplicationConfig | None = None) -> int:
    """The processes a run uses: the argument, else ``[execution] workers``, else every
    core this process may run on (1 is the serial run)."""
    if workers is None and cfg is not None:
        workers = cfg.workers
    if workers is None:
        affinity = getattr(os, "sched_getaffinity", None)
        workers = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return max(1, int(workers))


@dataclass(frozen=True)
class DesignOutcome:
    """One design's result, or the first line of the error it failed with."""

    name: str
    output: ResearchDesignResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Shared:
    """What every task needs (inherited by forked workers, pickled for spawned ones);
    ``formats`` are the run's table formats (`table_formats`), set again in each task."""

    study: Study
    panels: dict[str, Panel]
    out: Path
    entries: tuple[tuple[str, str, dict[str, Any]], ...]
    portable: bool
    cfg: ReplicationConfig
    formats: tuple[str, ...]


#: the tasks, in the order they are started: the published tables (the run needs them
#: first), the designs in the configuration's order, the topics, then the study's
#: exhibits one by one (Figures 1-5, Table 1: needed last; small tasks at the end of the
#: queue even out the workers' loads)
PUBLISHED, EXHIBITS, TOPICS = "published", "exhibits", "topics"
#: where the designs start in the task list
_FIRST_DESIGN = 1
#: seconds the other tasks take on the demo (see `DESIGN_SECONDS`): the order in which
#: the workers start them, longest first, while this process takes the shortest
_TASK_SECONDS = {TOPICS: 0.8, PUBLISHED: 0.3, EXHIBITS: 0.3}


def run_design(index: int, shared: _Shared) -> DesignOutcome:
    """Run design ``index`` of the configuration (the worker's task, and the serial run's).

    ``portable``: strip each model's post-estimation payload so the result can be
    pickled back to the parent (see the module docstring).
    """
    kind, name, params = shared.entries[index]
    try:
        module = importlib.import_module(DESIGNS[kind])
        output = module.run(shared.study, shared.panels, shared.out, **params)
    except FIT_ERRORS as exc:
        return DesignOutcome(name, error=str(exc).splitlines()[0])
    if shared.portable and not output.skipped:
        output = dataclasses.replace(output, models=[m.without_payload() for m in output.models])
    return DesignOutcome(name, output=output)


def run_task(task: tuple[str, int], shared: _Shared) -> Any:
    """One task: ``("published", 0)``, ``("design", i)``, ``("topics", 0)`` or
    ``("exhibits", i)`` (the i-th of `STUDY_EXHIBITS`)."""
    kind, index = task
    with table_formats(shared.formats), figure_formats(shared.cfg.figure_formats):
        if kind == PUBLISHED:
            return write_published_tables(shared.study, shared.cfg, shared.out)
        if kind == EXHIBITS:
            return write_study_exhibit(shared.cfg, shared.study, shared.out, STUDY_EXHIBITS[index])
        if kind == TOPICS:
            return topic_outputs(shared.study, shared.out)
        return run_design(index, shared)


#: what the study's exhibits, the topics and the designs' FE-Poisson fits import when they run
_TASK_MODULES = (
    "cpcstats.reporting.world_map",
    "cpcstats.reporting.topics",
    "cpcstats.estimation.fe_poisson",  # the FE-Poisson family, registered on first use
)


def preload(kinds: Iterable[str]) -> None:
    """Import, before the workers are forked, what their tasks import when they start:
    the designs' modules, the exhibits' and the topics', and what matplotlib imports at
    its first PDF and PNG (fontTools, the image plugins).

    Why: imported here once, those modules are shared by the forked workers (their pages
    copied only when written) instead of being imported again, and held again, by each
    worker; this process needs the figure savers later anyway.
    """
    for name in (*(DESIGNS[k] for k in dict.fromkeys(kinds)), *_TASK_MODULES):
        importlib.import_module(name)
    load_figure_savers()


class DesignRuns:
    """The published tables, the configured designs and the topics, started on
    ``workers`` processes (or each run here when it is collected); ``keep_fits`` False:
    the designs' models come back without their post-estimation payload on any number of
    workers (`FitResult.without_payload`)."""

    def __init__(
        self,
        cfg: ReplicationConfig,
        specs: dict[str, ModelSpec],
        study: Study,
        panels: dict[str, Panel],
        out: Path,
        workers: int,
        keep_fits: bool = True,
    ) -> None:
        entries = tuple(design_params(e, cfg, specs) for e in cfg.designs)
        formats = current_formats()
        portable = workers > 1 or not keep_fits  # the designs' models without their payload
        self.shared = _Shared(study, panels, out, entries, portable, cfg, formats)
        self.timeout = cfg.timeout
        designs = [("design", i) for i in range(len(entries))]
        exhibits = [(EXHIBITS, i) for i in range(len(STUDY_EXHIBITS))]
        items = [(PUBLISHED, 0), *designs, (TOPICS, 0), *exhibits]
        seconds = [_TASK_SECONDS.get(kind, 0.0) for kind, _ in items]
        for i, (kind, _, _) in enumerate(entries):
            seconds[_FIRST_DESIGN + i] = DESIGN_SECONDS.get(kind, 1.0)
        longest_first = sorted(range(len(items)), key=lambda i: -seconds[i])
        self._threads = contextlib.ExitStack()  # closed in __exit__, or here if the start fails
        try:
            if workers > 1:  # the processes share the cores: one BLAS thread each
                self._threads.enter_context(one_blas_thread())
                preload(kind for kind, _, _ in entries)
            self.tasks = BackgroundTasks(
                run_task,
                items,
                self.shared,
                workers,
                timeout=cfg.timeout,
                here_too=True,
                order=longest_first,
            )
        except BaseException:
            self._threads.close()
            raise

    @property
    def parallel(self) -> bool:
        """Whether the designs run on other processes while this one goes on."""
        return self.tasks.parallel

    def __enter__(self) -> DesignRuns:
        self.tasks.__enter__()
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        try:
            self.tasks.__exit__(kind, exc, tb)
        finally:
            self._threads.close()

    def _outcome(self, index: int, progress: Callable[[str], None]) -> DesignOutcome:
        """Design ``index``'s outcome; a lost worker's design runs again here."""
        name = self.shared.entries[index][1]
        try:
            return self.tasks.result(_FIRST_DESIGN + index)
        except TaskTimeout:
            return DesignOutcome(
                name, error=f"not finished within [execution] timeout = {self.timeout:g} s"
            )
        except BrokenProcessPool as exc:
            progress(f"      design {name}: its worker process stopped ({exc}); run here")
            return run_task(("design", index), dataclasses.replace(self.shared, portable=False))

    def collect(self, result: ReplicationResult, progress: Callable[[str], None]) -> dict[str, Any]:
        """Merge every design's outcome into ``result`` in the configuration's order, with
        the serial run's progress lines; returns the designs' records for results.json."""
        records: dict[str, Any] = {}
        for index in range(len(self.shared.entries)):
            outcome = self._outcome(index, progress)
            record = merge_design(outcome, result, progress)
            if record is not None:
                records[outcome.name] = record
        return records

    def topics(
        self, result: ReplicationResult, ledger: Ledger, progress: Callable[[str], None]
    ) -> dict[str, Any] | None:
        """Merge the topic outputs (after the designs, as the serial run does); a topic task
        lost to a dead worker or the timeout runs again here."""
        position = _FIRST_DESIGN + len(self.shared.entries)
        outputs = self._here_if_lost(position, (TOPICS, 0))
        return merge_topics(outputs, result, ledger, progress)

    def published(self) -> list[Path]:
        """The files of the tables comparing the study with the published figures."""
        return self._here_if_lost(0, (PUBLISHED, 0))

    def study_exhibits(self) -> list[Exhibits]:
        """The `STUDY_EXHIBITS` (Figures 1-5, Table 1) as the workers drew them, in order."""
        first = _FIRST_DESIGN + len(self.shared.entries) + 1
        return [self._here_if_lost(first + i, (EXHIBITS, i)) for i in range(len(STUDY_EXHIBITS))]

    def _here_if_lost(self, position: int, task: tuple[str, int]) -> Any:
        """A task's value; run here again when its worker died or the timeout struck."""
        try:
            return self.tasks.result(position)
        except (TaskTimeout, BrokenProcessPool):
            return run_task(task, self.shared)


def merge_design(
    outcome: DesignOutcome, result: ReplicationResult, progress: Callable[[str], None]
) -> dict[str, Any] | None:
    """Add one design's outcome to ``result`` (failed, skipped, or files and models) and
    report it; returns its results.json record (None when it failed or was skipped)."""
    name, output = outcome.name, outcome.output
    if output is None:
        result.failed[name] = outcome.error or "failed"
        progress(f"      design {name}: FAILED, {result.failed[name]}")
        return None
    if output.skipped:
        result.skipped[name] = output.skipped
        progress(f"      design {name}: skipped, {output.skipped}")
        return None
    result.files += output.files
    result.design_fits[name] = list(output.models)
    for model in output.models:
        if model.sample is not None:
            result.design_samples.append(model.sample)
    progress(f"      design {name}: {len(output.models)} models, {len(output.files)} files")
    return {
        "title": output.title,
        **output.record,
        "models": [m.to_record() for m in output.models],
    }
