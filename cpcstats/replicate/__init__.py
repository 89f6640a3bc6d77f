"""The replication: study -> panels -> models -> tables, figures, results and manifest.

What is produced is configured in a TOML file (``replication.toml``; the package ships a
copy with the specifications it names, see `PROJECT_DIR`): which models (by name,
from the specification folder) go into which table, and which go into the coefficient
figure.  A model that fails is reported with its reason and the replication goes on; the
caller learns from ``ReplicationResult.failed`` (the CLI's exit code) that something
failed.

The output folder never lies: a run locks ``--out`` (a second run refuses), writes
into a staging folder inside it and swaps its files in only when it completes; files of
the previous run's manifest that this run did not write are deleted (or moved to
``.stale/`` when edited since); the manifest lists exactly this run's files and their
SHA-256; files cpcstats never wrote are never touched.  The mechanics and reasons are in
`cpcstats.outputs.OutputFolder`.  Names from the configuration become file names,
so they are checked to be plain names when it is read, and the writer refuses any path
outside the output folder as a last line of defence.

One module per job: `cpcstats.replicate.project` (the packaged project files and
``cpcstats init``), `cpcstats.replicate.config` (``replication.toml``),
`cpcstats.replicate.stages` (study, panels, models, designs),
`cpcstats.replicate.writers` and `cpcstats.replicate.published` (tables and
figures), `cpcstats.replicate.records` (``results.json``, ``manifest.json``) and
`cpcstats.replicate.run` (the run in order).
"""

from __future__ import annotations

from cpcstats.replicate.config import (
    DESIGNS,
    ReplicationConfig,
    TableSpec,
    default_config,
    load_replication_config,
)
from cpcstats.replicate.project import (
    DEFAULT_CONFIG,
    PACKAGED_CONFIG,
    PACKAGED_MODELS,
    PROJECT_DIR,
    init_project,
)
from cpcstats.replicate.run import replicate
from cpcstats.replicate.stages import ReplicationResult

__all__ = [
    "DEFAULT_CONFIG",
    "DESIGNS",
    "PACKAGED_CONFIG",
    "PACKAGED_MODELS",
    "PROJECT_DIR",
    "ReplicationConfig",
    "ReplicationResult",
    "TableSpec",
    "default_config",
    "init_project",
    "load_replication_config",
    "replicate",
]
