"""The one formatting module (cpcstats.reporting.format) and the table-format registry
(cpcstats.reporting.tables.render.RENDERERS, read by write_table)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cpcstats.reporting.diagnostics import diagnostics_display, diagnostics_stats_table
from cpcstats.reporting.format import (
    MINUS,
    format_compact,
    format_number,
    format_p_value,
    format_signed,
    minus_sign,
    star_legend,
    star_string,
)
from cpcstats.reporting.tables import Layout, SimpleTable, stats_table
from cpcstats.reporting.tables.render import RENDERERS
from cpcstats.reporting.write import TABLE_FORMATS, check_formats, table_formats, write_table


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


def _small_table() -> SimpleTable:
    frame = pd.DataFrame({"share": [0.25, -0.5], "n": [3, 1200]}, index=["a", "b <i>"])
    return stats_table(frame, title="Small", label="tab:small", notes=("a note",))


def test_every_registered_format_is_written(tmp_path: Path) -> None:
    tab = _small_table()
    assert set(TABLE_FORMATS) == {"tex", "md", "html"}
    assert TABLE_FORMATS is RENDERERS
    paths = write_table(tab, tmp_path, "small", formats=("tex", "md", "html"))
    assert [p.name for p in paths] == ["small.tex", "small.md", "small.html"]
    assert paths[0].read_text() == tab.to_latex()
    assert paths[1].read_text() == tab.to_markdown()
    assert paths[2].read_text() == tab.to_html()
    assert "&lt;i&gt;" in paths[2].read_text()
    assert "$-$0.500" in tab.to_latex()


def test_run_formats_include_html(tmp_path: Path) -> None:
    with table_formats(["html"]):
        paths = write_table(_small_table(), tmp_path, "small")
    assert [p.suffix for p in paths] == [".html"]


def test_a_new_format_is_one_registry_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def render_rows(layout: Layout) -> str:
        return "\n".join(row.label for block in layout.blocks for row in block.rows) + "\n"

    monkeypatch.setitem(RENDERERS, "txt", render_rows)
    assert check_formats(["txt"]) == ("txt",)
    (path,) = write_table(_small_table(), tmp_path, "small", formats=["txt"])
    assert path.read_text() == "a\nb <i>\n"
    assert _small_table().render("txt") == "a\nb <i>\n"


def test_frame_renderer_shows_the_grid() -> None:
    frame = _small_table().to_frame()
    assert list(frame.columns) == ["share", "n"]
    assert frame.loc["b <i>", "n"] == "1,200"


def test_diagnostics_display_prints_values_and_p_values() -> None:
    frame = pd.DataFrame(
        {
            "models": ["a", "b", "c", "d"],
            "value": [1234.56789, -2.5, 3.4e7, math.nan],
            "p_value": [0.0004, 0.001, math.nan, 0.5],
        },
        index=pd.Index(["t1", "t2", "t3", "t4"], name="test"),
    )
    shown = diagnostics_display(frame)
    assert list(shown["value"]) == ["1,234.568", "-2.500", "3.4e+07", "nan"]
    assert list(shown["p_value"]) == ["<0.001", "0.001", "", "0.500"]
    assert (
        diagnostics_stats_table(frame, label="tab:d").to_markdown()
        == stats_table(shown, title="Diagnostics", label="tab:d").to_markdown()
    )


def test_format_compact() -> None:
    assert format_compact(999_999.0) == "999,999.000"
    assert format_compact(-1e6) == "-1e+06"
