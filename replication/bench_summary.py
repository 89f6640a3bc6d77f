"""The README's benchmark table, rendered from a benchmark run (``reports/benchmark.json``).

Why a file of its own: the README must show what the benchmark measured, not numbers
typed by hand; `rewrite_readme` replaces the block between `START` and `END` with the
table made from the run, and `benchmark.py --readme` calls it after every run.

    python replication/benchmark.py --from-json reports/benchmark.json --readme
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

START = "<!-- benchmark-summary:start (written by replication/benchmark.py --readme) -->"
END = "<!-- benchmark-summary:end -->"

_KINDS = {
    "fe2": ("FE-Poisson, 2 FE (unit + year) vs pyfixest `fepois`", 1.5),
    "fe3": ("FE-Poisson, 3 FE (unit + year + 200 countries) vs pyfixest", 1.5),
    "nb2": ("NB2 without FE vs statsmodels `NegativeBinomial`", 2.0),
}


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def _scaling_rows(scaling: dict[str, Any]) -> list[str]:
    rows = []
    for kind, (what, target) in _KINDS.items():
        found = [r for r in scaling["rows"] if r["kind"] == kind]
        if not found:
            continue
        ratios = " / ".join(f"{r['ratio_cpu']:.2f}" for r in found)
        sizes = " / ".join(f"{r['n']:.0e}".replace("e+0", "e") for r in found)
        ok = all(r["ratio_cpu"] >= target for r in found)
        rows.append(f"| {what}, N = {sizes} | {ratios} × (CPU) | ≥ {target:g} × | {_met(ok)} |")
    big = [r for r in scaling["rows"] if "cpcstats_added_mb" in r and r["kind"] != "nb2"]
    if big:
        shown = "; ".join(
            f"{r['kind'].upper()} {r['cpcstats_added_mb']:.0f} MB (peer {r['peer_added_mb']:.0f})"
            for r in big
        )
        ok = all(r["cpcstats_added_mb"] <= r["peer_added_mb"] for r in big)
        what = "FE-Poisson memory added by the fit at 1e6"
        rows.append(f"| {what} | {shown} | ≤ pyfixest | {_met(ok)} |")
    imports = scaling.get("imports")
    if imports:
        ratio = imports["cpu_ratio_cpcstats_over_pandas"]
        rows.append(
            f"| `import cpcstats` | {imports['cpcstats_cpu_s']:.3f} CPU-s, "
            f"{imports['cpcstats_peak_mb']:.0f} MB ({ratio:.2f} × `import pandas`) "
            f"| ≤ 1.5 × `import pandas` | {_met(ratio <= 1.5)} |"
        )
    return rows


def _replicate_row(rep: dict[str, Any]) -> str:
    ok = rep["cold_s"] < 10 and rep["cold_peak_mib"] < 400 and rep["identical_files"]
    return (
        f"| cold `cpcstats replicate --study demo`, {rep['workers']} cores | "
        f"{rep['cold_s']:.1f} s wall, {rep['cold_cpu_s']:.1f} CPU-s, "
        f"{rep['cold_peak_mib']:.0f} MiB "
        f"(all processes, PSS); serial {rep['cold_serial_s']:.1f} s, "
        f"{rep['cold_serial_peak_mib']:.0f} MiB; same files: {rep['identical_files']} "
        f"| < 10 s wall, < 400 MiB | {_met(ok)} |"
    )


def _ingest_rows(ingest: dict[str, Any]) -> list[str]:
    rows = []
    pandas_run = ingest.get("pandas")
    if pandas_run:
        peak_gb = pandas_run["peak_mb_panel"] * 2**20 / 1e9
        ok = pandas_run["cpu_ratio"] <= 2 and peak_gb <= 1.5
        rows.append(
            f"| panels from {ingest['events']:.0e} events (CSV, country-year) | "
            f"{pandas_run['cpu_ratio']:.2f} × the pandas read + group-by floor (CPU), peak "
            f"{pandas_run['peak_mb_panel']:,} MiB = {peak_gb:.2f} GB | ≤ 2 × floor, ≤ 1.5 GB "
            f"| {_met(ok)} |".replace("e+0", "e")
        )
    duck = ingest.get("duckdb")
    if duck:
        rows.append(
            f'| the same with `[contacts] engine = "duckdb"` | {duck["cpu_ratio"]:.2f} × the '
            f"floor (CPU), peak {duck['peak_mb_panel']:,} MiB; panel equal to the pandas "
            f"path's: {ingest.get('equal_panels')} | same results | "
            f"{_met(bool(ingest.get('equal_panels')))} |"
        )
    return rows


def summary_table(result: dict[str, Any]) -> str:
    """The README's table: each issue-17 target, what this run measured, met or not."""
    rows = ["| what | measured | target | |", "|---|---|---|---|"]
    if result.get("scaling"):
        rows += _scaling_rows(result["scaling"])
    if "replicate" in result:
        rows.append(_replicate_row(result["replicate"]))
    if "ingest" in result:
        rows += _ingest_rows(result["ingest"])
    boot = result.get("bootstrap")
    if boot:
        same = boot.get("same_numbers_any_workers")
        rows.append(
            f"| cluster bootstrap, FE-Poisson party-year, {boot['reps']} reps | "
            f"{boot['seconds']:.1f} s on {boot.get('workers', 1)} processes (projected to 999: "
            f"{boot['projected_999_s']:.1f} s); the same standard errors on 1 process: {same} "
            f"| every core, the same numbers for the same seed | "
            f"{_met(bool(same) and boot.get('workers', 1) > 1)} |"
        )
    machine = result.get("machine", {})
    runs = "; ".join(
        f"{name} {when['started']}, load {when['load_average_1min']:.2f}"
        for name, when in result.get("sections", {}).items()
    )
    note = f"{result.get('mode', '?')} mode, {machine.get('cpus', '?')} CPUs" + (
        f"; sections run: {runs}" if runs else ""
    )
    return "\n".join([*rows, "", f"Measured by `replication/benchmark.py` ({note})."]) + "\n"


def rewrite_readme(readme: Path, result: dict[str, Any]) -> bool:
    """Replace the block between the markers with `summary_table`; False when the README
    has no such block (nothing is written)."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{summary_table(result)}{END}{tail}", encoding="utf-8")
    return True
