"""A study: the input tables of one analysis, checked, harmonised and accounted for.

A study is either the embedded demo (``load_study("demo")``) or a TOML file
that names the input files and how their columns map onto the data contract.
Relative paths resolve against the TOML file's own folder.  Loading reads and
checks everything once; panels and models then work on the clean tables.

The package: `cpcstats.study.model` (the `Study`),
`cpcstats.study.config` (the study file's keys and their checks),
`cpcstats.study.mapping` (renames, recodes, defaults, derived columns),
`cpcstats.study.contacts` (window, dedupe and party rules),
`cpcstats.study.sources` (adapters, truth, published figures),
`cpcstats.study.registers` (party status and parties from the DPI, V-Party and Party
Facts; contacts named only by ``party_name``),
`cpcstats.study.covariate_rules` (``use``, ``missing``, identical repeats and coverage of
the study's own covariates file) and
`cpcstats.study.load` (`load_study`, the steps in order).
"""

from __future__ import annotations

from cpcstats.study.config import (
    ANY,
    CONTACT_KEYS,
    COUNTRY_SOURCES,
    DERIVE_KEYS,
    PARTY_STATUS_KEYS,
    REFERENCE_KEYS,
    SCALAR,
    STUDY_KEYS,
    STUDY_SOURCES,
    TABLE_KEYS,
    TOP_KEYS,
    YEAR_RANGE,
    _read_config,
)
from cpcstats.study.contacts import PARTY_COUNTRY_RULES, UNKNOWN_PARTY, VPARTY_OTHER
from cpcstats.study.load import load_study
from cpcstats.study.model import DEMO, PUBLISHED_DEFAULT, Study, demo_config_path

__all__ = [
    "ANY",
    "CONTACT_KEYS",
    "COUNTRY_SOURCES",
    "DEMO",
    "DERIVE_KEYS",
    "PARTY_COUNTRY_RULES",
    "PARTY_STATUS_KEYS",
    "PUBLISHED_DEFAULT",
    "REFERENCE_KEYS",
    "SCALAR",
    "STUDY_KEYS",
    "STUDY_SOURCES",
    "TABLE_KEYS",
    "TOP_KEYS",
    "UNKNOWN_PARTY",
    "VPARTY_OTHER",
    "YEAR_RANGE",
    "Study",
    "_read_config",
    "demo_config_path",
    "load_study",
]
