"""Builders of small in-memory studies for tests (no files needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.reference import load_reference
from cpcstats.study import Study


def make_contacts(rows: list[dict]) -> pd.DataFrame:
    """Contacts in the normalised (post-import) layout."""
    frame = pd.DataFrame(rows)
    defaults = {"counterpart_type": "state", "direction": "inbound", "party_id": pd.NA}
    for column, value in defaults.items():
        frame[column] = frame[column].fillna(value) if column in frame else value
    frame["row"] = range(2, len(frame) + 2)
    frame["date"] = pd.NaT
    for column in ("party_name", "source_id", "text"):
        frame[column] = pd.NA
    frame["country_raw"] = frame["iso3"]
    return frame


def make_study(
    contacts: pd.DataFrame,
    *,
    parties: pd.DataFrame | None = None,
    party_status: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    first_year: int = 2002,
    last_year: int = 2017,
) -> Study:
    return Study(
        name="test study",
        first_year=first_year,
        last_year=last_year,
        break_year=2013,
        contacts=contacts,
        parties=parties,
        party_status=party_status,
        covariates=covariates,
        states=load_reference("states"),
        taiwan=load_reference("taiwan"),
        bri=load_reference("bri"),
    )


def compile_tex(
    tex: Path,
    workdir: Path,
    engine: str,
    *,
    preamble: str | None = None,
) -> tuple[Path, str]:
    """Compile a table file with ``engine`` (pdflatex or lualatex) inside a minimal document.

    Returns the PDF and the log; fails with the engine's output when the compile fails or
    a character has no glyph.  Unlike ``tests.conftest.compile_latex`` the whole preamble
    is the caller's, so a lualatex preamble (fontspec) can replace booktabs-only.
    Runs with ``-no-shell-escape`` so nothing in a table could run a program.
    """
    import subprocess

    from cpcstats.reporting.tables.text import LATEX_PREAMBLE

    preamble = LATEX_PREAMBLE if preamble is None else preamble
    tex, workdir = Path(tex), Path(workdir)
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", tex.stem)
    doc = workdir / f"{stem}_{Path(engine).name}_doc.tex"
    doc.write_text(
        "\\documentclass{article}\n"
        + preamble
        + "\\begin{document}\n\\input{"
        + tex.resolve().as_posix()
        + "}\n\\end{document}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [engine, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    log = doc.with_suffix(".log").read_text(errors="replace")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Missing character" not in log, "a character has no glyph in the font"
    pdf = doc.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 0
    return pdf, log


def run_cli(capsys: Any, *argv: str) -> tuple[int, str]:
    """Run the command line in-process; its exit code and everything it printed.

    Whatever the input, the output never holds a traceback or an "internal error" (a user
    error is a message with a fix, exit 2; only a bug may say "internal error").
    """
    from cpcstats.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text and "internal error" not in text, text
    return code, text


def cli_fails(capsys: Any, words: list[str], *argv: str) -> str:
    """The command exits 2 with one error message holding ``words`` and a ``fix:`` line."""
    code, text = run_cli(capsys, *argv)
    assert code == 2, text
    err = text.split("error: ", 1)[-1]
    for word in words:
        assert word in err, (word, err)
    assert "fix:" in err, err
    return err
