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
    out["recognizes_prc"] = 1
    out["prc_switch_year"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["switched_to_roc"] = 0
    last_year = int(out["year"].max()) if len(out) else 0
    first_year = int(out["year"].min()) if len(out) else 0
    for iso3, events in taiwan.groupby("iso3", sort=True):
        rows = out["iso3"] == iso3
        if not rows.any():
            continue
        years = out.loc[rows, "year"].to_numpy()
        ev_years = events["date"].dt.year.to_numpy()
        ev_to = events["to"].to_numpy()
        # status at year end = 'to' of the last event with event year <= t;
        # before the first event it is that event's 'from' (README rule: Palau
        # 1994-98 and North Macedonia 1991-92 had relations with neither side).
        idx = np.searchsorted(ev_years, years, side="right") - 1
        status = np.where(idx >= 0, ev_to[np.clip(idx, 0, None)], events["from"].iloc[0])
        out.loc[rows, "recognizes_prc"] = (status == "PRC").astype(int)
        to_prc = events[(events["to"] == "PRC") & (events["kind"] == "switch")]
        to_prc_years = to_prc["date"].dt.year
        to_prc_years = to_prc_years[to_prc_years <= last_year]
        if len(to_prc_years):
            out.loc[rows, "prc_switch_year"] = int(to_prc_years.max())
        away = events[(events["from"] == "PRC") & (events["to"] != "PRC")]
        away_years = away["date"].dt.year
        if ((away_years >= first_year) & (away_years <= last_year)).any():
            out.loc[rows, "switched_to_roc"] = 1
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
