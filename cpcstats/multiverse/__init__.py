"""The multiverse (specification curve): many models from a few named choices.

A multiverse file (``models/multiverse/ruling_premium.toml``; a subfolder, because every
``models/*.toml`` is read as model specifications) declares dimensions with options, the
exclusions and the quantity of interest; :func:`run_multiverse` expands and fits them on
any executor of :mod:`cpcstats.execution`, resuming from the results file, and
:func:`write_outputs` draws the specification curve (Simonsohn, Simmons & Nelson 2020),
the leave-one-out influence figure and the summary table.
"""

from __future__ import annotations

from cpcstats.multiverse.config import Multiverse, load_multiverse
from cpcstats.multiverse.expand import SpecTask, expand
from cpcstats.multiverse.outputs import write_outputs
from cpcstats.multiverse.run import RunOutcome, run_multiverse

__all__ = [
    "Multiverse",
    "RunOutcome",
    "SpecTask",
    "expand",
    "load_multiverse",
    "run_multiverse",
    "write_outputs",
]
