"""The documentation site builds strictly and its tutorial notebook runs.

Why tests: a documentation page that shows a call which no longer works is worse than none.
The site (``mkdocs.yml``, ``docs/``) is built with ``--strict`` (any warning — a broken link, a
missing page, an API name mkdocstrings cannot resolve — fails), and ``docs/tutorial.ipynb`` is
executed from scratch in a kernel of this environment; its cells must run without an error and
print what the tutorial says they print (the SIMULATED mark, the model table, the replication's
tables).  The committed notebook carries its outputs (the site renders them without executing),
so a test also checks that every code cell has been run and stored in order.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.ipynb"

nbformat = pytest.importorskip("nbformat", reason="the docs extra is not installed")


def _mkdocs() -> str:
    exe = Path(sys.executable).with_name("mkdocs")
    if not exe.exists():
        pytest.skip("mkdocs is not installed (the docs extra, pinned in requirements.lock)")
    return str(exe)


def test_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [_mkdocs(), "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for page in (
        "index.html",
        "getting-started/index.html",
        "tutorial/index.html",
        "how-to/own-data/index.html",
        "reference/api/index.html",
    ):
        assert (site / page).is_file(), f"the site has no {page}"
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("load_study", "party_year", "fit", "FitResult", "table", "replicate"):
        assert f'id="cpcstats.{name}"' in api, f"the API page does not document cpcstats.{name}"
    tutorial = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "SIMULATED" in tutorial or "simulated" in tutorial


def test_committed_tutorial_is_executed_in_order() -> None:
    nb = nbformat.read(TUTORIAL, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        "docs/tutorial.ipynb is not executed top to bottom: rerun it (see docs/README.md)"
    )
    assert all(c.outputs for c in code), "a tutorial cell has no stored output"
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)


@pytest.mark.skipif(shutil.which("true") is None, reason="no POSIX shell tools")
def test_tutorial_executes(tmp_path: Path) -> None:
    nbclient = pytest.importorskip("nbclient", reason="the docs extra is not installed")
    nb = nbformat.read(TUTORIAL, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on any failure
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "simulated: True" in text
    assert "none dropped" in text  # the panel's row account
    assert "NB dispersion alpha" in text  # the NB2 summary
    assert "FE Poisson" in text  # the three-model table
    assert "design_taiwan.tex" in text and "table1_party_ruling_regime.tex" in text
    assert "SIMULATED" in text  # the design table's notes
