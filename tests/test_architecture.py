"""The package import graph goes one way, and no package reaches into another's private names.

Why a test: a layer order written only in prose erodes one convenient import at a time (a
figure helper borrowed from reporting by a panel step, a spec check that imports the
estimator).  Each module under ``cpcstats/`` is parsed with :mod:`ast` (nothing is imported,
so the test is fast and sees imports inside functions too: a lazy import is still a
dependency), every dependency between cpcstats packages is collected, and three rules are
checked against :data:`LAYERS` (the order ARCHITECTURE.md describes):

* no cycle between packages;
* no import from a lower layer of a higher one;
* no import of a private name (``_x``) from another package.

Violations that are known and being removed are listed in :data:`KNOWN_VIOLATIONS`; each
must still exist (a fixed one must be deleted from the list, so it can only shrink), and
nothing else may violate.

Three size rules keep the modules readable (issue 13): no file over :data:`MAX_FILE_LINES`
lines, no function over :data:`MAX_FUNCTION_LINES` lines unless its docstring says why in a
line starting "Long because", and no block of :data:`MIN_REPEATED_LINES` or more code lines
repeated within the package (one concept, one implementation).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "cpcstats"
ROOT = "cpcstats"  # the package's own __init__ (its public facade) is the unit "cpcstats"

# Lowest first.  A package may import packages of its own layer and of layers below it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "inputs",
        frozenset(
            {
                "errors",
                "c_allocator",
                "accounting",
                "tomlio",
                "saferegex",
                "execution",
                "io",
                "countries",
                "party_names",
                "contract",
                "reference",
                "adapters",
                "study",
                "demo",
            }
        ),
    ),
    # counting the contacts' texts: panels add the counts as columns, so topics sits below
    # them (writing the topic table and figure is reporting's, cpcstats/reporting/topics.py)
    ("text", frozenset({"topics"})),
    ("panels", frozenset({"panels"})),
    ("models", frozenset({"formula", "spec", "spec_registry"})),
    ("estimation", frozenset({"estimation"})),
    ("inference", frozenset({"diagnostics", "methods"})),
    # a library the layers above call: formatting, tables, figures and their style, writing
    ("reporting", frozenset({"reporting"})),
    ("analyses", frozenset({"designs", "descriptives", "multiverse"})),
    (
        "application",
        frozenset(
            {"replicate", "check", "cli", "cli_data", "console", "outputs", "__main__", ROOT}
        ),
    ),
)

# ("upward", from package, to package) or ("private", from module, "module.name").
KNOWN_VIOLATIONS: frozenset[tuple[str, str, str]] = frozenset({})


@dataclass(frozen=True)
class Dependency:
    """One reference from a module to a cpcstats module (and the name it takes, if any)."""

    source: str  # importing module, e.g. "cpcstats.designs.breaks"
    target: str  # imported module, e.g. "cpcstats.reporting.tables"
    name: str | None  # the name taken from it (``from target import name``), if any
    where: str  # file:line, for the failure message


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def unit(module: str) -> str:
    """The package a module belongs to: ``cpcstats.reporting.tables`` -> ``reporting``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _resolve(module: str, node: ast.ImportFrom, *, is_package: bool) -> str:
    """The absolute module of a ``from ... import``, relative ones included."""
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if not is_package:
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_ours(name: str) -> bool:
    return name == ROOT or name.startswith(ROOT + ".")


def _dependencies(module: str) -> Iterator[Dependency]:
    """The dependencies of one module of the source tree."""
    path = MODULES[module]
    yield from dependencies_in(
        module,
        path.read_text(encoding="utf-8"),
        is_package=path.name == "__init__.py",
        label=str(path.relative_to(SOURCE.parent)),
    )


def dependencies_in(
    module: str, text: str, *, is_package: bool, label: str
) -> Iterator[Dependency]:
    """Every import (module level or inside a function), ``module._private`` attribute use
    through an imported module, and string naming a cpcstats module (registries loaded
    with importlib, such as the replication's designs)."""
    tree = ast.parse(text, filename=label)
    aliases: dict[str, str] = {}  # local name -> cpcstats module it is bound to
    for node in ast.walk(tree):
        where = f"{label}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_ours(alias.name):
                    yield Dependency(module, alias.name, None, where)
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, is_package=is_package)
            if not _is_ours(target):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:  # ``from cpcstats.reporting import topics``
                    aliases[alias.asname or alias.name] = submodule
                    yield Dependency(module, submodule, None, where)
                else:
                    yield Dependency(module, target, alias.name, where)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(ROOT + ".")  # not "cpcstats", the distribution's name
            and node.value in MODULES
            and node.value != module
        ):
            yield Dependency(module, node.value, None, where)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            where = f"{label}:{node.lineno}"
            yield Dependency(module, aliases[node.value.id], node.attr, where)


