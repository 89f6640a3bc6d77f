"""Builders of small in-memory studies for tests (no files needed)."""

from __future__ import annotations

import pandas as pd

from cpcstats.reference import load_reference
from cpcstats.study import Study


def make_contacts(rows: list[dict]) -> pd.DataFrame:
    """Contacts in the normalised (post-import) layout."""
    frame = pd.DataFrame(rows)
    defaults = {"counterpart_type": "state", "direction": "inbound", "party_id": pd.NA}
    for column, value in defaults.items():
        frame[column] = frame[column].fillna(value) if column in frame else value
    frame["row"] = range(2, len(frame) + 2)
    frame["date"] = pd.NaT
    for column in ("party_name", "source_id", "text"):
        frame[column] = pd.NA
    frame["country_raw"] = frame["iso3"]
    return frame


def make_study(
    contacts: pd.DataFrame,
    *,
    parties: pd.DataFrame | None = None,
    party_status: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    first_year: int = 2002,
    last_year: int = 2017,
) -> Study:
    return Study(
        name="test study",
        first_year=first_year,
        last_year=last_year,
        break_year=2013,
        contacts=contacts,
        parties=parties,
        party_status=party_status,
        covariates=covariates,
        states=load_reference("states"),
        taiwan=load_reference("taiwan"),
        bri=load_reference("bri"),
    )
