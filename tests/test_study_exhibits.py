"""The study's exhibits (Figures 1-5, Table 1) from the demo and from the real China Vitae study.

Each drawn value is checked against an independent count of the contacts (plain Python or
a pandas count written here, not the package's functions): Figure 2's bar heights, Figure
4's histogram and never-met parties, Figure 5's government / opposition counts by Freedom
House status, Table 1's top partners.  Outputs are byte-identical across runs and marked
SIMULATED on the demo; exhibits a study cannot have are skipped with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import cpcstats
from cpcstats.descriptives import (
    contacts_by_direction,
    contacts_per_party,
    government_opposition_by_regime,
)
from cpcstats.replicate.config import default_config, load_replication_config
from cpcstats.replicate.exhibits import CAPTIONS_FILE, exhibit_period, write_exhibits
from cpcstats.replicate.stages import ReplicationResult
from cpcstats.reporting.study_figures import (
    plot_contacts_per_party,
    plot_direction_by_year,
    plot_government_opposition,
)
from cpcstats.reporting.style import SIMULATED_MARK

REPO = Path(__file__).resolve().parents[1]
PERIOD = (2002, 2017)
DEMO_FIGURES = {
    "yearly_contacts",
    "direction_yearly",
    "world_map",
    "contacts_per_party",
    "government_opposition",
}


@pytest.fixture(scope="module")
def demo() -> cpcstats.Study:
    return cpcstats.load_study("demo")


@pytest.fixture(scope="module")
def demo_cfg():
    return load_replication_config(default_config("demo"))


def _run(cfg, study, out: Path) -> list[Path]:
    return write_exhibits(cfg, ReplicationResult(out), study)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory, demo, demo_cfg) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("exhibits") / "a"
    return out, _run(demo_cfg, demo, out)


def _bars(fig: Figure, label: str) -> list[float]:
    ax = fig.axes[0]
    (container,) = [c for c in ax.containers if c.get_label() == label]
    return [float(p.get_height()) for p in container.patches]


# --------------------------------------------------------------------------- the run
def test_demo_exhibits_all_written_and_skips_explained(demo_out) -> None:
    out, files = demo_out
    names = {p.relative_to(out).as_posix() for p in files}
    for stem in DEMO_FIGURES:
        assert {f"figures/{stem}.pdf", f"figures/{stem}.png"} <= names
        assert (out / "figures" / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
    assert {"tables/table1_top_partners.tex", "tables/table1_top_partners.md"} <= names
    captions = (out / "figures" / CAPTIONS_FILE).read_text(encoding="utf-8")
    for stem in DEMO_FIGURES:
        assert f"**{stem}**" in captions
    # no model was fitted in this run: the IRR figure is skipped and says why
    assert "## Not drawn" in captions and "**irr_main**: none of [figures] irr_models" in captions
    assert "2002-2017 (the published study's period within this study's 2002-2023)" in captions


def test_demo_exhibits_are_byte_identical_across_runs(demo_out, demo, demo_cfg, tmp_path) -> None:
    out, files = demo_out
    again = _run(demo_cfg, demo, tmp_path / "b")
    assert [p.relative_to(tmp_path / "b") for p in again] == [p.relative_to(out) for p in files]
    for first, second in zip(files, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_demo_exhibits_are_marked_simulated(demo_out, demo, demo_cfg, tmp_path) -> None:
    out, files = demo_out
    real = _run(demo_cfg, replace(demo, simulated=False), tmp_path / "real")
    for marked, unmarked in zip(files, real, strict=True):
        if marked.suffix == ".png":
            assert marked.read_bytes() != unmarked.read_bytes(), marked.name
    table = (out / "tables" / "table1_top_partners.md").read_text(encoding="utf-8")
    assert "SIMULATED" in table
    fig = plot_direction_by_year(
        contacts_by_direction(demo.contacts, demo.years), break_year=2013, simulated=True
    )
    assert SIMULATED_MARK in [t.get_text() for t in fig.texts]


def test_exhibit_period_is_the_published_period_within_the_window(demo, demo_cfg) -> None:
    assert exhibit_period(demo, demo_cfg) == PERIOD
    short = replace(demo, first_year=2005, last_year=2020)
    assert exhibit_period(short, demo_cfg) == (2005, 2017)
    assert exhibit_period(demo, None) == (demo.first_year, demo.last_year)


# --------------------------------------------------------------------------- Figure 2
def test_figure2_bars_are_the_contacts_per_year_and_direction(demo) -> None:
    frame = contacts_by_direction(demo.contacts, demo.years)
    fig = plot_direction_by_year(frame, break_year=demo.break_year, simulated=True)
    assert isinstance(fig, Figure)
    counted = Counter(zip(demo.contacts["year"], demo.contacts["direction"], strict=True))
    for direction, label in (("inbound", "Inbound"), ("outbound", "Outbound")):
        (name,) = [c.get_label() for c in fig.axes[0].containers if label in c.get_label()]
        expected = [counted.get((year, direction), 0) for year in demo.years]
        assert _bars(fig, name) == expected
        assert sum(expected) > 0


# --------------------------------------------------------------------------- Figure 4
def test_figure4_counts_every_party_of_the_register(demo) -> None:
    counts = contacts_per_party(demo.contacts, demo.parties, first_year=2002, last_year=2017)
    party = demo.contacts[
        (demo.contacts["counterpart_type"] == "party") & demo.contacts["year"].between(*PERIOD)
    ]
    met = Counter(party["party_id"])
    active = demo.parties[
        (demo.parties["active_from"].fillna(0) <= 2017)
        & (demo.parties["active_to"].fillna(9999) >= 2002)
    ]
    never = set(active["party_id"]) - set(met)
    assert counts.attrs["zero_parties"] == len(never) > 0
    assert int((counts == 0).sum()) == len(never)
    assert {k: int(v) for k, v in counts[counts > 0].items()} == dict(met)

    fig = plot_contacts_per_party(counts, simulated=True)
    bars = fig.axes[0].patches
    values = np.array(list(met.values()))
    for bar in bars:  # each bar holds the parties with left <= contacts < left + width
        left, width = bar.get_x(), bar.get_width()
        assert bar.get_height() == ((values >= left) & (values < left + width)).sum()
    assert sum(b.get_height() for b in bars) == len(met)
    assert fig.axes[0].get_xscale() == "log"
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(ticks) == len(set(ticks))


def test_figure4_without_a_register_has_no_zeros(demo) -> None:
    counts = contacts_per_party(demo.contacts, None, first_year=2002, last_year=2017)
    assert counts.attrs == {"zero_parties": 0, "register": False}
    assert (counts > 0).all()


# --------------------------------------------------------------------------- Figure 5
def _independent_regime_counts(study) -> Counter:
    status = {
        (p, int(y)): s
        for p, y, s in study.party_status[["party_id", "year", "status"]].itertuples(index=False)
    }
    regime = {
        (c, int(y)): f
        for c, y, f in study.covariates[["iso3", "year", "fh_status"]].itertuples(index=False)
    }
    out: Counter = Counter()
    party = study.contacts[study.contacts["counterpart_type"] == "party"]
    for pid, iso3, year in party[["party_id", "iso3", "year"]].itertuples(index=False):
        if not PERIOD[0] <= year <= PERIOD[1]:
            continue
        s = status.get((pid, int(year)))
        group = (
            "government"
            if s in ("senior", "junior")
            else "opposition"
            if s == "opposition"
            else "other"
        )
        fh = regime.get((iso3, int(year)))
        out[(fh if isinstance(fh, str) else "missing", group)] += 1
    return out


def test_figure5_counts_are_the_government_and_opposition_contacts(demo) -> None:
    table = government_opposition_by_regime(
        demo.contacts, demo.party_status, demo.covariates, first_year=2002, last_year=2017
    )
    expected = _independent_regime_counts(demo)
    for fh in ("F", "PF", "NF", "missing"):
        for group in ("government", "opposition", "other"):
            assert table.loc[fh, group] == expected.get((fh, group), 0), (fh, group)
    fig = plot_government_opposition(table, simulated=True)
    assert _bars(fig, "Governing parties") == [
        expected[(r, "government")] for r in ("F", "PF", "NF")
    ]
    assert _bars(fig, "Opposition parties") == [
        expected[(r, "opposition")] for r in ("F", "PF", "NF")
    ]
    # the x axis and its title are the labels file's, not the codes
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "Free",
        "Partly Free",
        "Not Free",
    ]
    assert fig.axes[0].get_xlabel() == "Freedom House status"
    # each bar carries its count as text
    shown = {t.get_text() for t in fig.axes[0].texts}
    assert f"{expected[('NF', 'government')]:,}" in shown


# --------------------------------------------------------------------------- Table 1
def _markdown_rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and re.fullmatch(r"\d+", cells[0]):
            rows.append(cells)
    return rows


def test_table1_lists_the_data_own_top_partners_with_counts(demo_out, demo) -> None:
    out, _ = demo_out
    rows = _markdown_rows(out / "tables" / "table1_top_partners.md")
    party = demo.contacts[
        (demo.contacts["counterpart_type"] == "party") & demo.contacts["year"].between(*PERIOD)
    ]
    counts = Counter(party["party_id"])
    ranked = sorted(counts.values(), reverse=True)
    twentieth = ranked[19]
    expected = sorted((n for n in ranked if n >= twentieth), reverse=True)
    assert [int(r[3].replace(",", "")) for r in rows] == expected
    for rank, *_rest, n in rows:  # competition ranks: 1 + parties with more contacts
        assert int(rank) == 1 + sum(v > int(n.replace(",", "")) for v in ranked)
    names = dict(zip(demo.parties["party_id"], demo.parties["party_name"], strict=True))
    top_id = max(counts, key=counts.get)
    assert rows[0][1] == names[top_id]


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def elite(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> cpcstats.Study:
    folder = tmp_path_factory.mktemp("elite")
    study_file = folder / "elite.toml"
    study_file.write_text(
        (REPO / "replication" / "studies" / "elite_engagements.toml")
        .read_text(encoding="utf-8")
        .replace("../../../shared/data", shared_data.as_posix()),
        encoding="utf-8",
    )
    return cpcstats.load_study(study_file)


def test_real_study_exhibits_drawn_where_they_apply(elite, tmp_path: Path) -> None:
    cfg = load_replication_config(default_config(elite))
    out = tmp_path / "out"
    files = {p.relative_to(out).as_posix() for p in _run(cfg, elite, out)}
    for stem in ("yearly_contacts", "direction_yearly", "world_map"):
        assert f"figures/{stem}.png" in files
    for stem in ("contacts_per_party", "government_opposition"):
        assert f"figures/{stem}.png" not in files
    assert not any(f.startswith("tables/table1_top_partners") for f in files)
    captions = (out / "figures" / CAPTIONS_FILE).read_text(encoding="utf-8")
    for name in ("contacts_per_party", "government_opposition", "table1_top_partners"):
        assert re.search(rf"\*\*{name}\*\*: .*(needs|lacks)", captions), name
    assert "2003-2017" in captions  # the map's window: 2002-2017 within 2003-2018
    assert "SIMULATED" not in captions


def test_real_study_figure2_bars_are_the_engagements_per_direction(elite) -> None:
    raw = elite.contacts
    frame = contacts_by_direction(raw, elite.years)
    fig = plot_direction_by_year(frame, break_year=elite.break_year, simulated=False)
    by = raw.groupby(["year", "direction"]).size()
    for direction in ("inbound", "outbound"):
        (name,) = [
            c.get_label()
            for c in fig.axes[0].containers
            if c.get_label().lower().startswith(direction)
        ]
        assert _bars(fig, name) == [int(by.get((y, direction), 0)) for y in elite.years]
    unknown = int((raw["direction"] == "unknown").sum())
    assert unknown > 0 and f"{unknown:,} contacts" in fig.get_supxlabel()
    assert not [t for t in fig.texts if SIMULATED_MARK in t.get_text()]


def test_real_study_has_no_party_exhibits_data(elite) -> None:
    counts = contacts_per_party(elite.contacts, elite.parties, first_year=2003, last_year=2017)
    assert counts.empty and counts.attrs["zero_parties"] == 0


def test_exhibits_read_the_run_labels_file(demo_cfg, tmp_path: Path) -> None:
    from dataclasses import fields

    from cpcstats.replicate.exhibits import run_labels

    if "labels" not in {f.name for f in fields(demo_cfg)}:
        pytest.skip("this replication configuration has no labels file setting")
    path = tmp_path / "labels.toml"
    path.write_text('[levels.fh_status]\nF = "Free (FH)"\n', encoding="utf-8")
    labels = run_labels(replace(demo_cfg, labels=path))
    assert labels.level("fh_status", "F") == "Free (FH)"
    assert run_labels(demo_cfg).level("fh_status", "F") == "Free"
