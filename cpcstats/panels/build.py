"""Country-year and party-year panels built from a `cpcstats.study.Study`.

Every verb is a pure function ``(Panel, Study) -> Panel``.  Counting verbs
account for each contact event: it lands in exactly one panel row, or it is
dropped with a reason (for example, a contact with a territory that is not a
state in that year).  The sum of a panel's counts therefore equals the number
of in-scope events it was built from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, ParamSpec

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.contract import RULING_STATUSES
from cpcstats.errors import InputError
from cpcstats.panels.engine import count_contacts
from cpcstats.reference import bri_years, recognition_years, state_years
from cpcstats.study import Study
from cpcstats.topics import add_topic_counts, has_texts, study_dictionary

P = ParamSpec("P")

COUNT_COLUMNS = (
    "contacts",
    "contacts_party",
    "contacts_nonparty",
    "contacts_inbound",
    "contacts_outbound",
)


@dataclass(frozen=True)
class Panel:
    """A panel data frame plus the accounting of how it was built.

    Made by `cpcstats.party_year` and `cpcstats.country_year`; pass it to
    `cpcstats.fit`.  Why the accounts travel with the data: every contact event
    lands in one row or is dropped with a reason, and reports print that ledger.
    Frozen: a verb returns a new panel instead of changing this one.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit and year.
    level : str
        ``"party-year"`` or ``"country-year"``.
    unit : str
        The unit column (``party_id`` or ``iso3``).
    accounts : tuple of StageAccount, default ()
        Rows in, out and dropped (with reasons) at each building step.
    simulated : bool, default False
        Built from SIMULATED data (the demo).
    study : str, default ""
        The study's name.

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
    >>> panel.level, panel.unit, panel.simulated
    ('party-year', 'party_id', True)
    """

    data: pd.DataFrame
    level: str
    unit: str
    accounts: tuple[StageAccount, ...] = field(default_factory=tuple)
    simulated: bool = False
    study: str = ""

    def pipe(
        self, verb: Callable[Concatenate[Panel, P], Panel], *args: P.args, **kwargs: P.kwargs
    ) -> Panel:
        """Apply a verb ``(Panel, *args) -> Panel``, for chains such as ``.pipe(add_lags, ...)``."""
        return verb(self, *args, **kwargs)

    def with_data(self, data: pd.DataFrame, account: StageAccount | None = None) -> Panel:
        """A copy with new ``data`` (index reset) and ``account`` appended, if given."""
        accounts = self.accounts + ((account,) if account is not None else ())
        return replace(self, data=data.reset_index(drop=True), accounts=accounts)

    def summary(self) -> str:
        """The building ledger: one line per step, with rows in, out and dropped.

        Returns
        -------
        str
            ``"step: N in, M out (...)"`` lines, in the order the steps ran.

        Examples
        --------
        >>> panel = cpcstats.party_year(cpcstats.load_study("demo"))
        >>> print(panel.summary().splitlines()[0])
        party-year: active parties: 19698 in, 19698 out (none dropped)
        """
        return "\n".join(a.summary() for a in self.accounts)

    def __len__(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------- country level
def country_facts(study: Study) -> pd.DataFrame:
    """Country-year covariates: regime measures, BRI, Taiwan recognition, Xi era.

    One row per state and year of the window; the single source of covariate
    timing for both panel levels.
    """
    frame = state_years(study.states, study.first_year, study.last_year)
    if study.covariates is not None:
        frame = frame.merge(study.covariates, on=["iso3", "year"], how="left", validate="1:1")
    frame = frame.merge(bri_years(study.bri, frame), on=["iso3", "year"], validate="1:1")
    frame = frame.merge(recognition_years(study.taiwan, frame), on=["iso3", "year"], validate="1:1")
    frame["xi_era"] = (frame["year"] >= study.break_year).astype(int)
    if "months" not in frame.columns:
        # exposure for offset models; the shipped states table has years, not dates, so every
        # state-year counts 12 months unless the covariate table supplies `months`
        frame["months"] = 12
    return frame


def create_country_years(study: Study) -> Panel:
    """Every state in existence in each year of the study window."""
    frame = state_years(study.states, study.first_year, study.last_year)
    account = StageAccount(
        "country-year: states in existence",
        len(frame),
        len(frame),
        notes={
            "countries": int(frame["iso3"].nunique()),
            "years": f"{study.first_year}-{study.last_year}",
        },
    )
    return Panel(frame, "country-year", "iso3", (account,), study.simulated, study.name)


def contacts_engine(study: Study) -> str | None:
    """The study's ``[contacts] engine`` (None: the default, pandas for a loaded study)."""
    section = study.config.get("contacts", {}) if isinstance(study.config, dict) else {}
    value = section.get("engine") if isinstance(section, dict) else None
    return None if value is None else str(value)


