"""The lazy package facade: fast start without losing a public name.

``import cpcstats`` used to import statsmodels.api, scipy.stats, seaborn and
matplotlib (about 5 x ``import pandas``); the command line's ``--help`` and ``check``
paid for plotting they never do.  These tests run fresh interpreters, because the
test process itself has long imported everything.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cpcstats

HEAVY = ("matplotlib", "seaborn", "statsmodels.api", "statsmodels", "scipy.stats", "pandas")
PLOTTING = ("matplotlib", "seaborn", "statsmodels.api")


def _loaded_after(
    code: str, cwd: Path | None = None
) -> tuple[list[str], subprocess.CompletedProcess]:
    """Run ``code`` in a new interpreter and return which of HEAVY it left in sys.modules."""
    probe = (
        f"{code}\n"
        "import sys, json\n"
        f"print('\\nLOADED=' + json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("LOADED=")]
    assert line, done.stdout + done.stderr
    return json.loads(line[-1].removeprefix("LOADED=")), done


def test_import_cpcstats_loads_no_scientific_stack() -> None:
    loaded, _ = _loaded_after("import cpcstats")
    assert loaded == []


def test_help_and_check_never_import_plotting(tmp_path: Path) -> None:
    run_cli = (
        "import sys\nfrom cpcstats.cli import main\nsys.argv = ['cpcstats', {args}]\n"
        "try:\n    rc = main()\nexcept SystemExit as stop:\n    rc = stop.code\n"
        "print('\\nRC=' + str(rc))\n"
    )
    for args in ("'--help'", "'check', '--study', 'demo'"):
        loaded, done = _loaded_after(run_cli.format(args=args), cwd=tmp_path)
        assert "RC=0" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
        assert not set(loaded) & set(PLOTTING), (args, loaded)
    assert list(tmp_path.iterdir()) == []  # check writes nothing


def test_every_public_name_resolves_to_its_module_object() -> None:
    for name, target in cpcstats._LAZY.items():
        module_name, _, attr = target.partition(":")
        assert getattr(cpcstats, name) is getattr(importlib.import_module(module_name), attr)
    assert set(cpcstats.__all__) == {*cpcstats._LAZY, "__version__"}
    assert set(cpcstats.__all__) <= set(dir(cpcstats))
    namespace: dict[str, object] = {}
    exec("from cpcstats import *", namespace)
    assert {n for n in namespace if not n.startswith("__")} | {"__version__"} == set(
        cpcstats.__all__
    )


def test_type_checking_imports_match_the_lazy_table() -> None:
    """The ``TYPE_CHECKING`` block (what type checkers see) and the table must agree."""
    tree = ast.parse(Path(cpcstats.__file__).read_text(encoding="utf-8"))
    block = next(
        n
        for n in tree.body
        if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    seen = {
        alias.name: f"{node.module}:{alias.name}"
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == cpcstats._LAZY


def test_unknown_names_raise_attribute_error_and_submodules_still_resolve() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = cpcstats.no_such_name
    assert not hasattr(cpcstats, "_private_probe")
    _, done = _loaded_after(
        "import cpcstats\nassert cpcstats.spec.ModelSpec.__name__ == 'ModelSpec'"
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("3", "3")])
def test_command_line_sets_one_blas_thread_unless_the_user_chose(given, expected) -> None:
    """The CLI limits BLAS threads before numpy loads; a user's own value wins."""
    code = (
        "import os\nfrom cpcstats.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "import numpy\nprint('THREADS', os.environ.get('OPENBLAS_NUM_THREADS'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS",)}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert f"THREADS {expected}" in out


def test_replicate_is_callable_whatever_was_imported_first(tmp_path: Path) -> None:
    """``cpcstats.replicate`` is a package and the public function; after the package was
    imported (here by importing one of its modules) the name still calls the function."""
    code = (
        "import cpcstats.replicate.config\nimport cpcstats\nfrom cpcstats import replicate\n"
        "from cpcstats.errors import CpcError\n"
        "try:\n    replicate('no-such-study.toml', out={!r})\n"
        "except CpcError as exc:\n    print('FUNCTION', type(exc).__name__)\n"
        "print('SAME', cpcstats.replicate is replicate)"
    ).format(str(tmp_path / "out"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert "FUNCTION" in out and "SAME True" in out, out
