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

# One BLAS thread per test process, as `make test` and the CLI set (pytest does not load
# numpy, so this runs before any test module does): OpenBLAS would otherwise start a thread
# per host core, far more than the machine's quota.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "reference"


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


def compile_latex(tex: Path, workdir: Path, pdflatex: str, *, preamble: str = "") -> Path:
    """Compile a table file inside a minimal document with the packages every cpcstats
    table may need (`cpcstats.reporting.tables.text.LATEX_PREAMBLE`: booktabs,
    threeparttable, siunitx, pdflscape, longtable ...); fail with pdflatex's log."""
    import subprocess

    from cpcstats.reporting.tables.text import LATEX_PREAMBLE

    doc = workdir / f"{tex.stem}_doc.tex"
    doc.write_text(
        "\\documentclass{article}\n"
        + LATEX_PREAMBLE
        + preamble
        + "\\begin{document}\n\\input{"
        + tex.resolve().as_posix()
        + "}\n\\end{document}\n"
    )
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=workdir,
        capture_output=True,
        encoding="utf-8",
        errors="replace",  # pdflatex prints bytes of the input's characters as they come
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (workdir / f"{tex.stem}_doc.log").read_text(errors="replace")
    assert "Missing character" not in log, "a character has no glyph in the font"
    pdf = workdir / f"{tex.stem}_doc.pdf"
    assert pdf.exists()
    return pdf


# The seeded datasets of tests/reference (R fixtures were computed on these).
@pytest.fixture(scope="module")
def panel():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.read_csv(REFERENCE / "data" / "panel.csv")


@pytest.fixture(scope="module")
def zeros():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.read_csv(REFERENCE / "data" / "zeros.csv")


@pytest.fixture(scope="module")
def hurdle():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.read_csv(REFERENCE / "data" / "hurdle.csv")


# The demo's party-year panel and one Poisson fit on it, built once per run for the tests of
# result shapes (tidy/glance) and of foreign models in tables.
DEMO_FORMULA = "contacts ~ ruling + left_roots"


@pytest.fixture(scope="session")
def demo_party_year():  # type: ignore[no-untyped-def]
    import cpcstats

    return cpcstats.party_year(cpcstats.load_study("demo"))


@pytest.fixture(scope="session")
def demo_poisson(demo_party_year):  # type: ignore[no-untyped-def]
    import cpcstats

    return cpcstats.fit(DEMO_FORMULA, demo_party_year, family="poisson")
