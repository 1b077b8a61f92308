"""A shard is changed through its record's fields, so a wrong field name or state is a type error, not a bad write.

The store takes a shard's changes only as `save_shard(before, after)` with `after = dataclasses.replace(before,
...)`; mypy checks `replace` against the dataclass. This runs mypy on two such mistakes and expects both refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SNIPPET = """\
import dataclasses
from openai_batches.jobs.records import ShardRecord, ShardState

shard = ShardRecord(job=1, id=1, attempt=1, model=0, requests=1, bytes=1, tokens=1)
misspelt = dataclasses.replace(shard, stat=ShardState.DONE)
untyped = dataclasses.replace(shard, state="done")
fine = dataclasses.replace(shard, state=ShardState.DONE, batch_status="completed")
"""


def test_mypy_refuses_a_wrong_shard_field_and_a_state_that_is_not_the_enumeration(tmp_path: Path) -> None:
    source = tmp_path / "changes.py"
    source.write_text(SNIPPET)
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary"]
    done = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, done.stdout + done.stderr
    assert 'changes.py:5: error: Unexpected keyword argument "stat"' in errors[0]
    assert 'changes.py:6: error: Argument "state"' in errors[1] and 'expected "ShardState"' in errors[1]
