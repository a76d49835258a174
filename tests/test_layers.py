"""The packages form one stack (docs/design.md, "Layers"): imports point down, never in a circle.

The static checks parse every module's imports with `ast`, so function-level and
`TYPE_CHECKING` imports count as much as top-level ones; the runtime check imports each
package with all its modules in a fresh interpreter.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Lowest first; a package may import only packages before it (docs/design.md, "Layers").
LAYERS = ("common", "scenes", "tools", "agents", "evaluation", "training", "graphs")


@dataclass(frozen=True)
class Import:
    """One import statement: which module imports what, where, and how."""

    importer: str
    target: str
    line: int
    top_level: bool  # False for an import inside a function (a lazy import)

    def where(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.target}"


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file, for every module of the layered packages (packages by __init__)."""
    modules: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The project modules `name` imports, resolved to the deepest module that exists."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in child.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Import(name, target, child.lineno, not in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def all_imports(root: Path = ROOT) -> list[Import]:
    modules = project_modules(root)
    return [i for name, path in modules.items() for i in imports_of(name, path, modules)]


def package_of(module: str) -> str:
    return module.split(".")[0]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None; depth-first, deterministic order."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def closing_evidence(cycle: list[str], imports: list[Import], key: str = "package") -> str:
    """Each step of the cycle with one import that makes it, the closing edge last."""
    steps = []
    for a, b in itertools.pairwise(cycle):
        if key == "package":
            hit = next(
                i for i in imports if (package_of(i.importer), package_of(i.target)) == (a, b)
            )
        else:
            hit = next(i for i in imports if (i.importer, i.target) == (a, b))
        steps.append(f"{a} -> {b}: {hit.where()}")
    return "\n  ".join([*steps[:-1], f"closing edge: {steps[-1]}"])


def package_problems(imports: list[Import]) -> list[str]:
    """An upward import per offending edge, then a package cycle with the edge that closes it."""
    rank = {package: position for position, package in enumerate(LAYERS)}
    problems = [
        f"{package_of(i.importer)} is below {package_of(i.target)} but {i.where()}"
        for i in imports
        if rank[package_of(i.importer)] < rank[package_of(i.target)]
    ]
    edges: dict[str, set[str]] = defaultdict(set)
    for i in imports:
        if package_of(i.importer) != package_of(i.target):
            edges[package_of(i.importer)].add(package_of(i.target))
    cycle = find_cycle(edges)
    if cycle:
        problems.append(
            f"import cycle between packages {' -> '.join(cycle)}:\n  "
            + closing_evidence(cycle, imports)
        )
    return problems


def module_cycle(imports: list[Import], lazy: bool = False) -> str | None:
    """A cycle between modules made of top-level (incl. TYPE_CHECKING) imports, or with
    `lazy` of any imports, those inside functions too."""
    chosen = [i for i in imports if lazy or i.top_level]
    edges: dict[str, set[str]] = defaultdict(set)
    for i in chosen:
        edges[i.importer].add(i.target)
    cycle = find_cycle(edges)
    if cycle is None:
        return None
    return f"{' -> '.join(cycle)}:\n  " + closing_evidence(cycle, chosen, key="module")


def test_no_package_imports_upward_or_in_a_cycle() -> None:
    problems = package_problems(all_imports())
    assert not problems, "layering broken (docs/design.md, 'Layers'):\n" + "\n".join(problems)


def test_no_module_cycle_is_closed_by_a_top_level_import() -> None:
    cycle = module_cycle(all_imports())
    assert cycle is None, (
        "modules import each other at top level (TYPE_CHECKING included); move the shared "
        f"names to a module both import: {cycle}"
    )


def test_no_module_cycle_is_closed_even_by_a_lazy_import() -> None:
    """A function-level import only hides a cycle from the interpreter; the two modules still
    depend on each other. Move what both need to a third module (as solver/backends.py)."""
    cycle = module_cycle(all_imports(), lazy=True)
    assert cycle is None, f"modules import each other (inside functions too): {cycle}"


def test_the_checks_catch_an_upward_import_and_name_the_edge(tmp_path: Path) -> None:
    """The checker itself, on a copy of the stack with planted mistakes."""
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "tools" / "helper.py").write_text(
        "def late():\n    from agents.records import Sample\n"
    )
    (tmp_path / "agents" / "records.py").write_text("from tools import helper\n")
    (tmp_path / "agents" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agents.b import B\n"
    )
    (tmp_path / "agents" / "b.py").write_text("from . import a\n")
    imports = all_imports(tmp_path)
    problems = package_problems(imports)
    assert problems[0] == ("tools is below agents but tools.helper (line 2) imports agents.records")
    assert "closing edge: tools -> agents: tools.helper (line 2)" in problems[1]
    assert "agents -> tools" in problems[1]
    cycle = module_cycle(imports)
    assert cycle is not None and "agents.a (line 3) imports agents.b" in cycle
    (tmp_path / "agents" / "b.py").write_text("def late():\n    from agents import c\n")
    (tmp_path / "agents" / "c.py").write_text("def late():\n    from agents import b\n")
    (tmp_path / "agents" / "a.py").write_text("")
    imports = all_imports(tmp_path)
    assert module_cycle(imports) is None
    lazy = module_cycle(imports, lazy=True)
    assert lazy is not None and "agents.c (line 2) imports agents.b" in lazy


def test_docs_state_the_same_layer_order() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    stated = re.search(r"^common <- .*$", design, flags=re.M)
    assert stated is not None, "docs/design.md lost its 'Layers' line"
    assert tuple(stated.group(0).split(" <- ")) == LAYERS


IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
failed = {}
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    try:
        importlib.import_module(info.name)
    except Exception as error:
        failed[info.name] = repr(error)[:300]
print(json.dumps({"failed": failed, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.parametrize("package", LAYERS)
def test_each_package_imports_on_its_own(package: str) -> None:
    """`python -c "import PACKAGE"` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {package}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("package", LAYERS)
def test_every_module_of_a_package_imports_without_loading_a_higher_one(package: str) -> None:
    """The package and all its modules in a fresh interpreter (torch and TRL included for the
    upper layers, hence slow): each imports, and no package above it gets loaded."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not report["failed"], f"modules of {package} fail to import alone: {report['failed']}"
    above = LAYERS[LAYERS.index(package) + 1 :]
    assert not set(above) & set(report["loaded"]), f"importing {package} loaded {above}"
