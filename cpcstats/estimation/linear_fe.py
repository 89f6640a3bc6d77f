"""Two-way fixed-effects OLS of log(1 + y) (linearmodels' PanelOLS): one family module.

The usual robustness check against count models; its variance is linearmodels' own
(clustered by unit), registered as the family's own variance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpcstats.errors import EstimationError
from cpcstats.estimation.base import CoreFit, ModelData


def fit_ols_fe(data: ModelData) -> CoreFit:
    """Two-way FE OLS of log(1 + y) with linearmodels' PanelOLS, clustered by unit."""
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
        res = model.fit(cov_type="clustered", cluster_entity=True)
    except AbsorbingEffectError as exc:  # linearmodels' own type: a per-model user error
        raise EstimationError(
            f"the regressors are absorbed by the unit and year effects ({exc})",
            column="formula",
            fix="use regressors that vary within units and years, or widen the sample",
        ) from exc
    params = np.asarray(res.params)
    return CoreFit(
        names=list(exog.columns),
        params=params,
        loglik=float(res.loglik),
        bread=np.asarray(res.cov),
        scores=None,
        k_dof=len(params),
        converged=True,
        vcov=np.asarray(res.cov),
        vcov_description=f"clustered by {data.unit} (linearmodels PanelOLS, "
        "small-sample corrected)",
        n_clusters=int(res.entity_info["total"]),
        extra={"r2_within": float(res.rsquared_within), "outcome": 0.0},
    )
