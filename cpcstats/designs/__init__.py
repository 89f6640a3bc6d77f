"""The study's research designs, one module each, and their registry.

A research design has one name: its ``kind`` in ``replication/replication.toml``, its key in
`DESIGNS` and its module ``cpcstats.designs.<name>`` (the registry maps the name to
the module path, so a new design is one module plus one line here).  Every design is a
function ``run(study, panels, out, **params) -> ResearchDesignResult``
(`cpcstats.designs.base`) that fits its models, writes its table and figure into
``out/tables`` and ``out/figures`` as ``design_<name>`` (the Xi-era break writes
``design_xi``, a name older than this rule and kept so outputs stay identical), and returns
a JSON-ready record.  The replication runs the designs named in ``replication.toml``.
"""

from __future__ import annotations

__all__ = ["DESIGNS", "DESIGN_SECONDS"]

#: Research design name (``kind`` in replication.toml) -> module holding its ``run``.
DESIGNS: dict[str, str] = {
    "ruling_regime": "cpcstats.designs.ruling_regime",
    "bri": "cpcstats.designs.bri",
    "taiwan": "cpcstats.designs.taiwan",
    "xi_break": "cpcstats.designs.xi_break",
    "ideology": "cpcstats.designs.ideology",
}

#: Seconds each design took on the demo in one cold replication's timeline (one core,
#: 2026-12-02): only an order, not a limit.  The
#: replication starts its designs on the workers longest first, so that no long design is
#: started last while the other processes have run out of work; a kind missing here
#: counts 1 s.
DESIGN_SECONDS: dict[str, float] = {
    "bri": 2.6,
    "taiwan": 1.4,
    "xi_break": 1.1,
    "ruling_regime": 0.8,
    "ideology": 0.3,
}
