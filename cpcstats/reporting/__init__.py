"""Reporting: the library every producer of tables and figures calls.

* `cpcstats.reporting.format` — the one place numbers, p-values, minus signs and
  stars are formatted;
* `cpcstats.reporting.tables` — regression and statistics tables as layout data, with
  one renderer per format (LaTeX, Markdown, HTML, DataFrame) registered in
  `cpcstats.reporting.tables.render.RENDERERS`;
* `cpcstats.reporting.write` — a table written in the formats the run asks for;
* `cpcstats.reporting.diagnostics` — the diagnostics frame as a printed table;
* `cpcstats.reporting.style` — the figures' look, the simulated-data mark, saving;
* `cpcstats.reporting.figures`, `cpcstats.reporting.rootogram` — the plots;
* `cpcstats.reporting.topics` — the yearly topic table and figure.

Designs, the topics step and the replication use it; it imports none of them (the layer
order is in ARCHITECTURE.md and checked by tests/test_architecture.py).  Nothing is
imported here, so importing one module does not load matplotlib for a table.
"""