DEPENDENCIES: list[Dependency] = [d for m in MODULES for d in _dependencies(m)]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layer_of(package: str) -> int:
    for index, (_, packages) in enumerate(LAYERS):
        if package in packages:
            return index
    raise KeyError(package)


def violations() -> dict[tuple[str, str, str], list[str]]:
    """Every upward import and cross-package private name, with where it happens."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for dep in DEPENDENCIES:
        source, target = unit(dep.source), unit(dep.target)
        if source == target:
            continue
        if layer_of(target) > layer_of(source):
            found.setdefault(("upward", source, target), []).append(dep.where)
        private_module = any(_is_private(part) for part in dep.target.split("."))
        if private_module or (dep.name is not None and _is_private(dep.name)):
            key = ("private", dep.source, f"{dep.target}.{dep.name}" if dep.name else dep.target)
            found.setdefault(key, []).append(dep.where)
    return found


def package_graph(*, without_known: bool) -> dict[str, set[str]]:
    """Package -> packages it depends on (optionally without the known upward edges)."""
    skip = (
        {(s, t) for kind, s, t in KNOWN_VIOLATIONS if kind == "upward"} if without_known else set()
    )
    graph: dict[str, set[str]] = {unit(m): set() for m in MODULES}
    for dep in DEPENDENCIES:
        source, target = unit(dep.source), unit(dep.target)
        if source != target and (source, target) not in skip:
            graph[source].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_every_package_has_a_layer() -> None:
    """A new package must be placed in the order (and in ARCHITECTURE.md), not float."""
    placed = set().union(*(packages for _, packages in LAYERS))
    missing = sorted({unit(m) for m in MODULES} - placed)
    assert not missing, f"add {missing} to LAYERS in tests/test_architecture.py"
    assert DEPENDENCIES, "no imports found: is SOURCE right?"


def test_no_cycle_between_packages() -> None:
    cycle = find_cycle(package_graph(without_known=True))
    assert cycle is None, "package import cycle: " + " -> ".join(cycle or [])


def test_imports_go_down_the_layers_and_no_private_names_cross_packages() -> None:
    found = violations()
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    stale = sorted(KNOWN_VIOLATIONS - found.keys())
    assert not new, "imports against the layer order or of another package's private names:\n" + (
        "\n".join(f"  {k}: {', '.join(v)}" for k, v in sorted(new.items()))
    )
    assert not stale, f"fixed, so delete from KNOWN_VIOLATIONS: {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # the checker itself: a lazy import, a relative import, a module named in a string,
        # and a private attribute reached through an imported module are all seen
        ("from cpcstats.reporting.style import style", ("cpcstats.reporting.style", "style")),
        ("def f():\n    from cpcstats.panels import Panel", ("cpcstats.panels", "Panel")),
        ("from .tables import _Layout", ("cpcstats.reporting.tables", "_Layout")),
        ('DESIGNS = {"x": "cpcstats.designs.breaks"}', ("cpcstats.designs.breaks", None)),
        (
            "from cpcstats.estimation import fit\nfit._patsy_frame",
            ("cpcstats.estimation.fit", "_patsy_frame"),
        ),
    ],
)
def test_the_checker_sees_every_kind_of_dependency(
    source: str, expected: tuple[str, str | None]
) -> None:
    found = {
        (d.target, d.name)
        for d in dependencies_in("cpcstats.reporting.probe", source, is_package=False, label="x")
    }
    assert expected in found


def test_the_order_rejects_an_upward_import_and_a_cycle() -> None:
    """The rules bite: reporting importing a design, and a two-package loop."""
    assert layer_of("designs") > layer_of("reporting")
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# --------------------------------------------------------------------------- size rules

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
MIN_REPEATED_LINES = 10
LONG_REASON = "Long because"
TREES: dict[str, ast.Module] = {
    module: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for module, path in MODULES.items()
}


def _label(module: str) -> str:
    return str(MODULES[module].relative_to(SOURCE.parent))


def long_files() -> list[str]:
    """Files of the package over :data:`MAX_FILE_LINES` lines, with their length."""
    found = []
    for module, path in MODULES.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{_label(module)}: {lines} lines")
    return found


def long_functions_in(tree: ast.Module, label: str) -> list[str]:
    """Functions (def line to end, docstring included) over :data:`MAX_FUNCTION_LINES`
    lines whose docstring has no line starting "Long because"."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        doc = ast.get_docstring(node) or ""
        if any(line.strip().startswith(LONG_REASON) for line in doc.splitlines()):
            continue
        found.append(f"{label}:{node.lineno} {node.name}: {length} lines")
    return found


