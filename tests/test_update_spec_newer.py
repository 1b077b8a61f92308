"""The steps for a newer upstream document (docs/development.md), followed to the letter, leave `make check`'s spec
parts green.

In a temporary git copy of the project: a newer document takes the vendored one's place (the vendored document with
another commit and date and one more Batch field), its source record is updated, then `make update-spec`,
`make generate`, a commit, and `make check-spec check-generated` and the spec tests, run in the copy against it.
Nothing is edited by hand in between: the extract beside the document is re-cut by `make update-spec`, and no test
knows which commit is vendored or in what order its changelog reads.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_regeneration import VENV

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import update_spec  # noqa: E402

SPEC = ROOT / "spec"
VENDORED = SPEC / "upstream" / "openai-openapi.yaml"
EXTRACT = SPEC / "upstream" / "openai-batch-files-extract.yaml"
COPIED = [
    "Makefile",
    "pyproject.toml",
    "README.md",
    "generator-config.yaml",
    "openapi.yaml",
    "generator-config-anthropic.yaml",
    "anthropic-openapi.yaml",
    ".gitignore",
    "spec",
    "overlays",
    "generated",
    "tools/update_spec.py",
    "tools/cut_spec_extract.py",
    "tools/spec_update",
    "tools/anthropic_spec.py",
]
# The tests that read the vendored document, its record, its extract or the changelog, run in the copy. Left out
# there: the synthetic update's run of the overlay's own test files and the generation of the restructured documents,
# which do not depend on which document is vendored and take most of a minute between them.
SPEC_TESTS = [
    "test_update_spec.py",
    "test_update_spec_history.py",
    "test_update_spec_synthetic.py",
    "test_update_spec_dropped.py",
    "test_update_spec_restructured.py",
    "test_spec_changes.py",
]
IMPORTED = ["test_regeneration.py"]  # its helpers, not its tests: generation does not depend on the document
DESELECTED = [
    "test_update_spec_synthetic.py::test_the_overlays_own_tests_pass_unedited",
    "test_update_spec_restructured.py::test_the_update_goes_through_and_prints_its_notes",
    "test_update_spec_restructured.py::test_the_package_type_checks_and_imports",
]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
DATE = "2026-10-01"
FIELD = "archived_at"
NEW_FIELD = f"""\
        {FIELD}:
          type: integer
          description: The Unix timestamp (in seconds) for when the batch was archived.
