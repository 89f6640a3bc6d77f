"""The one formatting module (cpcstats.reporting.format) and the table-format registry."""

from __future__ import annotations

import math

import pytest

from cpcstats.reporting.format import (
    MINUS,
    format_number,
    format_p_value,
    format_signed,
    minus_sign,
    star_legend,
    star_string,
)


def test_format_number_matches_table_cells() -> None:
    assert format_number(-0.0001, 3) == "0.000"
    assert format_number(1234567, thousands=True) == "1,234,567"
    assert format_number(None) == "NA"
    assert format_number(math.inf) == "Inf"
    assert format_number(-math.inf) == "-Inf"
    assert format_number(True) == "1.000"


def test_signs_use_the_typographic_minus() -> None:
    assert minus_sign(-3) == f"{MINUS}3"
    assert minus_sign("e = -1 to -2") == f"e = {MINUS}1 to {MINUS}2"
    assert format_signed(-1.23456, 2) == f"{MINUS}1.23"
    assert format_signed(0.5) == "0.500"
    assert format_signed(math.nan) == "—"
    assert format_signed(math.inf, missing="n/a") == "n/a"


@pytest.mark.parametrize(
    ("p", "kwargs", "expected"),
    [
        (0.0004, {}, "< 0.001"),
        (0.0004, {"space": False}, "<0.001"),
        (0.001, {}, "0.001"),
        (0.25, {}, "0.250"),
        (0.00004, {"digits": 4}, "< 0.0001"),
        (math.nan, {}, "NA"),
    ],
)
def test_format_p_value(p: float, kwargs: dict, expected: str) -> None:
    assert format_p_value(p, **kwargs) == expected


def test_stars_and_legend() -> None:
    thresholds = (0.10, 0.05, 0.01)
    assert star_string(0.03, thresholds) == "**"
    assert star_string(0.5, thresholds) == ""
    assert star_string(math.nan, thresholds) == ""
    assert star_legend(thresholds) == "* p<0.10, ** p<0.05, *** p<0.01"
    assert star_legend((0.001,)) == "* p<0.001"
