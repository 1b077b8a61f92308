"""No import cycle in the overlay (issue 23), read from the source with `ast`.

Two graphs of the overlay's modules: the imports that run when a module is imported (module level, `try:` and plain
`if` blocks included; `if TYPE_CHECKING:` blocks and function bodies left out), which must have no cycle at all; and
the same with the imports inside functions added, which run later, the first time the function is called. A cycle
there is two modules that need each other, one hiding it behind a function-level import; the command line
(`cli` and `_cli_job`), the models (`_models` and `types`) and the jobs (`job`, `creation`, `estimate`, `report`,
which now share `jobs.summary` and `jobs.job_settings`) were untangled by moving what both need into a module both
import. A cycle left in the second graph must be listed below with the reason, and a listed cycle that is gone must
leave the list.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
OVERLAY_ROOT = PROJECT / "overlays"
OVERLAY_PKG = OVERLAY_ROOT / "openai_batches"

# Cycles through function-level imports that remain, each with why it is there and what would remove it.
KNOWN_DEFERRED_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path, root: Path = OVERLAY_ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_statements(body: Iterable[ast.stmt], *, functions: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run, at module level or (with `functions`) also in function and class bodies."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_statements(node.body, functions=functions)
            yield from import_statements(node.orelse, functions=functions)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from import_statements(block, functions=functions)
        elif isinstance(node, ast.With | ast.For | ast.While):
            yield from import_statements([*node.body, *getattr(node, "orelse", [])], functions=functions)
        elif isinstance(node, ast.ClassDef) or (functions and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
            yield from import_statements(node.body, functions=functions)


def import_graph(files: dict[str, str], *, functions: bool) -> dict[str, set[str]]:
    """Module -> the modules of `files` it imports; `from . import x` counts as importing the submodule x.

    A module's own packages are left out: Python runs them before the module, so importing one closes no cycle.
    """
    graph: dict[str, set[str]] = {}
    packages = {name for name, source in files.items() if source.startswith("<package>")}
    for name, source in files.items():
        package = name if name in packages else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in import_statements(ast.parse(source.removeprefix("<package>")).body, functions=functions):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = importlib.util.resolve_name("." * node.level + base, package)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            edges.update(
                target for target in targets if target in files and target != name and not name.startswith(f"{target}.")
            )
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other (a strongly connected group)."""
    return [_cycle_through(graph, group) for group in strongly_connected(graph)]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Each strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _cycle_through(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path a -> b -> ... -> a inside one strongly connected group (breadth first, so a shortest one from a)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & group):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"not strongly connected: {group}")


def overlay_sources() -> dict[str, str]:
    files = {}
    for path in sorted(OVERLAY_PKG.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        prefix = "<package>" if path.name == "__init__.py" else ""
        files[module_name(path)] = prefix + path.read_text(encoding="utf-8")
    return files


def _describe(found: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in found)


# --- the checker itself -----------------------------------------------------------------------------------------


def test_the_graph_sees_relative_package_and_deferred_imports_but_not_type_checking() -> None:
    files = {
        "pkg": "<package>from . import a\n",
        "pkg.a": "from .b import thing\n",
        "pkg.b": textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .a import other
            try:
                from . import c
            except ImportError:
                pass
            def later():
                from .a import thing
            """
        ),
        "pkg.c": "import pkg.a\n",
    }
    module_level = import_graph(files, functions=False)
    assert module_level == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}}
    assert cycles(module_level) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert import_graph(files, functions=True)["pkg.b"] == {"pkg.a", "pkg.c"}
    # A module importing from its own package closes no cycle: the package runs first.
    parent = import_graph({"p": "<package>from . import y\n", "p.y": "from . import x\n", "p.x": ""}, functions=True)
    assert parent == {"p": {"p.y"}, "p.y": {"p.x"}, "p.x": set()}
    assert cycles(parent) == []


# --- the overlay ------------------------------------------------------------------------------------------------


def test_the_overlay_has_no_import_cycle_at_import_time() -> None:
    files = overlay_sources()
    assert len(files) > 40 and "openai_batches.cli" in files, "the scan would be vacuous"
    found = cycles(import_graph(files, functions=False))
    assert not found, f"import cycles in the overlay (module-level imports):\n{_describe(found)}"


def test_the_overlay_has_no_import_cycle_hidden_in_functions_but_the_listed_ones() -> None:
    graph = import_graph(overlay_sources(), functions=True)
    groups = [frozenset(group) for group in strongly_connected(graph)]
    unexpected = [_cycle_through(graph, set(group)) for group in groups if group not in KNOWN_DEFERRED_CYCLES]
    assert not unexpected, (
        "modules that import each other, one of them from inside a function; move what both need into a module "
        f"both import:\n{_describe(unexpected)}"
    )
    gone = set(KNOWN_DEFERRED_CYCLES) - set(groups)
    assert not gone, f"listed cycles no longer there; remove them from KNOWN_DEFERRED_CYCLES: {gone}"


def test_the_command_line_modules_share_one_module_instead_of_importing_each_other() -> None:
    graph = import_graph(overlay_sources(), functions=True)
    common = "openai_batches._cli_common"
    for name in ("openai_batches.cli", "openai_batches._cli_job", "openai_batches._cli_estimate"):
        assert common in graph[name], name
    assert "openai_batches.cli" not in graph["openai_batches._cli_job"] | graph["openai_batches._cli_estimate"]
    assert "openai_batches._cli_job" not in graph["openai_batches._cli_estimate"]
    assert "openai_batches.types" not in graph["openai_batches._models"]


def test_the_named_models_win_over_ones_the_builder_made_before_types_was_imported() -> None:
    # `_models` no longer imports `types`: a class the builder made on the spot for a model `types` names (only a
    # private caller can ask before `types` is loaded) gives way to the named class once it is defined.
    script = textwrap.dedent(
        """
        import json, sys
        from openai_batches import _generated
        from openai_batches._models import overlay_class
        early = overlay_class(_generated.BatchRequestCounts)
        loaded_early = "openai_batches.types" in sys.modules
        from openai_batches import types
        body = {"object": "list", "data": [], "has_more": False, "first_id": None, "last_id": None}
        listing = types.ListBatchesResponse.from_dict(body)
        print(json.dumps([
            loaded_early,
            early is types.BatchRequestCounts,
            overlay_class(_generated.BatchRequestCounts) is types.BatchRequestCounts,
            type(listing) is types.ListBatchesResponse,
        ]))
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == [False, False, True, True]
