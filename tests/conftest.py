"""Shared test fixtures.

The real public data lives beside the repository in ``../shared/data`` and is
never copied into it.  Tests that need it use the ``shared_data`` fixture and
skip cleanly when the folder is absent (a user's fresh machine).
``CPCSTATS_SHARED_DATA`` points elsewhere if needed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("CPCSTATS_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real public data not found at {path} (set CPCSTATS_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.skip("pdflatex is not installed (CI installs it via apt)")
    return exe
