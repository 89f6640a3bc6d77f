"""The output folder never lies: one run at a time, stale outputs of an earlier run go, the
manifest lists exactly this run's files, names cannot escape the folder, OS errors and
signals end a run cleanly (exit 2 / 130 / 143, one message, nothing left behind)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cpcstats.cli import main
from cpcstats.errors import OutputError, SpecError
from cpcstats.io import confine_writes, write_atomic
from cpcstats.outputs import LOCK_NAME, STAGING_NAME, STALE_NAME, OutputFolder, write_json
from cpcstats.replicate import load_replication_config, replicate
from cpcstats.study import Study, load_study

REPO = Path(__file__).resolve().parents[1]

MODELS = """
[[model]]
name = "ok"
level = "country-year"
family = "poisson"
formula = "contacts ~ xi_era + bri_member"

[[model]]
name = "extra"
level = "country-year"
family = "poisson"
formula = "contacts ~ xi_era"
"""
# the same model, now without variation in its only term: it fails
FAILING_EXTRA = MODELS.replace(
    'formula = "contacts ~ xi_era"\n', 'formula = "contacts ~ xi_era"\nsample = "year < 2013"\n'
)
CONFIG = """models = "models"
[[table]]
name = "t_ok"
models = ["ok"]
[[table]]
name = "t_extra"
models = ["extra"]
"""


@pytest.fixture(scope="module")
def study() -> Study:
    return load_study("demo")


def _setup(tmp_path: Path, models: str = MODELS, config: str = CONFIG) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "m.toml").write_text(models, encoding="utf-8")
    path = tmp_path / "replication.toml"
    path.write_text(config, encoding="utf-8")
    return path


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _assert_manifest_is_exact(out: Path, user_files: set[str]) -> dict[str, str]:
    """The manifest lists exactly the files on disk that are not the user's, hashes match."""
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    on_disk = _files(out) - user_files - {"manifest.json"}
    assert set(listed) == on_disk
    for rel, sha in listed.items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == sha, rel
    return listed


def test_rerun_where_a_model_now_fails_removes_its_old_table(tmp_path: Path, study: Study) -> None:
    """Run 1 writes t_extra; in run 2 its only model fails: t_extra.tex (unchanged since run 1)
    is deleted, t_extra.md (edited by the user) is moved to .stale/, neither is in the new
    manifest; the user's own files survive; the manifest equals the files on disk."""
    config = _setup(tmp_path)
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "README.md").write_text("my notes\n")
    (out / "tables" / "mine.tex").write_text("% my own table\n")
    (out / ".gitkeep").write_text("")
    user = {"README.md", "tables/mine.tex", ".gitkeep"}

    first = replicate(study, out, config, progress=lambda _: None)
    assert not first.failed
    listed = _assert_manifest_is_exact(out, user)
    assert {"tables/t_extra.tex", "tables/t_extra.md", "tables/t_ok.tex"} <= set(listed)
    assert all(p.is_relative_to(out) and p.exists() for p in first.files)

    (out / "tables" / "t_extra.md").write_text("edited by hand\n")
    _setup(tmp_path, models=FAILING_EXTRA)
    messages: list[str] = []
    second = replicate(study, out, config, progress=messages.append)
    assert set(second.failed) == {"extra"}
    assert not (out / "tables" / "t_extra.tex").exists()
    assert not (out / "tables" / "t_extra.md").exists()
    assert (out / STALE_NAME / "tables" / "t_extra.md").read_text() == "edited by hand\n"
    listed = _assert_manifest_is_exact(out, user | {f"{STALE_NAME}/tables/t_extra.md"})
    assert not any("t_extra" in rel for rel in listed)
    assert (out / "README.md").read_text() == "my notes\n"
    assert (out / "tables" / "mine.tex").read_text() == "% my own table\n"
    assert (out / ".gitkeep").exists()
    # the unedited .tex and .html of the failed model are removed (the edited .md moved)
    assert not (out / "tables" / "t_extra.html").exists()
    assert any(
        "removed 2 file(s)" in m and "tables/t_extra.tex" in m and "tables/t_extra.html" in m
        for m in messages
    )
    assert any("moved 1 edited file(s)" in m for m in messages)
    assert not (out / LOCK_NAME).exists() and not (out / STAGING_NAME).exists()


