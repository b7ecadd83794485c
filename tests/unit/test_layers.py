"""The package map holds: each stage imports only itself and the stages before it, and no module
imports itself back through others (no cycles). Read from the source with `ast`, imports inside
functions included."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "rag"
# Lower to higher. A module may import its own stage and the ones listed before it.
STAGES = [
    {"rag", "rag.settings", "rag.timing", "rag.checksums", "rag.results", "rag.llm"},
    {"rag.ingest"},
    {"rag.embedding"},
    {"rag.crosslingual"},
    {"rag.index", "rag.store"},  # one stage: an Index holds a Store, and stores are written from a built index
    {"rag.analysis"},
    {"rag.search"},
    {"rag.answering"},
    {"rag.engine"},
    {"rag.evaluation"},
    {"rag.cli", "rag.api", "rag.__main__"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rag_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "rag" or name.startswith("rag.")}


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in rag_imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def stage(module: str) -> int:
    """The stage of a module: the deepest listed prefix it falls under."""
    best, depth = None, -1
    for number, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and prefix.count(".") > depth:
                best, depth = number, prefix.count(".")
    assert best is not None, f"{module} belongs to no stage: add it to STAGES"
    return best


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_later_stage(module):
    upward = sorted(m for m in GRAPH[module] if stage(m) > stage(module))
    assert not upward, f"{module} (stage {stage(module)}) imports later stages: {upward}"


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            assert state.get(target) != 1, "import cycle: " + " -> ".join([*path, target])
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_the_map_sees_every_stage():
    assert {stage(m) for m in MODULES} == set(range(len(STAGES)))
