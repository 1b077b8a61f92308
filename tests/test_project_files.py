"""The project's own files: they exist, say what they must, and nothing in the repository points at a file it lacks.

The wheel's LICENSE is checked where it is decided (`license-files` in pyproject.toml, which hatchling copies into
the wheel's .dist-info/licenses/); building a wheel here would need the build backend from an index.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import mutate  # noqa: E402


def text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def tracked_and_new_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_the_license_is_the_mit_text_pyproject_names_and_ships_in_the_wheel() -> None:
    project = tomllib.loads(text("pyproject.toml"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    license_text = text("LICENSE")
    assert license_text.startswith("MIT License\n\nCopyright (c) 2026 the openai-batches authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in license_text


def test_the_changelog_keeps_the_keep_a_changelog_shape() -> None:
    changelog = text("CHANGELOG.md")
    assert changelog.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in changelog
    headings = re.findall(r"^## (.+)$", changelog, re.MULTILINE)
    assert headings[0] == "Unreleased"
    version = tomllib.loads(text("pyproject.toml"))["project"]["version"]
    assert version in changelog, "the changelog no longer says which version the unreleased work makes up"
    for heading in re.findall(r"^### (.+)$", changelog, re.MULTILINE):
        assert heading in ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"), heading


def test_contributing_security_and_design_exist_and_link_each_other() -> None:
    contributing = text("CONTRIBUTING.md")
    for target in ("docs/design.md", "docs/development.md", "CHANGELOG.md", "SECURITY.md", "LICENSE"):
        assert f"]({target}" in contributing, target
        assert (ROOT / target).is_file(), target
    for target in ("make update-spec", "make generate", "make unasync", "make check", "make mutate", "make bench"):
        assert target in contributing, target
    security = text("SECURITY.md")
    assert "127.0.0.1" in security and "not** a production service" in security
    assert "Reporting a vulnerability" in security
    assert "design.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_the_contributing_mutation_table_has_the_columns_the_tool_prints() -> None:
    contributing = text("CONTRIBUTING.md")
    head = "| " + " | ".join(mutate.TABLE_HEAD) + " |"
    assert head in contributing, f"the mutation table's heading is not {head}"
    table = contributing.partition(head)[2].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) >= 8, "the mutation table lost its rows"
    declared = {target.path for target in mutate.TARGETS}
    for row in rows:
        path = row.split("`")[1]
        assert path in declared, f"the mutation table names {path}, which tools/mutate.py does not declare"


def test_no_file_refers_to_a_design_md_the_repository_lacks() -> None:
    files = tracked_and_new_files()
    assert len(files) > 100, "the scan would be vacuous"
    citing = [
        str(path.relative_to(ROOT))
        for path in files
        if path.suffix in (".py", ".md", ".toml", ".yml", ".yaml", ".txt", "")
        and path.name != "test_project_files.py"
        and re.search(r"(?<![\w/])DESIGN\.md", path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not citing, f"these cite a DESIGN.md the repository does not have (it is docs/design.md): {citing}"


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_message_suggests_an_install_from_an_index_that_serves_nothing() -> None:
    """Until the package is published, the install that works is the one from a clone: `pip install '.[EXTRA]'`.

    Every string the code can print is scanned (docstrings and comments may say what works once it is published).
    """
    offending = []
    scanned = 0
    for package in ("overlays", "server"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                    scanned += 1
                    if re.search(r"pip install ['\"]?openai-batches", node.value):
                        offending.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert scanned > 1000, "the scan would be vacuous"
    assert not offending, "\n".join(offending)


def test_the_install_hints_name_the_command_that_works_from_a_clone() -> None:
    from openai_batches._exceptions import install_hint
    from openai_batches_server.server import INSTALL_HINT

    assert install_hint("arrow") == "pip install '.[arrow]' from the openai-batches repository folder"
    assert install_hint("server") == INSTALL_HINT  # the server never imports the client, so it keeps its own copy
