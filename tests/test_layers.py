"""The package's arrows point one way: each module imports only from the layers before its own.

Read from the source with :mod:`ast` (nothing is imported): a new cycle, an import against the
flow, or a function-level import used to dodge a cycle fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "metrics_toolkit"

#: The layers, bottom first. A module may import from its own layer or the ones before it,
#: never from a later one; ``demo`` is an independent oracle that imports nothing of ours.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_constants", "_vocabulary", "errors", "files"),
    ("params", "models"),
    ("frequencies", "buckets"),
    ("_endpoints", "cache", "_wire", "_http11", "_transport"),
    ("directory", "combine", "labels", "_rules"),
    ("frames", "summaries", "_request_path", "export", "_calls"),
    ("_plan", "fetch", "_base_client"),
    ("client", "periods", "tables", "store"),
    ("charts", "widgets", "report", "cli", "dlt_source"),
)
#: Who may import the demo: its factory (``MetricsClient.demo``) and the front ends on top.
DEMO_USERS = {"_base_client", "charts", "widgets", "report", "cli"}
#: Limits on size.
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300

LAYER_OF = {name: index for index, layer in enumerate(LAYERS) for name in layer}


def modules() -> Iterator[tuple[str, Path]]:
    """(top-level unit, file) for every module of the package: ``charts`` for charts/_axis.py."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            continue
        yield parts[0], path


def own_imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported top-level unit of the package, whether at module level) for each import."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for metrics_toolkit/x.py
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = _resolve(node, depth)
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".")[1] for alias in node.names if _ours(alias.name)]
        else:
            continue
        module_level = id(node) in top_level or _in_type_checking(tree, node)
        for name in names:
            yield name, module_level


def _ours(name: str) -> bool:
    return name.startswith("metrics_toolkit.")


def _resolve(node: ast.ImportFrom, depth: int) -> list[str]:
    if node.level == 0:
        if node.module and _ours(node.module):
            return [node.module.split(".")[1]]
        if node.module == "metrics_toolkit":
            return [alias.name for alias in node.names]
        return []
    up = node.level - 1  # levels above the file's own package
    if up > depth:
        return []
    if up == depth:  # relative to metrics_toolkit itself
        if node.module:
            return [node.module.split(".")[0]]
        return [alias.name for alias in node.names]
    return []  # inside the same subpackage


def _in_type_checking(tree: ast.Module, target: ast.AST) -> bool:
    return any(
        isinstance(node, ast.If)
        and "TYPE_CHECKING" in ast.dump(node.test)
        and any(child is target for child in ast.walk(node))
        for node in tree.body
    )


def test_every_module_has_a_layer() -> None:
    units = {unit for unit, _ in modules()}
    assert units - {"demo"} == set(LAYER_OF), "add the new module to LAYERS"


@pytest.mark.parametrize(("unit", "path"), list(modules()), ids=lambda v: str(v))
def test_imports_point_backwards(unit: str, path: Path) -> None:
    # function-level imports count too: a late import does not make a backward arrow right
    for name, _ in own_imports(path):
        if name == unit:
            continue
        if unit == "demo":
            pytest.fail(f"{path.name}: the demo imports nothing of the package ({name})")
        if name == "demo":
            assert unit in DEMO_USERS, f"{path.name} imports the demo"
            continue
        assert LAYER_OF[name] <= LAYER_OF[unit], (
            f"{path.name} (layer {LAYER_OF[unit]}) imports {name} (layer {LAYER_OF[name]})"
        )


def test_there_is_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for unit, path in modules():
        graph.setdefault(unit, set()).update(
            name for name, module_level in own_imports(path) if module_level and name != unit
        )
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, " -> ".join([*visiting, node])
        visiting.append(node)
        for neighbour in sorted(graph.get(node, ())):
            visit(neighbour)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_and_classes_are_small(path: Path) -> None:
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{path.name} is too long"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_CLASS_LINES, f"{path.name}: class {node.name} has {length} lines"
