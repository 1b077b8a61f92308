"""`make fuzz` has one time budget: pytest-timeout must not stop the run before the fuzzers' own bound does.

A run on a busy machine once failed at the suite's 300 s default without finding anything, while the fuzzers had
900 s to go. This runs in `make test` (the fuzz test itself does not), so a change to either bound is caught early.
"""

from __future__ import annotations

import tomllib

from . import test_fuzz
from .conftest import PROJECT


def _timeout_mark() -> float:
    marks = [mark for mark in test_fuzz.pytestmark if mark.name == "timeout"]
    if marks:
        return float(marks[0].args[0])
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return float(pyproject["tool"]["pytest"]["ini_options"]["timeout"])


def test_pytest_timeout_leaves_the_fuzzers_their_whole_budget() -> None:
    assert _timeout_mark() > test_fuzz.FUZZ_BUDGET + 30


def test_the_fuzz_test_is_kept_out_of_make_test() -> None:
    assert any(mark.name == "fuzz" for mark in test_fuzz.pytestmark)
    makefile = (PROJECT / "Makefile").read_text(encoding="utf-8")
    assert "-m fuzz" in makefile or "-m 'fuzz'" in makefile or '-m "fuzz"' in makefile
