"""The multiverse (specification curve): many models from a few named choices.

A multiverse file (``models/multiverse/ruling_premium.toml``; a subfolder, because every
``models/*.toml`` is read as model specifications) declares dimensions with options, the
exclusions and the quantity of interest; `run_multiverse` expands and fits them on
any executor of `cpcstats.execution`, resuming from the results file, and
`write_outputs` draws the specification curve (Simonsohn, Simmons & Nelson 2020),
the leave-one-out influence figure and the summary table; `run_inference` refits a
subset on panels with the treatment permuted within strata (SSN's joint inference) and
`write_inference` writes its table, figure and JSON.
"""

from __future__ import annotations

import importlib
from typing import Any

# lazy: ``cpcstats.multiverse.command`` is imported by the CLI to build its parser, and
# importing this package must not pull in the estimation stack, matplotlib or Dask
_WHERE = {
    "Multiverse": "config",
    "load_multiverse": "config",
    "SpecTask": "expand",
    "expand": "expand",
    "write_outputs": "outputs",
    "RunOutcome": "run",
    "Inference": "config",
    "InferenceOutcome": "inference",
    "run_inference": "inference",
    "write_inference": "inference_outputs",
    "run_multiverse": "run",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cpcstats.multiverse' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cpcstats.multiverse.{_WHERE[name]}"), name)