def add_contact_counts(
    panel: Panel, study: Study, *, party_only: bool = False, engine: str | None = None
) -> Panel:
    """Zero-filled contact counts per country-year: total, party, non-party, in/outbound.

    ``engine`` (default: the study's ``[contacts] engine``, else pandas) chooses who
    counts: pandas or DuckDB (`cpcstats.panels.engine`); the result is the same.
    """
    events = study.contacts
    if party_only:
        events = events[events["counterpart_type"] == "party"]
    tally = count_contacts(
        events,
        panel.data,
        engine=engine if engine is not None else contacts_engine(study),
        config_file=study.config_path,
    )
    data = panel.data.drop(columns=[c for c in COUNT_COLUMNS if c in panel.data.columns])
    data = pd.concat([data.reset_index(drop=True), tally.counts], axis=1)
    account = StageAccount(
        f"{panel.level}: contact counts",
        tally.events,
        tally.matched,
        {"country is not a state in the panel that year": tally.events - tally.matched},
        notes={
            "unmatched_countries": {str(k): int(v) for k, v in tally.unmatched_countries.items()}
        },
    )
    return panel.with_data(data, account)


def add_country_covariates(panel: Panel, study: Study) -> Panel:
    """Merge regime, BRI, Taiwan and Xi-era covariates onto a panel by (iso3, year)."""
    facts = country_facts(study)
    keep = [c for c in facts.columns if c not in panel.data.columns or c in ("iso3", "year")]
    data = panel.data.merge(facts[keep], on=["iso3", "year"], how="left", validate="m:1")
    missing = {
        f"rows without {c}": int(data[c].isna().sum())
        for c in ("fh_status", "polyarchy")
        if c in data.columns and data[c].isna().any()
    }
    account = StageAccount(
        f"{panel.level}: country covariates",
        len(panel.data),
        len(data),
        notes={"kept_with_missing_values": missing},
    )
    panel = panel.with_data(data, account)
    if study.covariates is not None:
        panel = panel.with_data(panel.data, _covariate_rows_used(study))
    return panel


def _covariate_rows_used(study: Study) -> StageAccount:
    """Which country-year covariate rows match a state-year of the window, and why not.

    Why: the merge onto the state-years forgets covariate rows of territories that are not
    states (or not yet) and of years outside the window; this account counts them.
    """
    covariates = study.covariates
    assert covariates is not None
    inside = covariates["year"].between(study.first_year, study.last_year).to_numpy()
    states = state_years(study.states, study.first_year, study.last_year)
    used = pd.MultiIndex.from_frame(covariates[["iso3", "year"]]).isin(
        pd.MultiIndex.from_frame(states[["iso3", "year"]])
    )
    outside = covariates.loc[~used & inside, "iso3"].value_counts()
    return StageAccount(
        "covariates: rows used",
        len(covariates),
        int(used.sum()),
        {
            f"year outside the study window {study.first_year}-{study.last_year}": int(
                (~used & ~inside).sum()
            ),
            "country is not a state in the panel that year": int((~used & inside).sum()),
        },
        notes={"not_a_state": {str(k): int(v) for k, v in outside.head(20).items()}},
    )


def add_lags(panel: Panel, columns: Iterable[str], lags: Sequence[int] = (1,)) -> Panel:
    """Add ``{column}_lag{k}``: the unit's value k years earlier (NA when that year is absent)."""
    data = panel.data.copy()
    for column in columns:
        if column not in data.columns:
            raise InputError(
                f"cannot lag unknown column {column!r}",
                column=column,
                fix=f"choose one of: {', '.join(data.columns)}",
            )
        for k in lags:
            shifted = data[[panel.unit, "year", column]].copy()
            shifted["year"] = shifted["year"] + k
            shifted = shifted.rename(columns={column: f"{column}_lag{k}"})
            data = data.merge(shifted, on=[panel.unit, "year"], how="left", validate="1:1")
    return panel.with_data(data)


def _with_topics(panel: Panel, study: Study) -> Panel:
    """``contacts_<topic>`` columns when the study's contacts carry texts (else unchanged)."""
    if not has_texts(study.contacts):
        return panel
    return add_topic_counts(panel, study.contacts, study_dictionary(study))


