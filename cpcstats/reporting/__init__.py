"""Reporting: the library every producer of tables and figures calls.

* `cpcstats.reporting.format` — the one place numbers, p-values, minus signs and
  stars are formatted;
* `cpcstats.reporting.labels` — the labels file (``models/labels.toml``): reader's
  labels of variables, levels, models, estimators and fixed effects, and terms composed
  from them ("Ruling party × Not Free"), so no table or figure shows a raw name;
* `cpcstats.reporting.tables` — regression, design and statistics tables as layout
  data, with one renderer per format (LaTeX, Markdown, HTML, DataFrame) registered in
  `cpcstats.reporting.tables.render.RENDERERS`, each LaTeX table placed on the page by
  rule (`cpcstats.reporting.tables.page_fit`);
* `cpcstats.reporting.write` — a table written in the formats the run asks for;
* `cpcstats.reporting.diagnostics` — the diagnostics frame as a printed table;
* `cpcstats.reporting.style` — the figures' look, the simulated-data mark, saving
  (every plot returns a matplotlib Figure, saved only when given a stem);
* `cpcstats.reporting.figures`, `cpcstats.reporting.rootogram` — Figure 1, the IRR
  figure and the rootograms;
* `cpcstats.reporting.study_figures` — the study's Figures 2, 4 and 5 (direction per
  year, contacts per party, government and opposition contacts by regime);
* `cpcstats.reporting.world_map` — Figure 3, the world map of contacts per country,
  drawn from the Natural Earth shapes shipped in ``cpcstats/reference/world_atlas/``;
* `cpcstats.reporting.topics` — the yearly topic table and figure.

Designs, the topics step and the replication use it; it imports none of them (the layer
order is in ARCHITECTURE.md and checked by tests/test_architecture.py).  Nothing is
imported here, so importing one module does not load matplotlib for a table.
"""
