"""Driscoll and Kraay (1998) variance: robust to common (cross-sectional) shocks by period.

Why: a regressor that varies by period only (a break indicator, a trend) is identified
from the T periods, not from the N x T rows.  A shock common to every unit in a year
makes all rows of that year co-move; clustering by unit ignores this and the variance
is far too small (issue 14: 35 of 40 null draws rejected at 5 %).  Driscoll and Kraay
sum the scores within each period and apply a Newey-West (Bartlett) long-run variance
to the T period sums, so it is robust to any cross-sectional dependence and to serial
dependence up to the lag.

Definition (as R's ``sandwich::vcovPL(x, order.by = ~time, lag = L, adjust = TRUE)``
with ``aggregate = TRUE``): with s_t the period sums of the scores (periods sorted),
Gamma_j = sum_t s_t s_{t+j}', Bartlett weights w_j = 1 - j / (L + 1),

    meat = n / (n - k) * (Gamma_0 + sum_{j=1..L} w_j (Gamma_j + Gamma_j')),
    V = B meat B,

B the inverse information, k the number of coefficients (fixed-effect dummies included,
as R counts them in a dummy-variable GLM).  Default lag: floor(T^(1/4)) (R's ``"NW1987"``
rule, fixest's default too).  The period variable is given as the spec's ``cluster``
(``se = "driscoll-kraay", cluster = "year"``).  Checked against R in
tests/reference/make_driscoll_kraay.R (fixture tests/reference/fixtures/driscoll_kraay.json).

Caveat: consistency needs many periods (T -> infinity); with 16-22 years the variance is
biased downwards, so tests that matter should use a bootstrap over periods
(`cpcstats.methods.break_bootstrap`), not normal or chi-squared critical values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpcstats.estimation.vcov import SandwichEstimator, Vcov

__all__ = ["DriscollKraay", "driscoll_kraay_meat", "nw1987_lag"]


def nw1987_lag(n_periods: int) -> int:
    """floor(T^(1/4)): R sandwich's ``lag = "NW1987"`` rule (T = number of periods)."""
    return math.floor(n_periods**0.25)


def driscoll_kraay_meat(
    scores: np.ndarray, time: np.ndarray, lag: int | None = None
) -> tuple[np.ndarray, int, int]:
    """Bartlett long-run variance of the period sums of ``scores`` (no n/(n-k) factor).

    Returns the meat, the number of periods T and the lag used.
    """
    _, dense = np.unique(np.asarray(time), return_inverse=True)
    n_periods = int(dense.max()) + 1
    sums = np.zeros((n_periods, scores.shape[1]))
    np.add.at(sums, dense, scores)
    lag = nw1987_lag(n_periods) if lag is None else int(lag)
    meat = sums.T @ sums
    for j in range(1, min(lag, n_periods - 1) + 1):
        gamma = sums[:-j].T @ sums[j:]
        meat += (1.0 - j / (lag + 1.0)) * (gamma + gamma.T)
    return meat, n_periods, lag


class DriscollKraay(SandwichEstimator):
    """Driscoll-Kraay (1998) variance; the spec's ``cluster`` names the period column."""

    name = "driscoll-kraay"
    uses_clusters = True  # needs >= 2 periods
    #: None: floor(T^(1/4)); a subclass (or `register_variance` of an instance) may fix it
    lag: int | None = None

    def from_scores(
        self,
        scores: np.ndarray | None,
        bread: np.ndarray,
        *,
        k_dof: int,
        clusters: pd.DataFrame | None = None,
        cluster_names: Sequence[str] = (),
    ) -> Vcov:
        if clusters is None or len(cluster_names) != 1:
            raise ValueError(
                "se = 'driscoll-kraay' needs exactly one `cluster` column: the period "
                "(e.g. cluster = 'year')"
            )
        scores, n = self._checked(scores, k_dof)
        time = clusters[cluster_names[0]].to_numpy()
        meat, n_periods, lag = driscoll_kraay_meat(scores, time, self.lag)
        matrix = (n / (n - k_dof)) * bread @ meat @ bread
        description = (
            f"Driscoll-Kraay by {cluster_names[0]} ({n_periods} periods, Bartlett lag {lag}; "
            "n/(n-k))"
        )
        return Vcov(matrix, "driscoll-kraay", description, n_periods)

    def table_label(self, se_type: str, clusters: Sequence[str], family: str) -> str:
        return f"Driscoll-Kraay: {clusters[0]}" if clusters else "Driscoll-Kraay"
