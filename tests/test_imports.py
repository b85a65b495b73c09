"""lib/ has no import circle: the graph of every import statement in lib/**/*.py (at module level
and inside functions alike; only `if TYPE_CHECKING:` blocks are left out, they never run) has no
cycle. Importing a module also runs its packages' __init__, so an import of `lib.a.b` from outside
`lib.a` counts as an import of `lib.a` too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
SKIP_SOURCES: tuple[str, ...] = ()  # every module of lib/ is a source


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in LIB.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of `tree`, wherever it is, except under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    walk_one(other)
                continue
            walk_one(child)

    def walk_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        walk(node)

    walk(tree)
    return found


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(name: str, modules: dict[str, Path], source: str) -> set[str]:
    """`name` (the module imported, or the package of a name imported from it) and the packages
    whose __init__ importing it runs (those that do not hold `source` already)."""
    out: set[str] = set()
    while name and name not in modules:  # `from lib.x import y` where y is not a module
        name = name.rpartition(".")[0]
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        pkg = ".".join(parts[:i])
        if pkg in modules and not (source == pkg or source.startswith(pkg + ".")):
            out.add(pkg)
    if name in modules and name != source:
        out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for source, path in modules.items():
        if source in SKIP_SOURCES or any(source.startswith(s + ".") for s in SKIP_SOURCES):
            continue
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = _resolve(source, is_package, node)
                # `from pkg import sub` imports the submodule pkg.sub when there is one
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for name in names:
                if name == "lib" or name.startswith("lib."):
                    graph[source] |= _targets(name, modules, source)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as [a, b, …, a], or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_graph_sees_function_level_imports_and_skips_type_checking() -> None:
    tree = ast.parse("import lib.a\nif TYPE_CHECKING:\n    import lib.b\n"
                     "def f():\n    from lib import c\n    if x:\n        import lib.d\n")
    names = [a.name for n in _imports(tree) if isinstance(n, ast.Import) for a in n.names]
    froms = [n.module for n in _imports(tree) if isinstance(n, ast.ImportFrom)]
    assert names == ["lib.a", "lib.d"] and froms == ["lib"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_lib_has_no_import_cycle() -> None:
    graph = import_graph()
    assert sum(len(v) for v in graph.values()) > 50  # the graph is read, not empty
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in lib/: " + " -> ".join(cycle or [])
