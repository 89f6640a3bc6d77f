"""Where the replication's project files are: the packaged demo project and ``cpcstats init``.

Why one module: the library itself must not know a repository's layout.  Everything the
replication reads by default (``replication.toml``, ``published.toml``, the model
specifications) ships in ``cpcstats/project/`` and is found from here; a user's project
folder is found from its study file (`cpcstats.replicate.config.default_config`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cpcstats.errors import OutputError

#: The demo's replication configuration and model specifications, shipped inside the
#: package so that a wheel is enough (no checkout, any working folder).  The folder mirrors
#: the repository's ``models/`` and ``replication/`` (so ``models = "../models"`` means the
#: same in both); tests/test_project_init.py fails if the two copies drift.
PROJECT_DIR = Path(__file__).resolve().parent.parent / "project"
PACKAGED_MODELS = PROJECT_DIR / "models"
PACKAGED_CONFIG = PROJECT_DIR / "replication" / "replication.toml"
DEFAULT_CONFIG = PACKAGED_CONFIG
#: the reference study's published figures, beside the replication configuration
PUBLISHED_NAME = "published.toml"

#: what ``cpcstats init`` writes, relative to the new folder, from the packaged files
_INIT_FILES = ("README.txt", "study.toml", "replication.toml", PUBLISHED_NAME)


def _check_new_folder(root: Path) -> None:
    """Refuse a file, or a folder that is not empty (templates must not overwrite work)."""
    if root.exists() and not root.is_dir():
        raise OutputError(
            "the project folder is a file, not a folder",
            file=str(root),
            fix="give the path of a new folder: cpcstats init NEW_FOLDER",
        )
    if root.is_dir() and any(root.iterdir()):
        raise OutputError(
            "the project folder exists and is not empty; cpcstats init writes only new folders",
            file=str(root),
            fix="give the path of a new or empty folder: cpcstats init NEW_FOLDER",
        )


def _init_texts(root: Path, *, demo: bool) -> dict[str, str]:
    """The text of each file ``cpcstats init`` writes (the packaged ones, adapted)."""
    config = PACKAGED_CONFIG.read_text(encoding="utf-8")
    if 'models = "../models"\n' not in config:  # the packaged file is ours: a test checks
        raise AssertionError("the packaged replication.toml no longer names ../models")
    return {
        "README.txt": (PROJECT_DIR / "README.txt")
        .read_text(encoding="utf-8")
        .replace("{dir}", root.as_posix()),
        "study.toml": (PROJECT_DIR / ("study_demo.toml" if demo else "study.toml")).read_text(
            encoding="utf-8"
        ),
        "replication.toml": config.replace('models = "../models"\n', 'models = "models"\n'),
        PUBLISHED_NAME: (PROJECT_DIR / "replication" / PUBLISHED_NAME).read_text(encoding="utf-8"),
    }


def init_project(folder: str | Path, *, demo: bool = False) -> list[Path]:
    """Write an editable project folder for one's own study; return the files written.

    ``folder`` gets ``study.toml`` (a commented template naming the files to fill in; with
    ``demo`` one that reads the packaged demo data, and ``truth.json``, the simulation's
    true values, so the folder replicates at once and as the demo does),
    ``models/`` (the shipped specifications), ``replication.toml`` (the shipped
    configuration, its ``models`` pointing at ``models/``), ``published.toml`` (the
    reference study's figures, for ``[published] enabled = true``) and ``README.txt``
    with the next commands.  Why refuse a folder that exists and is not empty: writing
    templates over a user's edited files would destroy work, and merging is guesswork.
    Nothing is written outside ``folder`` (file names are the package's, not the user's).
    """
    root = Path(folder)
    _check_new_folder(root)
    texts = _init_texts(root, demo=demo)
    (root / "models").mkdir(parents=True, exist_ok=True)
    written = []
    for name in _INIT_FILES:
        (root / name).write_text(texts[name], encoding="utf-8")
        written.append(root / name)
    if demo:  # the simulation's true values, so the design tables note them as the demo's do
        truth = Path(str(resources.files("cpcstats.demo").joinpath("data", "truth.json")))
        (root / "truth.json").write_bytes(truth.read_bytes())
        written.append(root / "truth.json")
    for spec in sorted(PACKAGED_MODELS.glob("*.toml")):
        target = root / "models" / spec.name
        target.write_bytes(spec.read_bytes())
        written.append(target)
    return written
