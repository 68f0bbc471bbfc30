"""Architecture rules: the imports between contigmap modules form no cycle.

The graph is built from the source with :mod:`ast`, not by importing anything, so it
sees every ``import`` statement wherever it stands:

* module-level imports;
* function-level (deferred) imports, which run later but are still a dependency of the
  module: a deferred import that points back up the flow is a cycle hidden from Python,
  not a cycle removed;
* imports under ``if TYPE_CHECKING:``, which are a dependency of the module's interface
  (its signatures name the type), so they too must point down the flow.

Each statement becomes edges between contigmap modules (``contigmap.a.b`` for
``src/contigmap/a/b.py``, ``contigmap.a`` for ``src/contigmap/a/__init__.py``):

* ``import contigmap.a.b`` is an edge to ``contigmap.a.b``;
* ``from contigmap.a import b`` is an edge to the submodule ``contigmap.a.b`` when ``b``
  is one, else to the package ``contigmap.a`` (its ``__init__``);
* relative imports are resolved against the importing module's package first.

The implicit import of parent packages (importing ``contigmap.a.b`` runs
``contigmap/a/__init__.py`` first) is not an edge: a submodule is not in a cycle with
its package unless it names the package in an import statement.

No import is allowed to close a cycle: :data:`ALLOWED` lists the exceptions, each with a
one-line reason, and is empty (the layer checks live in :mod:`contigmap.validate`, below
:mod:`contigmap.layers`; the ``contigmap validate`` report in :mod:`contigmap.dryrun`,
above the pipeline). A test fails when an allowed edge no longer closes a cycle.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import sys
from pathlib import Path

import networkx as nx
import pytest
from pydantic import BaseModel

import contigmap
from contigmap._strict import StrictModel

SRC = Path(contigmap.__file__).resolve().parent

#: Edges ``(importer, imported)`` that may close a cycle, each with the reason it is
#: kept. Keep it as short as possible: break a cycle by moving the shared piece down.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@functools.cache
def _tree(path: Path) -> ast.Module:
    """Parse a module once per test session (three tests walk every module)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the contigmap modules that the module ``name`` at ``path`` imports."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    tree = _tree(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not (target == "contigmap" or target.startswith("contigmap.")):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif target in modules:
                    found.add(target)
                else:
                    raise AssertionError(f"{name} imports unknown module {target!r}")
    found.discard(name)
    return found


def import_graph() -> nx.DiGraph:
    """Return the directed graph of imports between contigmap modules."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            graph.add_edge(name, target)
    return graph


def test_import_graph_sees_known_imports() -> None:
    # Guard against a parser that finds nothing and so passes trivially: edges that
    # must exist, of each kind the parser resolves.
    graph = import_graph()
    assert graph.number_of_nodes() > 50
    assert graph.has_edge("contigmap", "contigmap.errors")  # from contigmap.errors import
    assert graph.has_edge("contigmap.cli.run", "contigmap.pipeline")  # deferred import
    assert graph.has_edge("contigmap.network.build", "contigmap.network.contract")


def test_no_import_cycles() -> None:
    graph = import_graph()
    graph.remove_edges_from(e for e in ALLOWED if graph.has_edge(*e))
    cycles = sorted(
        sorted(component)
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
    )
    if cycles:
        lines = []
        for component in cycles:
            sub = graph.subgraph(component)
            lines.append(" ⇄ ".join(component))
            lines.extend(f"    {a} -> {b}" for a, b in sorted(sub.edges))
        pytest.fail("import cycles between contigmap modules:\n" + "\n".join(lines))


def test_allow_list_is_used() -> None:
    # A stale exception hides nothing but reads as if it did: every allowed edge exists
    # and really closes a cycle.
    graph = import_graph()
    for a, b in ALLOWED:
        assert graph.has_edge(a, b), f"allowed import {a} -> {b} no longer exists"
        assert nx.has_path(graph, b, a), f"allowed import {a} -> {b} closes no cycle"


def test_every_config_model_is_strict() -> None:
    # One strict base (contigmap._strict.StrictModel): every pydantic model defined in
    # contigmap derives from it, so none accepts an unknown key or is mutable.
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == name:
                found.append(obj)
                assert issubclass(obj, StrictModel), f"{name}.{obj.__name__} is not a StrictModel"
                assert obj.model_config.get("extra") == "forbid", obj
                assert obj.model_config.get("frozen") is True, obj
    assert len(found) > 20  # the config, priority, relocation, scenario and network models


#: The size limits of issue #13: a module longer than this has more than one job.
MAX_MODULE_LINES = 600
#: A function whose code (docstring not counted) is longer than this must say why in its
#: docstring (a line ``Length: ...``).
MAX_FUNCTION_LINES = 80


def module_lengths() -> dict[str, int]:
    """Return the number of lines of each contigmap module."""
    return {name: len(path.read_text(encoding="utf-8").splitlines())
            for name, path in _modules().items()}


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """Return ``(module:qualified_name:line, lines)`` of each function over ``limit`` lines.

    A function counts from its ``def`` line to its last line (decorators excluded), less
    its docstring (parameter documentation is not code to split); nested functions count
    on their own and inside their parent. A function whose docstring has a line starting
    with ``Length:`` (the reason it is long) is left out.
    """
    found: list[tuple[str, int]] = []
    for name, path in _modules().items():
        tree = _tree(path)
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    stack.append((child, prefix))
                    continue
                qual = f"{prefix}{child.name}"
                stack.append((child, qual + "."))
                if isinstance(child, ast.ClassDef):
                    continue
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                first = child.body[0]
                if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str)):
                    lines -= (first.end_lineno or first.lineno) - first.lineno + 1
                doc = ast.get_docstring(child) or ""
                reason = any(line.strip().startswith("Length:") for line in doc.splitlines())
                if lines > limit and not reason:
                    found.append((f"{name}:{qual}:{child.lineno}", lines))
    return sorted(found)


def test_size_checks_see_long_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks below pass when nothing is long; make sure they would see it.
    pkg = tmp_path / "contigmap"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "long.py").write_text(
        f"def long():\n{body}\n\n\ndef excused():\n    \"\"\"Why.\n\n    Length: a table.\n"
        f"    \"\"\"\n{body}\n\n\nclass C:\n    def short(self):\n        return 1\n\n"
        f"    def method(self):\n{body.replace('    ', '        ')}\n", encoding="utf-8")
    doc = "\n".join(f"    line {i}" for i in range(90))
    (pkg / "documented.py").write_text(
        f'def documented():\n    """Long docs, short code.\n\n{doc}\n    """\n    return 1\n',
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SRC", pkg)
    assert long_functions() == [("contigmap.long:C.method:177", 82),
                                ("contigmap.long:long:1", 82)]
    # long 1-82, two blank lines, excused 85-170, two blank lines, C 173-258
    assert module_lengths()["contigmap.long"] == 258


def test_no_module_over_600_lines() -> None:
    over = {name: n for name, n in module_lengths().items() if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(
        f"    {name}: {n}" for name, n in sorted(over.items(), key=lambda kv: -kv[1]))


def test_no_function_over_80_lines_without_a_reason() -> None:
    over = long_functions()
    assert not over, (
        f"functions with over {MAX_FUNCTION_LINES} lines of code without a `Length:` line in their "
        "docstring:\n" + "\n".join(f"    {where}: {n}" for where, n in over))
