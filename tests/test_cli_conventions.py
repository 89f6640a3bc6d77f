"""Command-line conventions: global options anywhere, help with examples and exit codes,
``--quiet`` and ``--json`` (issue 18).

The runs use a two-model replication configuration so the file stays fast; the progress
text itself is unchanged (the demo's byte-identical outputs and the other CLI tests hold it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cpcstats.cli import build_parser, main
from cpcstats.console import replication_progress
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ["replicate", "init", "check", "topics", "panel", "fit"]


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A replication of two quick Poisson models and one table."""
    path = tmp_path_factory.mktemp("cfg") / "replication.toml"
    path.write_text(
        f"models = '{(REPO / 'models').as_posix()}'\n"
        '[[table]]\nname = "t1"\ntitle = "T"\n'
        'models = ["country_poisson_drivers", "party_poisson_ruling_fh"]\nirr = false\n',
        encoding="utf-8",
    )
    return path


def _json_out(capsys: Any, *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_version_and_global_options_before_or_after_the_subcommand() -> None:
    parser = build_parser()
    for argv in (
        ["--debug", "--quiet", "--json", "check"],
        ["check", "--debug", "--quiet", "--json"],
        ["--debug", "check", "--json", "--quiet"],
    ):
        args = parser.parse_args(argv)
        assert (args.debug, args.quiet, args.json) == (True, True, True), argv
    args = parser.parse_args(["check"])
    assert (args.debug, args.quiet, args.json) == (False, False, False)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--version"])
    assert stop.value.code == 0


def test_every_help_has_examples_exit_codes_and_option_help(capsys: Any) -> None:
    for argv in ([], *([c] for c in COMMANDS)):
        with pytest.raises(SystemExit):
            build_parser().parse_args([*argv, "--help"])
        text = capsys.readouterr().out
        assert "Examples:" in text and "exit codes:" in text, argv
        for code in ("0 ", "1 ", "2 ", "3 ", "130", "143"):
            assert f"  {code}" in text, (argv, code)
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in COMMANDS:
        for action in subparsers[name]._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_help_imports_neither_rich_nor_matplotlib_through_the_cli() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['cpcstats'] = type(sys)('cpcstats');"
        f"sys.modules['cpcstats'].__path__ = [{str(REPO / 'cpcstats')!r}];"
        "sys.modules['cpcstats'].__version__ = '0';"
        "import cpcstats.cli as c; [c.build_parser()];"
        "print(any(m.split('.')[0] in ('rich', 'matplotlib') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_quiet_replicate_prints_only_the_final_line(
    capsys: Any, tmp_path: Path, small_config: Path
) -> None:
    out = tmp_path / "out"
    code, text = run_cli(
        capsys, "--quiet", "replicate", "--config", str(small_config), "--out", str(out)
    )
    assert code == 0
    assert text.strip().splitlines() == [
        f"done: 2 models fitted (0 flagged), 0 failed, 0 skipped; outputs in {out}/"
    ]
    assert (out / "manifest.json").is_file()


def test_json_replicate_is_one_object_with_the_counts(
    capsys: Any, tmp_path: Path, small_config: Path
) -> None:
    out = tmp_path / "out"
    code, record, err = _json_out(
        capsys, "replicate", "--config", str(small_config), "--out", str(out), "--json"
    )
    assert code == 0 and record["exit_code"] == 0
    assert (record["fitted"], record["failed"], record["skipped"]) == (2, 0, 0)
    assert record["out"] == str(out)
    assert str(out / "tables" / "t1.tex") in record["tables"]
    assert "[3/7] fitting 2 models" in err  # the usual lines, on stderr


def test_json_check_fit_and_panel(capsys: Any, tmp_path: Path) -> None:
    code, record, _ = _json_out(capsys, "check", "--json")
    assert code == record["exit_code"] == 0
    assert record["ok"] is True and record["problems"] == []
    assert record["accounts"] and {"stage", "rows_in", "rows_out"} <= set(record["accounts"][0])

    spec = str(REPO / "models" / "country_year.toml")
    argv = ["fit", spec, "--name", "country_poisson_drivers", "--out", str(tmp_path), "--json"]
    code, record, _ = _json_out(capsys, *argv)
    model = record["models"]["country_poisson_drivers"]
    assert code == 0 and model["family"] == "poisson" and model["nobs"] > 0
    assert {"loglik", "aic"} <= set(model)
    assert all({"estimate", "std_error", "p_value"} <= set(t) for t in model["terms"].values())

    target = tmp_path / "cy.csv"
    argv = ["--json", "panel", "--level", "country-year", "--out", str(target)]
    code, record, _ = _json_out(capsys, *argv)
    assert code == 0 and record["rows"] > 0 and record["path"] == str(target)


def test_an_input_error_under_json_is_a_json_object_with_exit_2(
    capsys: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    code, record, err = _json_out(capsys, "check", "--study", str(missing), "--json")
    assert code == record["exit_code"] == 2
    assert record["file"] == str(missing) and record["fix"]
    assert "does not exist" in record["error"] and "error:" in err
    assert {"row", "column"} <= set(record)


def test_the_terminal_display_passes_the_final_line_to_stdout(capsys: Any) -> None:
    with replication_progress(True) as show:
        for line in ("[1/2] one", "      (1/1) m: poisson, N = 3", "[2/2] two", "done: ok"):
            show(line)
    captured = capsys.readouterr()
    assert captured.out == "done: ok\n"
    assert "(1/1) m: poisson" in captured.err
