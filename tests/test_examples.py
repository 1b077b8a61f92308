"""Every script in examples/ runs against a local server, as a reader would run it, and prints what it should.

Each script reads OPENAI_BASE_URL and OPENAI_API_KEY (the pytest example starts its own server), runs in an empty
folder with the interpreter the tests run under, and must exit 0 with no traceback. `test_every_example_is_run`
fails on a file in examples/ that no test here runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from openai_batches_server import LocalServer, run_server

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
KEY = "sk-examples-0123456789"
TIMEOUT = 180

F = TypeVar("F", bound=Callable[..., object])
RUN: set[str] = set()


def runs(name: str) -> Callable[[F], F]:
    """Marks the test that runs examples/NAME, for `test_every_example_is_run`."""

    def mark(test: F) -> F:
        assert (EXAMPLES / name).is_file(), name
        RUN.add(name)
        return test

    return mark


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_server(tmp_path_factory.mktemp("examples-server"), api_keys=[KEY]) as running:
        yield running


@pytest.fixture(scope="module")
def flaky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A fifth of the request lines fail with a 500 on their first attempt, and the service's enqueued-token limit
    applies: the flags examples/job_retries.py tells a reader to start the server with."""
    data_dir = tmp_path_factory.mktemp("examples-flaky-server")
    with run_server(
        data_dir,
        api_keys=[KEY],
        line_failure_rate=0.2,
        line_failure_attempts=1,
        line_failure_seed=7,
        enqueued_token_limit=800,
    ) as running:
        yield running


def run(command: list[str], server: LocalServer | None, folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    if server is not None:
        environ.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY)
    environ.update(env)
    done = subprocess.run(
        command, cwd=folder, env=environ, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def script(name: str, server: LocalServer, folder: Path, **env: str) -> list[str]:
    return run([sys.executable, str(EXAMPLES / name)], server, folder, **env).stdout.splitlines()


def test_every_example_is_run() -> None:
    files = sorted(path.name for path in EXAMPLES.iterdir() if path.is_file())
    assert len(files) >= 7, files
    assert files == sorted(RUN), f"examples no test runs: {sorted(set(files) - RUN)}"


@runs("quickstart.py")
def test_quickstart(server: LocalServer, tmp_path: Path) -> None:
    printed = script("quickstart.py", server, tmp_path, QUICKSTART_POLL_SECONDS="0.2")
    assert printed[0] == f"openai-batches quickstart against {server.base_url}"
    assert "  q-0: Echo: What is the capital of France?" in printed
    assert any(re.fullmatch(r"  finished: completed, 6 succeeded, 0 failed", line) for line in printed), printed
    assert printed[-1] == "Done."


@runs("batch_results.py")
def test_batch_results(server: LocalServer, tmp_path: Path) -> None:
    printed = script("batch_results.py", server, tmp_path)
    assert re.fullmatch(r"submitted batch_\w+", printed[0]), printed
    assert printed[-4:] == [
        "capital: Echo: What is the capital of France?",
        "primes: Echo: Name three prime numbers.",
        "spider: Echo: How many legs does a spider have?",
        "missing: []",
    ]
    assert "  completed: 3/3 done" in printed


@runs("async_batches.py")
def test_async_batches(server: LocalServer, tmp_path: Path) -> None:
    printed = script("async_batches.py", server, tmp_path)
    assert printed[:3] == [
        "fruit: completed",
        "  fruit-0: Echo: Name a red fruit.",
        "  fruit-1: Echo: Name a yellow fruit.",
    ]
    assert "maths: completed" in printed and "places: completed" in printed
    assert "  places-1: Echo: Name a river in Africa." in printed
    assert printed[-1] == "latest batches: ['fruit', 'maths', 'places']"


@runs("job_retries.py")
def test_job_retries(flaky_server: LocalServer, tmp_path: Path) -> None:
    printed = script("job_retries.py", flaky_server, tmp_path, JOB_STATE_DIR=str(tmp_path / "state"))
    assert re.fullmatch(r"job numbers: 120 requests, about \d+ input tokens in all", printed[0]), printed
    assert printed[1:3] == ["status: completed", "succeeded 120 of 120, failed 0"]
    retried = int(printed[3].removeprefix("requests retried: "))
    assert 0 < retried < 60, printed  # about a fifth of the lines failed once, and each went into a later batch
    batches, in_flight = map(int, re.findall(r"\d+", printed[4].partition("(")[0]))
    assert batches > 4 and in_flight >= 1, printed  # 120 in batches of 30, then the retried lines in later ones
    # The job kept its batches under 800 estimated tokens, more than the server counts, so none was refused.
    assert printed[5] == "batches refused for the service's token limit: 0"
    assert printed[6] == f"120 results in input order in {tmp_path / 'state' / 'results.jsonl'}"
    assert len((tmp_path / "state" / "results.jsonl").read_text().splitlines()) == 120


@runs("results_dataframe.py")
def test_results_dataframe(server: LocalServer, tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    printed = script("results_dataframe.py", server, tmp_path)
    assert (
        printed[0]
        == "10 rows, columns: custom_id, input_line, status_code, ok, error_code, error_message, model, text, ..."
    )
    assert printed[1].split() == ["custom_id", "ok", "text"]
    assert printed[2].split()[:3] == ["gpt-4o-mini-0", "True", "Echo:"]
    assert any(line.startswith("gpt-4.1-mini") and line.split()[1] == "5" for line in printed), printed
    assert "answered in 4 batches" in printed  # ten requests, at most four a batch, one model a batch
    assert printed[-1] == "batch table: 2 rows, ok: [True, True]"


SDK_IMPORTS = (
    ("import openai_batches as openai  # the official SDK: import openai", "import openai"),
    (
        "from openai_batches import BatchClient as OpenAI  # the official SDK: from openai import OpenAI",
        "from openai import OpenAI",
    ),
)


@runs("from_openai_sdk.py")
def test_from_openai_sdk_prints_the_same_with_the_official_sdk(server: LocalServer, tmp_path: Path) -> None:
    ours = script("from_openai_sdk.py", server, tmp_path)
    assert ours == [
        ours[0],
        "batch completed: 3 of 3 completed",
        "w-0 200",
        "w-1 200",
        "w-2 200",
        "not found: 404",
        "listed the batch: True",
    ]
    assert re.fullmatch(r"uploaded requests\.jsonl: \d+ bytes, purpose batch", ours[0]), ours
    pytest.importorskip("openai")
    source = (EXAMPLES / "from_openai_sdk.py").read_text(encoding="utf-8")
    for ours_line, sdk_line in SDK_IMPORTS:
        assert source.count(ours_line) == 1, ours_line
        source = source.replace(ours_line, sdk_line)
    assert "openai_batches" not in source.partition('"""\n\nfrom __future__')[2]  # only the imports changed
    official = tmp_path / "official.py"
    official.write_text(source, encoding="utf-8")
    assert run([sys.executable, str(official)], server, tmp_path).stdout.splitlines() == ours


@runs("test_against_local_server.py")
def test_the_pytest_example_passes(tmp_path: Path) -> None:
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_against_local_server.py"),
        ],
        None,
        tmp_path,
    )
    assert re.search(r"^3 passed", done.stdout, re.MULTILINE), done.stdout
