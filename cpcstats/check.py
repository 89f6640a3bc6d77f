"""``cpcstats check``: what a study will use, match and drop — without fitting anything.

Why: a replicator with a new data file needs to see, before any model runs, which files
are read (with their checksums), how every country spelling was matched, which rules
the study file applies, and how many rows each stage keeps and drops and why.  The
report is plain text built from the same loading code the replication uses, so what
``check`` shows is what ``replicate`` will do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cpcstats.accounting import StageAccount
from cpcstats.countries import DROP_UNMATCHED
from cpcstats.panels import country_year, party_year
from cpcstats.study import PUBLISHED_DEFAULT, UNKNOWN_PARTY, Study, load_study
from cpcstats.study.registers import DROP_NAME_UNMATCHED


@dataclass
class CheckReport:
    """The check's text and whether the study is ready (no row dropped without a reason)."""

    study: Study
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        tail = (
            ["", "OK: every input row is used or dropped with a stated reason."]
            if self.ok
            else ["", "NOT READY:", *(f"  - {p}" for p in self.problems)]
        )
        return "\n".join([*self.lines, *tail])


def check_study(study: str | Path) -> CheckReport:
    """Load ``study`` and build its panels; report inputs, rules, matches and drops."""
    st = load_study(study)
    report = CheckReport(st)
    add = report.lines.append
    kind = "SIMULATED demo study" if st.simulated else "study"
    add(f"{kind}: {st.name}")
    add(f"  file: {st.config_path}")
    add(f"  window: {st.first_year}-{st.last_year}, break year {st.break_year}")
    add("")
    add("Inputs read:")
    for info in st.inputs:
        add(f"  {info.path}")
        add(f"    {info.rows:,} rows, sha256 {info.sha256[:16]}…, encoding {info.encoding or '-'}")
    add("")
    add("Rules applied:")
    for note in st.notes or ["(none beyond the data contract)"]:
        add(f"  - {note}")
    add("")
    _country_matching(report, add)
    if st.party_matching is not None:
        add("")
        _party_matching(st, add)
    add("")
    add("Rows kept and dropped, stage by stage:")
    for account in st.ledger.stages:
        add(f"  {account.summary()}")
    panels = {"country-year": country_year(st)}
    if st.has_parties:
        panels["party-year"] = party_year(st)
    for panel in panels.values():
        for account in panel.accounts:
            add(f"  {account.summary()}")
            dropped = {k: v for k, v in account.notes.items() if k != "countries" and v}
            if dropped and any(account.dropped.values()):
                add(f"    which: {dropped}")
    accounts = [*st.ledger.stages, *(a for p in panels.values() for a in p.accounts)]
    for account in accounts:
        report.problems += _unstated_problems(account)
    if not any(rep.unmatched for rep in st.harmonisation.values()):
        # a safety net: unmatched rows of a stage whose report is not in st.harmonisation
        for account in accounts:
            if account.dropped.get(DROP_UNMATCHED):
                report.problems.append(
                    f"{account.stage}: {account.dropped[DROP_UNMATCHED]:,} row(s) dropped "
                    f"without a stated reason ({DROP_UNMATCHED}); add the spellings to "
                    "[countries.overrides] or [countries.exclude] (with a reason)"
                )
    add("")
    add("Panels that `replicate` will build:")
    for level, panel in panels.items():
        years = panel.data["year"]
        if years.empty:
            add(f"  {level}: 0 rows (no unit in any year of the window)")
            report.problems.append(
                f"the {level} panel has no rows: no models can be fitted on it; see the "
                "stages above for where its rows went"
            )
            continue
        add(
            f"  {level}: {len(panel.data):,} rows, {int(years.min())}-{int(years.max())}, "
            f"columns: {', '.join(map(str, panel.data.columns))}"
        )
    if not st.has_parties:
        add("  party-year: not built (no [parties] / [party_status]); party-level models and")
        add("  designs will be skipped with this reason")
    add("")
    _check_topics(st, add)
    add("")
    if st.published is None:
        add("Published-figure comparison: not enabled ([published] absent)")
    else:
        add(f"Published-figure comparison: enabled ({_published_text(st.published)})")
    return report


def _unstated_problems(account: StageAccount) -> list[str]:
    """One problem per reason that dropped rows although no rule of the study states it."""
    problems = []
    for why, n in account.unstated_drops().items():
        detail = ""
        ids = account.notes.get("unknown_party_ids")
        if ids:
            detail = ": " + ", ".join(f"{k!r} ({v} rows)" for k, v in list(ids.items())[:10])
        problems.append(
            f"{account.stage}: {n:,} row(s) dropped without a stated reason ({why}){detail}; "
            + UNSTATED_FIXES.get(why, "correct the input so that the rows are used")
        )
    return problems


UNSTATED_FIXES = {
    UNKNOWN_PARTY: "add the parties to the parties table, or correct the party ids in the "
    "party-status table (or delete those rows)",
    DROP_NAME_UNMATCHED: "settle each name listed under Party-name matching in "
    "[parties.overrides] ('ISO3:name' = Party Facts id), or correct the name",
}
"""The fix printed with each unstated drop reason."""


def _country_matching(report: CheckReport, add: Callable[[str], None]) -> None:
    """Each input's country harmonisation; names dropped without a reason are problems."""
    add("Country matching:")
    for name, rep in report.study.harmonisation.items():
        add(f"  [{name}]")
        add("    " + rep.summary().replace("\n", "\n    "))
        if rep.unmatched:
            listed = ", ".join(f"'{k}' ({v} rows)" for k, v in sorted(rep.unmatched.items()))
            report.problems.append(
                f"{name}: country names dropped without a stated reason: {listed}; add them "
                "to [countries.overrides] or [countries.exclude] (with a reason)"
            )


def _party_matching(st: Study, add: Callable[[str], None]) -> None:
    """Per input party name (and country): the Party Facts id taken and how, or the
    candidates when none was taken (those contacts are dropped: check fails on them)."""
    report = st.party_matching
    add("Party-name matching (contacts named only by party_name):")
    add("  " + report.summary().replace("\n", "\n  "))


def _check_topics(st: Study, add: Callable[[str], None]) -> None:
    """Load the topic dictionary `replicate` would use, so that a bad pattern or key is
    reported by `check` (a SpecError, exit 2) rather than only at the topics step."""
    from cpcstats.topics import has_texts, study_dictionary

    named = isinstance(st.config, dict) and bool(st.config.get("topics", {}).get("dictionary"))
    if not (named or has_texts(st.contacts)):
        add("Topics: the contacts have no texts; no topic dictionary is used")
        return
    dictionary = study_dictionary(st)
    names = ", ".join(t.name for t in dictionary.topics)
    add(f"Topics: {len(dictionary.topics)} topics checked ({names})")
    if not has_texts(st.contacts):
        add("  (the contacts have no texts: the dictionary will not be used)")


def _published_text(published: Path) -> str:
    """Where the published figures come from, as the check report names them."""
    if published == PUBLISHED_DEFAULT:
        return "published.toml beside the replication configuration"
    return str(published)
