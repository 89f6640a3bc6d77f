"""Compatibility shim: the Taiwan design moved to :mod:`cpcstats.designs.taiwan`.

The generic event study is :mod:`cpcstats.methods.event_study`.
"""

from __future__ import annotations

from cpcstats.designs.taiwan import (
    NOT_OBSERVED,
    EventDummies,
    EventStudyResult,
    event_study,
    event_term,
    event_time_dummies,
    plot_event_study,
    run,
)

__all__ = [
    "NOT_OBSERVED",
    "EventDummies",
    "EventStudyResult",
    "event_study",
    "event_term",
    "event_time_dummies",
    "plot_event_study",
    "run",
]
