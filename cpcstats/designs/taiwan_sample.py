"""Who switches recognition when: the Taiwan design's event-time indicators.

Why its own module: binding the study's recognition columns (``recognizes_prc``,
``prc_switch_year``, ``switched_to_roc``) to the generic event-time indicators of
`cpcstats.methods.event_time` takes one decision per kind of country — switchers to
Beijing, countries leaving Beijing, switches before the window, moves reversed within
the year — and each is recorded so the notes can name the countries.

Timing follows the reference tables (``cpcstats/reference/README.md``): ``recognizes_prc``
in year t is the status on 31 December, so event time 0 is the first year that *ends*
with recognition of Beijing, and e = -1 is the last full year of recognition of Taipei
(or of no relations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cpcstats.countries import country_name
from cpcstats.errors import SpecError
from cpcstats.methods.event_time import POOLED, EventIndicators, EventWindow, build_indicators
from cpcstats.methods.indicators import as_frame
from cpcstats.panels import Panel
from cpcstats.reference import load_reference
from cpcstats.reporting.format import minus_sign

__all__ = ["AWAY", "POOLED", "TO_PRC", "EventDummies", "bin_label", "event_time_dummies"]

UNIT = "iso3"
TIME = "year"
STATUS = "recognizes_prc"
SWITCH = "prc_switch_year"
AWAY_FLAG = "switched_to_roc"
TO_PRC = "to_prc"  # kind of event: a switch to Beijing
AWAY = "away"  # kind of event: a switch away from Beijing (only with away="separate")
PREFIX = {TO_PRC: "ev", AWAY: "away"}
AWAY_OPTIONS = ("exclude", "separate")

#: ``switch_year_rule``: "calendar" (default) counts a switch from the calendar year it falls
#: in (the 31 December status, as ``recognizes_prc``); "next_if_after_month" counts a switch
#: dated after the end of ``switch_month`` from the next year, so e = 0 is a full year
SWITCH_RULES = ("calendar", "next_if_after_month")
#: a switch dated after this month leaves less than a month of its year recognising Beijing
LATE_MONTH = 11
SWITCH_DATE = "prc_switch_date"

LEFT_INSIDE = "left Beijing inside the window (switched_to_roc)"
AT_START = "switched_to_roc and outside Beijing from the window's first year"


def country(iso3: str) -> str:
    """The country's name, or the code when the name table does not know it."""
    try:
        return country_name(iso3)
    except ValueError:
        return iso3


def bin_label(event_time: int, leads: int, lags: int) -> str:
    """Bin label with typographic minus and binned endpoints: ``≤ −5``, ``−3``, ``≥ 5``."""
    if event_time == -leads:
        return f"≤ −{leads}"
    if event_time == lags:
        return f"≥ {lags}"
    return minus_sign(event_time)


def _away_years(frame: pd.DataFrame, first: int) -> tuple[dict[str, int], list[str], list[str]]:
    """Latest year-end exit from Beijing per country; flagged countries that never exit;
    flagged countries already outside Beijing in the first year.

    Why: ``switched_to_roc`` marks any move away from Beijing dated in the window, but the
    panel's status is the 31 December one; a move reversed within the year (Vanuatu,
    Nov-Dec 2004) never shows in ``recognizes_prc`` and the country stays a control.
    An exit is a year t with status 0 after status 1 in t - 1, or a flagged country whose
    first window year already ends outside Beijing (exit year set to the first year: right
    when the exit falls in that year, an approximation when the panel was cut after the
    flag was computed).
    """
    years: dict[str, int] = {}
    reversed_in_year: list[str] = []
    at_start: list[str] = []
    flagged = (
        set(frame.loc[frame[AWAY_FLAG].fillna(0).astype(int) == 1, UNIT])
        if AWAY_FLAG in frame.columns
        else set()
    )
    for iso, rows in frame.sort_values([UNIT, TIME]).groupby(UNIT, sort=True):
        status = rows[STATUS].to_numpy(dtype=float)
        year = rows[TIME].to_numpy(dtype=int)
        exits = [int(year[i]) for i in range(1, len(year)) if status[i - 1] == 1 and status[i] == 0]
        if not exits and iso in flagged and year[0] == first and status[0] == 0:
            exits = [first]
            at_start.append(str(iso))
        if exits:
            years[str(iso)] = max(exits)
        elif iso in flagged:
            reversed_in_year.append(str(iso))
    return years, reversed_in_year, at_start


