"""Write the README's figures about the replication and the test suite from the outputs.

Why a script: numbers typed into a README by hand go stale (it once said 11 tables, 9 figures
and ~500 tests when the replication wrote 13 and 10 and the suite had 663).  This script
replicates the demo (or reads an output folder you give it), counts the suite's tests with
``pytest --collect-only``, times the replication, and rewrites the block between the
``readme-facts`` markers in README.md.  ``tests/test_readme_facts.py`` rebuilds the counted
lines from a fresh replication and fails when the README's block differs; the timing is a
measurement (stated with its machine), not something a test can reproduce.

Usage::

    .venv/bin/python replication/readme_facts.py            # replicate, count, rewrite README
    .venv/bin/python replication/readme_facts.py --check    # exit 1 if README's block is stale
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = "<!-- readme-facts:start"
END = "<!-- readme-facts:end -->"
BLOCK = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)


def output_lines(out: Path) -> list[str]:
    """The table rows that follow from an output folder alone (what the test recomputes)."""
    tables = sorted({p.stem for p in (out / "tables").iterdir() if p.suffix == ".tex"})
    table_formats = sorted({p.suffix.lstrip(".") for p in (out / "tables").iterdir()})
    figures = sorted({p.stem for p in (out / "figures").iterdir() if p.suffix in {".pdf", ".png"}})
    figure_formats = sorted({p.suffix.lstrip(".") for p in (out / "figures").iterdir()})
    panels = sorted(p.name for p in (out / "panels").iterdir())
    return [
        f"| tables | {len(tables)} ({', '.join(table_formats)}): {', '.join(tables)} |",
        f"| figures | {len(figures)} ({', '.join(figure_formats)}): {', '.join(figures)} |",
        f"| panels | {', '.join(panels)} |",
    ]


def count_tests() -> int:
    """The number of tests pytest collects in tests/ (parametrised cases counted)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"(\d+) tests? collected", proc.stdout)
    if found is None:
        raise SystemExit(f"pytest --collect-only did not report a count:\n{proc.stdout[-2000:]}")
    return int(found.group(1))


def replicate_timed(out: Path) -> tuple[float, float]:
    """Replicate the demo into ``out`` in a new process; (wall seconds, CPU seconds)."""
    exe = Path(sys.executable).with_name("cpcstats")
    wall = time.perf_counter()
    before = os.times()
    subprocess.run(
        [str(exe), "replicate", "--study", "demo", "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return time.perf_counter() - wall, cpu


def block(lines: list[str]) -> str:
    head = (
        f"{START} (written by replication/readme_facts.py from a replication of the demo; "
        "tests/test_readme_facts.py checks the counts) -->"
    )
    return "\n".join([head, "| what | value |", "|---|---|", *lines, END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README's block is stale")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        raise SystemExit(f"README.md has no {START} … {END} block")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "reports"
        wall, cpu = replicate_timed(out)
        lines = output_lines(out)
    lines.append(f"| test suite | {count_tests()} tests (`make test`) |")
    if args.check:
        current = BLOCK.search(text).group(0)  # type: ignore[union-attr]
        counted = [ln for ln in current.splitlines() if not ln.startswith("| replication time")]
        fresh = block(lines).splitlines()
        if counted != fresh:
            print("README's facts block is stale: run replication/readme_facts.py")
            return 1
        print("README's facts block is current")
        return 0
    lines.append(
        f"| replication time | {wall:.0f} s wall, {cpu:.0f} CPU-s for `cpcstats replicate "
        f"--study demo` after installation ({os.cpu_count()}-core machine, "
        f"{time.strftime('%Y-%m-%d')}) |"
    )
    README.write_text(BLOCK.sub(lambda _: block(lines), text), encoding="utf-8")
    print(block(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
