"""The modules of `helpers` depend one way: no import cycle, deferred imports included."""

import ast
from pathlib import Path

from helpers.settings import REPO_ROOT

HELPERS = REPO_ROOT / "helpers"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = HELPERS) -> dict[str, set[str]]:
    """Return {module: the helpers modules it imports anywhere in its source}.

    ``from pkg import sub`` counts as importing sub.
    """
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + [base]).strip(".")
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                          for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] (depth-first search with colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return stack[stack.index(child):] + [child]
            if child not in state and (found := visit(child)):
                return found
        state[node] = "done"
        stack.pop()
        return []
    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_helpers_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 20 and "helpers.data.mnist" in graph["helpers.data"]
    cycle = cycle_in(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_deferred_import_cycle(tmp_path):
    package = tmp_path / "helpers"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "data" / "a.py").write_text("from helpers.data.b import f\n")
    (package / "data" / "b.py").write_text("def f():\n    from helpers.data import a\n")
    assert cycle_in(import_graph(package)) == ["helpers.data.a", "helpers.data.b", "helpers.data.a"]
