"""The study's own exhibits, from any study's data: Figures 1-5, the IRR figure and Table 1.

Figure 1 contacts per year (party vs non-party), Figure 2 inbound vs outbound per year,
Figure 3 the world map of contacts per country, Figure 4 the distribution of contacts per
party, Figure 5 government vs opposition contacts by Freedom House status (counts), the
incidence-rate-ratio figure of ``[figures] irr_models`` and Table 1 (the data's own top 20
partners with their counts, beside ``published_partners``, the comparison with the
published list).  Figures 6-8 (topics) are `cpcstats.reporting.topics`'.

Why one module: each exhibit needs a different part of the study (directions, a parties
register, party status and Freedom House status); a study without that part gets no
empty figure but a line in ``figures/captions.md`` saying which exhibit was skipped and
why, beside the caption of every exhibit drawn (its period, what it leaves out).

Periods: the yearly figures cover the study's window; the aggregates (Figures 3-5 and
Table 1) the published study's period (``[period]`` of the published figures, 2002-2017
for the reference study) intersected with the study's window, as the study counts them;
every caption says which years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpcstats.countries import country_name
from cpcstats.descriptives import (
    contacts_by_direction,
    contacts_per_party,
    government_opposition_by_regime,
    published_period,
    top_partners,
)
from cpcstats.io import write_atomic
from cpcstats.panels import yearly_totals
from cpcstats.replicate.config import ReplicationConfig
from cpcstats.replicate.published import published_file
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.reporting.figures import plot_irr, plot_yearly_contacts
from cpcstats.reporting.labels import Labels, default_labels, load_labels
from cpcstats.reporting.study_figures import (
    plot_contacts_per_party,
    plot_direction_by_year,
    plot_government_opposition,
)
from cpcstats.reporting.style import figure_paths, save_figure
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "CAPTIONS_FILE",
    "STUDY_EXHIBITS",
    "Exhibits",
    "exhibit_period",
    "run_labels",
    "top_partner_frame",
    "write_exhibits",
    "write_study_exhibit",
]

#: The file (under ``figures/``) with every exhibit's caption and every skip's reason.
CAPTIONS_FILE = "captions.md"
TOP_N = 20


@dataclass
class Exhibits:
    """What `write_exhibits` drew (name -> caption), skipped (name -> reason) and wrote."""

    captions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def add(self, other: Exhibits) -> None:
        """Append ``other``'s captions, skips and files after this one's."""
        self.captions.update(other.captions)
        self.skipped.update(other.skipped)
        self.files += other.files

    def markdown(self) -> str:
        """The captions file: one line per exhibit drawn, then one per exhibit skipped."""
        lines = ["# Exhibits of this replication", ""]
        lines += [f"- **{name}**: {text}" for name, text in self.captions.items()]
        if self.skipped:
            lines += ["", "## Not drawn", ""]
            lines += [f"- **{name}**: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines) + "\n"


def exhibit_period(study: Study, cfg: ReplicationConfig | None) -> tuple[int, int]:
    """The years of the aggregate exhibits: the published period within the study's window.

    The published period is the ``[period]`` of the study's published figures, else of
    the packaged ones (the reference study's 2002-2017); without one, or when it does
    not overlap the study's window, the study's own window.
    """
    path = published_file(study, cfg) if cfg is not None else None
    if path is None and cfg is not None:
        path = cfg.published
    first, last = published_period(path) if path is not None else (None, None)
    lo = max(study.first_year, first) if first is not None else study.first_year
    hi = min(study.last_year, last) if last is not None else study.last_year
    return (lo, hi) if lo <= hi else (study.first_year, study.last_year)


def run_labels(cfg: ReplicationConfig | None) -> Labels:
    """The run's labels file (``labels`` of replication.toml), else the packaged labels."""
    path = getattr(cfg, "labels", None)
    return load_labels(path) if isinstance(path, str | Path) else default_labels()


def _window(study: Study, period: tuple[int, int]) -> str:
    """ "2002-2017" and, when it is not the study's own window, that it was cut to it."""
    first, last = period
    if (first, last) == (study.first_year, study.last_year):
        return f"{first}-{last}"
    return (
        f"{first}-{last} (the published study's period within this study's "
        f"{study.first_year}-{study.last_year})"
    )


def _party_contacts(study: Study, period: tuple[int, int]) -> int:
    party = study.contacts[study.contacts["counterpart_type"] == "party"]
    return int(party["year"].between(*period).sum())


def _figure1(study: Study, out: Path, shown: Exhibits) -> None:
    stem = out / "figures" / "yearly_contacts"
    yearly = yearly_totals(study)
    no_party = int(yearly["party"].sum()) == 0
    if no_party:  # party and non-party lines would be 0 and the total: only the total
        yearly = yearly[["year", "total"]]
    plot_yearly_contacts(
        yearly,
        break_year=study.break_year,
        simulated=study.simulated,
        stem=stem,
        title=f"Contacts per year: {study.label()}",
    )
    shown.files += figure_paths(stem)
    split = (
        " (the study has no contacts with parties: total only)"
        if no_party
        else ": total, with parties and with non-party actors (ruling and opposition parties "
        "when the study has party status)"
    )
    shown.captions["yearly_contacts"] = (
        f"Figure 1. Contacts per year, {study.first_year}-{study.last_year}{split}; "
        "dashed line: the Xi era."
    )


def _figure2(study: Study, out: Path, shown: Exhibits) -> None:
    frame = contacts_by_direction(study.contacts, study.years)
    if int(frame[["inbound", "outbound"]].to_numpy().sum()) == 0:
        shown.skipped["direction_yearly"] = (
            "Figure 2 needs the contacts' direction; every contact's direction is 'unknown' "
            "(map a direction column or derive it in [contacts.derive.direction])."
        )
        return
    stem = out / "figures" / "direction_yearly"
    plot_direction_by_year(
        frame,
        break_year=study.break_year,
        simulated=study.simulated,
        stem=stem,
        title=f"Inbound and outbound contacts per year: {study.label()}",
    )
    shown.files += figure_paths(stem)
    unknown = int(frame["unknown"].sum())
    shown.captions["direction_yearly"] = (
        f"Figure 2. Contacts per year by direction, {study.first_year}-{study.last_year}: "
        "inbound (received in China) and outbound (Chinese side abroad)"
        + (f"; {unknown:,} contacts of unknown direction not shown." if unknown else ".")
    )


def _figure3(study: Study, out: Path, shown: Exhibits, period: tuple[int, int]) -> None:
    try:
        from cpcstats.reporting.world_map import world_map
    except ImportError:  # pragma: no cover - the map module ships with the package
        shown.skipped["world_map"] = "Figure 3 needs cpcstats.reporting.world_map."
        return
    events = study.contacts[study.contacts["year"].between(*period)]
    values = events.groupby("iso3").size().astype(int)
    if values.empty:
        shown.skipped["world_map"] = f"Figure 3: no contacts in {period[0]}-{period[1]}."
        return
    stem = out / "figures" / "world_map"
    drawn = world_map(
        values,
        title=f"Contacts per country, {period[0]}-{period[1]}: {study.label()}",
        legend_label="Contacts (log scale)",
        simulated=study.simulated,
        counted="contacts",
    )
    save_figure(drawn.figure, stem)
    shown.files += figure_paths(stem)
    missing = f"; {len(drawn.not_drawn)} countries too small for the map" if drawn.not_drawn else ""
    shown.captions["world_map"] = (
        f"Figure 3. Contacts per country (all counterparts), {_window(study, period)}; "
        f"grey: no contact{missing}."
    )


def _figure4(study: Study, out: Path, shown: Exhibits, period: tuple[int, int]) -> None:
    if not _party_contacts(study, period):
        shown.skipped["contacts_per_party"] = (
            f"Figure 4 needs contacts with parties (counterpart_type 'party') in "
            f"{period[0]}-{period[1]}; this study has none."
        )
        return
    counts = contacts_per_party(
        study.contacts, study.parties, first_year=period[0], last_year=period[1]
    )
    register = (
        f"the {len(counts):,} parties of the parties table active in the period "
        f"({counts.attrs['zero_parties']:,} of them never met)"
        if counts.attrs["register"]
        else f"the {len(counts):,} parties met (the study has no parties table)"
    )
    stem = out / "figures" / "contacts_per_party"
    plot_contacts_per_party(
        counts,
        simulated=study.simulated,
        stem=stem,
        title=f"Contacts per party, {period[0]}-{period[1]}: {study.label()}",
        note=f"Parties: {register}.",
    )
    shown.files += figure_paths(stem)
    shown.captions["contacts_per_party"] = (
        f"Figure 4. Distribution of the number of party contacts per party, "
        f"{_window(study, period)}; {register}. Left: parties per number of contacts; "
        "right: share of parties with at most x contacts (log scale)."
    )


def _figure5(
    study: Study, out: Path, shown: Exhibits, period: tuple[int, int], labels: Labels
) -> None:
    lacks = []
    if study.party_status is None:
        lacks.append("party status (a [party_status] table)")
    if study.covariates is None or "fh_status" not in study.covariates:
        lacks.append("Freedom House status (fh_status)")
    if not _party_contacts(study, period):
        lacks.append("contacts with parties")
    if lacks:
        shown.skipped["government_opposition"] = (
            f"Figure 5 needs {' and '.join(lacks)}, which this study lacks."
        )
        return
    table = government_opposition_by_regime(
        study.contacts,
        study.party_status,  # type: ignore[arg-type]
        study.covariates,
        first_year=period[0],
        last_year=period[1],
    )
    other, missing = int(table["other"].sum()), int(table.loc["missing"].sum())
    note = (
        f"Not shown: {other:,} contacts with support parties or parties without a status, "
        f"{missing:,} contacts in country-years without a Freedom House status."
    )
    stem = out / "figures" / "government_opposition"
    plot_government_opposition(
        table,
        simulated=study.simulated,
        stem=stem,
        labels=labels,
        title=f"Party contacts by government status and regime, {period[0]}-{period[1]}",
        note=note,
    )
    shown.files += figure_paths(stem)
    shown.captions["government_opposition"] = (
        f"Figure 5. Contacts with governing (senior or junior partner) and opposition "
        f"parties by the country's Freedom House status in the year of the contact, "
        f"counts, {_window(study, period)}. {note}"
    )


def _country(iso3: object) -> str:
    """The country's short name; an unknown code is shown as it is, a missing one empty."""
    if not isinstance(iso3, str):
        return ""
    try:
        return country_name(iso3)
    except ValueError:
        return iso3


def top_partner_frame(top: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as shown: rank (ties share it), party, country name, contacts."""
    names = top["party"].astype("string").fillna(top["party_id"].astype("string"))
    countries = [_country(c) for c in top["iso3"]]
    frame = pd.DataFrame(
        {
            "Party": names.to_numpy(dtype=object),
            "Country": countries,
            "Contacts": top["contacts"].astype(int).to_numpy(),
        },
        index=pd.Index(top["rank"].astype(int).to_numpy(), name="Rank"),
    )
    return frame


def _table1(
    study: Study, out: Path, shown: Exhibits, period: tuple[int, int], compared: bool
) -> None:
    if not _party_contacts(study, period):
        shown.skipped["table1_top_partners"] = (
            f"Table 1 needs contacts with parties in {period[0]}-{period[1]}; this study has none."
        )
        return
    top = top_partners(
        study.contacts, study.parties, first_year=period[0], last_year=period[1], n=TOP_N
    )
    notes = [
        f"Party contacts per party, {_window(study, period)}; each party of a joint meeting "
        f"counts one contact. Ties share the lowest rank and every party tied at rank "
        f"{TOP_N} is shown ({len(top)} parties).",
    ]
    if compared:
        notes.append(
            "The published list is compared with these counts in the table of published partners."
        )
    tab = stats_table(
        top_partner_frame(top),
        title=f"The most-contacted parties, {period[0]}-{period[1]}",
        label="tab:table1_top_partners",
        notes=notes,
        simulated=study.simulated,
    )
    shown.files += write_table(tab, out, "table1_top_partners")
    shown.captions["table1_top_partners"] = f"Table 1. {notes[0]}"


def _irr(cfg: ReplicationConfig, result: ReplicationResult, study: Study, shown: Exhibits) -> None:
    models = [result.fitted[m] for m in cfg.irr_models if m in result.fitted]
    if not models:
        if cfg.irr_models:
            shown.skipped["irr_main"] = "none of [figures] irr_models was fitted."
        return
    stem = result.out_dir / "figures" / "irr_main"
    plot_irr(models, stem=stem, simulated=study.simulated, labels=run_labels(cfg))
    shown.files += figure_paths(stem)
    shown.captions["irr_main"] = (
        "Incidence-rate ratios with 95% confidence intervals (log scale) of the models of "
        "[figures] irr_models; hollow markers: the fit did not converge."
    )


#: the exhibits that need only the study, in the order they are shown (`write_study_exhibit`)
STUDY_EXHIBITS = ("figure1", "figure2", "figure3", "figure4", "figure5", "table1")


def write_study_exhibit(cfg: ReplicationConfig, study: Study, out: Path, part: str) -> Exhibits:
    """One of `STUDY_EXHIBITS` (Figures 1-5, Table 1), which need only the study.

    Why one at a time: they need no fitted model, so the run's workers draw them, each a
    task of its own, while the run fits its models (`cpcstats.replicate.parallel`);
    small tasks queued after the designs even out the workers' loads.
    """
    period = exhibit_period(study, cfg)
    shown = Exhibits()
    draw: dict[str, Callable[[], None]] = {
        "figure1": lambda: _figure1(study, out, shown),
        "figure2": lambda: _figure2(study, out, shown),
        "figure3": lambda: _figure3(study, out, shown, period),
        "figure4": lambda: _figure4(study, out, shown, period),
        "figure5": lambda: _figure5(study, out, shown, period, run_labels(cfg)),
        "table1": lambda: _table1(
            study, out, shown, period, compared=published_file(study, cfg) is not None
        ),
    }
    if part not in draw:
        raise ValueError(f"unknown study exhibit {part!r}; one of {STUDY_EXHIBITS}")
    draw[part]()
    return shown


def write_exhibits(
    cfg: ReplicationConfig,
    result: ReplicationResult,
    study: Study,
    progress: Callable[[str], None] | None = None,
    drawn: list[Exhibits] | None = None,
) -> list[Path]:
    """Every figure of the replication except the designs' and topics', and Table 1.

    Writes ``figures/<name>.{pdf,png}`` for each exhibit the study's data allow,
    ``tables/table1_top_partners.*`` and ``figures/captions.md`` (captions and the reason
    of every skip, also sent to ``progress``).  Byte-identical across runs.  ``drawn``:
    the `STUDY_EXHIBITS` already written (a worker's, in that order), else they are
    written here.  Returns the written paths.
    """
    out = result.out_dir
    if drawn is None:
        drawn = [write_study_exhibit(cfg, study, out, part) for part in STUDY_EXHIBITS]
    shown = Exhibits()
    for part, exhibit in zip(STUDY_EXHIBITS, drawn, strict=True):
        if part == "table1":  # the IRR figure is listed after the study's figures
            _irr(cfg, result, study, shown)
        shown.add(exhibit)
    captions = out / "figures" / CAPTIONS_FILE
    shown.files.append(write_atomic(captions, shown.markdown().encode("utf-8")))
    for name, why in shown.skipped.items():
        if progress is not None:
            progress(f"      {name}: skipped, {why}")
    return shown.files