def country_year(study: Study, *, lags: dict[str, Sequence[int]] | None = None) -> Panel:
    """The full country-year panel: states x years, counts, covariates, optional lags.

    One row per state and year of the study window (states as they existed that
    year), with contact counts (all, party, non-party, inbound, outbound; zero when
    none), the country covariates (regime, BRI, Taiwan recognition, Xi era,
    ``months`` of exposure) and ``contacts_<topic>`` counts when contacts carry texts.

    Parameters
    ----------
    study : Study
        A loaded study (`cpcstats.load_study`).
    lags : dict of str to sequence of int, optional
        Columns to lag and by how many years, e.g. ``{"ruling": [1]}`` adds
        ``ruling_lag1`` (the unit's value a year earlier; NA when that year is absent).

    Returns
    -------
    Panel
        Level ``"country-year"``, unit ``iso3``, with the building accounts.

    Raises
    ------
    InputError
        A column in ``lags`` is not in the panel.
    SpecError
        The study's topic dictionary is missing or invalid (contacts with texts).

    Examples
    --------
    >>> country = cpcstats.country_year(cpcstats.load_study("demo"))
    >>> country.level, country.unit
    ('country-year', 'iso3')
    """
    panel = (
        create_country_years(study)
        .pipe(add_contact_counts, study)
        .pipe(add_country_covariates, study)
    )
    panel = _with_topics(panel, study)
    for column, ks in (lags or {}).items():
        panel = add_lags(panel, [column], ks)
    return panel


# --------------------------------------------------------------------------- party level
def create_party_years(study: Study) -> Panel:
    """Every party of the party table in every year it is active and its country exists."""
    if study.parties is None:
        raise InputError(
            "this study has no parties table, so no party-year panel",
            file=study.config_path,
            fix="add a [parties] table (and [party_status]) to the study file",
        )
    parties = study.parties
    years = np.arange(study.first_year, study.last_year + 1)
    lo = parties.get("active_from", pd.Series(study.first_year, index=parties.index))
    hi = parties.get("active_to", pd.Series(study.last_year, index=parties.index))
    lo = lo.fillna(study.first_year).astype(int).clip(lower=study.first_year).to_numpy()
    hi = hi.fillna(study.last_year).astype(int).clip(upper=study.last_year).to_numpy()
    frame = pd.DataFrame(
        {
            "party_id": np.repeat(parties["party_id"].to_numpy(), len(years)),
            "iso3": np.repeat(parties["iso3"].to_numpy(), len(years)),
            "year": np.tile(years, len(parties)),
        }
    )
    active = (frame["year"].to_numpy() >= np.repeat(lo, len(years))) & (
        frame["year"].to_numpy() <= np.repeat(hi, len(years))
    )
    frame = frame[active]
    states = state_years(study.states, study.first_year, study.last_year)
    exists = pd.MultiIndex.from_frame(frame[["iso3", "year"]]).isin(
        pd.MultiIndex.from_frame(states)
    )
    account = StageAccount(
        "party-year: active parties",
        len(frame),
        int(exists.sum()),
        {"party's country is not a state that year": int((~exists).sum())},
        notes={"parties": int(parties["party_id"].nunique())},
    )
    panel = Panel(frame[exists], "party-year", "party_id", (), study.simulated, study.name)
    return panel.with_data(frame[exists], account)


def add_party_contacts(panel: Panel, study: Study) -> Panel:
    """Zero-filled counts of contacts with each party in each year."""
    events = study.contacts[study.contacts["counterpart_type"] == "party"]
    tally = count_contacts(
        events,
        panel.data,
        keys=["party_id", "year"],
        engine=contacts_engine(study),
        config_file=study.config_path,
    )
    counts = tally.counts.drop(columns=["contacts_party", "contacts_nonparty"])
    data = pd.concat([panel.data.reset_index(drop=True), counts], axis=1)
    account = StageAccount(
        "party-year: party contact counts",
        tally.events,
        tally.matched,
        {
            "party is not active (or its country not a state) that year": tally.events
            - tally.matched
        },
    )
    return panel.with_data(data, account)


def add_party_status(panel: Panel, study: Study) -> Panel:
    """Government status and ``ruling`` (senior or junior partner in government)."""
    if study.party_status is None:
        raise InputError(
            "this study has no party-status table",
            file=study.config_path,
            fix="add [party_status] to the study file",
        )
    data = panel.data.merge(study.party_status, on=["party_id", "year"], how="left", validate="1:1")
    data["ruling"] = data["status"].isin(RULING_STATUSES).astype("Int64")
    data.loc[data["status"].isna(), "ruling"] = pd.NA
    data["opposition"] = (data["status"] == "opposition").astype("Int64")
    data.loc[data["status"].isna(), "opposition"] = pd.NA
    account = StageAccount(
        "party-year: government status",
        len(panel.data),
        len(data),
        notes={"kept_without_status": int(data["status"].isna().sum())},
    )
    return panel.with_data(data, account).with_data(data, _status_rows_used(panel, study))


