"""Reporting: the library every producer of tables and figures calls.

* :mod:`~cpcstats.reporting.format` — the one place numbers, p-values, minus signs and
  stars are formatted;
* :mod:`~cpcstats.reporting.tables` — regression and statistics tables as layout data, with
  one renderer per format (LaTeX, Markdown, HTML, DataFrame) registered in
  :data:`cpcstats.reporting.tables.render.RENDERERS`;
* :mod:`~cpcstats.reporting.write` — a table written in the formats the run asks for;
* :mod:`~cpcstats.reporting.diagnostics` — the diagnostics frame as a printed table;
* :mod:`~cpcstats.reporting.style` — the figures' look, the simulated-data mark, saving;
* :mod:`~cpcstats.reporting.figures`, :mod:`~cpcstats.reporting.rootogram` — the plots;
* :mod:`~cpcstats.reporting.topics` — the yearly topic table and figure.

Designs, the topics step and the replication use it; it imports none of them (the layer
order is in ARCHITECTURE.md and checked by tests/test_architecture.py).  Nothing is
imported here, so importing one module does not load matplotlib for a table.
"""