"""


def _copy(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source, target = ROOT / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    (destination / "tests").mkdir()
    for name in [*SPEC_TESTS, *IMPORTED]:
        shutil.copy2(ROOT / "tests" / name, destination / "tests" / name)
    # The copy's tests and Makefile find the project's tools where they look for them, in `.venv`.
    (destination / ".venv").symlink_to(VENV)


def _git(root: Path, *args: str) -> str:
    command = ["git", "-C", str(root), "-c", "user.name=spec test", "-c", "user.email=spec-test@example.invalid"]
    completed = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"git {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def _make(root: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    # The venv stamp is assumed current, so that make never installs into the project's venv from the copy.
    command = ["make", "--no-print-directory", "-C", str(root), "VENV=.venv", "--assume-old=.venv/.installed"]
    planned = subprocess.run([*command, "-n", *targets], capture_output=True, text=True, check=True).stdout
    assert "pip install" not in planned and "-m venv" not in planned, f"make would modify the venv:\n{planned}"
    return subprocess.run([*command, *targets], capture_output=True, text=True, check=False)


def _newer_document(text: str) -> str:
    """The vendored document with one more optional Batch field, as a harmless upstream change."""
    anchor = "\n    Batch:\n      type: object\n      properties:\n"
    assert text.count(anchor) == 1, "the vendored document's Batch schema is not where this test looks for it"
    return text.replace(anchor, anchor + NEW_FIELD)


def _record(text: str, sha256: str) -> str:
    """The source record of the newer document: another commit, date and SHA-256, comments and the rest kept."""
    for key, value in (("commit", COMMIT), ("date", f'"{DATE}"'), ("sha256", sha256)):
        text, count = re.subn(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
        assert count == 1, f"the source record has no single `{key}:` line"
    return text


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("newer")
    _copy(root)
    _git(root, "init", "-q")
    (root / ".git" / "info" / "exclude").write_text(".venv\n", encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "the project as it is")
    return root


@pytest.fixture(scope="module")
def updated(project: Path) -> tuple[Path, str]:
    """Step 1 (the document and its record), step 2 (`make update-spec`), step 3, and the commit."""
    upstream = project / "spec" / "upstream" / "openai-openapi.yaml"
    data = _newer_document(upstream.read_text(encoding="utf-8")).encode("utf-8")
    upstream.write_bytes(data)
    record = upstream.with_name("openai-openapi.source.yaml")
    record.write_text(_record(record.read_text(encoding="utf-8"), hashlib.sha256(data).hexdigest()), encoding="utf-8")
    update = _make(project, "update-spec")
    assert update.returncode == 0, update.stdout + update.stderr
    generate = _make(project, "generate")
    assert generate.returncode == 0, generate.stdout + generate.stderr
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "upstream document of " + DATE)
    return project, update.stdout


def test_the_update_reports_the_new_field_and_re_cuts_the_extract(updated: tuple[Path, str]) -> None:
    root, report = updated
    assert f"  Batch: + field {FIELD} (optional, integer | null)" in report.splitlines()
    assert "spec/upstream/openai-batch-files-extract.yaml re-cut from spec/upstream/openai-openapi.yaml" in report
    extract = yaml.safe_load((root / "spec" / "upstream" / "openai-batch-files-extract.yaml").read_text())
    assert FIELD in extract["components"]["schemas"]["Batch"]["properties"]
    assert f"commit {COMMIT}, {DATE}" in extract["info"]["description"]
    header = (root / "openapi.yaml").read_text(encoding="utf-8").split("\nopenapi:", 1)[0]
    assert f"commit {COMMIT} ({DATE})" in header
    changed = set(_git(root, "show", "--name-only", "--format=", "HEAD").split())
    assert {
        "openapi.yaml",
        "spec/upstream/openai-batch-files-extract.yaml",
        "generated/openai_batches_generated/models/batch.py",
    } <= changed


def test_check_spec_and_check_generated_pass(updated: tuple[Path, str]) -> None:
    root, _ = updated
    completed = _make(root, "check-spec", "check-generated")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "generated/ is up to date" in completed.stdout


def test_the_spec_tests_pass_against_the_newer_document(updated: tuple[Path, str]) -> None:
    root, _ = updated
    env = {
        **os.environ,
        # The copy's generated package and overlay, not the project's editable install.
        "PYTHONPATH": os.pathsep.join(str(root / p) for p in ("generated", "overlays")),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not bench and not fuzz"]
    completed = subprocess.run(
        [*command, *(f"tests/{t}" for t in SPEC_TESTS), *(f"--deselect=tests/{t}" for t in DESELECTED)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout.splitlines()[-1]


def test_a_stale_extract_fails_the_check_and_the_update_re_cuts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    extract = spec / "upstream" / "openai-batch-files-extract.yaml"
    extract.write_text(EXTRACT.read_text(encoding="utf-8").replace("ListBatchesResponse", "Renamed"), encoding="utf-8")
    args = ["--upstream", str(spec / "upstream" / "openai-openapi.yaml"), "--spec-dir", str(spec)]
    args += ["--output", str(ROOT / "openapi.yaml")]
    assert update_spec.main([*args, "--check"]) == 1
    out, err = capsys.readouterr()
    assert f"{extract} differs from what `make update-spec` cuts" in out
    assert f"run `make update-spec` to rewrite {extract}" in err
    output = tmp_path / "openapi.yaml"
    shutil.copy(ROOT / "openapi.yaml", output)
    args[-1] = str(output)
    assert update_spec.main(args) == 0
    assert f"{extract} re-cut from" in capsys.readouterr().out
    assert extract.read_text(encoding="utf-8") == EXTRACT.read_text(encoding="utf-8")
