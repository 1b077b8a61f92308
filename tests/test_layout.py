"""The dependency direction and packaging facts that docs/design.md promises, checked on the files themselves.

Dependencies run one way: the overlay imports the generated package, the generated package imports only the standard
library, httpx, attrs and itself. A generated package that reached back into the overlay would make regeneration depend
on handwritten code, which is the one thing the seam exists to prevent.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
GENERATED_ROOT = PROJECT / "generated"
GENERATED_PKG = GENERATED_ROOT / "openai_batches_generated"
# The Anthropic Message Batches package (anthropic-openapi.yaml), under the same rules.
ANTHROPIC_GENERATED_PKG = GENERATED_ROOT / "anthropic_batches_generated"
OVERLAY_ROOT = PROJECT / "overlays"
OVERLAY_PKG = OVERLAY_ROOT / "openai_batches"
README = PROJECT / "README.md"

GENERATED_NAME = "openai_batches_generated"
# The one overlay module that may name the generated package (issue 15): a generator upgrade touches only it.
SEAM = OVERLAY_PKG / "_generated.py"
GENERATED_MAY_IMPORT = frozenset(sys.stdlib_module_names) | {"httpx", "attrs", GENERATED_NAME}
ANTHROPIC_GENERATED_NAME = "anthropic_batches_generated"

# Markers for imports whose target cannot be named statically; neither matches an allow-list entry.
ESCAPES = "<relative import beyond the top-level package>"
DYNAMIC = "<dynamic import of a computed name>"


def _package_of(path: Path, root: Path) -> str:
    """The package a file's relative imports resolve in: itself for an `__init__.py`, its parent otherwise."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1])


def imported_modules(source: str, package: str) -> Iterator[tuple[int, str]]:
    """Every module a source imports, at any depth, as (line, absolute dotted name).

    `ast.walk` reaches imports inside functions, `if TYPE_CHECKING:` blocks and `try:` fallbacks alike: the generated
    code does lazy imports inside `to_dict`/`from_dict`, so a top-level-only scan would miss most of them.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, str(node.module)
                continue
            relative = "." * node.level + (node.module or "")
            try:
                yield node.lineno, importlib.util.resolve_name(relative, package)
            except ImportError:
                # Climbing out of the top-level package only works while a sibling directory happens to be on the path.
                yield node.lineno, ESCAPES
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
                yield node.lineno, first.value
            else:
                yield node.lineno, DYNAMIC


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def generated_import_violations(source: str, package: str) -> list[str]:
    return [
        f"line {line}: {name}"
        for line, name in imported_modules(source, package)
        if name.partition(".")[0] not in GENERATED_MAY_IMPORT
    ]


def overlay_import_violations(source: str, package: str) -> list[str]:
    """Imports that reach the generated code by some route other than the `openai_batches_generated` package.

    `generated.openai_batches_generated` works from a source checkout but not from the wheel, and a relative import
    out of the overlay only works because the two directories happen to sit side by side.
    """
    problems = []
    for line, name in imported_modules(source, package):
        parts = name.split(".")
        # A computed name may be lazy loading of the overlay's own modules; only a visible route is judged.
        if name == ESCAPES or parts[0] == "generated" or (GENERATED_NAME in parts and parts[0] != GENERATED_NAME):
            problems.append(f"line {line}: {name}")
    return problems


def seam_violations(source: str, package: str) -> list[str]:
    """Places where a module names the generated package instead of going through the seam (`._generated`).

    Imports at any depth count (TYPE_CHECKING blocks, function bodies, `import_module("...")`), and so does a string
    that is the generated package's dotted name or one of its modules: a table of lazy exports reaches it too.
    """
    found = [
        (line, name)
        for line, name in imported_modules(source, package)
        if name.partition(".")[0] in (GENERATED_NAME, ANTHROPIC_GENERATED_NAME)
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_generated_module(node.value):
            found.append((node.lineno, repr(node.value)))
    return [f"line {line}: {name}" for line, name in sorted(found)]


def _names_generated_module(text: str) -> bool:
    return re.fullmatch(rf"(?:{GENERATED_NAME}|{ANTHROPIC_GENERATED_NAME})(\.\w+)*", text) is not None


def fenced_code_blocks(markdown: str) -> list[str]:
    """The bodies of CommonMark fenced code blocks (``` or ~~~, closed by a fence of the same kind at least as long)."""
    blocks: list[str] = []
    fence: str | None = None
    body: list[str] = []
    for line in markdown.splitlines():
        stripped = line.lstrip()
        match = re.match(r"(`{3,}|~{3,})", stripped)
        if fence is None:
            if match:
                fence = match.group(1)
                body = []
        elif match and _closes(fence, match.group(1), stripped):
            blocks.append("\n".join(body))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        # CommonMark runs an unclosed fence to the end of the document.
        blocks.append("\n".join(body))
    return blocks


