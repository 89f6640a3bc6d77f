"""The study's substantive designs, one module each.

Every design is a function ``run(study, panels, out, **params) -> DesignOutput``
that fits its models, writes one LaTeX/Markdown table and one figure into
``out/tables`` and ``out/figures``, and returns a JSON-ready record.  The
replication runs the designs named in ``replication/replication.toml``.
"""
