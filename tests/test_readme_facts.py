"""The README's figures about the replication's outputs and the suite are the real ones.

``replication/readme_facts.py`` writes them; this test replicates the demo afresh and
rebuilds the counted rows (tables, figures, panels) from the output folder, and — when the
whole suite runs — compares the stated number of tests with what this session collected, so a
README that says "11 tables" or "~500 tests" after the code changed fails here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from cpcstats import replicate

ROOT = Path(__file__).resolve().parents[1]


def _facts_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "readme_facts", ROOT / "replication" / "readme_facts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_facts"] = module
    spec.loader.exec_module(module)
    return module


FACTS = _facts_module()


def _readme_block() -> list[str]:
    found = FACTS.BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md lost its readme-facts block (replication/readme_facts.py writes it)"
    return found.group(0).splitlines()


def test_readme_counts_the_replications_outputs(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    replicate("demo", out=out, progress=lambda _line: None)
    stated = _readme_block()
    for line in FACTS.output_lines(out):
        assert line in stated, (
            f"README.md's facts block is stale; expected the row\n{line}\n"
            "run: .venv/bin/python replication/readme_facts.py"
        )


def test_readme_counts_the_suite(request: pytest.FixtureRequest) -> None:
    rows = [ln for ln in _readme_block() if ln.startswith("| test suite |")]
    assert len(rows) == 1, "README.md's facts block has no test-suite row"
    stated = int(re.search(r"(\d+) tests", rows[0]).group(1))  # type: ignore[union-attr]
    collected = len(request.session.items)
    args = [a for a in request.config.args if not a.startswith("-")]
    if args not in ([], ["tests"], [str(ROOT / "tests")]):
        pytest.skip(
            f"only part of the suite collected ({collected} tests): the count is not checked"
        )
    assert stated == collected, (
        f"README.md says {stated} tests, the suite has {collected}: "
        "run .venv/bin/python replication/readme_facts.py"
    )
