"""The package's shape, read from its source: no import cycles in explorer/, and no UI library outside explorer/ui.

Every import statement counts, including those inside functions (a lazy import still ties the two
modules together), with relative imports resolved. `import explorer.a.b` is an edge to explorer.a.b;
`from explorer.a import b` is an edge to explorer.a.b when that is a module, otherwise to the module
that defines the name b (followed through the re-exports of a package's __init__).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "explorer"
UI_LIBRARIES = ("panel", "holoviews", "bokeh")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in MODULES.items()}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module an ImportFrom names, with a relative one resolved against `module`."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(line, imported module name, names taken from it or None) for every import in `module`."""
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, _absolute(module, node), [a.name for a in node.names]


def _defining_module(module: str, name: str, seen=()) -> str:
    """Where `name` taken from `module` is defined: followed through top-level `from X import name`."""
    if module in seen:
        return module
    for node in TREES[module].body:
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                if (alias.asname or alias.name) == name and source in MODULES:
                    return _defining_module(source, alias.name, (*seen, module))
    return module


def _edges(module: str) -> set[str]:
    out = set()
    for _, target, names in _imports(module):
        if target not in MODULES:
            continue
        if names is None:
            out.add(target)
            continue
        for name in names:
            sub = f"{target}.{name}"
            out.add(sub if sub in MODULES else _defining_module(target, name))
    out.discard(module)
    return out


GRAPH = {m: _edges(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(set(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in comps:
        start = min(comp)
        path, prev = [start], {start: None}
        frontier = [start]
        while frontier:  # shortest way back to start inside the component
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & comp):
                    if w == start:
                        cycle = [v]
                        while prev[cycle[-1]] is not None:
                            cycle.append(prev[cycle[-1]])
                        path = cycle[::-1] + [start]
                        nxt = []
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                else:
                    continue
                break
            frontier = nxt
        cycles.append(path)
    return cycles


def test_the_walk_sees_the_package():
    assert {"explorer", "explorer.priors", "explorer.cli", "explorer.ui"} <= set(MODULES)
    assert "explorer.priors" in GRAPH["explorer.simulation"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_relative_imports_and_reexports_are_resolved():
    node = ast.parse("from ..table import KINDS").body[0]
    assert _absolute("explorer.worlds.abstract", node) == "explorer.table"
    node = ast.parse("from . import base").body[0]
    assert _absolute("explorer.worlds", node) == "explorer.worlds"


def test_no_import_cycles_in_explorer():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles in explorer/:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


def test_no_ui_library_outside_explorer_ui():
    found = []
    for module in MODULES:
        if module == "explorer.ui" or module.startswith("explorer.ui."):
            continue
        for line, target, _ in _imports(module):
            if target.split(".")[0] in UI_LIBRARIES:
                found.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}: imports {target}")
    assert not found, "UI libraries imported outside explorer/ui:\n" + "\n".join("  " + f for f in found)
