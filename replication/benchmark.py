"""Benchmark of cpcstats against its peers, measured in one run on one machine.

Why a script and not timed tests: timings depend on the machine; what is stable is the
ratio to a peer measured in the same run on the same data.  Every figure is printed as a
ratio (peer time / cpcstats time, > 1 = cpcstats faster) next to the targets of the
project, and written to ``reports/benchmark.json`` and ``reports/benchmark.md``.

    python replication/benchmark.py                 # full mode (the README's `make bench`)
    python replication/benchmark.py --quick         # reduced sizes, a few minutes; CI runs it
    python replication/benchmark.py --only scaling  # only the FE-Poisson / NB2 / import rows
    python replication/benchmark.py --only ingest   # panels from 1e7 CSV events, pandas and DuckDB
    python replication/benchmark.py --only demo --readme
                                                    # a section (the others kept from the last
                                                    # run), then the README's table rewritten
    python replication/benchmark.py --from-json reports/benchmark.json
                                                    # rewrite benchmark.md from a saved run

How it measures: every process uses one BLAS/OpenMP/Rayon/Polars thread (set here before
NumPy loads, and in every child process), cpcstats and each peer alternate A B A B ... on
the same data, and medians are compared.  The scaling rows (`bench_scaling.py`: FE-Poisson
with 2 and 3 fixed effects and NB2 at N = 1e4, 1e5, 1e6; memory added by the fit; import
time against ``import pandas``) run in fresh child processes and record wall and CPU
seconds; on a shared machine the CPU ratio is the steadier one, and the table shows the
run-to-run spread (max / min wall time) as the noise.  The full mode takes about
10-15 minutes on a quiet 2-core machine; ``--quick`` (N up to 1e5, 3 pairs) a few minutes.

Peers: statsmodels called directly (GLM Poisson, NegativeBinomial, ZeroInflatedPoisson,
GEE, and GLM with party and year dummies for the fixed-effects model) and pyfixest
``fepois`` for FE-Poisson when it is installed (``make bench`` installs it into the
benchmark's own environment; it is not a dependency of cpcstats; measured with 0.60.0).
"""

# ruff: noqa: E402 - the thread settings below must precede the NumPy import
from __future__ import annotations

import argparse
import json
import os

# one BLAS thread, as in every child process, before NumPy is imported (peers included)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"
import platform
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

import cpcstats
from cpcstats.designs import taiwan, xi_break
from cpcstats.outputs import package_versions
from cpcstats.panels import country_year, party_year

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scaling  # the sibling modules, found through the line above
import bench_summary

FE_FORMULA = "contacts ~ ruling + C(fh_status) + bri_member + recognizes_prc"
PARTY_X = "contacts ~ ruling * C(fh_status) + left_roots + lr_position + xi_era + bri_member"
COUNTRY_X = "contacts ~ C(fh_status) + xi_era + bri_member + recognizes_prc"
TARGETS = {
    "fe_poisson_vs_pyfixest": "FE-Poisson (party + year FE) at least as fast as pyfixest fepois",
    "fe_poisson_vs_statsmodels": "FE-Poisson at least 5x faster than statsmodels GLM + dummies",
    "fe_poisson_coefficients": "FE-Poisson coefficients equal to the peers' within 1e-6",
    "bootstrap_999": "999-replication cluster bootstrap of that model under 30 s",
    "replicate_cold": "full demo replication in a new process under 10 s wall on every core "
    "and 400 MiB (all its processes), the same files as the serial run",
    "panel_1e6": "panel building: 1,000,000 events under 10 s and 2 GB peak memory",
    "topics_1e6": "tagging 1,000,000 short texts with the 10 study topics well under 60 s",
}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def paired(
    first: Callable[[], Any], second: Callable[[], Any], repeat: int
) -> tuple[float, Any, float, Any]:
    """Median wall times of two programs run alternately (A B A B ...) after one warm-up
    call each, and their last results: a busy neighbour slows both about equally."""
    a, b = first(), second()
    ta, tb = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        a = first()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        b = second()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), a, statistics.median(tb), b


