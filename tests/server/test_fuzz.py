"""Schemathesis against the running local server (`make fuzz`, its own CI step; kept out of `make test`).

Every check schemathesis has (with two narrow exceptions explained at CONFIG), on every operation, with a fixed seed
and a bounded number of examples per operation, against the server's view of the API (`server_spec.py`: our
`openapi.yaml` plus the errors the server really answers with). The run fails on any 5xx, any status or body the
view does not declare, any schema-valid request refused or schema-invalid request accepted; and it must have sent
at least MIN_REQUESTS requests, counted by the server itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from openai_batches_server import run_server

from .conftest import PROJECT
from .server_spec import build
from .support import KEY

# How long the fuzzers may run. The suite's 300 s pytest-timeout default would stop a run on a busy machine before
# this bound does, so the test's own timeout is set above it (test_fuzz_budget.py checks that they agree).
FUZZ_BUDGET = 900
pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(FUZZ_BUDGET + 60)]

SEED = 20_251_013
MAX_EXAMPLES = 1700
# Runs so far sent between 18,796 and 24,753 requests with the same seed: the three runs share one server, so what
# the stateful phase finds depends on how far the others have got. The floor only proves that the fuzzer really ran.
MIN_REQUESTS = 15_000
# Three schemathesis runs at once, so that generating requests (the costly part, one core per process) uses both of
# CI's cores: the files operations, the batches operations, then the stateful phase over all of them, which chains
# operations through the links schemathesis infers (an uploaded file's id into createBatch, and so on).
RUNS = {
    "files": ["--phases", "examples,coverage,fuzzing", "--include-path-regex", "^/files"],
    "batches": ["--phases", "examples,coverage,fuzzing", "--include-path-regex", "^/batches"],
    "stateful": ["--phases", "stateful"],
}
# Every check is on (here rather than with `--checks all`, which would override the two exceptions below):
# - a valid createBatch names an existing file, which no generated id does: the server answers 400 there, as the
#   real service does ("Invalid 'input_file_id': no such file");
# - a schema-violating multipart body can lose its violation on the way to the wire (an extra field holding null or
#   an empty list is sent as no part at all), so schemathesis would count the server's 200 for the valid form it
#   really sent as a failure. The server's refusals of unknown, missing and repeated form fields are tested in
#   test_files.py and test_hostile_clients.py instead.
CONFIG = """
[checks]
enabled = true

[[operations]]
include-operation-id = "createBatch"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409"]

[[operations]]
include-operation-id = "createFile"
checks.negative_data_rejection.enabled = false
"""


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    view = tmp_path / "server-openapi.yaml"
    view.write_text(yaml.safe_dump(build(PROJECT / "openapi.yaml"), sort_keys=False))
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as server:
        started = time.monotonic()
        runs = {name: _start(name, options, view, config, server.base_url, tmp_path) for name, options in RUNS.items()}
        outputs = {name: process.communicate(timeout=FUZZ_BUDGET) for name, process in runs.items()}
        elapsed = time.monotonic() - started
        sent = server.requests_served
    summary = f"schemathesis: {sent} requests answered in {elapsed:.0f} s"
    print(summary)
    for name, process in runs.items():
        stdout, stderr = outputs[name]
        assert process.returncode == 0, f"{summary}; the {name} run found:\n{stdout[-20000:]}\n{stderr[-5000:]}"
        assert json.loads((tmp_path / f"{name}.json").read_text()), f"the {name} run wrote no report"
    assert sent >= MIN_REQUESTS, f"{summary}: fewer than {MIN_REQUESTS}"


def _start(
    name: str, options: list[str], view: Path, config: Path, base_url: str, tmp_path: Path
) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(config),
        "run", str(view),
        "--url", base_url,
        "--header", f"Authorization: Bearer {KEY}",
        "--mode", "all",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--no-color",
        "--report", "json", "--report-json-path", str(tmp_path / f"{name}.json"),
        *options,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