def test_a_tampered_manifest_deletes_nothing_outside_and_nothing_edited(
    tmp_path: Path, study: Study
) -> None:
    """Only files the previous manifest lists with their current hash are deleted, and only
    inside the folder: a manifest naming ../victim or an absolute path is ignored, a listed
    file whose bytes differ from the recorded hash is moved to .stale/, not deleted."""
    config = _setup(tmp_path, config=CONFIG.split('[[table]]\nname = "t_extra"')[0])
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (out / "notes.txt").write_text("mine\n")
    sha = hashlib.sha256(b"keep me\n").hexdigest()
    fake = {
        "outputs": [
            {"path": "../victim.txt", "sha256": sha},
            {"path": str(victim), "sha256": sha},
            {"path": "notes.txt", "sha256": "0" * 64},
        ]
    }
    (out / "manifest.json").write_text(json.dumps(fake))
    replicate(study, out, config, progress=lambda _: None)
    assert victim.read_text() == "keep me\n"
    assert (out / STALE_NAME / "notes.txt").read_text() == "mine\n"  # edited: kept aside
    _assert_manifest_is_exact(out, {f"{STALE_NAME}/notes.txt"})


def _run(out: Path, files: dict[str, str], fail: bool = False) -> None:
    """A minimal run through OutputFolder: write ``files`` and a manifest, commit."""
    with OutputFolder(out, progress=lambda _: None) as folder:
        for rel, text in files.items():
            write_atomic(folder.staging / rel, text)
        if fail:
            raise RuntimeError("the run fails before its commit")
        write_json(folder.staging / "manifest.json", {"outputs": folder.output_records()})
        folder.commit()


def test_a_run_that_fails_changes_nothing_and_quarantines_never_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, {"a.txt": "a1", "sub/b.txt": "b1"})
    before = {rel: (out / rel).read_bytes() for rel in _files(out)}
    with pytest.raises(RuntimeError):
        _run(out, {"a.txt": "a2", "c.txt": "c2"}, fail=True)
    assert {rel: (out / rel).read_bytes() for rel in _files(out)} == before  # untouched
    (out / "sub" / "b.txt").write_text("edited once")
    _run(out, {"a.txt": "a3"})
    assert (out / STALE_NAME / "sub" / "b.txt").read_text() == "edited once"
    _run(out, {"a.txt": "a4", "sub/b.txt": "b4"})
    (out / "sub" / "b.txt").write_text("edited twice")
    _run(out, {"a.txt": "a5"})
    assert (out / STALE_NAME / "sub" / "b.txt").read_text() == "edited once"
    assert (out / STALE_NAME / "sub" / "b.txt.1").read_text() == "edited twice"
    assert not (out / "sub").exists()  # the folder the stale file emptied is gone
    _assert_manifest_is_exact(out, {f"{STALE_NAME}/sub/b.txt", f"{STALE_NAME}/sub/b.txt.1"})


