"""Machine-readable outputs: ``results.json`` and ``manifest.json``.

Both are written with sorted keys, no timestamps and NaN as ``null`` so that
the same inputs give the same bytes, and atomically so that a crash never
leaves a half-written file.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from cpcstats.io import sha256_of, write_atomic

PACKAGES = (
    "cpcstats",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "patsy",
    "matplotlib",
    "seaborn",
    "country_converter",
    "pyarrow",
    "openpyxl",
)
PACKAGE_ROOT = Path(__file__).resolve().parent


def display_path(path: str | Path) -> str:
    """A path as a reader of the manifest can use it: package- or cwd-relative if possible."""
    p = Path(path).resolve()
    for root, prefix in ((PACKAGE_ROOT, "cpcstats"), (Path.cwd().resolve(), ".")):
        try:
            rel = p.relative_to(root)
        except ValueError:
            continue
        return f"{prefix}/{rel.as_posix()}"
    return p.as_posix()


def jsonable(value: Any) -> Any:
    """Plain JSON types, NaN/inf as None, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    text = json.dumps(jsonable(payload), indent=2, sort_keys=True, allow_nan=False)
    return write_atomic(path, text + "\n")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_record(path: str | Path) -> dict[str, str]:
    return {"path": display_path(path), "sha256": sha256_of(path)}


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": package_versions(),
    }
