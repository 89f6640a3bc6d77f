"""Event-time indicators around each unit's event: any unit, period and timing column.

Why generic: an event study needs, for every unit with an event (first treatment,
switch, reform) in the panel's window, one indicator per period relative to that event,
endpoint bins and an omitted reference period; nothing in that depends on what the unit,
the period or the event is.  `event_time_indicators` builds them from a timing
column (``gname``: the unit's event period, missing for never-treated units);
`event_time_columns` from a mapping unit -> event period, so a design can build
several kinds of events (e.g. entries and exits) on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.methods.indicators import as_frame, attach_columns
from cpcstats.panels import Panel

__all__ = [
    "POOLED",
    "EventColumns",
    "EventIndicators",
    "EventWindow",
    "bin_label",
    "build_indicators",
    "event_term",
    "event_time_columns",
    "event_time_indicators",
]

#: ``reference="pre"``: every pre-event period (e < 0) pooled into the reference
POOLED = "pre"
#: the kind of event `event_time_indicators` builds
EVENT = "event"


def event_term(event_time: int, prefix: str = "ev") -> str:
    """Formula-safe name of an event-time indicator: -5 -> ``ev_m5``, 0 -> ``ev_p0``."""
    return f"{prefix}_m{-event_time}" if event_time < 0 else f"{prefix}_p{event_time}"


def bin_label(event_time: int, leads: int, lags: int) -> str:
    """Plain-text label of a bin: ``<= -5``, ``-3``, ``>= 5`` (designs may pass their own)."""
    if event_time == -leads:
        return f"<= -{leads}"
    if event_time == lags:
        return f">= {lags}"
    return str(event_time)


@dataclass(frozen=True)
class EventWindow:
    """Leads, lags and reference period of an event study, checked when made.

    Event times at or below ``-leads`` share the first bin, those at or above ``lags`` the
    last; the reference (an inner event time, or ``"pre"`` for the pooled pre-period) has
    no indicator.
    """

    leads: int = 5
    lags: int = 5
    reference: int | str = POOLED

    def __post_init__(self) -> None:
        leads, lags, reference = self.leads, self.lags, self.reference
        if int(leads) != leads or int(lags) != lags or leads < 1 or lags < 0:
            raise SpecError(
                f"leads must be >= 1 and lags >= 0 (whole numbers), got leads={leads}, lags={lags}",
                column="leads",
                fix="e.g. leads=5, lags=5",
            )
        if reference == POOLED:
            pass
        elif isinstance(reference, str) or not -leads < reference < lags:
            raise SpecError(
                f"the reference period {reference} must lie strictly inside the binned window "
                f"({-leads}, {lags}): an endpoint bin pools several event times",
                column="reference",
                fix=f'use reference=-1 or reference="{POOLED}" (pooled pre-period), or widen '
                "leads/lags",
            )
        object.__setattr__(self, "leads", int(leads))
        object.__setattr__(self, "lags", int(lags))
        object.__setattr__(self, "reference", POOLED if reference == POOLED else int(reference))

    @property
    def pooled(self) -> bool:
        """Whether the reference is the pooled pre-event period."""
        return self.reference == POOLED

    def is_reference(self, event_time: int) -> bool:
        return event_time < 0 if self.pooled else event_time == self.reference


@dataclass(frozen=True)
class EventColumns:
    """Indicators of one kind of event: fitted ``columns``, pooled-reference lead
    indicators kept for a score test (``tests``) and one ``bins`` record per event time."""

    columns: dict[str, np.ndarray]
    tests: dict[str, np.ndarray]
    bins: list[dict[str, Any]]


def event_time_columns(
    frame: pd.DataFrame,
    *,
    idname: str,
    tname: str,
    events: Mapping[Hashable, int],
    window: EventWindow,
    prefix: str = "ev",
    kind: str = EVENT,
    label: Callable[[int, int, int], str] = bin_label,
) -> EventColumns:
    """One 0/1 column per binned event time of the units in ``events`` (others all 0).

    With the pooled reference the lead indicators e = -leads … -2 are returned in
    ``tests`` (not fitted) for the score test that the pre-period is flat.
    """
    leads, lags = window.leads, window.lags
    event = frame[idname].map(events).astype(float)
    e = (frame[tname] - event).to_numpy(dtype=float)  # NaN for units without the event
    binned = np.clip(e, -leads, lags)
    columns: dict[str, np.ndarray] = {}
    tests: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    for k in range(-leads, lags + 1):
        on = binned == k
        term = event_term(k, prefix)
        is_ref = window.is_reference(k)
        if not is_ref:
            columns[term] = on.astype(int)
        elif window.pooled and k < -1:
            tests[term] = on.astype(int)
        rows.append(
            {
                "kind": kind,
                "event_time": k,
                "term": None if is_ref else term,
                "label": label(k, leads, lags),
                "lead": k < 0,
                "reference": is_ref,
                "n_units": int(frame.loc[on, idname].nunique()),
                "n_rows": int(on.sum()),
            }
        )
    return EventColumns(columns, tests, rows)


@dataclass(frozen=True, kw_only=True)
class EventIndicators:
    """Rows with event-time indicators, and what an event study needs to read them.

    ``data`` holds the rows with one 0/1 column per fitted indicator (``columns``) and,
    with the pooled reference, the lead indicators of the score test (``test_columns``);
    ``bins`` has one row per event time of each kind, the reference included; ``events``
    maps each kind to its units' event periods and ``prefixes`` each kind to the prefix of
    its indicator names.
    """

    data: pd.DataFrame
    columns: tuple[str, ...]
    bins: pd.DataFrame
    events: Mapping[str, Mapping[Hashable, int]]
    prefixes: Mapping[str, str]
    window: EventWindow
    idname: str
    tname: str
    test_columns: tuple[str, ...] = ()
    first_period: int = 0
    last_period: int = 0

    @property
    def pooled(self) -> bool:
        return self.window.pooled

    @property
    def leads(self) -> int:
        return self.window.leads

    @property
    def lags(self) -> int:
        return self.window.lags

    @property
    def reference(self) -> int | str:
        return self.window.reference

    @property
    def kinds(self) -> list[str]:
        return list(self.events)

    def terms(self, kind: str | None = None, *, lead: bool | None = None) -> list[str]:
        """Indicator names of one kind (the first by default); ``lead=True`` only leads,
        ``False`` only e >= 0."""
        kind = self.kinds[0] if kind is None else kind
        b = self.bins[(self.bins["kind"] == kind) & ~self.bins["reference"]]
        if lead is not None:
            b = b[b["lead"] == lead]
        return list(b["term"])


def build_indicators(
    frame: pd.DataFrame,
    events: Mapping[str, Mapping[Hashable, int]],
    prefixes: Mapping[str, str],
    window: EventWindow,
    *,
    idname: str,
    tname: str,
    label: Callable[[int, int, int], str] = bin_label,
) -> dict[str, Any]:
    """The fields of `EventIndicators` for several kinds of events on ``frame``."""
    columns: dict[str, np.ndarray] = {}
    tests: dict[str, np.ndarray] = {}
    bins: list[dict[str, Any]] = []
    for kind, years in events.items():
        built = event_time_columns(
            frame,
            idname=idname,
            tname=tname,
            events=years,
            window=window,
            prefix=prefixes[kind],
            kind=kind,
            label=label,
        )
        columns.update(built.columns)
        tests.update(built.tests)
        bins += built.bins
    return {
        "data": attach_columns(frame, {**columns, **tests}),
        "columns": tuple(columns),
        "bins": pd.DataFrame(bins),
        "events": dict(events),
        "prefixes": dict(prefixes),
        "window": window,
        "idname": idname,
        "tname": tname,
        "test_columns": tuple(tests),
    }


def event_time_indicators(
    frame: Panel | pd.DataFrame,
    *,
    idname: str,
    tname: str,
    gname: str,
    leads: int = 5,
    lags: int = 5,
    reference: int | str = POOLED,
    prefix: str = "ev",
    label: Callable[[int, int, int], str] = bin_label,
) -> EventIndicators:
    """Indicators around each unit's event period ``gname`` inside the panel's window.

    The event period of a unit is the largest ``gname`` of its rows; units whose event
    falls outside the window (or is missing) are controls with all indicators 0 (an event
    before the window means the unit is treated throughout it).
    """
    window = EventWindow(leads, lags, reference)
    data = as_frame(frame)
    missing = [c for c in (idname, tname, gname) if c not in data.columns]
    if missing:
        raise SpecError(f"the panel has no {', '.join(missing)} column(s)", column=missing[0])
    first, last = int(data[tname].min()), int(data[tname].max())
    timing = pd.to_numeric(data.groupby(idname, sort=True)[gname].max(), errors="coerce")
    inside = timing[(timing >= first) & (timing <= last)].astype(int)
    events = {EVENT: {k: int(v) for k, v in inside.items()}}
    fields = build_indicators(
        data, events, {EVENT: prefix}, window, idname=idname, tname=tname, label=label
    )
    return EventIndicators(**fields, first_period=first, last_period=last)
