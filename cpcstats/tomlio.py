"""Reading the TOML files a user writes (study files, model specifications, replication
configurations, topic dictionaries, labels) without hanging, crashing or guessing.

Why one reader: every configuration file passes the same hazards before its keys are
checked: a path that is a folder, a FIFO or a device (``read_text`` on a FIFO blocks
forever), a symbolic-link loop, a file too large to be a configuration, bytes that are
not UTF-8, TOML syntax errors, and nesting deep enough to exhaust Python's recursion
limit.  Each becomes a `cpcstats.errors.SpecError` that names the file and the
fix, so the command line exits with code 2 instead of hanging or reporting a bug.

The typed getters (`get_str`, `get_int`, ...) check the TOML type of one
key and name the file, the key and the expected type when it is wrong, so that
``first_year = 'abc'`` or ``formula = 5`` is a user error, not an exception deep inside
the fit.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cpcstats.errors import SpecError

MAX_CONFIG_BYTES = 8 * 1024 * 1024  # a configuration file is text a person writes
MAX_NESTING = 32  # tables/arrays inside each other; deeper is not a configuration


def _regular_file(path: Path, what: str) -> None:
    """Refuse anything that is not an existing regular file, before opening it."""
    try:
        info = path.stat()  # follows links; a link loop raises OSError (ELOOP)
    except FileNotFoundError as exc:
        raise SpecError(f"the {what} does not exist", file=str(path), fix="check the path") from exc
    except OSError as exc:
        raise SpecError(
            f"the {what} cannot be opened: {exc.strerror or exc}",
            file=str(path),
            fix="check the path (a symbolic-link loop or a permission problem)",
        ) from exc
    if stat.S_ISDIR(info.st_mode):
        raise SpecError(
            f"the {what} is a folder, not a file",
            file=str(path),
            fix="give the path of the .toml file inside the folder",
        )
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(
            f"the {what} is not a regular file (a FIFO, socket or device would block or never end)",
            file=str(path),
            fix="save the configuration as an ordinary .toml file and give its path",
        )
    if info.st_size > MAX_CONFIG_BYTES:
        raise SpecError(
            f"the {what} has {info.st_size:,} bytes; a configuration file has at most "
            f"{MAX_CONFIG_BYTES:,}",
            file=str(path),
            fix="check that this is the right file (data belong in CSV/Parquet files)",
        )


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of tables and arrays, stopping as soon as ``limit`` is passed."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_toml(path: str | os.PathLike[str], what: str = "configuration file") -> dict[str, Any]:
    """Parse a user's TOML file, or raise a SpecError naming the file and the fix.

    ``what`` names the kind of file in messages ("study file", "specification file").
    """
    path = Path(path)
    _regular_file(path, what)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(
            f"the {what} cannot be read: {exc.strerror or exc}",
            file=str(path),
            fix="check the file's permissions",
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"is not UTF-8 text (byte {raw[exc.start]:#04x} on line {line})",
            file=str(path),
            row=line,
            fix="save the file as UTF-8 (TOML files must be UTF-8)",
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"is not valid TOML: {exc}", file=str(path), fix="check quotes and brackets"
        ) from exc
    except RecursionError as exc:
        raise SpecError(
            "is nested too deeply to be a configuration file",
            file=str(path),
            fix=f"use at most {MAX_NESTING} levels of tables and arrays",
        ) from exc
    if _depth(data, MAX_NESTING) > MAX_NESTING:
        raise SpecError(
            "is nested too deeply to be a configuration file",
            file=str(path),
            fix=f"use at most {MAX_NESTING} levels of tables and arrays",
        )
    return data


def closest_key(key: str, allowed: Iterable[str]) -> str | None:
    """The allowed key a typo most likely meant (``brek_year`` -> ``break_year``)."""
    matches = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_keys(
    table: Mapping[str, Any],
    allowed: Iterable[str],
    *,
    file: str | None,
    where: str,
) -> None:
    """Raise a SpecError for the first unknown key, naming the closest valid one."""
    allowed = set(allowed)
    unknown = sorted(set(table) - allowed)
    if not unknown:
        return
    key = unknown[0]
    guess = closest_key(key, allowed)
    hint = f"did you mean `{guess}`? " if guess else ""
    raise SpecError(
        f"unknown key `{key}` in {where}"
        + (f" (also unknown: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""),
        file=file,
        column=key,
        fix=f"{hint}allowed keys: {', '.join(sorted(allowed))}",
    )


_TYPE_NAMES = {
    str: "a string in quotes",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a table",
    list: "an array",
}


def _type_error(key: str, value: Any, expected: str, *, file: str | None, where: str) -> SpecError:
    return SpecError(
        f"`{key}` in {where} must be {expected}, not {type(value).__name__} {value!r}"[:300],
        file=file,
        column=key,
        fix=f"write {key} as {expected}",
    )


def get_typed(
    table: Mapping[str, Any],
    key: str,
    types: type | tuple[type, ...],
    *,
    file: str | None,
    where: str,
    default: Any = None,
) -> Any:
    """``table[key]`` if it has one of ``types`` (bool is never an int), else a SpecError."""
    if key not in table:
        return default
    value = table[key]
    wanted = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, wanted) and not (isinstance(value, bool) and bool not in wanted)
    if float in wanted and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in wanted)
        raise _type_error(key, value, expected, file=file, where=where)
    return value


def get_str(
    table: Mapping[str, Any], key: str, *, file: str | None, where: str, default: str | None = None
) -> str | None:
    return get_typed(table, key, str, file=file, where=where, default=default)


def get_int(
    table: Mapping[str, Any], key: str, *, file: str | None, where: str, default: int | None = None
) -> int | None:
    return get_typed(table, key, int, file=file, where=where, default=default)


def get_table(
    table: Mapping[str, Any], key: str, *, file: str | None, where: str
) -> dict[str, Any]:
    return get_typed(table, key, dict, file=file, where=where, default={})


def get_str_list(
    table: Mapping[str, Any], key: str, *, file: str | None, where: str
) -> list[str] | None:
    """A string or an array of strings, as a list; anything else is a SpecError."""
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _type_error(key, value, "a string or an array of strings", file=file, where=where)


def check_choices(
    values: Iterable[str], allowed: Iterable[str], *, what: str, column: str, file: str | None
) -> tuple[str, ...]:
    """``values`` as a tuple when each is one of ``allowed``, at most once, and there is
    at least one; else a SpecError naming ``what`` ("table format") and ``column``.

    Why: a typo in a list of output formats must not silently drop a format from a run.
    """
    chosen, known = tuple(values), tuple(allowed)
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        problem = (
            f"unknown {what}(s) {', '.join(map(repr, unknown))}"
            if unknown
            else (f"no {what}" if not chosen else f"a {what} listed twice")
        )
        raise SpecError(
            problem,
            file=file,
            column=column,
            fix=f"list each of {', '.join(map(repr, known))} at most once",
        )
    return chosen


NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"


def check_name(name: Any, *, key: str, file: str | None, where: str) -> str:
    """A user-given name that becomes a file name or a LaTeX label: an identifier.

    Why: names of models and tables become paths under the output folder and
    ``\\label{...}`` keys; ``../x``, an absolute path or LaTeX commands in a name would
    write outside the folder or inject code.  Letters, digits, ``_`` and ``-`` (starting
    with a letter or digit, at most 100 characters) are safe on every file system.
    """
    import re

    if not isinstance(name, str):
        raise _type_error(key, name, "a string in quotes", file=file, where=where)
    if not re.fullmatch(NAME_PATTERN, name):
        raise SpecError(
            f"`{key}` {name[:80]!r} in {where} is not a valid name: names become file names "
            "and LaTeX labels",
            file=file,
            column=key,
            fix="use only letters, digits, '_' and '-' (start with a letter or digit, at most "
            "100 characters), e.g. party_nb_ruling",
        )
    return name
