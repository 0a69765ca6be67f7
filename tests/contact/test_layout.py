"""The contact layer's shape, read from the source: no module of it takes part in an import cycle
(TYPE_CHECKING and function-local imports count too), it imports no hotels, travel or tickets, the
voice plane imports no domain at all, and no module of either is over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline

SRC = Path(hotline.__file__).parent
DOMAINS = ("admin", "contact", "crm", "hotels", "knowledge", "notify", "telephony", "tickets", "travel")


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = ("hotline", *path.relative_to(SRC).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Every module each module imports, wherever the import statement stands."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                wanted = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in wanted:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_contact_layer_is_in_an_import_cycle() -> None:
    cycles = [c for c in _cycles(_imports(_modules())) if any(m.startswith("hotline.contact") for m in c)]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle_held_apart_only_by_type_checking() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_contact_reads_no_hotels_travel_or_tickets_and_voice_no_domain() -> None:
    graph = _imports(_modules())
    wrong = []
    for module, targets in graph.items():
        for target in targets:
            domain = target.split(".")[1] if target.count(".") else ""
            if module.startswith("hotline.contact.") and domain in ("hotels", "travel", "tickets"):
                wrong.append(f"{module} -> {target}")
            if module.startswith("hotline.voice") and (domain in DOMAINS or domain in ("api", "domains")):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_module_of_contact_or_voice_is_over_500_lines() -> None:
    long = {
        name: lines
        for name, path in _modules().items()
        if name.startswith(("hotline.contact", "hotline.voice"))
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
