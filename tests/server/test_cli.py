"""`openai-batches serve`: arguments, the start-up lines, and a clean exit on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openai_batches_server import run_server
from openai_batches_server.cli import config_from_args, main
from openai_batches_server.config import API_KEYS_ENV, DEFAULT_IDLE_TIMEOUT, DEFAULT_STEP_SECONDS, WATCH_TICK

from .conftest import PROJECT
from .support import KEY, api_client, chat_line, create_batch, jsonl, upload, wait_for


def test_defaults() -> None:
    config, level = config_from_args(["serve", "--data-dir", "d"], {})
    assert (config.host, config.port, config.data_dir) == ("127.0.0.1", 8000, Path("d"))
    assert config.api_keys == ()
    # The default pace does not depend on the batch's size: a step per status, lines as fast as possible.
    assert (config.step_seconds, config.line_seconds) == (DEFAULT_STEP_SECONDS, 0.0)
    assert config.completion_window_seconds == 86_400
    assert config.faults.rate == 0 and config.faults.latency == 0
    assert (config.idle_timeout, config.allow_any_key) == (DEFAULT_IDLE_TIMEOUT, False)
    assert level == "info"


def test_idle_timeout() -> None:
    assert config_from_args(["--data-dir", "d", "--idle-timeout", "2.5"], {})[0].idle_timeout == 2.5
    assert main(["--data-dir", "d", "--idle-timeout", "0"]) == 2


def test_the_serve_word_is_optional() -> None:
    assert config_from_args(["--data-dir", "d", "--port", "0"], {})[0].port == 0


def test_speed_and_tick_pace_every_line_and_step() -> None:
    fast = config_from_args(["--data-dir", "d", "--speed", "10"], {})[0]
    assert (fast.step_seconds, fast.line_seconds) == (pytest.approx(WATCH_TICK / 10), pytest.approx(WATCH_TICK / 10))
    watch = config_from_args(["--data-dir", "d", "--tick", "0.5"], {})[0]
    assert (watch.step_seconds, watch.line_seconds) == (0.5, 0.5)
    instant = config_from_args(["--data-dir", "d", "--tick", "0"], {})[0]
    assert (instant.step_seconds, instant.line_seconds) == (0, 0)
    assert main(["serve", "--data-dir", "d", "--speed", "2", "--tick", "1"]) == 2


def test_step_seconds_paces_the_steps_and_leaves_lines_at_full_speed(tmp_path: Path) -> None:
    steps = config_from_args(["--data-dir", "d", "--step-seconds", "2"], {})[0]
    assert (steps.step_seconds, steps.line_seconds) == (2, 0)
    assert main(["serve", "--data-dir", "d", "--step-seconds", "2", "--tick", "1"]) == 2
    # A batch of any size is still validating, then in_progress, a step's length after creation: cancellable.
    with run_server(tmp_path / "data", api_keys=[KEY], step_seconds=1.0) as server, api_client(server) as client:
        lines = [chat_line(f"r{number}") for number in range(2000)]
        batch = create_batch(client, upload(client, jsonl(lines))["id"])
        started = time.monotonic()
        batch = wait_for(client, batch["id"], lambda seen: seen["status"] != "validating")
        assert batch["status"] == "in_progress" and time.monotonic() - started > 0.5
        assert client.post(f"/batches/{batch['id']}/cancel").status_code == 200
    with pytest.raises(ValueError, match="not both"):
        run_server(tmp_path / "other", tick=1, step_seconds=1).__enter__()


def test_api_keys_from_flags_or_the_environment() -> None:
    flags = ["--data-dir", "d", "--api-key", "k1", "--api-key", "k2,k3"]
    assert config_from_args(flags, {API_KEYS_ENV: "env"})[0].api_keys == ("k1", "k2", "k3")
    assert config_from_args(["--data-dir", "d"], {API_KEYS_ENV: " a, b ,,"})[0].api_keys == ("a", "b")


def test_fault_options() -> None:
    argv = ["--data-dir", "d", "--fault-rate", "0.1", "--fault-status", "503", "--fault-seed", "3"]
    config, _ = config_from_args([*argv, "--latency", "0.5", "--fault-timing", "after"], {})
    faults = config.faults
    assert (faults.rate, faults.statuses, faults.seed, faults.latency, faults.timing) == (0.1, (503,), 3, 0.5, "after")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--data-dir", "d", "--fault-rate", "2"],
        ["--data-dir", "d", "--fault-rate", "0.1", "--fault-status", "200"],
        ["--data-dir", "d", "--speed", "0"],
        ["--data-dir", "d", "--tick", "-1"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2


def test_a_busy_port_exits_1(tmp_path: Path) -> None:
    with run_server(tmp_path / "a", tick=0) as server:
        assert main(["serve", "--data-dir", str(tmp_path / "b"), "--port", str(server.port)]) == 1


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT / "server"), os.environ.get("PYTHONPATH", "")]),
        API_KEYS_ENV: "",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openai_batches_server",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
            "--tick",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/v1)\n", first)
        assert match, first + (process.stderr.read() if process.stderr else "")
        assert "accepting any non-empty key" in process.stdout.readline()
        response = httpx.get(match.group(1) + "/files", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# Run in a child interpreter where the `[server]` extra's packages cannot be imported.
WITHOUT_EXTRA = """
import sys
import time
for name in ("starlette", "uvicorn", "httptools", "python_multipart"):
    sys.modules[name] = None  # `import name` now raises ImportError, as when the package is not installed
"""


def without_the_extra(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA + code], capture_output=True, text=True, timeout=60, check=False
    )


def test_without_the_server_extra_serve_fails_with_the_install_command(tmp_path: Path) -> None:
    run = without_the_extra(
        "from openai_batches.cli import main\n"
        f"sys.exit(main(['serve', '--port', '0', '--data-dir', {str(tmp_path)!r}]))\n"
    )
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip().startswith("openai-batches serve: cannot start: the local server needs its HTTP stack")
    assert "pip install '.[server]' from the openai-batches repository folder" in run.stderr
    assert "Traceback" not in run.stderr


def test_without_the_server_extra_the_package_imports_and_run_server_says_what_to_install(tmp_path: Path) -> None:
    run = without_the_extra(
        "import openai_batches_server\n"
        "from openai_batches_server import ServerExtraMissing, run_server\n"
        "try:\n"
        f"    with run_server({str(tmp_path)!r}):\n"
        "        pass\n"
        "except ServerExtraMissing as exc:\n"
        "    print(exc)\n"
    )
    assert run.returncode == 0, run.stderr
    assert "pip install '.[server]' from the openai-batches repository folder" in run.stdout
