"""Every table the demo replication writes fits an A4 page with 2.5 cm margins.

Each ``.tex`` table is compiled alone in ``\\documentclass{article}`` with
``geometry[a4paper,margin=2.5cm]`` and the documented preamble (`LATEX_PREAMBLE`, or
`UNICODE_PREAMBLE` with lualatex when the file's first comment names lualatex); the test
fails on any LaTeX error, any overfull box wider than 1 pt (naming the table and how
wide) and any float taller than the page.  This is what issue 15 measured by hand
(Table 1 175 pt, topics_yearly 651 pt past the margin) made a test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cpcstats.replicate import replicate
from cpcstats.reporting.tables.text import LATEX_PREAMBLE, UNICODE_PREAMBLE

REPO = Path(__file__).resolve().parents[1]
TOLERANCE_PT = 1.0
PAGE = "\\documentclass{article}\n\\usepackage[a4paper,margin=2.5cm]{geometry}\n"


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (CI installs it via apt)")
    out = tmp_path_factory.mktemp("pages")
    replicate("demo", out, REPO / "replication" / "replication.toml", progress=lambda _: None)
    return out / "tables"


def _engine(text: str) -> tuple[str, str]:
    """pdflatex and LATEX_PREAMBLE, or lualatex when the file's first comment says so."""
    head = "".join(line for line in text.splitlines()[:3] if line.startswith("%"))
    if "lualatex" in head:
        exe = shutil.which("lualatex")
        if exe is None:
            pytest.skip("lualatex is not installed")
        return exe, UNICODE_PREAMBLE
    return shutil.which("pdflatex") or "pdflatex", LATEX_PREAMBLE


def _compile(tex: Path, workdir: Path) -> str:
    """The log of compiling ``tex`` on the page; fails with the engine's output on an error."""
    engine, preamble = _engine(tex.read_text(encoding="utf-8"))
    doc = workdir / f"{tex.stem}_page.tex"
    doc.write_text(
        PAGE + preamble + "\\begin{document}\n\\input{" + tex.resolve().as_posix() + "}\n"
        "\\end{document}\n",
        encoding="utf-8",
    )
    for _ in range(3):  # longtable settles its column widths through the .aux file
        proc = subprocess.run(
            [engine, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=workdir,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=180,
        )
        log = doc.with_suffix(".log").read_text(errors="replace")
        assert proc.returncode == 0, f"{tex.name} does not compile:\n{proc.stdout[-2500:]}"
        if "Rerun LaTeX" not in log and "Table widths have changed" not in log:
            break
    return log


def overfull_widths(log: str) -> list[float]:
    """How far each overfull box runs past its line (points), from a TeX log."""
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def test_overfull_parser_reads_tex_logs() -> None:
    log = "Overfull \\hbox (175.3pt too wide) in paragraph\nOverfull \\hbox (0.5pt too wide)"
    assert overfull_widths(log) == [175.3, 0.5]


def test_the_replication_wrote_tex_tables(tables: Path) -> None:
    names = {p.stem for p in tables.glob("*.tex")}
    assert {"table1_party_ruling_regime", "topics_yearly", "published_partners"} <= names
    for tex in tables.glob("*.tex"):
        assert (tables / f"{tex.stem}.html").is_file(), f"{tex.stem}: no HTML beside the LaTeX"


def test_every_table_fits_the_page(tables: Path, tmp_path: Path) -> None:
    problems = []
    texs = sorted(tables.glob("*.tex"))
    assert texs
    for tex in texs:
        log = _compile(tex, tmp_path)
        widest = max(overfull_widths(log), default=0.0)
        if widest > TOLERANCE_PT:
            problems.append(f"{tex.name}: overfull box {widest:.1f} pt too wide")
        for excess in re.findall(r"Float too large for page by ([\d.]+)pt", log):
            problems.append(f"{tex.name}: float {excess} pt taller than the page")
        if re.search(r"^! ", log, flags=re.MULTILINE):
            problems.append(f"{tex.name}: LaTeX error")
    assert not problems, "\n".join(problems)
