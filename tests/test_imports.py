"""Straight layers: every module imports alone in a fresh interpreter, without side effects, and the package's
import graph (module-level and function-level imports alike) has no cycle."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "fthc"
MODULES = sorted(".".join(("fthc",) + p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
                 for p in SRC.rglob("*.py") if p.name != "__main__.py")


def imports_of(path: Path, module: str) -> set[str]:
    """fthc modules that `module` imports anywhere in its file."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    found.add(f"{target}.{alias.name}")
            found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES and m != module}


def test_import_graph_is_acyclic():
    graph = {m: imports_of(SRC.joinpath(*m.split(".")[1:]).with_suffix(".py") if
                           SRC.joinpath(*m.split(".")[1:]).with_suffix(".py").exists() else
                           SRC.joinpath(*m.split(".")[1:], "__init__.py"), m) for m in MODULES}
    # a package __init__ that re-exports its children is not a cycle with them: drop child -> own package edges
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not m.startswith(d + ".")}
    state: dict[str, int] = {}

    def visit(m, path):
        if state.get(m) == 1:
            pytest.fail("import cycle: " + " -> ".join(path[path.index(m):] + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for d in sorted(graph[m]):
            visit(d, path + [m])
        state[m] = 2

    for m in MODULES:
        visit(m, [])


# Heavy third-party libraries are imported once, in a parent process that imports no fthc module; each fthc module
# is then imported alone in a fork of it. What this checks is fthc's own order: a module that works only after
# another fthc module was imported fails here. (A fresh interpreter per module took two minutes, all of it
# importing PyTorch and pandas 83 times.)
CHECK_ALONE = """
import importlib, os, sys, traceback
import numpy, pandas, scipy, sklearn, torch, duckdb, matplotlib, rich, click, sqlalchemy
assert not [m for m in sys.modules if m == "fthc" or m.startswith("fthc.")]
failed = 0
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
            assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
        except BaseException:
            sys.stderr.write(name + ": " + traceback.format_exc()[-800:] + "\\n")
            os._exit(1)
        os._exit(0)
    failed += os.waitpid(pid, 0)[1] != 0
sys.exit(1 if failed else 0)
"""


@pytest.mark.slow  # a process per module: 11 s
def test_every_module_imports_alone_without_side_effects():
    result = subprocess.run([sys.executable, "-c", CHECK_ALONE, *MODULES], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