@dataclass(frozen=True, kw_only=True)
class EventDummies(EventIndicators):
    """Event-time indicators and the classification of every country of the panel.

    Besides the generic indicators (``data``, ``columns``, ``bins``, ``test_columns``):
    ``switch_years`` maps each country switching to Beijing inside the window to its
    switch year, ``away_years`` each country leaving Beijing inside the window to its
    (latest) exit year (with ``away="separate"``).  ``excluded`` lists the countries
    dropped (name, rows, year, reason); ``pre_window`` the countries whose switch to
    Beijing predates the window (controls); ``reversed_in_year`` the countries flagged
    ``switched_to_roc`` whose year-end status never left Beijing (controls).
    """

    excluded: pd.DataFrame
    pre_window: tuple[str, ...]
    reversed_in_year: tuple[str, ...]
    away: str
    switch_year_rule: str = "calendar"
    switch_month: int = LATE_MONTH
    #: in-window switches dated after ``switch_month``: iso3 -> (date, days of the calendar
    #: switch year recognising Beijing, event year used)
    late_switches: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    @property
    def switch_years(self) -> dict[str, int]:
        return dict(self.events[TO_PRC])

    @property
    def away_years(self) -> dict[str, int]:
        return dict(self.events.get(AWAY, {}))

    @property
    def first_year(self) -> int:
        return self.first_period

    @property
    def last_year(self) -> int:
        return self.last_period

    @property
    def reference_text(self) -> str:
        """The reference period in words, for notes and legends."""
        if self.pooled:
            return f"the pooled pre-switch period (all e < 0, e ≤ −{self.leads} included)"
        return f"e = {minus_sign(self.reference)}"

    @property
    def excluded_text(self) -> str:
        """Excluded countries by name with their row counts, for notes."""
        if self.excluded.empty:
            return "none"
        return "; ".join(
            f"{r.country} ({r.iso3}, left Beijing {'by ' if r.reason == AT_START else ''}"
            f"{r.year}; {r.rows} rows)"
            for r in self.excluded.itertuples()
        )

    @property
    def excluded_rows(self) -> int:
        return int(self.excluded["rows"].sum()) if not self.excluded.empty else 0


def _excluded(frame: pd.DataFrame, away_years: dict[str, int], at_start: list[str]) -> pd.DataFrame:
    counts = frame[UNIT].value_counts()
    rows: list[dict[str, Any]] = [
        {
            UNIT: iso,
            "country": country(iso),
            "rows": int(counts[iso]),
            "year": int(year),
            "reason": AT_START if iso in at_start else LEFT_INSIDE,
        }
        for iso, year in sorted(away_years.items())
    ]
    return pd.DataFrame(rows, columns=[UNIT, "country", "rows", "year", "reason"])


def switch_dates(frame: pd.DataFrame, years: dict[str, int]) -> dict[str, pd.Timestamp]:
    """Date of each country's switch to Beijing in its switch year.

    From the panel's ``prc_switch_date`` column when present (a user's or simulated panel),
    else from the shipped recognition table (``cpcstats/reference/taiwan_recognition.csv``,
    ``switch`` rows to PRC).  Countries without a dated switch in that year are left out.
    """
    if SWITCH_DATE in frame.columns:
        got = pd.to_datetime(frame.groupby(UNIT)[SWITCH_DATE].max(), errors="coerce")
        return {str(k): v for k, v in got.dropna().items() if str(k) in years}
    table = load_reference("taiwan")
    rows = table[(table["kind"] == "switch") & (table["to"] == "PRC")]
    out: dict[str, pd.Timestamp] = {}
    for r in rows.itertuples():
        if years.get(str(r.iso3)) == r.date.year:
            out[str(r.iso3)] = r.date
    return out


def _apply_switch_rule(
    frame: pd.DataFrame, years: dict[str, int], rule: str, month: int
) -> tuple[dict[str, int], dict[str, tuple[str, int, int]]]:
    """Event years under the rule, and the late switches (date, days recognising, year)."""
    if rule not in SWITCH_RULES:
        raise SpecError(
            f"switch_year_rule={rule!r} is not one of {', '.join(SWITCH_RULES)}",
            column="switch_year_rule",
            fix='"calendar" (default) or "next_if_after_month"',
        )
    if not 1 <= int(month) <= 12:
        raise SpecError(f"switch_month must be 1-12, got {month}", column="switch_month")
    out, late = dict(years), {}
    for iso, date in switch_dates(frame, years).items():
        if date.month <= month:
            continue
        days = int((pd.Timestamp(date.year, 12, 31) - date).days) + 1
        if rule == "next_if_after_month":
            out[iso] = years[iso] + 1
        late[iso] = (date.strftime("%Y-%m-%d"), days, out[iso])
    return out, late