def _status_rows_used(panel: Panel, study: Study) -> StageAccount:
    """Which party-status rows reached the panel, and why the others did not.

    Why: a left merge keeps the panel's rows and forgets the status rows it did not match;
    without this account a status file for the wrong years or parties would vanish.
    """
    status = study.party_status
    assert status is not None
    inside = status["year"].between(study.first_year, study.last_year).to_numpy()
    index = pd.MultiIndex.from_frame(panel.data[["party_id", "year"]])
    used = pd.MultiIndex.from_frame(status[["party_id", "year"]]).isin(index)
    return StageAccount(
        "party-year: status rows used",
        len(status),
        int(used.sum()),
        {
            f"year outside the study window {study.first_year}-{study.last_year}": int(
                (~used & ~inside).sum()
            ),
            "party is not active (or its country not a state) that year": int(
                (~used & inside).sum()
            ),
        },
    )


def add_party_attributes(panel: Panel, study: Study) -> Panel:
    """Party name and attributes (left roots, left-right position, ...)."""
    assert study.parties is not None
    attrs = study.parties.drop(columns=["iso3"])
    data = panel.data.merge(attrs, on="party_id", how="left", validate="m:1")
    return panel.with_data(data, StageAccount("party-year: party attributes", len(data), len(data)))


def party_year(study: Study, *, lags: dict[str, Sequence[int]] | None = None) -> Panel:
    """The full party-year panel: active parties x years, counts, status, covariates.

    One row per party and year it is active while its country is a state, with its
    contact counts (zero when none), government status (``ruling``, ``opposition``),
    the party attributes (``left_roots``, ...), the country covariates of its state
    and ``contacts_<topic>`` counts when contacts carry texts.

    Parameters
    ----------
    study : Study
        A loaded study with ``[parties]`` and ``[party_status]``.
    lags : dict of str to sequence of int, optional
        Columns to lag and by how many years, as in `country_year` (the party's
        value a year earlier).

    Returns
    -------
    Panel
        Level ``"party-year"``, unit ``party_id``, with the building accounts.

    Raises
    ------
    InputError
        The study has no parties or party-status table, or a column in ``lags`` is
        not in the panel.
    SpecError
        The study's topic dictionary is missing or invalid (contacts with texts).

    Examples
    --------
    >>> panel = cpcstats.party_year(cpcstats.load_study("demo"), lags={"ruling": [1]})
    >>> "ruling_lag1" in panel.data.columns
    True
    >>> int(panel.data["contacts"].sum()) > 0
    True
    """
    panel = (
        create_party_years(study)
        .pipe(add_party_contacts, study)
        .pipe(add_party_status, study)
        .pipe(add_party_attributes, study)
        .pipe(add_country_covariates, study)
    )
    panel = _with_topics(panel, study)
    for column, ks in (lags or {}).items():
        panel = add_lags(panel, [column], ks)
    return panel


# --------------------------------------------------------------------------- yearly totals
def yearly_totals(study: Study) -> pd.DataFrame:
    """Contacts per year: total, party, non-party, ruling and opposition parties."""
    events = study.contacts
    years = pd.Index(study.years, name="year")
    out = pd.DataFrame(index=years)
    out["total"] = events.groupby("year").size().reindex(years, fill_value=0)
    is_party = events["counterpart_type"] == "party"
    out["party"] = events[is_party].groupby("year").size().reindex(years, fill_value=0)
    out["non_party"] = out["total"] - out["party"]
    if study.party_status is not None:
        status = events[is_party].merge(study.party_status, on=["party_id", "year"], how="left")
        ruling = status["status"].isin(RULING_STATUSES)
        out["ruling"] = status[ruling].groupby("year").size().reindex(years, fill_value=0)
        opp = status["status"] == "opposition"
        out["opposition"] = status[opp].groupby("year").size().reindex(years, fill_value=0)
    return out.reset_index()


def describe(panel: Panel) -> dict[str, Any]:
    """A few facts about a panel for the manifest."""
    return {
        "level": panel.level,
        "rows": len(panel.data),
        "units": int(panel.data[panel.unit].nunique()),
        "contacts": int(panel.data["contacts"].sum()) if "contacts" in panel.data else None,
    }
