"""Panel ingest benchmark: a country-year panel from N events read from CSV, against the
pandas floor (``read_csv`` of the same file plus one group-by of country and year).

Why a file of its own: the ingest path (read, decode, delimiter, dates, contract checks,
duplicates, counting) is what a user with a large event log pays for, and the study
loader must be measured from the CSV, not from a frame already in memory.

    python replication/bench_ingest.py make --events 10000000 --dir /tmp/ingest
    python replication/bench_ingest.py floor --dir /tmp/ingest
    python replication/bench_ingest.py panel --dir /tmp/ingest [--engine duckdb]
    python replication/bench_ingest.py ab --dir /tmp/ingest --pairs 3

Each subcommand is one process, so ``/usr/bin/time -v`` measures its CPU and peak memory;
``ab`` runs floor and panel alternately (floor, panel, floor, panel, ...: a change in the
machine's load hits both) as child processes and reports each run's CPU seconds (user +
system) and peak RSS, the ratio of the medians and the load average before and after.
The events are the demo's contacts resampled (texts dropped: topic counting is measured
elsewhere) with unique source ids; they are SIMULATED.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parents[1] / "cpcstats" / "demo"


def make(events: int, folder: Path, seed: int = 1) -> None:
    """Write contacts.csv (``events`` rows) and a study.toml using the demo's other tables."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    demo = pd.read_csv(DEMO / "data" / "contacts.csv", dtype=str, keep_default_na=False)
    demo = demo.drop(columns=["text"])
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    out = folder / "contacts.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, events, chunk):
            n = min(chunk, events - start)
            rows = demo.iloc[rng.integers(0, len(demo), n)].copy()
            rows["source_id"] = [f"B{i:08d}" for i in range(start, start + n)]
            rows.to_csv(handle, index=False, header=start == 0)
    for name in ("parties.csv", "party_status.csv", "country_covariates.csv"):
        shutil.copy(DEMO / "data" / name, folder / name)
    (folder / "study.toml").write_text(
        '[study]\nname = "ingest benchmark (SIMULATED)"\nfirst_year = 2002\nlast_year = 2023\n'
        "break_year = 2013\nsimulated = true\n\n"
        '[contacts]\npath = "contacts.csv"\n\n[parties]\npath = "parties.csv"\n\n'
        '[party_status]\npath = "party_status.csv"\n\n'
        '[covariates]\npath = "country_covariates.csv"\n',
        encoding="utf-8",
    )


def floor(folder: Path) -> None:
    """The pandas floor: read the CSV and count events per country and year, nothing else."""
    import pandas as pd

    frame = pd.read_csv(folder / "contacts.csv")
    counts = frame.groupby([frame["country"], frame["date"].str[:4]]).size()
    print(f"floor: {len(frame):,} events, {len(counts):,} country-years")


def panel(folder: Path, engine: str | None, digest: Path | None = None) -> None:
    """The package's path: load the study from its files and build the country-year panel;
    ``digest``: write the SHA-256 of the panel and its row accounts there (after the
    measured work), for the engines' results to be compared."""
    from cpcstats.panels import country_year
    from cpcstats.study import load_study

    start = time.perf_counter()
    study = load_study(folder / "study.toml")
    if engine is not None:  # as [contacts] engine = "..." in the study file
        config = {
            **study.config,
            "contacts": {**study.config.get("contacts", {}), "engine": engine},
        }
        study = replace(study, config=config)
    built = country_year(study)
    print(
        f"panel: {len(built):,} rows, {int(built.data['contacts'].sum()):,} events, "
        f"{time.perf_counter() - start:.1f} s wall"
    )
    if digest is not None:
        import hashlib

        accounts = "\n".join(a.summary() for a in study.ledger.stages)
        text = built.data.to_csv(index=False) + built.summary() + accounts
        digest.write_text(hashlib.sha256(text.encode("utf-8")).hexdigest() + "\n")


def _child(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of one child process running ``args``."""
    pid = os.spawnv(os.P_NOWAIT, sys.executable, [sys.executable, *args])
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def alternate(folder: Path, pairs: int, engine: str | None) -> dict:
    """Floor and panel runs in alternation; their CPU-s, peak MB and the median ratios."""
    script = str(Path(__file__).resolve())
    panel_args = [script, "panel", "--dir", str(folder)]
    panel_args += ["--digest", str(folder / f"digest_{engine or 'pandas'}.txt")]
    if engine is not None:
        panel_args += ["--engine", engine]
    runs: dict[str, list[tuple[float, float]]] = {"floor": [], "panel": []}
    load_before = os.getloadavg()
    for _ in range(pairs):
        runs["floor"].append(_child([script, "floor", "--dir", str(folder)]))
        runs["panel"].append(_child(panel_args))
    load_after = os.getloadavg()
    out: dict = {"pairs": pairs, "load_before": load_before, "load_after": load_after}
    for name, values in runs.items():
        out[name] = {"cpu_s": [round(v[0], 2) for v in values],
                     "peak_mb": [round(v[1]) for v in values]}  # fmt: skip
    med = {n: (float(np.median([v[0] for v in r])), float(np.median([v[1] for v in r])))
           for n, r in runs.items()}  # fmt: skip
    out["cpu_ratio"] = round(med["panel"][0] / med["floor"][0], 2)
    out["peak_mb_panel"] = round(med["panel"][1])
    print(json.dumps(out, indent=1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["make", "floor", "panel", "ab"])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cpcstats-ingest"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--digest", type=Path, default=None)
    args = parser.parse_args()
    if args.what == "make":
        make(args.events, args.dir)
    elif args.what == "floor":
        floor(args.dir)
    elif args.what == "ab":
        alternate(args.dir, args.pairs, args.engine)
    else:
        panel(args.dir, args.engine, args.digest)


if __name__ == "__main__":
    main()
