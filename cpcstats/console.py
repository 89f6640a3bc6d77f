"""How the command line talks: plain lines, a terminal progress display, quiet, or JSON.

The library reports progress through a ``progress(line)`` callable; this module decides
where those lines go, so the library's text (and the tests and logs that read it) never
changes.  Plain lines go to stdout as they always have, unless stderr is a terminal: then
``rich`` draws the replication's steps as a progress display on stderr (imported only
then, so ``cpcstats --help`` stays fast).  ``--quiet`` keeps only the final summary line;
``--json`` keeps stdout for one JSON object and sends the lines to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from cpcstats.errors import CpcError

STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*)$")
MODEL = re.compile(r"^\s+\((\d+)/(\d+)\) ")

EXIT_CODES = """exit codes:
  0    ok (replicate: models flagged at a boundary or with a singular Hessian are
       fitted, marked in the tables and counted in the final line, not failures)
  1    a model failed (replicate) / rows dropped without a stated reason (check)
  2    bad input: a study, specification or data file to fix, or an output that
       cannot be written (the message names the file, row or column and the fix)
  3    internal error: a bug in cpcstats (rerun with --debug, report the traceback)
  130  interrupted by Ctrl-C (temporary files and the lock of --out removed)
  143  stopped by SIGTERM (the same cleanup)"""

OUTPUT_MODES = """output:
  --quiet  no progress or detail lines: only errors (stderr) and the final line
  --json   one JSON object on stdout (an error too: error, file, row, column, fix,
           exit_code); the usual lines go to stderr, or nowhere with --quiet"""


def epilog(*examples: str) -> str:
    """A subcommand's help epilog: its examples, the output modes and the exit codes."""
    lines = ["Examples:", *(f"  {e}" for e in examples), "", OUTPUT_MODES, "", EXIT_CODES]
    return "\n".join(lines)


def plain(value: Any) -> Any:
    """``value`` with NaN/inf as None and paths as text, so strict JSON parsers accept it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def emit_json(record: dict[str, Any], stream: Any = None) -> None:
    """Print ``record`` as one JSON object (to stdout unless ``stream`` is given)."""
    print(json.dumps(plain(record), indent=2, allow_nan=False), file=stream or sys.stdout)


def error_record(message: str, code: int, exc: BaseException | None = None) -> dict[str, Any]:
    """The JSON object of a failed command: the message, where, the fix and the exit code."""
    record: dict[str, Any] = {"error": message, "exit_code": code}
    if isinstance(exc, CpcError):
        record.update(
            problem=exc.problem, file=exc.file, row=exc.row, column=exc.column, fix=exc.fix
        )
    return record


@contextlib.contextmanager
def command_output(quiet: bool, as_json: bool) -> Iterator[None]:
    """Route what a command prints to stdout while it runs.

    ``--json``: to stderr (stdout is the JSON object's).  ``--quiet``: held back, and only
    its last non-empty line is printed at the end (the command's summary); nothing at all
    with both.
    """
    if not quiet and not as_json:
        yield
        return
    real = sys.stdout
    held = io.StringIO()
    with contextlib.redirect_stdout(held if quiet else sys.stderr):
        yield
    last = [line for line in held.getvalue().splitlines() if line.strip()][-1:]
    if quiet and not as_json and last:
        print(last[0], file=real)


def wants_display(quiet: bool, as_json: bool) -> bool:
    """A terminal progress display only for a person watching stderr."""
    return not quiet and not as_json and sys.stderr.isatty()


@contextlib.contextmanager
def replication_progress(display: bool) -> Iterator[Callable[[str], None]]:
    """The ``progress`` callable for ``replicate``: ``print``, or a rich display on stderr.

    The display turns ``[k/N] step`` lines into an overall bar and the ``(i/n) model``
    lines of the fitting step into a second bar; other lines are printed above the bars,
    and the final ``done:`` line goes to stdout as before.
    """
    if not display:
        yield print
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bars:
        steps = bars.add_task("replication", total=None)
        models: list[Any] = []

        def show(line: str) -> None:
            step, model = STEP.match(line), MODEL.match(line)
            if step:
                done, total = int(step[1]) - 1, int(step[2])
                bars.update(steps, completed=done, total=total, description=step[3])
            elif model:
                if not models:
                    models.append(bars.add_task("models", total=int(model[2])))
                bars.update(models[0], completed=int(model[1]))
                bars.console.print(line, markup=False, highlight=False)
            elif line.startswith("done:"):
                bars.update(steps, completed=bars.tasks[0].total or 1)
                bars.stop()
                print(line)
            else:
                bars.console.print(line, markup=False, highlight=False)

        yield show


STUDY_HELP = "'demo' (the shipped SIMULATED study) or a study TOML file (default: demo)"


GLOBAL_OPTIONS = {
    "--debug": "show the traceback of an error (for a bug report)",
    "--quiet": "no progress or detail lines; only errors and the final summary line",
    "--json": "print one JSON object on stdout (results, or the error and its fix); "
    "the usual lines go to stderr",
}
RAW = argparse.RawDescriptionHelpFormatter

TOP_EPILOG = f"""Examples:
  cpcstats replicate --out reports           the whole demo replication
  cpcstats check --study mystudy.toml        are my inputs ready? (no fit)
  cpcstats fit models/party_year.toml --json one model file, results as JSON
  cpcstats init myproject --demo             a project folder of one's own

Global options (--debug, --quiet, --json) go before or after the subcommand.
"cpcstats COMMAND --help" shows each command's options and examples.

{OUTPUT_MODES}

{EXIT_CODES}"""


def subcommand(sub: Any, common: argparse.ArgumentParser, name: str, **kw: str) -> Any:
    """A subcommand with the global options, raw help text and its epilog of examples."""
    return sub.add_parser(name, parents=[common], formatter_class=RAW, **kw)


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_up_process(program: bool = True) -> None:
    """The command line's process settings, made before anything loads numpy: one BLAS
    thread (`limit_blas_threads`), and when ``main`` runs as the program (not called from
    Python, as the tests do) large blocks mapped on their own for the whole run, as the
    workers have them (`cpcstats.c_allocator.fixed_mmap_threshold`): the process is
    cpcstats's own, so a setting that holds until it ends is ours to make."""
    limit_blas_threads()
    if program:
        from cpcstats.c_allocator import fixed_mmap_threshold

        fixed_mmap_threshold()


def limit_blas_threads() -> None:
    """One BLAS thread per process unless the user set the variables.

    Why: OpenBLAS starts one thread per core it sees on the host, not per core of the
    machine's quota; on a 2-core container that made small dense products 30-40 times
    slower under load.  cpcstats parallelises over processes (``cpcstats.execution``), so
    one thread each is the fast setting.  Only effective before numpy is imported, which
    is why the command line calls it first; a user's value always wins.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
