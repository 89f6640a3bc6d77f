"""Reviewer diagnostics for count models: dispersion, zeros, model choice.

Referees of count-model papers ask the same questions: is there overdispersion
(Cameron–Trivedi auxiliary regressions, the boundary-corrected LR test of
Poisson against NB2), are there excess zeros (observed against expected
zeros, hanging rootograms, Vuong tests of zero-inflated and hurdle models
against their parents), and which model do the information criteria favour.
Everything here reads only a `cpcstats.estimation.results.FitResult`
and its ``core`` (per-observation log-likelihoods and probabilities), so every
family that provides them is covered without family-specific code.

Conventions follow R so that the numbers can be checked against it
(``tests/reference``): the auxiliary regressions are ``lm`` fits, the Vuong
statistics are those of ``pscl::vuong`` (including its parameter count, which
leaves the NB dispersion out, and its one-sided p-value).  Decisions in
`diagnostics_table` use the 5 % level; the rules are listed there.

Modules: `.common` (level, family facts, sample checks), `.dispersion`
(Cameron–Trivedi, LR Poisson vs NB2), `.vuong`, `.zeros` (zeros, rootogram
frequencies), `.criteria` (AIC/BIC), `.table` (`diagnostics_table`).
"""

from __future__ import annotations

from cpcstats.diagnostics.common import (
    LEVEL,
    NEGBIN_FAMILIES,
    NO_COUNT_LIKELIHOOD,
    POISSON_FAMILIES,
    VUONG_PAIRS,
    ZERO_TOLERANCE,
    outcome,
)
from cpcstats.diagnostics.criteria import information_criteria
from cpcstats.diagnostics.dispersion import lr_test_poisson_negbin, overdispersion_test
from cpcstats.diagnostics.table import diagnostics_table
from cpcstats.diagnostics.vuong import vuong_test
from cpcstats.diagnostics.zeros import rootogram_data, zero_counts

__all__ = [
    "LEVEL",
    "NEGBIN_FAMILIES",
    "NO_COUNT_LIKELIHOOD",
    "POISSON_FAMILIES",
    "VUONG_PAIRS",
    "ZERO_TOLERANCE",
    "diagnostics_table",
    "information_criteria",
    "lr_test_poisson_negbin",
    "outcome",
    "overdispersion_test",
    "rootogram_data",
    "vuong_test",
    "zero_counts",
]