def _ignored_lines(tree: ast.Module) -> set[int]:
    """Line numbers of docstrings (any string statement) and of import statements."""
    ignored: set[int] = set()
    for node in ast.walk(tree):
        is_text = (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_text or isinstance(node, (ast.Import, ast.ImportFrom)):
            ignored.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return ignored


def code_lines(text: str, tree: ast.Module) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that count for repetition: not blank, not
    a comment alone, not part of a docstring or an import."""
    ignored = _ignored_lines(tree)
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and number not in ignored:
            out.append((number, stripped))
    return out


def repeated_blocks(files: dict[str, tuple[str, ast.Module]], size: int) -> list[str]:
    """Places where ``size`` consecutive code lines equal ``size`` lines elsewhere.

    A longer repeated block is reported once, at its first line in each copy.
    """
    seen: dict[tuple[str, ...], list[tuple[str, int, int]]] = defaultdict(list)
    for label, (text, tree) in files.items():
        lines = code_lines(text, tree)
        for i in range(len(lines) - size + 1):
            seen[tuple(s for _, s in lines[i : i + size])].append((label, i, lines[i][0]))
    repeats: list[list[tuple[str, int, int]]] = []
    for places in seen.values():
        copies: list[tuple[str, int, int]] = []
        for place in places:  # overlapping windows of one file are not two copies
            if all(place[0] != q[0] or abs(place[1] - q[1]) >= size for q in copies):
                copies.append(place)
        if len(copies) >= 2:
            repeats.append(copies)
    starts = {(label, index) for copies in repeats for label, index, _ in copies}
    return sorted(
        " = ".join(f"{label}:{line}" for label, _, line in copies)
        for copies in repeats
        if (copies[0][0], copies[0][1] - 1) not in starts
    )


def test_the_size_checkers_bite() -> None:
    """A long function without a reason, one with a reason, and a block written twice."""
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    bare = ast.parse("def f():\n" + body)
    reasoned = ast.parse(
        'def f():\n    """Long because a test.\n\n    Long because: why."""\n' + body
    )
    assert long_functions_in(bare, "x") == ["x:1 f: 81 lines"]
    assert long_functions_in(reasoned, "x") == []
    block = "".join(f"y{i} = compute({i})\n" for i in range(12))
    one = "import os\n" + block
    two = '"""Doc."""\n# a comment\n\n' + block + "z = 1\n"
    files = {"a.py": (one, ast.parse(one)), "b.py": (two, ast.parse(two))}
    assert repeated_blocks(files, MIN_REPEATED_LINES) == ["a.py:2 = b.py:4"]
    assert repeated_blocks({"a.py": files["a.py"]}, MIN_REPEATED_LINES) == []


def test_no_file_is_over_500_lines() -> None:
    found = long_files()
    assert not found, f"files over {MAX_FILE_LINES} lines (split them by job):\n  " + (
        "\n  ".join(found)
    )


def test_no_function_is_over_80_lines_without_a_reason() -> None:
    found = [f for m, tree in TREES.items() for f in long_functions_in(tree, _label(m))]
    assert not found, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or give a one-line reason "
        f"starting {LONG_REASON!r} in the docstring):\n  " + "\n  ".join(found)
    )


def test_no_block_of_10_lines_is_repeated() -> None:
    files = {_label(m): (MODULES[m].read_text(encoding="utf-8"), t) for m, t in TREES.items()}
    found = repeated_blocks(files, MIN_REPEATED_LINES)
    assert not found, (
        f"blocks of {MIN_REPEATED_LINES}+ identical code lines in two places (make them one "
        "function):\n  " + "\n  ".join(found)
    )