def _design(formula: str, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    import patsy

    y, X = patsy.dmatrices(formula, frame, return_type="dataframe")
    return y.to_numpy().ravel(), X


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel with plain NumPy dtypes, so every peer reads the same data: the rows
    every benchmark formula can use (the demo's country-year panel has the Vatican, which
    Freedom House does not rate; cpcstats drops such rows with a reason, patsy fails on
    pandas' NA in a category)."""
    used = [c for c in ("fh_status", "lr_position", "left_roots", "ruling") if c in frame]
    out = frame.dropna(subset=used).copy()
    for column in out.columns:
        dtype = out[column].dtype
        if pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_numeric_dtype(dtype):
            out[column] = out[column].astype(float)
        elif not pd.api.types.is_numeric_dtype(dtype):
            out[column] = out[column].astype(object)
    return out


# --------------------------------------------------------------------------- families
def bench_families(party: pd.DataFrame, country: pd.DataFrame, repeat: int) -> list[dict]:
    rows: list[dict] = []

    def add(
        name: str, panel: str, ours: float, peer: str | None, theirs: float | None, **kw: Any
    ) -> None:
        rows.append(
            {
                "model": name,
                "panel": panel,
                "cpcstats_s": ours,
                "peer": peer,
                "peer_s": theirs,
                "ratio": None if theirs is None else theirs / ours,
                **kw,
            }
        )

    for panel_name, frame, formula in (
        ("party-year", party, PARTY_X),
        ("country-year", country, COUNTRY_X),
    ):
        # peers get the formula too: building the design is part of every fit
        ours, res, theirs, ref = paired(
            lambda f=formula, d=frame: cpcstats.fit(f, d, family="poisson"),
            lambda f=formula, d=frame: smf.glm(f, d, family=sm.families.Poisson()).fit(),
            repeat,
        )
        add(
            "poisson",
            panel_name,
            ours,
            "statsmodels GLM Poisson",
            theirs,
            max_abs_diff=float(np.abs(res.params.to_numpy() - ref.params.to_numpy()).max()),
        )
        ours, res, theirs, ref = paired(
            lambda f=formula, d=frame: cpcstats.fit(f, d, family="negbin"),
            lambda f=formula, d=frame: smf.negativebinomial(f, d).fit(disp=0, maxiter=200),
            repeat,
        )
        add(
            "negbin (NB2)",
            panel_name,
            ours,
            "statsmodels NegativeBinomial",
            theirs,
            # agreement at a tight gradient tolerance (the timed default stops earlier)
            max_abs_diff=float(
                np.abs(
                    res.params.to_numpy()
                    - smf.negativebinomial(formula, frame)
                    .fit(disp=0, method="bfgs", maxiter=2000, gtol=1e-10)
                    .params.to_numpy()[:-1]
                ).max()
            ),
            loglik_cpcstats_minus_peer_default=float(res.loglik - ref.llf),
        )
    y, X = _design(COUNTRY_X, country)  # count-model peers have no formula API: design given
    ours, _ = timed(
        lambda: cpcstats.fit(COUNTRY_X, country, family="zip", inflation="C(fh_status)"), 1
    )
    _, Z = _design("contacts ~ C(fh_status)", country)
    theirs, _ = timed(lambda: sm.ZeroInflatedPoisson(y, X, exog_infl=Z).fit(disp=0, maxiter=500), 1)
    add("zip", "country-year", ours, "statsmodels ZeroInflatedPoisson", theirs)
    ours, _ = timed(
        lambda: cpcstats.fit(COUNTRY_X, country, family="gee-poisson", cluster="iso3"), 1
    )
    groups = pd.factorize(country["iso3"])[0]
    theirs, _ = timed(
        lambda: sm.GEE(
            y,
            X,
            groups=groups,
            family=sm.families.Poisson(),
            cov_struct=sm.cov_struct.Exchangeable(),
        ).fit(),
        1,
    )
    add("gee-poisson (exchangeable)", "country-year", ours, "statsmodels GEE", theirs)
    for family in ("zinb", "hurdle-poisson", "hurdle-negbin", "fe-negbin"):
        spec = {} if family == "fe-negbin" else {"inflation": "C(fh_status)"}
        formula = COUNTRY_X + (" | iso3" if family == "fe-negbin" else "")
        ours, _ = timed(
            lambda f=formula, fam=family, s=spec: cpcstats.fit(f, country, family=fam, **s), 1
        )
        add(family, "country-year", ours, None, None)
    return rows


def bench_fe_poisson(party: pd.DataFrame, repeat: int) -> dict:
    formula = FE_FORMULA + " | party_id + year"
    ours, res = timed(
        lambda: cpcstats.fit(formula, party, family="fe-poisson", cluster="iso3"), repeat
    )
    out: dict[str, Any] = {
        "model": "fe-poisson, party + year FE",
        "cpcstats_s": ours,
        "nobs": res.nobs,
        "n_parties": int(party["party_id"].nunique()),
    }
    sample = party.loc[party.groupby("party_id")["contacts"].transform("sum") > 0]
    dummies = FE_FORMULA + " + C(party_id) + C(year)"
    glm_s, glm = timed(lambda: smf.glm(dummies, sample, family=sm.families.Poisson()).fit(), 1)
    names = list(res.params.index)
    out["statsmodels_s"] = glm_s
    out["statsmodels_ratio"] = glm_s / ours
    out["statsmodels_max_abs_diff"] = float(
        np.abs(res.params.to_numpy() - glm.params[names].to_numpy()).max()
    )
    try:
        import pyfixest as pf

        # alternated with cpcstats (A B A B ...); the cpcstats time above is replaced by the
        # paired one, so the ratio compares runs made side by side
        ours, res, pfx_s, pfx = paired(
            lambda: cpcstats.fit(formula, party, family="fe-poisson", cluster="iso3"),
            lambda: pf.fepois(formula, data=party, vcov={"CRV1": "iso3"}),
            repeat,
        )
        out["cpcstats_s"] = ours
        coef = pfx.coef()
        out["pyfixest_version"] = pf.__version__
        out["pyfixest_s"] = pfx_s
        out["pyfixest_ratio"] = pfx_s / ours
        out["statsmodels_ratio"] = glm_s / ours
        out["pyfixest_default_tol_max_abs_diff"] = float(
            np.abs(res.params.to_numpy() - coef[names].to_numpy()).max()
        )
        # agreement is judged at tight tolerances (pyfixest's defaults stop at 1e-8)
        tight = pf.fepois(
            formula,
            data=party,
            vcov={"CRV1": "iso3"},
            iwls_tol=1e-12,
            fixef_tol=1e-12,
            iwls_maxiter=100,
        ).coef()
        out["pyfixest_max_abs_diff"] = float(
            np.abs(res.params.to_numpy() - tight[names].to_numpy()).max()
        )
    except ImportError:
        out["pyfixest_s"] = None
        out["pyfixest_note"] = "pyfixest not installed (make bench installs it)"
    return out


def _bootstrap_fit(party: pd.DataFrame, reps: int, workers: int) -> tuple[float, np.ndarray]:
    """Seconds and standard errors of the FE-Poisson cluster bootstrap on ``workers``
    processes (``CPCSTATS_WORKERS``, the process-wide setting `fit` reads)."""
    before = os.environ.get("CPCSTATS_WORKERS")
    os.environ["CPCSTATS_WORKERS"] = str(workers)
    try:
        start = time.perf_counter()
        res = cpcstats.fit(
            FE_FORMULA + " | party_id + year",
            party,
            family="fe-poisson",
            cluster="iso3",
            se="bootstrap",
            bootstrap_reps=reps,
            seed=1,
        )
        seconds = time.perf_counter() - start
    finally:
        if before is None:
            os.environ.pop("CPCSTATS_WORKERS", None)
        else:
            os.environ["CPCSTATS_WORKERS"] = before
    return seconds, res.std_errors.to_numpy()


def bench_bootstrap(party: pd.DataFrame, reps: int) -> dict:
    """The cluster bootstrap on every core, and whether one process gives the same
    standard errors for the same seed (checked at a tenth of the replications)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    seconds, _ = _bootstrap_fit(party, reps, cores)
    check = max(19, reps // 10)
    serial_s, serial = _bootstrap_fit(party, check, 1)
    _, parallel = _bootstrap_fit(party, check, cores)
    return {
        "reps": reps,
        "workers": cores,
        "seconds": seconds,
        "per_rep_s": seconds / reps,
        "projected_999_s": seconds / reps * 999,
        "serial_per_rep_s": serial_s / check,
        "same_numbers_any_workers": bool(np.array_equal(serial, parallel)),
        "checked_reps": check,
    }


def bench_designs(country: cpcstats.Panel, repeat: int) -> list[dict]:
    sup_s, sup = timed(lambda: xi_break.sup_wald(country, shift="level+trend"), repeat)
    ev_s, _ = timed(lambda: taiwan.event_study(country), repeat)
    return [
        {
            "task": "sup-Wald break search (country-year, level+trend)",
            "seconds": sup_s,
            "candidates": len(sup.candidates),
        },
        {"task": "Taiwan event study (country-year)", "seconds": ev_s},
    ]


REPLICATE_CHILD = """
import sys
from cpcstats.console import set_up_process
set_up_process()  # as the command line's process
from cpcstats.replicate import replicate
workers = None if sys.argv[3] == "default" else int(sys.argv[3])
replicate("demo", sys.argv[1], sys.argv[2], lambda _: None, workers, keep_fits=False)  # as the CLI
"""


def _tree_memory_mib(pid: int) -> float:
    """Summed proportional set size (PSS) of a process and its children, MiB.

    Why PSS: forked workers share the parent's pages; summing their RSS would count the
    shared pages once per process.  Falls back to RSS where PSS is not available.
    """
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            continue
    return total / 2**20


def _cold_replicate(out: Path, workers: str) -> dict:
    """One replication in a new process: wall and CPU seconds (children included) and the
    peak summed memory of its process tree (sampled every 50 ms)."""
    import resource
    import shutil
    import tempfile

    shutil.rmtree(out, ignore_errors=True)
    config = str(REPO / "replication" / "replication.toml")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-c", REPLICATE_CHILD, str(out), config, workers]
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a full pipe would block
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _tree_memory_mib(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if proc.returncode:
            errors.seek(0)
            raise RuntimeError(errors.read().decode(errors="replace"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_mib": peak, "load": os.getloadavg()[0]}


def _same_files(a: Path, b: Path) -> bool:
    """Every file of two output folders byte-identical (the workers must not matter)."""
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files == theirs and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def bench_replicate(out: Path, warm: bool = True, pairs: int = 3) -> dict:
    """Cold demo replications, serial (``workers=1``) and default (every core) alternating
    A B A B ...: medians of wall and CPU seconds, the peak memory of all processes, and
    whether the two wrote the same bytes; then one warm in-process run."""
    runs: dict[str, list[dict]] = {"1": [], "default": []}
    for _ in range(pairs):
        for workers in runs:
            runs[workers].append(_cold_replicate(out / f"replicate_w{workers}", workers))
    median = {
        w: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for w, rows in runs.items()
    }
    result = {
        "cold_s": median["default"]["wall_s"],
        "cold_cpu_s": median["default"]["cpu_s"],
        "cold_peak_mib": max(r["peak_mib"] for r in runs["default"]),
        "cold_serial_s": median["1"]["wall_s"],
        "cold_serial_cpu_s": median["1"]["cpu_s"],
        "cold_serial_peak_mib": max(r["peak_mib"] for r in runs["1"]),
        "workers": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load": [r["load"] for rows in runs.values() for r in rows],
        "identical_files": _same_files(out / "replicate_w1", out / "replicate_wdefault"),
        "warm_s": None,
    }
    if warm:
        from cpcstats.replicate import replicate

        config = REPO / "replication" / "replication.toml"
        replicate("demo", out / "replicate_warm", config, progress=lambda _: None)
        start = time.perf_counter()
        replicate("demo", out / "replicate_warm", config, progress=lambda _: None)
        result["warm_s"] = time.perf_counter() - start
    return result


PANEL_CHILD = """
import sys, time
from dataclasses import replace
import cpcstats
from cpcstats.outputs import package_versions
from cpcstats.panels import country_year, party_year
n = int(sys.argv[1])
study = cpcstats.load_study("demo")
events = study.contacts.sample(n, replace=True, random_state=1).reset_index(drop=True)
big = replace(study, contacts=events)
start = time.perf_counter()
cy = country_year(big)
py = party_year(big)
seconds = time.perf_counter() - start
assert int(cy.data["contacts"].sum()) == n
# VmHWM: this process's own peak (ru_maxrss would include the parent's, kept across exec)
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
peak_mb = int(status) / 1024
print(seconds, peak_mb)
"""


def bench_ingest_section(events: int, pairs: int, folder: Path) -> dict:
    """Panels from ``events`` events read from CSV (`bench_ingest`): the pandas floor and
    the package's panel alternating in child processes, then the DuckDB engine, and
    whether the two engines' panels and row accounts are the same (SHA-256)."""
    import bench_ingest  # the sibling module

    marker = folder / f"events_{events}.txt"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        bench_ingest.make(events, folder)
        marker.write_text(str(events))
    result: dict[str, Any] = {"events": events}
    result["pandas"] = bench_ingest.alternate(folder, pairs, None)
    try:
        import duckdb  # noqa: F401 - the optional engine
    except ImportError:
        result["duckdb"] = None
        return result
    result["duckdb"] = bench_ingest.alternate(folder, pairs, "duckdb")
    digests = [(folder / f"digest_{e}.txt").read_text() for e in ("pandas", "duckdb")]
    result["equal_panels"] = digests[0] == digests[1]
    return result


def bench_topics(sizes: list[int]) -> list[dict]:
    """Tagging short texts with the study's 10 topics (the target: 1e6 in well under 60 s)."""
    from cpcstats.topics import load_dictionary, tag_texts

    dictionary = load_dictionary()
    pool = np.array(
        [
            "Xi Jinping was in Beijing Municipality and met with the following: a delegation",
            "talks on the Belt and Road and the one-China policy",
            "Hu Jintao travelled to Mongolia, Ulan Bator and met with the President",
            "a community of shared future for mankind; mutual learning among civilizations",
            "Premier Li calls for new progress in mainland-Taiwan ties",
        ]
    )
    rows = []
    rng = np.random.default_rng(1)
    for n in sizes:
        # distinct texts (a record number in each), so no text is matched twice
        ids = np.char.add(" (record ", np.arange(n).astype(str))
        texts = pd.Series(np.char.add(pool[rng.integers(0, len(pool), n)], ids))
        start = time.perf_counter()
        tags = tag_texts(texts, dictionary)
        rows.append(
            {
                "texts": n,
                "seconds": time.perf_counter() - start,
                "tagged": int(tags.to_numpy().sum()),
            }
        )
    return rows


def bench_panels(sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-c", PANEL_CHILD, str(n)], check=True, capture_output=True, text=True
        )
        seconds, peak = map(float, proc.stdout.split())
        rows.append({"events": n, "seconds": seconds, "peak_mb": peak})
    return rows


# --------------------------------------------------------------------------- report
def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def verdicts(result: dict) -> dict[str, dict]:
    fe, boot, rep = result["fe_poisson"], result["bootstrap"], result["replicate"]
    panel = {r["events"]: r for r in result["panels"]}
    out: dict[str, dict] = {}
    if fe.get("pyfixest_s") is not None:
        out["fe_poisson_vs_pyfixest"] = {
            "value": fe["pyfixest_ratio"],
            "met": fe["pyfixest_ratio"] >= 1.0,
        }
    else:
        out["fe_poisson_vs_pyfixest"] = {"value": None, "met": None}
    out["fe_poisson_vs_statsmodels"] = {
        "value": fe["statsmodels_ratio"],
        "met": fe["statsmodels_ratio"] >= 5,
    }
    diffs = [fe["statsmodels_max_abs_diff"], fe.get("pyfixest_max_abs_diff")]
    worst = max(d for d in diffs if d is not None)
    out["fe_poisson_coefficients"] = {"value": worst, "met": worst <= 1e-6}
    out["bootstrap_999"] = {"value": boot["projected_999_s"], "met": boot["projected_999_s"] < 30}
    out["replicate_cold"] = {
        "value": [rep["cold_s"], rep.get("cold_peak_mib")],
        "met": rep["cold_s"] < 10
        and (rep.get("cold_peak_mib") or 0) < 400
        and rep.get("identical_files", True),
    }
    topics = {r["texts"]: r for r in result.get("topics", [])}
    if 1_000_000 in topics:
        out["topics_1e6"] = {
            "value": topics[1_000_000]["seconds"],
            "met": topics[1_000_000]["seconds"] < 60,
        }
    else:
        out["topics_1e6"] = {"value": None, "met": None}
    if 1_000_000 in panel:
        row = panel[1_000_000]
        out["panel_1e6"] = {
            "value": [row["seconds"], row["peak_mb"]],
            "met": row["seconds"] < 10 and row["peak_mb"] < 2048,
        }
    else:
        out["panel_1e6"] = {"value": None, "met": None}
    return out


def _demo_rows(result: dict) -> list[str]:
    """The demo-panel rows: families against statsmodels, FE-Poisson, the task timings."""
    lines = [
        "| model | panel | cpcstats (s) | peer | peer (s) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["families"]:
        lines.append(
            f"| {r['model']} | {r['panel']} | {_fmt(r['cpcstats_s'])} | {r['peer'] or '-'} | "
            f"{_fmt(r['peer_s'])} | {_fmt(r['ratio'], 2)} |"
        )
    fe = result["fe_poisson"]
    lines += [
        f"| fe-poisson (party + year FE, N = {fe['nobs']:,}) | party-year | "
        f"{_fmt(fe['cpcstats_s'])} | statsmodels GLM + dummies | {_fmt(fe['statsmodels_s'])} | "
        f"{_fmt(fe['statsmodels_ratio'], 2)} |",
        f"| | | | pyfixest fepois {fe.get('pyfixest_version', '(not installed)')} | "
        f"{_fmt(fe.get('pyfixest_s'))} | {_fmt(fe.get('pyfixest_ratio'), 2)} |",
        "",
        "| task | seconds |",
        "|---|---|",
    ]
    b = result["bootstrap"]
    lines.append(
        f"| cluster bootstrap, {b['reps']} reps (projected to 999) | {b['seconds']:.2f} "
        f"({b['projected_999_s']:.1f}) |"
    )
    for d in result["designs"]:
        lines.append(f"| {d['task']} | {d['seconds']:.3f} |")
    rep = result["replicate"]
    lines.append(
        f"| full demo replication, new process / warm | {rep['cold_s']:.1f} / "
        f"{_fmt(rep['warm_s'], 1)} |"
    )
    if "cold_serial_s" in rep:
        lines.append(
            f"| cold replication, {rep['workers']} workers / 1 (CPU s; peak MiB, all processes) "
            f"| {rep['cold_s']:.1f} / {rep['cold_serial_s']:.1f} ({rep['cold_cpu_s']:.1f} / "
            f"{rep['cold_serial_cpu_s']:.1f}; {rep['cold_peak_mib']:.0f} / "
            f"{rep['cold_serial_peak_mib']:.0f}); same files: {rep['identical_files']} |"
        )
    for t in result.get("topics", []):
        lines.append(f"| tagging {t['texts']:,} short texts, 10 topics | {t['seconds']:.2f} |")
    for p in result["panels"]:
        lines.append(
            f"| panels from {p['events']:,} events (peak {p['peak_mb']:.0f} MB) | "
            f"{p['seconds']:.2f} |"
        )
    return lines


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# cpcstats benchmark",
        "",
        f"{result['mode']} mode, {m['cpus']} CPUs, {m['platform']}, Python {m['python']}; "
        f"ratio = peer time / cpcstats time (> 1: cpcstats faster).",
        "",
    ]
    lines += ["Against the targets (the README's table):", "", bench_summary.summary_table(result)]
    if "families" in result:
        lines += _demo_rows(result)
    if result.get("scaling"):
        lines += [
            "",
            "Scaling (fresh single-threaded processes, A B A B alternation, medians; "
            "ratio = peer / cpcstats):",
            "",
            bench_scaling.table(result["scaling"]).rstrip("\n"),
        ]
    if "targets" not in result:
        return "\n".join(lines) + "\n"
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for key, v in result["targets"].items():
        value = v["value"]
        shown = (
            "-"
            if value is None
            else (
                ", ".join(f"{x:.3g}" for x in value) if isinstance(value, list) else f"{value:.3g}"
            )
        )
        met = "n/a" if v["met"] is None else ("yes" if v["met"] else "NO")
        lines.append(f"| {TARGETS[key]} | {shown} | {met} |")
    return "\n".join(lines) + "\n"


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "load_average_1min_at_start": os.getloadavg()[0],
    }


def _when() -> dict[str, Any]:
    """When a section starts: the UTC date and time and the 1-minute load average."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return {"started": stamp, "load_average_1min": round(os.getloadavg()[0], 2)}


def _demo_sections(result: dict[str, Any], quick: bool, out: Path) -> None:
    study = cpcstats.load_study("demo")
    party_panel, country_panel = party_year(study), country_year(study)
    party, country = _plain(party_panel.data), _plain(country_panel.data)
    repeat = 1 if quick else 5
    result["data"] = {
        "party_year_rows": len(party),
        "parties": int(party["party_id"].nunique()),
        "country_year_rows": len(country),
    }
    print("families ...", flush=True)
    result["families"] = bench_families(party, country, repeat)
    print("fe-poisson ...", flush=True)
    result["fe_poisson"] = bench_fe_poisson(party, repeat)
    print("bootstrap ...", flush=True)
    result["bootstrap"] = bench_bootstrap(party, 19 if quick else 999)
    print("designs ...", flush=True)
    result["designs"] = bench_designs(country_panel, repeat)
    print("replicate ...", flush=True)
    result["replicate"] = bench_replicate(
        out / "benchmark_runs", warm=not quick, pairs=1 if quick else 3
    )
    print("panels ...", flush=True)
    result["panels"] = bench_panels([1_000, 10_000] if quick else [10_000, 100_000, 1_000_000])
    print("topics ...", flush=True)
    result["topics"] = bench_topics([10_000] if quick else [10_000, 100_000, 1_000_000])
    result["targets"] = verdicts(result)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (CI)")
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    parser.add_argument(
        "--only",
        choices=("all", "scaling", "demo", "ingest"),
        default="all",
        help="sections to run (the others are kept from --out's benchmark.json)",
    )
    parser.add_argument(
        "--events", type=int, default=None, help="events of the ingest section (1e7; quick 1e5)"
    )
    parser.add_argument(
        "--ingest-dir",
        type=Path,
        default=Path("/tmp/cpcstats-bench-ingest"),
        help="where the ingest section writes (and keeps) its event log",
    )
    parser.add_argument(
        "--readme", action="store_true", help="rewrite the README's benchmark table from the run"
    )
    parser.add_argument(
        "--from-json", type=Path, help="rewrite benchmark.md from a saved benchmark.json"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_json is not None:
        result = json.loads(args.from_json.read_text())
    else:
        warnings.filterwarnings("ignore")
        quick = args.quick
        saved = args.out / "benchmark.json"
        result = {}
        if args.only != "all" and saved.exists():  # a section rerun keeps the others
            result = json.loads(saved.read_text())
            if result.get("mode") != ("quick" if quick else "full"):
                result = {}
        result.update({"mode": "quick" if quick else "full", "machine": _machine()})
        sections = result.setdefault("sections", {})  # when each section ran, and the load
        if args.only in ("all", "demo"):
            sections["demo"] = _when()
            _demo_sections(result, quick, args.out)
        if args.only in ("all", "ingest"):
            print("ingest (panels from a large CSV event log) ...", flush=True)
            sections["ingest"] = _when()
            events = args.events or (100_000 if quick else 10_000_000)
            result["ingest"] = bench_ingest_section(events, 1 if quick else 3, args.ingest_dir)
        if args.only in ("all", "scaling"):
            print("scaling (FE-Poisson 2/3 FE, NB2, imports) ...", flush=True)
            sections["scaling"] = _when()
            result["scaling"] = bench_scaling.run(quick)
        if "replicate" in result:
            result["targets"] = verdicts(result)
        saved.write_text(json.dumps(result, indent=2, default=float) + "\n")
    text = markdown(result)
    (args.out / "benchmark.md").write_text(text)
    print(text)
    if args.readme and not bench_summary.rewrite_readme(REPO / "README.md", result):
        print("README.md has no benchmark-summary block: not rewritten", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
