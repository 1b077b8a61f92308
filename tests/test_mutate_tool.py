"""tools/mutate.py tells the three ways a mutant dies apart: a failing test, a timeout, an error.

The test runs are mocked (subprocess.run replaced, pytest's output written here as pytest prints it), so these tests
take milliseconds and never mutate anything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import mutate  # noqa: E402
from mutate import Mutant, Outcome, Score, Target, TestRun, classify  # noqa: E402

TARGET = Target("demo", "overlays/openai_batches/_retry.py", ("tests/test_retry_policy.py",))

# What `pytest -x -q` prints last, as measured with pytest 8 and pytest-timeout 2.4.
PASSED = "....\n4 passed in 0.31s\n"
FAILED = (
    "..F\nFAILED tests/test_x.py::test_y - assert 1 == 2\n!!! stopping after 1 failures !!!\n"
    "1 failed, 2 passed in 0.2s\n"
)
TIMED_OUT = (
    ".F\nE       Failed: Timeout (>60.0s) from pytest-timeout.\n"
    "FAILED tests/test_x.py::test_slow - Failed: Timeout (>60.0s) from pytest-timeout.\n1 failed, 1 passed in 60.1s\n"
)
COLLECTION_ERROR = (
    "ERROR tests/test_x.py\n!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
    "1 error in 0.09s\n"
)
SETUP_ERROR = "..E\nERROR tests/test_x.py::test_y - RuntimeError: boom\n1 error, 2 passed in 0.1s\n"


@pytest.mark.parametrize(
    ("run", "kind"),
    [
        (TestRun(0, PASSED), "survived"),
        (TestRun(1, FAILED), "failed"),
        # A test that fails and one whose fixture errs in the same run: a test noticed the change.
        (TestRun(1, "FE\n1 failed, 1 error in 0.1s\n"), "failed"),
        (TestRun(None, ""), "timeout"),
        (TestRun(1, TIMED_OUT), "timeout"),
        # pytest-timeout's thread method prints its banner on stderr and ends the process with status 1.
        (TestRun(1, "..", "+++++++++++++++++++ Timeout +++++++++++++++++++\n"), "timeout"),
        (TestRun(2, COLLECTION_ERROR), "error"),
        (TestRun(1, SETUP_ERROR), "error"),
        (TestRun(3, "INTERNALERROR> Traceback\n"), "error"),
        (TestRun(4, "ERROR: usage: ...\n"), "error"),
        (TestRun(5, "no tests ran in 0.01s\n"), "error"),
        (TestRun(-11, ".."), "error"),  # the interpreter crashed (SIGSEGV)
    ],
)
def test_a_run_is_classified_by_how_it_ended(run: TestRun, kind: str) -> None:
    assert classify(run) == kind


def test_the_tail_is_the_summary_line_or_the_timeout() -> None:
    assert TestRun(1, FAILED).tail == "1 failed, 2 passed in 0.2s"
    assert TestRun(1, FAILED, "a warning on stderr\n").tail == "1 failed, 2 passed in 0.2s"
    assert TestRun(None, "").tail == "timed out"
    assert TestRun(2, "").tail == ""


def _fake_run(result: Any, calls: list[dict[str, Any]]) -> Any:
    def run(command: list[str], **kwargs: Any) -> Any:
        calls.append({"command": command, **kwargs})
        if isinstance(result, BaseException):
            raise result
        return result

    return run


def test_run_tests_hands_back_status_and_both_streams(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    done = subprocess.CompletedProcess(["pytest"], 1, stdout=TIMED_OUT, stderr="")
    monkeypatch.setattr(mutate.subprocess, "run", _fake_run(done, calls))
    run = mutate.run_tests(tmp_path, TARGET, timeout=12.0)
    assert run == TestRun(1, TIMED_OUT, "")
    assert classify(run) == "timeout"
    (call,) = calls
    assert call["timeout"] == 12.0 and call["cwd"] == tmp_path
    assert call["command"][-1] == "tests/test_retry_policy.py" and "-x" in call["command"]
    assert call["env"]["PYTHONPATH"].split(":")[0] == str(tmp_path / "overlays")


def test_a_run_past_its_time_is_a_timeout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(mutate.subprocess, "run", _fake_run(subprocess.TimeoutExpired(["pytest"], 5.0), []))
    run = mutate.run_tests(tmp_path, TARGET, timeout=5.0)
    assert run.returncode is None and classify(run) == "timeout"


def _mutant(line: int, description: str = "< -> <=", code: str = "if a < b:") -> Mutant:
    return Mutant(TARGET.name, line, description, 0, 1, "x", code)


def test_run_mutant_records_the_kind_and_the_summary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    module = tmp_path / TARGET.path
    module.parent.mkdir(parents=True)
    module.write_text("a\n", encoding="utf-8")
    (tmp_path / "tools" / "prism").mkdir(parents=True)  # where the copy links the real Prism install
    seen: list[str] = []

    def fake_tests(copy: Path, target: Target, timeout: float) -> TestRun:
        seen.append((copy / target.path).read_text(encoding="utf-8"))
        return TestRun(2, COLLECTION_ERROR)

    monkeypatch.setattr(mutate, "run_tests", fake_tests)
    outcome = mutate.run_mutant(_mutant(1), TARGET, 5.0, tmp_path)
    assert seen == ["x\n"]  # the mutant was written into the copy, not into the base
    assert module.read_text(encoding="utf-8") == "a\n"
    assert outcome.kind == "error" and outcome.killed and outcome.detail == "1 error in 0.09s"


def test_the_score_counts_each_kind_apart(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    equivalent = _mutant(9, "0 -> 1", "wait = 0")
    monkeypatch.setitem(mutate.EQUIVALENT, (TARGET.name, "wait = 0", "0 -> 1"), "only a wait")
    outcomes = [
        Outcome(_mutant(1), "failed", 1.0, "1 failed in 0.1s"),
        Outcome(_mutant(2), "failed", 1.0, "1 failed in 0.1s"),
        Outcome(_mutant(3), "timeout", 60.0, "timed out"),
        Outcome(_mutant(4), "error", 1.0, "1 error in 0.09s"),
        Outcome(_mutant(5), "survived", 1.0, "4 passed"),
        Outcome(equivalent, "survived", 1.0, "4 passed"),
    ]
    score = mutate._score(TARGET, outcomes)
    assert score == Score(TARGET, mutants=6, failed=2, timeout=1, error=1, equivalent=1, survived=1)
    assert score.by_tests == pytest.approx(40.0)  # 2 of the 5 mutants that change something
    printed = capsys.readouterr().out
    assert f"survived {TARGET.path}:5:" in printed
    assert f"timeout {TARGET.path}:3:" in printed and f"error {TARGET.path}:4:" in printed
    assert f"equivalent {TARGET.path}:9: 0 -> 1 (only a wait)" in printed


def test_the_table_has_a_column_for_each_kind() -> None:
    scores = [
        Score(TARGET, mutants=10, failed=7, timeout=1, error=1, equivalent=1, survived=0),
        Score(Target("other", "x.py", ()), mutants=0, failed=0, timeout=0, error=0, equivalent=0, survived=0),
    ]
    lines = mutate.table(scores).splitlines()
    head = lines[1].split()
    assert head[:3] == ["module", "mutants", "failing"] and "timeout" in head and "error" in head
    assert lines[2].split() == ["demo", "10", "7", "1", "1", "1", "0", "77.8", "%"]
    assert lines[3].split()[-2:] == ["100.0", "%"]  # no mutants: nothing escaped
