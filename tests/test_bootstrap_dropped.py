"""A cluster-bootstrap replication that drops a parameter counts as failed, not as a crash.

Found on the real-universe demo: in an FE-Poisson with party effects, a resample without
the few parties whose regressor varies leaves that regressor absorbed by the effects, the
replication's parameter vector is shorter, and stacking the replications raised
"inhomogeneous shape" -- the whole fit failed.  Now such replications are excluded and
counted, like those whose fit raises.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import cpcstats


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    units, years = 30, 8
    frame = pd.DataFrame(
        {"unit": np.repeat(np.arange(units), years), "year": np.tile(np.arange(years), units)}
    )
    # x varies within unit 0 only: a resample without unit 0 cannot identify it
    frame["x"] = ((frame["unit"] == 0) & (frame["year"] >= 4)).astype(int)
    frame["z"] = rng.normal(size=len(frame))
    effect = rng.normal(scale=0.5, size=units)[frame["unit"]]
    frame["y"] = rng.poisson(np.exp(0.5 + 0.3 * frame["z"] + 0.4 * frame["x"] + effect))
    return frame


def test_replications_that_drop_a_parameter_are_excluded_and_counted() -> None:
    m = cpcstats.fit(
        "y ~ x + z | unit",
        _panel(),
        family="fe-poisson",
        cluster="unit",
        se="bootstrap",
        bootstrap_reps=99,
        seed=5,
    )
    assert np.isfinite(m.std_errors["z"]) and m.std_errors["z"] > 0
    # about (29/30)^30 = 36 % of resamples miss unit 0; they are reported as failed
    text = " ".join([m.se_description, *m.warnings])
    assert "failed and were excluded" in text, text