def event_time_dummies(
    panel: Panel | pd.DataFrame,
    *,
    leads: int = 5,
    lags: int = 5,
    reference: int | str = POOLED,
    away: str = "exclude",
    switch_year_rule: str = "calendar",
    switch_month: int = LATE_MONTH,
) -> EventDummies:
    """Indicators ``ev_m5 … ev_m2, ev_p0 … ev_p5`` around each switch to Beijing in the window.

    Why each choice:

    * Event time e = year - ``prc_switch_year`` (the latest switch to Beijing up to the
      panel's last year), for countries whose switch lies in the panel's window, binned at
      ``-leads`` and ``lags``; the reference has no indicator.  By default
      (``reference="pre"``) every pre-switch event time is the reference: countries
      recognising Taipei have almost no contact, so a single reference year often has
      none and the classic design is not identified, while the pooled pre-period usually
      has some.  The lead indicators e = -leads … -2 are then kept in ``data``
      (``test_columns``) for the score test that the pre-period is flat.
    * Controls have all indicators 0: countries recognising Beijing (or Taipei) throughout
      the window, and countries whose switch to Beijing predates the window (within it
      they are always-Beijing countries).
    * Countries that left Beijing inside the window (``switched_to_roc``, judged by the
      31 December status) are a different treatment.  With ``away="exclude"`` (default)
      all their rows are dropped (as controls they would contaminate the year effects)
      and listed in ``excluded``; with ``away="separate"`` they keep their rows with their
      own indicators ``away_m5 … away_p5`` around the (latest) exit year.  Countries
      flagged ``switched_to_roc`` whose year-end status never leaves Beijing (Vanuatu's
      Nov-Dec 2004 episode) stay as controls (``reversed_in_year``).
    * ``switch_year_rule``: with ``"calendar"`` (default, the 31 December status) a switch
      late in the year makes e = 0 a year barely treated (São Tomé 26 Dec 2016: 6 days;
      Nicaragua 10 Dec 2021: 22 days), which dilutes the e = 0 coefficient towards 0;
      ``"next_if_after_month"`` counts switches dated after ``switch_month`` (default 11,
      i.e. December switches) from the next year, so those few days fall into e = -1 (the
      reference) instead.  Either way the late switches are listed (``late_switches``).

    Long because the docstring states every classification rule next to the code.
    """
    window = EventWindow(leads, lags, reference)
    if away not in AWAY_OPTIONS:
        raise SpecError(
            f"away={away!r} is not one of {', '.join(AWAY_OPTIONS)}",
            column="away",
            fix='away="exclude" (default) or away="separate"',
        )
    frame = as_frame(panel)
    missing = [c for c in (UNIT, TIME, STATUS, SWITCH) if c not in frame.columns]
    if missing:
        raise SpecError(
            f"the panel has no {', '.join(missing)} column(s)",
            column=missing[0],
            fix="build it with cpcstats.country_year(study) (Taiwan recognition covariates)",
        )
    first, last = int(frame[TIME].min()), int(frame[TIME].max())
    switch = pd.to_numeric(frame.groupby(UNIT, sort=True)[SWITCH].max(), errors="coerce")
    in_window = switch[(switch >= first) & (switch <= last)].astype(int)
    pre_window = tuple(sorted(str(i) for i in switch[switch < first].index))
    away_years, reversed_in_year, at_start = _away_years(frame, first)
    excluded = _excluded(frame, away_years if away == "exclude" else {}, at_start)
    if away == "exclude":
        frame = frame[~frame[UNIT].isin(list(away_years))].copy()
        in_window = in_window[~in_window.index.isin(list(away_years))]
    years, late = _apply_switch_rule(
        frame, {str(k): int(v) for k, v in in_window.items()}, switch_year_rule, switch_month
    )
    events = {TO_PRC: {k: v for k, v in years.items() if v <= last}}
    if away == "separate":
        events[AWAY] = dict(away_years)
    fields = build_indicators(
        frame, events, PREFIX, window, idname=UNIT, tname=TIME, label=bin_label
    )
    fields["bins"] = fields["bins"].rename(columns={"n_units": "n_countries"})
    return EventDummies(
        **fields,
        first_period=first,
        last_period=last,
        excluded=excluded,
        pre_window=tuple(i for i in pre_window if i not in away_years),
        reversed_in_year=tuple(reversed_in_year),
        away=away,
        switch_year_rule=switch_year_rule,
        switch_month=int(switch_month),
        late_switches=late,
    )
