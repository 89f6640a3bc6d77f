"""The :class:`Study` a loaded study file becomes, and where the embedded demo lives.

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
    """Clean input tables of one study, plus where they came from."""

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
    harmonisation: dict[str, HarmonisationReport] = field(default_factory=dict)
    """Country harmonisation of each input (table or source name -> report)."""
    published: Path | None = None
    """Published figures to compare with (``[published]`` of the study file), if enabled."""

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def has_parties(self) -> bool:
        return self.parties is not None and self.party_status is not None

    def label(self) -> str:
        return f"{self.name} (SIMULATED)" if self.simulated else self.name


def demo_config_path() -> Path:
    return Path(str(resources.files("cpcstats.demo").joinpath("study.toml")))


PUBLISHED_DEFAULT = Path("published.toml")
"""``[published] enabled = true``: the published figures shipped beside the replication
configuration (``published.toml`` in its folder).  A marker, not a path to open: which
folder that is, is the application's to say (``replicate`` resolves it from its
configuration), so the library does not know the repository's layout."""
