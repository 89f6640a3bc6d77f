"""Reference facts shipped with the package, and the rules that turn them into years.

Three small sourced tables (see ``README.md`` in this folder): sovereign
states with their years of existence, the Taiwan/PRC recognition history and
the Belt and Road signing years.  The functions here are the one place where
the timing rules live, so the panels and the demo generator cannot disagree:

* a state exists in year *t* when ``first_year <= t <= last_year``;
* ``recognizes_prc`` in year *t* is the recognition status on 31 December of
  *t* (a switch during *t* counts from *t* on); each switch is dated on the
  day the new relations were both in force and public (README), so a
  communiqué signed in December but announced in January counts in January's
  year;
* ``bri_member`` in year *t* is ``signing_year <= t`` and, when the country
  left, ``t < exit_year``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cpcstats.errors import InputError

_FILES = {
    "states": "states.csv",
    "taiwan": "taiwan_recognition.csv",
    "bri": "bri_signatories.csv",
}
_REQUIRED = {
    "states": ["iso3", "name", "first_year", "last_year", "source"],
    "taiwan": ["iso3", "country", "date", "from", "to", "kind", "source"],
    "bri": ["iso3", "country", "signing_year", "exit_year", "source"],
}


def reference_path(kind: str) -> Path:
    """Path of a shipped reference table (``states``, ``taiwan`` or ``bri``)."""
    return Path(str(resources.files("cpcstats.reference").joinpath(_FILES[kind])))


def load_reference(kind: str, path: str | Path | None = None) -> pd.DataFrame:
    """Read a shipped reference table, or a user's replacement with the same columns."""
    file = Path(path) if path is not None else reference_path(kind)
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False).replace({"": pd.NA})
    except FileNotFoundError as exc:
        raise InputError(
            "the file does not exist",
            file=str(file),
            fix="check the path in the study's [covariates] table",
        ) from exc
    missing = [c for c in _REQUIRED[kind] if c not in frame.columns]
    if missing:
        raise InputError(
            f"a {kind} reference table needs the column(s) {', '.join(missing)}",
            file=str(file),
            column=missing[0],
            fix=f"use the layout of the shipped {_FILES[kind]} (see cpcstats/reference/README.md)",
        )
    empty_source = frame["source"].isna()
    if empty_source.any():
        raise InputError(
            "every reference fact needs a source",
            file=str(file),
            row=int(np.flatnonzero(empty_source.to_numpy())[0]) + 2,
            column="source",
            fix="cite where the fact comes from",
        )
    for column in ("first_year", "last_year", "signing_year", "exit_year"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("Int64")
    if kind == "taiwan":
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
        frame = frame.sort_values(["iso3", "date"], kind="stable").reset_index(drop=True)
    return frame


def state_years(states: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """Every (iso3, year) in which a state existed inside the window."""
    years = np.arange(first_year, last_year + 1)
    lo = states["first_year"].fillna(first_year).astype(int).to_numpy()
    hi = states["last_year"].fillna(last_year).astype(int).to_numpy()
    iso = np.repeat(states["iso3"].to_numpy(), len(years))
    yr = np.tile(years, len(states))
    alive = (yr >= np.repeat(lo, len(years))) & (yr <= np.repeat(hi, len(years)))
    return pd.DataFrame({"iso3": iso[alive], "year": yr[alive]}).reset_index(drop=True)


def recognition_years(taiwan: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Add Taiwan-recognition covariates to an (iso3, year) frame.

    ``recognizes_prc`` (status on 31 December; before a country's first
    row the status is that row's ``from``, so a state with relations with
    neither side counts 0; countries absent from the history recognise the
    PRC), ``prc_switch_year`` (the latest switch *to*
    Beijing on or before the frame's last year, counting only ``switch`` rows),
    ``taiwan_event_time`` (year minus that switch year) and
    ``switched_to_roc`` (the country moved away from Beijing at some point in
    the window).  Contested rows (e.g. Vanuatu 2004) are applied like any
    other; reversed within a year they leave the year-end status unchanged.
    """
    out = frame[["iso3", "year"]].copy()
    years = out["year"].to_numpy(dtype=np.int64)
    window = (int(years.min()), int(years.max())) if len(out) else (0, 0)
    # one pass for all countries: the events sorted by country and date, and each row's
    # country coded by its position among the countries with events (-1: none)
    events = taiwan[taiwan["iso3"].notna()].sort_values(["iso3", "date"], kind="stable")
    events = events.reset_index(drop=True)
    ev_code, countries = pd.factorize(events["iso3"], sort=True)
    code = pd.Index(countries).get_indexer(out["iso3"])
    has = code >= 0
    ev_year = events["date"].dt.year.to_numpy(dtype=np.int64)
    out["recognizes_prc"] = 1
    out["prc_switch_year"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["switched_to_roc"] = 0
    if not has.any():
        return _with_event_time(out)
    # status at year end: 'to' of the country's last event in or before the year; before
    # its first event, that event's 'from' (README rule: Palau 1994-98 and North
    # Macedonia 1991-92 had relations with neither side)
    low = min(int(ev_year.min()), window[0])
    span = max(int(ev_year.max()), window[1]) - low + 2
    last = np.searchsorted(ev_code * span + ev_year - low, code * span + years - low, "right") - 1
    own = (last >= 0) & (ev_code[np.clip(last, 0, None)] == code)
    first_from = events.groupby(ev_code, sort=True)["from"].first().to_numpy(dtype=object)
    status = np.where(own, events["to"].to_numpy(dtype=object)[last], first_from[code])
    out.loc[has, "recognizes_prc"] = (status[has] == "PRC").astype(int)
    # the latest switch to Beijing on or before the window's end
    to_prc = ((events["to"] == "PRC") & (events["kind"] == "switch")).to_numpy(dtype=bool)
    to_prc = to_prc & (ev_year <= window[1])
    latest = pd.Series(ev_year[to_prc]).groupby(ev_code[to_prc]).max()
    switch_year = pd.array([pd.NA] * len(countries), dtype="Int64")
    switch_year[latest.index.to_numpy()] = latest.to_numpy()
    out.loc[has, "prc_switch_year"] = switch_year[code[has]]
    # a move away from Beijing inside the window
    away = ((events["from"] == "PRC") & (events["to"] != "PRC")).to_numpy(dtype=bool)
    away = away & (ev_year >= window[0]) & (ev_year <= window[1])
    left = np.zeros(len(countries), dtype=bool)
    left[ev_code[away]] = True
    out.loc[has, "switched_to_roc"] = left[code[has]].astype(int)
    return _with_event_time(out)


def _with_event_time(out: pd.DataFrame) -> pd.DataFrame:
    out["taiwan_event_time"] = (out["year"] - out["prc_switch_year"]).astype("Int64")
    return out


def bri_years(bri: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``bri_member``, ``bri_signing_year`` and ``bri_years_since`` to (iso3, year)."""
    out = frame[["iso3", "year"]].merge(
        bri[["iso3", "signing_year", "exit_year"]], on="iso3", how="left", validate="m:1"
    )
    signed = out["signing_year"].notna() & (out["year"] >= out["signing_year"].fillna(9999))
    left = out["exit_year"].notna() & (out["year"] >= out["exit_year"].fillna(9999))
    result = frame[["iso3", "year"]].copy()
    result["bri_member"] = (signed & ~left).astype(int).to_numpy()
    result["bri_signing_year"] = out["signing_year"].astype("Int64").to_numpy()
    result["bri_years_since"] = (out["year"] - out["signing_year"]).astype("Int64").to_numpy()
    return result
