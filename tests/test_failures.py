"""Estimation failures inside a replication: reported per model, the rest continues,
the exit code says so; flagged (not failed) fits carry their flags into results.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats import fit
from cpcstats.cli import main

SPECS = """
[[model]]
name = "ok"
level = "country-year"
family = "poisson"
formula = "contacts ~ xi_era + bri_member"
cluster = "iso3"

[[model]]
name = "no_variation"
level = "country-year"
family = "poisson"
formula = "contacts ~ xi_era + bri_member"
sample = "year < 2013"

[[model]]
name = "collinear"
level = "country-year"
family = "negbin"
formula = "contacts ~ xi_era + I(1 - xi_era)"
"""


def test_failed_models_are_listed_and_the_rest_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.toml").write_text(SPECS, encoding="utf-8")
    config = tmp_path / "replication.toml"
    config.write_text(
        'models = "models"\n[[table]]\nname = "t"\nmodels = ["ok", "no_variation", "collinear"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(["replicate", "--study", "demo", "--config", str(config), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    err = captured.err
    assert "no_variation" in err and "xi_era, bri_member do not vary in the sample" in err
    assert "collinear" in err and "collinear term(s): I(1 - xi_era)" in err
    assert "m.toml" in err
    results = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["ok"]
    assert {f["name"] for f in results["failed"]} == {"no_variation", "collinear"}
    table = (out / "tables" / "t.md").read_text()
    assert "Model no\\_variation not shown" in table and "Model collinear not shown" in table
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["models"]["failed"]) == {"no_variation", "collinear"}


def _panel(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 40
    frame = pd.DataFrame({"g": np.repeat(np.arange(n), 6), "t": np.tile(np.arange(6), n)})
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = rng.poisson(np.exp(0.2 + 0.3 * frame["x"]))
    return frame


def test_boundary_and_separation_are_flagged_not_hidden() -> None:
    frame = _panel()
    under = frame.assign(y=np.random.default_rng(1).binomial(8, 0.3, len(frame)))
    nb = fit("y ~ x", under, family="negbin")  # underdispersed: NB2 dispersion at its boundary
    assert any("boundary" in w for w in nb.warnings), nb.warnings
    sep = frame.copy()
    sep["d"] = (sep["g"] < 3).astype(int)
    sep.loc[sep["d"] == 1, "y"] = 0  # d = 1 predicts y = 0 perfectly
    res = fit("y ~ x + d", sep, family="poisson")
    assert any("separation" in w or "|coef| > 15" in w or "separat" in w for w in res.warnings)
    fe = fit("y ~ x | g", sep, family="fe-poisson")
    assert fe.sample is not None
    assert sum(v for k, v in fe.sample.dropped.items() if "only zero" in k) == 18