def _closes(fence: str, candidate: str, line: str) -> bool:
    return candidate[0] == fence[0] and len(candidate) >= len(fence) and not line[len(candidate) :].strip()


# --- the checkers themselves: a checker that cannot see a violation would make every test below pass vacuously ---


def test_import_scan_reaches_nested_type_checking_relative_and_dynamic_imports() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import httpx
        if TYPE_CHECKING:
            from openai_batches import BatchClient
        def to_dict():
            from ..models.batch import Batch
            try:
                import requests
            except ImportError:
                pass
        def lazy():
            return importlib.import_module("openai_batches._config")
        """
    )
    found = {name for _, name in imported_modules(source, "openai_batches_generated.models")}
    assert {"openai_batches", "openai_batches_generated.models.batch", "requests", "openai_batches._config"} <= found
    assert generated_import_violations(source, "openai_batches_generated.models") == [
        "line 5: openai_batches",
        "line 9: requests",
        "line 13: openai_batches._config",
    ]


def test_import_scan_flags_relative_import_out_of_the_generated_package() -> None:
    source = "from ...openai_batches import BatchClient\n"
    assert generated_import_violations(source, "openai_batches_generated.models") == [f"line 1: {ESCAPES}"]


def test_overlay_scan_flags_every_route_but_the_package_name() -> None:
    source = textwrap.dedent(
        """
        import openai_batches_generated
        from openai_batches_generated.models import Batch
        from ._config import Settings
        from generated.openai_batches_generated import Client
        import generated
        from .. import openai_batches_generated
        __import__("generated.openai_batches_generated.api")
        """
    )
    assert overlay_import_violations(source, "openai_batches") == [
        "line 5: generated.openai_batches_generated",
        "line 6: generated",
        f"line 7: {ESCAPES}",
        "line 8: generated.openai_batches_generated.api",
    ]


def test_seam_scan_flags_every_mention_of_the_generated_package_but_prose() -> None:
    source = textwrap.dedent(
        """
        \"\"\"Docs may say openai_batches_generated in prose.\"\"\"
        from typing import TYPE_CHECKING
        from ._generated import Batch
        from . import _generated
        if TYPE_CHECKING:
            from openai_batches_generated.models import BatchStatus
        def later():
            import openai_batches_generated.api.batch.retrieve_batch
            return importlib.import_module("openai_batches_generated.types")
        EXPORTS = {"Batch": "._generated", "Unset": "openai_batches_generated.types"}
        """
    )
    assert seam_violations(source, "openai_batches.resources") == [
        "line 7: openai_batches_generated.models",
        "line 9: openai_batches_generated.api.batch.retrieve_batch",
        "line 10: 'openai_batches_generated.types'",
        "line 10: openai_batches_generated.types",
        "line 11: 'openai_batches_generated.types'",
    ]


def test_fenced_block_parser_sees_code_but_not_prose() -> None:
    markdown = textwrap.dedent(
        """
        The generated package `openai_batches_generated` is an implementation detail.

        ```python
        from openai_batches import BatchClient
        ```

        ~~~~
        from openai_batches_generated.models import Batch
        ```
        still inside the tilde fence
        ~~~~
        """
    )
    blocks = fenced_code_blocks(markdown)
    assert blocks[0] == "from openai_batches import BatchClient"
    assert "openai_batches_generated" in blocks[1]
    assert "still inside the tilde fence" in blocks[1]
    assert len(blocks) == 2


# --- the project ---


@pytest.mark.parametrize("generated", [GENERATED_PKG, ANTHROPIC_GENERATED_PKG], ids=["openai", "anthropic"])
def test_generated_package_imports_only_stdlib_httpx_attrs_and_itself(generated: Path) -> None:
    files = _python_files(generated)
    assert files, f"no Python files under {generated}"
    violations = {}
    for path in files:
        package = _package_of(path, GENERATED_ROOT)
        found = [
            f"line {line}: {name}"
            for line, name in imported_modules(path.read_text(encoding="utf-8"), package)
            if name.partition(".")[0] not in GENERATED_MAY_IMPORT | {generated.name}
        ]
        if found:
            violations[str(path.relative_to(PROJECT))] = found
    assert not violations, f"generated code imports outside stdlib + httpx + attrs + itself: {violations}"


def test_importing_every_generated_module_never_loads_the_overlay() -> None:
    # The overlay stays importable in the child so an accidental import would succeed and show up, not fail quietly.
    script = textwrap.dedent(
        """
        import importlib, importlib.util, json, pkgutil, sys
        import openai_batches_generated as pkg
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(info.name)
        loaded = sorted(sys.modules)
        print(json.dumps({
            "file": pkg.__file__,
            "loaded": loaded,
            "overlay_importable": importlib.util.find_spec("openai_batches") is not None,
        }))
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(GENERATED_ROOT), str(OVERLAY_ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=GENERATED_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert Path(report["file"]).resolve().is_relative_to(GENERATED_PKG), report["file"]
    assert report["overlay_importable"], "the check is vacuous unless the overlay could have been imported"
    # Any project package other than the generated one (overlay, server) counts: all of them sit above it.
    leaked = [m for m in report["loaded"] if m.startswith("openai_batches") and m.partition(".")[0] != GENERATED_NAME]
    assert not leaked, f"importing the generated package loaded {leaked}"


@pytest.mark.parametrize(
    "package", [GENERATED_PKG, ANTHROPIC_GENERATED_PKG, OVERLAY_PKG], ids=["generated", "anthropic", "overlay"]
)
def test_package_ships_py_typed(package: Path) -> None:
    # Without the marker, mypy treats the installed package as untyped and users lose every annotation.
    assert (package / "py.typed").is_file(), f"{package.relative_to(PROJECT)}/py.typed is missing"


def test_overlay_reaches_generated_code_only_through_its_package_name() -> None:
    files = _python_files(OVERLAY_ROOT)
    assert files, f"no Python files under {OVERLAY_ROOT}"
    violations = {}
    for path in files:
        package = _package_of(path, OVERLAY_ROOT)
        found = overlay_import_violations(path.read_text(encoding="utf-8"), package)
        if found:
            violations[str(path.relative_to(PROJECT))] = found
    assert not violations, f"overlay imports generated code by a path the wheel does not have: {violations}"


def test_overlay_reaches_the_generated_package_only_through_the_seam() -> None:
    files = [path for path in _python_files(OVERLAY_PKG) if path != SEAM]
    assert SEAM.is_file() and len(files) > 40, "the scan would be vacuous"
    violations = {}
    for path in files:
        found = seam_violations(path.read_text(encoding="utf-8"), _package_of(path, OVERLAY_ROOT))
        if found:
            violations[str(path.relative_to(PROJECT))] = found
    assert not violations, f"overlay modules name {GENERATED_NAME} directly; go through ._generated: {violations}"


# The generator's private request builder: one overlay file (the seam's `request_kwargs`) may name it (issue 23).
REQUEST_BUILDER = "_get_kwargs"


def test_only_the_seam_names_the_generated_request_builder() -> None:
    files = _python_files(OVERLAY_PKG)
    assert SEAM in files and len(files) > 40, "the scan would be vacuous"
    naming = [str(path.relative_to(PROJECT)) for path in files if REQUEST_BUILDER in path.read_text(encoding="utf-8")]
    assert naming == [str(SEAM.relative_to(PROJECT))], (
        f"{REQUEST_BUILDER} is named outside the seam; build requests with _generated.request_kwargs: {naming}"
    )


def test_seam_builds_every_operation_request_with_the_generated_builder() -> None:
    from openai_batches import _generated

    operations = [name for name in _generated.MODULES if name != "models"]
    assert len(operations) == 15  # 9 OpenAI operations, 6 Anthropic Message Batches ones
    for name in operations:
        module = getattr(_generated, name)
        assert callable(getattr(module, REQUEST_BUILDER)), name
    built = _generated.request_kwargs(_generated.retrieve_batch, "batch/1")
    assert built == {"method": "get", "url": "/batches/batch%2F1"}
    assert _generated.request_kwargs(_generated.list_files, limit=5, order=_generated.UNSET)["params"] == {"limit": 5}


def _type_checking_imports(source: str) -> dict[str, str]:
    """Name -> `module.name` it is imported as, for the imports inside the `if TYPE_CHECKING:` block of a module."""
    names: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.dump(statement)
                for alias in statement.names:
                    names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return names


def test_seam_hands_out_what_type_checkers_see_and_nothing_else() -> None:
    from openai_batches import _generated

    typed = _type_checking_imports(SEAM.read_text(encoding="utf-8"))
    assert typed, "no TYPE_CHECKING imports found in the seam"
    assert sorted(typed) == sorted(_generated.__all__)
    assert set(_generated.MODULES) | set(_generated.NAMES) == set(_generated.__all__)
    assert not set(_generated.MODULES) & set(_generated.NAMES)
    for name, dotted in typed.items():
        try:
            expected: object = importlib.import_module(dotted)  # a generated module (the models, an operation)
        except ModuleNotFoundError:
            module, _, attribute = dotted.rpartition(".")
            expected = getattr(importlib.import_module(module), attribute)
        assert getattr(_generated, name) is expected, name
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        _generated.NotAModel  # noqa: B018


def test_importing_the_client_loads_no_generated_module_until_a_resource_is_used() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        def loaded(prefix):
            return sorted(m for m in sys.modules if m == prefix or m.startswith(prefix + "."))
        from openai_batches import BatchClient, _generated
        client = BatchClient(api_key="sk-layout")
        before = loaded("openai_batches_generated")
        client.batches
        after_batches = loaded("openai_batches_generated")
        files_loaded = loaded("openai_batches.resources.files")
        client.files
        print(json.dumps([before, after_batches, files_loaded, loaded("openai_batches_generated")]))
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    before, after_batches, files_loaded, after_files = json.loads(completed.stdout)
    assert before == []
    assert "openai_batches_generated.models" in after_batches
    assert "openai_batches_generated.api.batch.retrieve_batch" in after_batches
    assert not any(".api.files" in name for name in after_batches), after_batches
    assert files_loaded == []
    assert "openai_batches_generated.api.files.retrieve_file" in after_files


def test_readme_code_never_shows_the_generated_package() -> None:
    offending = [block for block in fenced_code_blocks(README.read_text(encoding="utf-8")) if GENERATED_NAME in block]
    assert not offending, f"README code blocks show {GENERATED_NAME}; users import openai_batches only:\n{offending}"
