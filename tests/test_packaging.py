"""cpcstats works as an ordinary installed package, not only as an editable checkout.

Why: a built wheel once lacked the topic dictionary, so ``load_study("demo")`` then
``party_year()`` failed outside the repository.  These tests build the wheel and check that
every data file the package tracks is inside it, then install it into a fresh virtual
environment in a temporary folder and use it from there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import cpcstats

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("cpcstats-*.whl")
    return path


def _tracked_package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "cpcstats"], capture_output=True, text=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    return {f for f in listed.stdout.split() if not f.endswith(".pyc")}


def test_wheel_holds_every_tracked_package_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_tracked_package_files() - names)
    assert not missing, f"files of the package missing from the wheel: {missing}"
    assert f"cpcstats-{cpcstats.__version__}.dist-info/licenses/LICENSE" in names
    assert "cpcstats/py.typed" in names


@pytest.mark.slow
def test_installed_wheel_works_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(ROOT / "requirements.lock"),
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    version = subprocess.run(
        [str(python), "-m", "cpcstats", "--version"], cwd=work, capture_output=True, text=True
    )
    assert version.stdout.strip() == f"cpcstats {cpcstats.__version__}", version.stderr
    script = (
        "import cpcstats, pathlib\n"
        "assert 'site-packages' in pathlib.Path(cpcstats.__file__).as_posix()\n"
        "study = cpcstats.load_study('demo')\n"
        "party = cpcstats.party_year(study)\n"
        "m = cpcstats.fit('contacts ~ ruling + xi_era', party, family='poisson', cluster='iso3')\n"
        "print(len(party.data), sorted(c for c in party.data if c.startswith('contacts_'))[:1])\n"
    )
    run = subprocess.run([str(python), "-c", script], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    rows, topic = run.stdout.strip().split(" ", 1)
    assert int(rows) > 10_000 and "contacts_" in topic
    check = subprocess.run(
        [str(python), "-m", "cpcstats", "check", "--study", "demo"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    # the demo replication and a project folder from `cpcstats init`, with no checkout
    out = work / "out"
    rep = subprocess.run(
        [str(python), "-m", "cpcstats", "replicate", "--study", "demo", "--out", str(out)],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert rep.returncode == 0, rep.stderr[-2000:]
    _assert_simulated_tables(out)
    init = subprocess.run(
        [str(python), "-m", "cpcstats", "init", "P", "--demo"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr[-2000:]
    own = subprocess.run(
        [
            *(str(python), "-m", "cpcstats", "replicate", "--study", "P/study.toml"),
            *("--config", "P/replication.toml", "--out", "P/reports"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert own.returncode == 0, own.stderr[-2000:]
    _assert_simulated_tables(work / "P" / "reports")
    # the --demo template reproduces the demo: every table has the same bytes
    for tex in (out / "tables").iterdir():
        assert (work / "P" / "reports" / "tables" / tex.name).read_bytes() == tex.read_bytes()
    # the README's Python examples ("### From Python"), run in the project folder (its models/)
    examples = _readme_python_examples()
    assert "cpcstats.load_study" in examples and "load_specs" in examples
    readme = subprocess.run(
        [str(python), "-c", examples], cwd=work / "P", capture_output=True, text=True
    )
    assert readme.returncode == 0, readme.stderr[-2000:]
    assert "SIMULATED" in (work / "P" / "table.tex").read_text(encoding="utf-8")


def _readme_python_examples() -> str:
    """The code blocks of the README's "### From Python" section, joined in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### From Python", 1)[1].split("\n### ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL))


def _assert_simulated_tables(out: Path) -> None:
    tables = sorted((out / "tables").glob("*.tex"))
    assert len(tables) >= 5, f"too few tables in {out}: {tables}"
    for tex in tables:
        assert "SIMULATED" in tex.read_text(encoding="utf-8"), tex