def _hold_lock(out: Path) -> subprocess.Popen[str]:
    """Another process that owns ``out`` (as a running replication would) until killed."""
    code = (
        "import sys, time\n"
        "from cpcstats.outputs import OutputFolder\n"
        f"with OutputFolder({str(out)!r}, progress=lambda _: None):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_run_into_a_folder_in_use_exits_2_naming_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _setup(tmp_path)
    out = tmp_path / "out"
    holder = _hold_lock(out)
    try:
        code = main(["replicate", "--study", "demo", "--config", str(config), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2
        assert "Traceback" not in err
        assert str(out / LOCK_NAME) in err and f"pid {holder.pid}" in err
        assert "another cpcstats run" in err and "fix:" in err and "another --out" in err
        assert _files(out) == {LOCK_NAME}  # the refused run wrote nothing
        assert (out / LOCK_NAME).read_text().strip() == str(holder.pid)  # and left it alone
    finally:
        holder.kill()
        holder.wait()


def test_lock_left_by_a_killed_run_is_taken_over_with_a_message(
    tmp_path: Path, study: Study
) -> None:
    """A killed run leaves its lock file (no longer held) and its staging folder; the next
    run takes the lock over, says so, removes the leftovers and completes."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    config = _setup(tmp_path, config=CONFIG.split('[[table]]\nname = "t_extra"')[0])
    out = tmp_path / "out"
    (out / STAGING_NAME / "tables").mkdir(parents=True)
    (out / STAGING_NAME / "tables" / "half.tex").write_text("half written")
    (out / LOCK_NAME).write_text(f"{dead.pid}\n")
    messages: list[str] = []
    replicate(study, out, config, progress=messages.append)
    assert any("took over the lock" in m and f"pid {dead.pid}" in m for m in messages)
    assert any("left by an interrupted run" in m for m in messages)
    assert not (out / LOCK_NAME).exists() and not (out / STAGING_NAME).exists()
    assert not (out / "tables" / "half.tex").exists()
    _assert_manifest_is_exact(out, set())


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ('[[table]]\nname = "../escape"\nmodels = ["ok"]\n', "'../escape'"),
        ('[[table]]\nname = "/tmp/cpcstats_escape"\nmodels = ["ok"]\n', "cpcstats_escape"),
        ('[diagnostics]\nname = "../../diag"\nmodels = ["ok"]\n', "'../../diag'"),
        ('[[table]]\nname = "t"\nmodels = ["../ok"]\n', "'../ok'"),
    ],
)
def test_names_that_would_escape_the_output_folder_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, words: str
) -> None:
    path = _setup(tmp_path, config='models = "models"\n' + config)
    before = _files(tmp_path)
    out = tmp_path / "deep" / "out"
    code = main(["replicate", "--study", "demo", "--config", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "is not a valid name" in err and words in err and "fix:" in err
    assert _files(tmp_path) == before and not out.exists()  # nothing written anywhere
    assert not Path("/tmp/cpcstats_escape").exists()


def test_writer_refuses_paths_outside_the_output_folder(tmp_path: Path) -> None:
    """The last line of defence: whatever path a writer builds, write_atomic refuses it when
    it resolves outside the folder of the run (``..``, absolute, through a symbolic link)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(tmp_path)
    with confine_writes(out):
        write_atomic(out / "tables" / "fine.tex", "ok")
        for bad in (out / ".." / "escape.tex", tmp_path / "abs.tex", out / "link" / "x.tex"):
            with pytest.raises(OutputError, match="refusing to write outside the output folder"):
                write_atomic(bad, "no")
    assert (out / "tables" / "fine.tex").read_text() == "ok"
    assert _files(tmp_path) == {"out/tables/fine.tex"}
    write_atomic(tmp_path / "free.txt", "unconfined outside a run")  # the block has ended
    assert (tmp_path / "free.txt").exists()


@pytest.mark.parametrize(
    ("config", "key", "expected"),
    [
        ("models = 5\n", "models", "a string"),
        ('[[table]]\nname = "t"\nmodels = 3\n', "models", "an array of strings"),
        ('[[table]]\nname = "t"\nmodels = ["ok"]\nirr = "yes"\n', "irr", "true or false"),
        ('[[table]]\nname = 7\nmodels = ["ok"]\n', "name", "a string"),
        ('[[table]]\nname = "t"\nmodels = ["ok"]\ntitel = "x"\n', "titel", "did you mean"),
        ('table = "t"\n', "table", "an array"),
        ('[[table]]\nmodels = ["ok"]\n', "name", "needs `name`"),
        ("[figures]\nirr_models = [1, 2]\n", "irr_models", "an array of strings"),
    ],
)
def test_wrong_types_in_the_replication_config_are_spec_errors(
    tmp_path: Path, config: str, key: str, expected: str
) -> None:
    path = tmp_path / "replication.toml"
    path.write_text(config if config.startswith("models") else 'models = "m"\n' + config)
    with pytest.raises(SpecError) as info:
        load_replication_config(path)
    assert info.value.file == str(path.resolve())
    assert key in str(info.value) and expected in str(info.value) and info.value.fix


def test_out_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _setup(tmp_path)
    out = tmp_path / "out.txt"
    out.write_text("a file\n")
    code = main(["replicate", "--study", "demo", "--config", str(config), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert str(out) in err and "is a file, not a folder" in err and "fix:" in err
    assert out.read_text() == "a file\n"


def _failing_fsync(code: int) -> Callable[[int], None]:
    """An ``os.fsync`` that fails with ``code``, as a full or read-only disk does."""

    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    return fsync


def test_read_only_out_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only --out (simulated: tests run as root) fails when the lock file is created,
    before the study is loaded: exit 2 naming the lock path, the OS reason and the fix."""
    config = _setup(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    real_open = os.open

    def read_only_open(path: str | os.PathLike[str], flags: int, *args: int, **kw: int) -> int:
        if Path(path).parent == out and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", read_only_open)
    code = main(["replicate", "--study", "demo", "--config", str(config), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert str(out / LOCK_NAME) in err and "Read-only file system" in err
    assert "fix: choose a folder you may write to" in err
    assert list(out.iterdir()) == []


def test_disk_full_exits_2_naming_the_path_and_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, whom chmod does not stop: the OS error is simulated at the moment
    the bytes reach the disk (fsync), where a full disk reports itself."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine\n")
    monkeypatch.setattr(os, "fsync", _failing_fsync(errno.ENOSPC))
    target = out / "cy.csv"
    exit_code = main(["panel", "--level", "country-year", "--out", str(target)])
    err = capsys.readouterr().err
    assert exit_code == 2 and "Traceback" not in err and "internal error" not in err
    assert str(target) in err and "No space left on device" in err
    assert "fix: free disk space" in err
    assert _files(out) == {"README.md"}  # no temp file left behind


@pytest.mark.parametrize(
    ("code", "reason", "fix"),
    [
        (errno.EROFS, "Read-only file system", "you may write to"),
        (errno.EACCES, "Permission denied", "you may write to"),
        (errno.ENOSPC, "No space left on device", "free disk space"),
    ],
)
def test_os_errors_while_writing_are_output_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str, fix: str
) -> None:
    monkeypatch.setattr(os, "fsync", _failing_fsync(code))
    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "x" / "table.tex", "text")
    assert info.value.file == str(tmp_path / "x" / "table.tex")
    assert reason in info.value.problem and fix in (info.value.fix or "")
    assert _files(tmp_path) == set()  # the temp file is gone


def test_a_file_where_a_folder_should_be_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "tables"
    blocker.write_text("not a folder\n")
    with pytest.raises(OutputError, match="File exists") as info:
        write_atomic(blocker / "t.tex", "text")
    assert info.value.file == str(blocker) and "is a file" in (info.value.fix or "")
    assert blocker.read_text() == "not a folder\n"


def test_os_error_during_replicate_leaves_the_folder_as_it_was(
    tmp_path: Path, study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _setup(tmp_path, config=CONFIG.split('[[table]]\nname = "t_extra"')[0])
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine\n")

    monkeypatch.setattr(os, "fsync", _failing_fsync(errno.ENOSPC))
    with pytest.raises(OutputError, match="No space left on device") as info:
        replicate(study, out, config, progress=lambda _: None)
    assert "free disk space" in (info.value.fix or "")
    assert _files(out) == {"README.md"}  # no staging folder, no lock, no temp file
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_signal_during_replicate_exits_cleanly(
    tmp_path: Path, sig: signal.Signals, code: int, name: str
) -> None:
    """The signal arrives mid-run (the lock is held and the staging folder exists; the
    demo replication then needs ~20 s more).  One line says it was interrupted; no
    traceback; no temp file, staging folder or lock is left; the user's file is untouched."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cpcstats.cli", "replicate", "--study", "demo", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        # a shell's background job may inherit SIGINT ignored; a terminal's Ctrl-C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.startswith("[2/7]") or time.monotonic() > deadline:
            break
    assert (out / LOCK_NAME).exists() and (out / STAGING_NAME).is_dir()  # mid-run
    assert (out / LOCK_NAME).read_text().strip() == str(proc.pid)
    # signalled at once: the fits still ahead take many seconds even on a fast machine
    # (a second run refused by the lock is tested with a held lock above)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and name in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
    assert not list(tmp_path.rglob("*.tmp"))
