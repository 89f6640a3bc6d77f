"""The `Study` a loaded study file becomes, and where the embedded demo lives.

Kept apart from the loader so that panels, designs and reports can name the type without
pulling in the checks and readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.accounting import Ledger
from cpcstats.countries import HarmonisationReport
from cpcstats.io import InputFile

DEMO = "demo"


@dataclass
class Study:
    """Clean input tables of one study, plus where they came from.

    Made by `cpcstats.load_study`, read by the panel builders
    (`cpcstats.party_year`, `cpcstats.country_year`) and the reports.
    Why one object with its records: a report can say which files were read, how
    many rows each step dropped and whether the data are SIMULATED, without
    reading anything again.

    Parameters
    ----------
    name : str
        The study's name (``[study] name``, else the file name).
    first_year, last_year : int
        The study window, inclusive.
    break_year : int
        The first year of the "Xi era" contrast (default 2013).
    contacts : pandas.DataFrame
        One row per contact of the ID-CPC in the data contract's columns.
    parties, party_status : pandas.DataFrame or None
        The parties and their party-year status (ruling, seats); None for a study
        without party data (then only country-year panels can be built).
    covariates : pandas.DataFrame or None
        Country-year covariates (Freedom House, V-Dem, REIGN ...).
    states, taiwan, bri : pandas.DataFrame
        Reference tables: states and their years, Taiwan recognition, BRI membership.
    simulated : bool, default False
        True for the embedded demo: every report marks its figures SIMULATED.
    seed : int, optional
        The simulation seed of a simulated study.
    truth : dict, optional
        The parameters a simulated study was generated with (``[truth]``).
    inputs : list of InputFile
        Every file read, with its checksum.
    ledger : Ledger
        Rows in and out at every loading step.
    config_path : str, optional
        The study file.
    config : dict
        The study file's parsed TOML.
    notes : list of str
        Rules applied while loading.
    warnings : list of str
        The notes that need the user's attention (also in ``notes``); runs print them.
    harmonisation : dict
        Country harmonisation report of each input.
    published : pathlib.Path, optional
        Published figures to compare with.
    party_register : pandas.DataFrame, optional
        The Party Facts register when ``[covariates] partyfacts`` names it.
    party_matching : PartyMatchReport, optional
        How contacts named only by ``party_name`` were linked to the register.

    Examples
    --------
    >>> study = cpcstats.load_study("demo")
    >>> study.has_parties, study.years
    (True, range(2002, 2024))
    >>> sorted(study.contacts.columns)[:3]
    ['counterpart_type', 'country_raw', 'date']
    """

    name: str
    first_year: int
    last_year: int
    break_year: int
    contacts: pd.DataFrame
    parties: pd.DataFrame | None
    party_status: pd.DataFrame | None
    covariates: pd.DataFrame | None
    states: pd.DataFrame
    taiwan: pd.DataFrame
    bri: pd.DataFrame
    simulated: bool = False
    seed: int | None = None
    truth: dict[str, Any] | None = None
    inputs: list[InputFile] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    config_path: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Rules applied while loading (derived columns, dedupe, adapter rules), for reports."""
    warnings: list[str] = field(default_factory=list)
    """The notes that need the user's attention (also in ``notes``); runs show them."""
    harmonisation: dict[str, HarmonisationReport] = field(default_factory=dict)
    """Country harmonisation of each input (table or source name -> report)."""
    published: Path | None = None
    """Published figures to compare with (``[published]`` of the study file), if enabled."""
    party_register: pd.DataFrame | None = None
    """The Party Facts register (`cpcstats.adapters.read_partyfacts` table) when
    ``[covariates] partyfacts`` names it: the published-partner comparison matches names
    through it (`cpcstats.party_names.match_known_party`)."""
    party_matching: Any = None
    """The `cpcstats.party_names.PartyMatchReport` of contacts named only by ``party_name``
    (one entry per distinct name and country), if any were linked to a register."""

    @property
    def years(self) -> range:
        """The study window as a range of years (``last_year`` included)."""
        return range(self.first_year, self.last_year + 1)

    @property
    def has_parties(self) -> bool:
        """Whether party tables were loaded, i.e. whether a party-year panel can be built."""
        return self.parties is not None and self.party_status is not None

    def label(self) -> str:
        """The name as reports show it, with ``(SIMULATED)`` for simulated data.

        Returns
        -------
        str
            ``name``, or ``"name (SIMULATED)"`` when ``simulated`` is True.

        Examples
        --------
        >>> cpcstats.load_study("demo").label()
        'Embedded demo study (SIMULATED)'
        """
        return f"{self.name} (SIMULATED)" if self.simulated else self.name


def demo_config_path() -> Path:
    return Path(str(resources.files("cpcstats.demo").joinpath("study.toml")))


PUBLISHED_DEFAULT = Path("published.toml")
"""``[published] enabled = true``: the published figures shipped beside the replication
configuration (``published.toml`` in its folder).  A marker, not a path to open: which
folder that is, is the application's to say (``replicate`` resolves it from its
configuration), so the library does not know the repository's layout."""
