"""A cluster-bootstrap replication that drops a parameter counts as failed, not as a crash.

Found on the real-universe demo by the quick benchmark: in the FE-Poisson of party
contacts with party and year effects, resamples without the few countries whose
``recognizes_prc = 0`` rows have contacts leave those rows separated; the core fit omits
``recognizes_prc`` and returns one parameter fewer, and stacking the replications raised
"inhomogeneous shape" -- the whole fit failed.  Now such replications are excluded and
counted, like those whose fit raises.
"""

from __future__ import annotations

import numpy as np

import cpcstats


def test_replications_that_drop_a_parameter_are_excluded_and_counted() -> None:
    panel = cpcstats.party_year(cpcstats.load_study("demo"))
    m = cpcstats.fit(
        "contacts ~ ruling + C(fh_status) + bri_member + recognizes_prc | party_id + year",
        panel,
        family="fe-poisson",
        cluster="iso3",
        se="bootstrap",
        bootstrap_reps=30,
        seed=1,
    )
    assert np.isfinite(m.std_errors).all() and (m.std_errors > 0).all()
    # about a fifth of the resamples omit recognizes_prc; they are reported as failed
    assert "failed and were excluded" in m.se_description, m.se_description
