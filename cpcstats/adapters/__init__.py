"""Covariate adapters: public data sources in their own layout -> tidy tables keyed by ISO3.

Each adapter is a pure function ``read_<source>(path, ...) -> AdapterResult``
that reads one source as its distributor publishes it, harmonises countries to
ISO3 and accounts for every row it does not return (``AdapterResult.account``
is a `cpcstats.accounting.StageAccount` for the run's ledger).
`ADAPTERS` maps a source name to its reader, so a study file can name
sources as text.
"""

from __future__ import annotations

from collections.abc import Callable

from cpcstats.adapters.base import AdapterResult, Layout
from cpcstats.adapters.dpi import dpi_parties, link_partyfacts, read_dpi
from cpcstats.adapters.freedom_house import read_freedom_house
from cpcstats.adapters.leaders_global import read_leaders_global
from cpcstats.adapters.partyfacts import read_partyfacts
from cpcstats.adapters.reign import read_reign
from cpcstats.adapters.vdem import read_vdem
from cpcstats.adapters.vparty import read_vparty

ADAPTERS: dict[str, Callable[..., AdapterResult]] = {
    "freedom_house": read_freedom_house,
    "vdem": read_vdem,
    "vparty": read_vparty,
    "reign": read_reign,
    "dpi": read_dpi,
    "leaders_global": read_leaders_global,
    "partyfacts": read_partyfacts,
}
"""Source name -> read function; every reader takes ``path`` plus keyword options."""

__all__ = [
    "ADAPTERS",
    "AdapterResult",
    "Layout",
    "dpi_parties",
    "link_partyfacts",
    "read_dpi",
    "read_freedom_house",
    "read_leaders_global",
    "read_partyfacts",
    "read_reign",
    "read_vdem",
    "read_vparty",
]
