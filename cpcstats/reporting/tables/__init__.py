r"""Publication tables: regression and descriptive tables as layout data, one renderer per format.

The layout is built once as data (`Cell`, `Row`, `Block`,
`Note`, `Layout`) and handed to one renderer per format, registered in
`cpcstats.reporting.tables.render.RENDERERS` (LaTeX, Markdown, HTML; the DataFrame
renderer is `LayoutTable.to_frame`).  Numbers stay semantic until the last step,
formatted by `cpcstats.reporting.format`, so every format shows the same figures with
its own typography and the output is byte-identical for identical input.

Modules, in the order data flows:

* `.terms` — readable labels of patsy terms (from `cpcstats.reporting.labels`), model parts;
* `.layout` — the layout data (`HeaderCell` for spanning headers, `PLACEMENTS`);
  `.text` — cleaning and escaping for each format, and `LATEX_PREAMBLE`, the packages
  every `.tex` table needs;
* `.model_table` (`table`), `.model_options` (its options, checked), `.gof` (statistics
  rows as data),
  `.notes` (the notes under a regression table, the companion notes file), `.stats_table`
  (`stats_table`, `SimpleTable`, `BlockTable`), `.design_table` (`DesignTable`: a research
  design's estimate panels, tests and counts);
* `.page_fit` — where a LaTeX table goes on an A4 page with 2.5 cm margins, by rule
  (`choose_placement`: portrait, landscape, resized or a longtable);
* `.render_latex`, `.render_markdown`, `.render_html`, `.render_frame`,
  and `.render` (the registry); `.base` (the ``to_*`` methods every table has).

Text safety and the LaTeX engines (pdflatex for Latin text, lualatex with
`UNICODE_PREAMBLE` otherwise) are described in `.text`.
"""

from __future__ import annotations

from cpcstats.io import write_atomic
from cpcstats.reporting.format import format_number
from cpcstats.reporting.tables.base import LayoutTable
from cpcstats.reporting.tables.design_table import (
    CountRow,
    DesignTable,
    EstimatePanel,
    EstimateRow,
    TestRow,
)
from cpcstats.reporting.tables.gof import GOF_CATALOGUE, GOF_MAP, Statistic, resolve_gof, se_label
from cpcstats.reporting.tables.layout import PLACEMENTS, Block, Cell, HeaderCell, Layout, Note, Row
from cpcstats.reporting.tables.model_table import RegressionTable, table
from cpcstats.reporting.tables.notes import FLAG, SIMULATED_NOTE, write_notes_file
from cpcstats.reporting.tables.page_fit import Placement, choose_placement
from cpcstats.reporting.tables.render import RENDERERS, render
from cpcstats.reporting.tables.stats_table import BlockTable, SimpleTable, stats_table
from cpcstats.reporting.tables.terms import COUNT_PART_TITLE, PART_TITLES, pretty_term, split_part
from cpcstats.reporting.tables.text import (
    LATEX_PACKAGES,
    LATEX_PREAMBLE,
    UNICODE_PREAMBLE,
    clean_text,
    latex_escape,
    needs_unicode_engine,
    unicode_preamble,
)

__all__ = [
    "COUNT_PART_TITLE",
    "FLAG",
    "GOF_CATALOGUE",
    "GOF_MAP",
    "LATEX_PACKAGES",
    "LATEX_PREAMBLE",
    "PART_TITLES",
    "PLACEMENTS",
    "RENDERERS",
    "SIMULATED_NOTE",
    "UNICODE_PREAMBLE",
    "Block",
    "BlockTable",
    "Cell",
    "CountRow",
    "DesignTable",
    "EstimatePanel",
    "EstimateRow",
    "HeaderCell",
    "Layout",
    "LayoutTable",
    "Note",
    "Placement",
    "RegressionTable",
    "Row",
    "SimpleTable",
    "Statistic",
    "TestRow",
    "choose_placement",
    "clean_text",
    "format_number",
    "latex_escape",
    "needs_unicode_engine",
    "pretty_term",
    "render",
    "resolve_gof",
    "se_label",
    "split_part",
    "stats_table",
    "table",
    "unicode_preamble",
    "write_atomic",
    "write_notes_file",
]
