"""The README's contract tables are generated from, and must match, cpcstats.contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpcstats import contract

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "columns",
    [
        contract.CONTACT_COLUMNS,
        contract.PARTY_COLUMNS,
        contract.STATUS_COLUMNS,
        contract.COVARIATE_COLUMNS,
    ],
)
def test_readme_documents_every_contract_column(columns: dict[str, tuple[str, str]]) -> None:
    for name, (required, meaning) in columns.items():
        assert f"| `{name}` | {required} | {meaning} |" in README, name


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```")[1]
    assert "make replicate" in block and "make test" in block
