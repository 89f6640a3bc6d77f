"""The replication's computing stages: the study, its panels, the models, the designs.

Each stage adds to one `ReplicationResult` and reports through ``progress``; a
model or design that fails is recorded with its reason and the run goes on (the caller
learns from ``ReplicationResult.failed`` that something failed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cpcstats.accounting import Ledger
from cpcstats.errors import CpcError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.io import write_panel_file
from cpcstats.panels import Panel, country_year, party_year
from cpcstats.replicate.config import DESIGNS, ReplicationConfig
from cpcstats.spec import ModelSpec
from cpcstats.study import Study

#: the exceptions a model or a design may fail with and the run still go on
FIT_ERRORS = (CpcError, np.linalg.LinAlgError, ValueError)


@dataclass
class ReplicationResult:
    """What a run fitted, what failed or was skipped (and why), and the files it wrote."""

    out_dir: Path
    fitted: dict[str, FitResult] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    design_samples: list[Any] = field(default_factory=list)
    #: each model table's companion details (warnings, omitted terms ...): results.json
    table_details: dict[str, list[str]] = field(default_factory=dict)
    design_fits: dict[str, list[FitResult]] = field(default_factory=dict)

    def all_fits(self) -> list[FitResult]:
        """Every model the run fitted: the tables' models, then each design's."""
        return list(self.fitted.values()) + [m for ms in self.design_fits.values() for m in ms]

    def flagged(self) -> dict[str, str]:
        """Fitted models that are not results (boundary, singular Hessian, not converged):
        name -> reason; a design's model is named ``design/model``."""
        named = [(n, r) for n, r in self.fitted.items()] + [
            (f"{d}/{m.name}", m) for d, ms in self.design_fits.items() for m in ms
        ]
        return {n: r.flag_reason or "" for n, r in named if r.flagged}

    def closing_line(self, out: Path | str) -> str:
        """The console's last line: fitted, flagged, failed and skipped models across all
        tables and designs (a failed or skipped design counts once)."""
        flagged = self.flagged()
        names = f": {', '.join(flagged)}" if flagged else ""
        return (
            f"done: {len(self.all_fits())} models fitted ({len(flagged)} flagged{names}), "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped; outputs in {out}/"
        )


def study_warnings(study: Study) -> list[str]:
    """The study's warnings (shown during the run; all notes go to the manifest)."""
    return list(study.warnings)


def build_panels(
    study: Study,
    ledger: Ledger,
    result: ReplicationResult,
    progress: Callable[[str], None],
    *,
    write: bool = True,
) -> dict[str, Panel]:
    """The country-year panel, and the party-year one when the study has parties; their
    files are written too unless ``write`` is False (then call `write_panels`)."""
    panels: dict[str, Panel] = {"country-year": country_year(study)}
    if study.has_parties:
        panels["party-year"] = party_year(study)
    for panel in panels.values():
        ledger.extend(list(panel.accounts))
        for account in panel.accounts:
            progress(f"      {account.summary()}")
    if write:
        write_panels(panels, result)
    return panels


def write_panels(panels: dict[str, Panel], result: ReplicationResult) -> None:
    """``panels/<level>.csv`` (and their marks) of every panel, added to the run's files.

    Why apart from `build_panels`: a parallel run starts its workers first and writes the
    files while they start (they read the panels from memory, not from these files).
    """
    for level, panel in panels.items():
        result.files += write_panel_file(
            panel.data,
            result.out_dir / "panels" / f"{level.replace('-', '_')}.csv",
            simulated=panel.simulated,
            study=panel.study,
            level=level,
        )


def wanted_models(cfg: ReplicationConfig, specs: dict[str, ModelSpec]) -> list[str]:
    """The models the tables, figures and diagnostics name, once each, in that order."""
    wanted = list(
        dict.fromkeys(
            [m for t in cfg.tables for m in t.models]
            + list(cfg.irr_models)
            + list(cfg.diagnostics.get("models", []))
            + list(cfg.diagnostics.get("rootograms", []))
        )
    )
    _check_known(wanted, specs, cfg, "the replication names unknown model(s) ", None)
    return wanted


def diagnosed_models(cfg: ReplicationConfig) -> set[str]:
    """The models whose post-estimation payload the run itself reads: the diagnostics'
    (dispersion, zeros, Vuong tests and rootograms need the per-row fits)."""
    return {*cfg.diagnostics.get("models", []), *cfg.diagnostics.get("rootograms", [])}


def _check_known(
    names: list[str],
    specs: dict[str, ModelSpec],
    cfg: ReplicationConfig,
    problem: str,
    column: str | None,
) -> None:
    """Refuse model names that no specification defines (``problem`` + the names)."""
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise SpecError(
            problem + ", ".join(unknown),
            file=str(cfg.path),
            column=column,
            fix=f"define them in {cfg.models_dir}",
        )


def fit_models(
    wanted: list[str],
    specs: dict[str, ModelSpec],
    panels: dict[str, Panel],
    ledger: Ledger,
    result: ReplicationResult,
    progress: Callable[[str], None],
    keep_payload: Collection[str] | None = None,
) -> None:
    """Fit each wanted model on its panel; record a skip or a failure and go on.

    ``keep_payload``: the models whose post-estimation payload is kept (the others are
    stored `FitResult.without_payload`, their design matrices freed as soon as each is
    fitted); None keeps every model's.
    """
    for i, name in enumerate(wanted, 1):
        spec = specs[name]
        where = f"      ({i}/{len(wanted)}) {name}"
        if spec.level not in panels:
            result.skipped[name] = f"the study has no {spec.level} data (no parties table)"
            progress(f"{where}: skipped, {result.skipped[name]}")
            continue
        try:
            fitted = fit(spec, panels[spec.level])
        except FIT_ERRORS as exc:
            result.failed[name] = str(exc).splitlines()[0]
            progress(f"{where}: FAILED, {result.failed[name]}")
            continue
        keep = keep_payload is None or name in keep_payload
        result.fitted[name] = fitted if keep else fitted.without_payload()
        if fitted.sample is not None:
            ledger.add(fitted.sample)
        flag = "  [see notes]" if fitted.warnings else ""
        if fitted.flagged:
            flag = f"  [FLAGGED: {fitted.flag_summary}]"
        progress(f"{where}: {spec.family}, N = {fitted.nobs:,}{flag}")


def design_params(
    entry: dict[str, Any], cfg: ReplicationConfig, specs: dict[str, ModelSpec]
) -> tuple[str, str, dict[str, Any]]:
    """A ``[[design]]`` entry as (kind, name, keyword arguments of its ``run``)."""
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
    _check_known(names, specs, cfg, f"design {name!r} names unknown model(s) ", "models")
    params["specs"] = [specs[n] for n in names]
    return kind, name, params
