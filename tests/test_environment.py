"""The test environment is the locked one.

Byte-identical outputs and the R-checked numbers hold for stated package versions:
``requirements.lock`` pins every package (runtime, tests, build tools) and ``make setup``
installs exactly those.  These tests fail when the lock no longer satisfies
``pyproject.toml`` or when the suite runs in an environment that drifted from the lock
(set ``CPCSTATS_UNLOCKED=1`` to run the suite deliberately on other versions).
"""

from __future__ import annotations

import os
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not pinned with =="
        pins[canonicalize_name(name)] = version.strip()
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for group in ("test", "docs"):
        reqs += [Requirement(r) for r in project["optional-dependencies"][group]]
    return reqs


def test_lock_pins_every_dependency_within_its_range() -> None:
    pins = _lock()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]} outside {req.specifier}"
        )
    for tool in ("pip", "setuptools", "wheel"):
        assert tool in pins, f"the build tool {tool} is not pinned"


@pytest.mark.skipif(
    os.environ.get("CPCSTATS_UNLOCKED") == "1", reason="CPCSTATS_UNLOCKED=1: versions not checked"
)
def test_installed_versions_are_the_locked_ones() -> None:
    drift = []
    for name, version in _lock().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift.append(f"{name}: locked {version}, not installed")
            continue
        if installed != version:
            drift.append(f"{name}: locked {version}, installed {installed}")
    assert not drift, "environment differs from requirements.lock (run `make setup`): " + "; ".join(
        drift
    )
