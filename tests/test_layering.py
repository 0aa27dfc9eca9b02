"""The structure the imports draw (CONTRIBUTING.md, "How the house is laid out").

Read from the source with `ast` (every import, also those inside functions):
each module imports only from its own floor or below, no modules import each
other in a circle, the run and sweep floors never name a family, and their
functions stay short enough to read top-down.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the floors, ground first: a module's floor is that of the longest prefix listed
FLOORS = {
    "metrics": 0,
    "genlab.core": 1,
    "genlab.distributions": 2, "genlab.theory": 2, "genlab.kernels": 2, "genlab.nn": 2, "genlab.training": 2,
    "genlab.plots": 2,
    "genlab": 3,   # the package's face: re-exports the interface (core) and register_truth (distributions)
    "genlab.baselines": 3, "genlab.diffusion": 3, "genlab.gan": 3, "genlab.icl": 3, "genlab.regression": 3,
    "genlab.families": 4, "genlab.plugins": 4,
    "genlab.config": 5,
    "genlab.run": 6,
    "genlab.sweep": 7,
    "genlab.cli": 8,
}
#: the floors that must not name a family (`genlab.core.family.Family` answers for it)
FAMILY_FREE = ("genlab/run", "genlab/sweep")
FAMILY_NAMES = ("empirical", "kde", "diffusion", "gan", "icl", "regression")
#: the longest function the run, sweep and command-line floors may hold (issue 16: about 60 lines)
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for base in ("genlab", "metrics"):
        for path in (ROOT / base).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imported(module: str, node: ast.AST) -> list[str]:
    """The modules of this repository that an import statement in ``module`` names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            package = module.split(".")
            if MODULES[module].name != "__init__.py":
                package = package[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append(name)
    return out


def _edges() -> dict[str, set[str]]:
    edges = defaultdict(set)
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[module].update(_imported(module, node))
    return edges


def _floor(module: str) -> int:
    key = max((k for k in FLOORS if module == k or module.startswith(k + ".")), key=len)
    return FLOORS[key]


def test_every_module_has_a_floor():
    assert all(any(m == k or m.startswith(k + ".") for k in FLOORS) for m in MODULES)


def test_no_import_runs_up_a_floor():
    up = [f"{a} (floor {_floor(a)}) imports {b} (floor {_floor(b)})"
          for a, bs in _edges().items() for b in bs if _floor(b) > _floor(a)]
    assert up == []


def test_metrics_imports_no_genlab():
    assert [(a, b) for a, bs in _edges().items() if a.startswith("metrics") for b in bs if b.startswith("genlab")] == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return out


def test_no_modules_import_each_other_in_a_circle():
    # a package's __init__ that re-exports its own modules is no circle: only module -> module arrows count
    edges = {a: {b for b in bs if not MODULES[b].name == "__init__.py" or not a.startswith(b + ".")}
             for a, bs in _edges().items()}
    assert _cycles(edges) == []


def _family_free_files() -> list[Path]:
    return sorted(p for base in FAMILY_FREE for p in (ROOT / base).rglob("*.py"))


@pytest.mark.parametrize("path", _family_free_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_run_and_sweep_floors_name_no_family(path):
    """Not in code, strings, comments or docstrings: what differs between families is the family's to say."""
    pattern = re.compile(r"\b(" + "|".join(FAMILY_NAMES) + r")\b", re.IGNORECASE)
    hits = [f"{i}: {line.strip()}" for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []


@pytest.mark.parametrize("path", sorted(p for base in ("genlab/run", "genlab/sweep", "genlab/cli")
                                        for p in (ROOT / base).rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_run_sweep_and_cli_functions_are_short(path):
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines" for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []
