"""Two-way fixed-effects OLS of log(1 + y) (linearmodels' PanelOLS): one family module.

The usual robustness check against count models.  linearmodels estimates the
coefficients (and refuses regressors the effects absorb); the variance is cpcstats' own
sandwich on the within-transformed regression, so every ``se`` type and the spec's
``cluster`` and ``k_fixef`` apply as to any other family.  Why not linearmodels'
clustered variance: it clusters by the entity only, scales by n/(n-K) without
G/(G-1), and cannot leave out only the effects nested in the clusters; with the sandwich
``cluster = "party_id"`` gives Stata's and R's CR1 (``lm`` with dummies +
``sandwich::vcovCL``), and ``k_fixef = "nested"`` fixest's ``feols`` default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError
from cpcstats.estimation.base import CoreFit, ModelData, _inv
from cpcstats.estimation.hdfe import Demeaner


def fit_ols_fe(data: ModelData) -> CoreFit:
    """Two-way FE OLS of log(1 + y): unit and period effects, sandwich-ready.

    The scores and bread are those of the within regression, scaled by the classical
    residual variance s^2 = e'e / (n - K) (K counting every effect), so ``bread`` is the
    classical OLS variance s^2 (X'X)^-1 of R's ``lm`` with dummies, and the sandwich
    ``bread @ S'S @ bread`` does not depend on s^2.
    """
    from linearmodels.panel import PanelOLS
    from linearmodels.panel.utility import AbsorbingEffectError

    assert data.frame is not None and data.unit and data.period
    index = pd.MultiIndex.from_arrays(
        [data.frame[data.unit].to_numpy(), data.frame[data.period].to_numpy()]
    )
    dep = pd.Series(np.log1p(data.y), index=index, name="log1p_y")
    keep_cols = [i for i, n in enumerate(data.x_names) if n != "Intercept"]
    exog = pd.DataFrame(
        data.X[:, keep_cols], index=index, columns=[data.x_names[i] for i in keep_cols]
    )
    try:
        model = PanelOLS(dep, exog, entity_effects=True, time_effects=True, drop_absorbed=False)
        res = model.fit(cov_type="unadjusted")
    except AbsorbingEffectError as exc:  # linearmodels' own type: a per-model user error
        raise EstimationError(
            f"the regressors are absorbed by the unit and year effects ({exc})",
            column="formula",
            fix="use regressors that vary within units and years, or widen the sample",
        ) from exc
    params = np.asarray(res.params)
    codes = [pd.factorize(data.frame[c])[0] for c in (data.unit, data.period)]
    demean = Demeaner(codes)
    both, _ = demean(np.column_stack([dep.to_numpy(), exog.to_numpy()]), np.ones(len(dep)))
    xt = both[:, 1:]
    resid = both[:, 0] - xt @ params
    k_dof = len(params) + sum(demean.levels) - 1
    s2 = float(resid @ resid) / max(len(resid) - k_dof, 1)
    scale = s2 if s2 > 0 else 1.0  # a perfect fit: zero scores, zero variance
    return CoreFit(
        names=list(exog.columns),
        params=params,
        loglik=float(res.loglik),
        bread=s2 * _inv(xt.T @ xt),
        scores=xt * (resid / scale)[:, None],
        k_dof=k_dof,
        converged=True,
        extra={"r2_within": float(res.rsquared_within), "outcome": 0.0},
        fixed_effects=(data.unit, data.period),
    )
