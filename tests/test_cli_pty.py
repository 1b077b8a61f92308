"""The progress display as a user sees it: the real console script in a pseudo-terminal, and Ctrl-C.

On a terminal the progress is one line redrawn in place (`\\r` with no line feed after it); through a pipe it is
plain lines with no `\\r` at all. The pty's line discipline turns every `\\n` into `\\r\\n`, so a redraw is a `\\r`
that is NOT followed by `\\n`.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from openai_batches import BatchClient
from openai_batches_server import LocalServer, run_server

# The console script installed beside the interpreter running the tests (the project's .venv under `make test`).
SCRIPT = Path(sys.executable).parent / "openai-batches"
KEY = "sk-cli-pty-0123456789abcdef"
CHAT: Final = "/v1/chat/completions"
# A live frame: status, bar (ASCII, or block characters on a UTF-8 terminal), counts, elapsed time.
FRAME = re.compile(r"\r(?!\n)(\w+) \[([#\-\u2588\u2591]{24})\] (\d+)/(\d+) completed, (\d+) failed, \d+:\d\d")


@pytest.fixture(autouse=True)
def _console_script() -> None:
    # `make test` installs the project, console script included: a missing one is a broken setup, never a skip.
    if not SCRIPT.exists():
        pytest.fail(f"{SCRIPT} is missing: run `make setup`", pytrace=False)


def requests_file(tmp_path: Path, count: int) -> Path:
    lines = []
    for i in range(count):
        custom_id = f"fail-{i}" if i == count - 1 else f"q-{i}"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}]}
        lines.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}) + "\n")
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(lines))
    return path


def environment(server: LocalServer) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url, "TERM": "xterm"}


@pytest.fixture
def paced_server(tmp_path: Path) -> Iterator[LocalServer]:
    # 0.1 s per line and per status step: ten lines take about 1.3 s, long enough for several redraws.
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0.1) as running:
        yield running


def set_size(fd: int, rows: int = 24, columns: int = 120) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def read_until_closed(master: int, deadline: float, on_chunk: object = None) -> bytes:
    """Everything the child writes to the terminal until it closes it (EIO on Linux, EOF elsewhere)."""
    output = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return output
        if not chunk:
            return output
        output += chunk
        if callable(on_chunk):
            on_chunk(output)
    raise AssertionError(f"the command did not finish in time; output so far: {output!r}")


def test_live_progress_in_a_pseudo_terminal(paced_server: LocalServer, tmp_path: Path) -> None:
    path = requests_file(tmp_path, 10)
    master, slave = os.openpty()
    set_size(slave)
    try:
        process = subprocess.Popen(
            [str(SCRIPT), "submit", str(path), "--endpoint", CHAT, "--wait", "--poll-interval", "0.05"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment(paced_server),
            close_fds=True,
        )
        os.close(slave)
        slave = -1
        raw = read_until_closed(master, time.monotonic() + 30)
        code = process.wait(timeout=10)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    text = raw.decode("utf-8")
    assert code == 0, text
    assert "Traceback" not in text
    frames = FRAME.findall(text)
    # Redrawn in place many times: the counts move and the elapsed time ticks between polls.
    assert len(frames) >= 5, text
    assert len(re.findall(r"\r(?!\n)", text)) >= len(frames)
    counts = [int(done) + int(failed) for _, _, done, _, failed in frames]
    assert counts == sorted(counts) and counts[0] < 10
    status, bar, done, total, failed = frames[-1]
    assert (status, done, total, failed) == ("completed", "9", "10", "1")
    assert set(bar) <= {"#", "\u2588"}  # a full bar at the end
    assert any(status == "in_progress" and 0 < int(done) < 9 for status, _, done, _, _ in frames)
    # The live line ends with a line feed before the summary (stdout, same terminal) starts.
    assert re.search(r"completed, 1 failed, \d+:\d\d *\r\nbatch batch_\w+ completed: 9/10 completed, 1 failed", text)
    # No line is wider than the terminal, or `\r` would only return to the start of its last row.
    assert all(len(line) < 120 for line in re.split(r"[\r\n]+", text))


def test_the_same_command_without_a_terminal_has_no_carriage_returns(paced_server: LocalServer, tmp_path: Path) -> None:
    path = requests_file(tmp_path, 10)
    done = subprocess.run(
        [str(SCRIPT), "submit", str(path), "--endpoint", CHAT, "--wait", "--poll-interval", "0.05"],
        env=environment(paced_server),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) >= 3  # validating, in_progress moving, ..., completed: one line per change
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* batch_\w+ \w+ \d+/\d+ completed", line) for line in lines)
    assert "completed 9/10 completed, 1 failed" in lines[-1]


def test_ctrl_c_in_a_terminal_exits_130_without_a_traceback(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=2) as slow:
        with BatchClient(api_key=KEY, base_url=slow.base_url) as client:
            batch_id = client.batches.submit(requests_file(tmp_path, 5), endpoint=CHAT).id
        argv = [str(SCRIPT), "wait", batch_id, "--poll-interval", "0.05"]
        pid, master = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal, so ^C is a real SIGINT from the terminal
            # A shell starts background jobs with SIGINT ignored, and exec keeps an ignored signal ignored.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(argv[0], argv, environment(slow))
        interrupted = False

        def press_ctrl_c_once_drawn(output: bytes) -> None:
            nonlocal interrupted
            if not interrupted and FRAME.search(output.decode("utf-8", "replace")):
                os.write(master, b"\x03")
                interrupted = True

        try:
            set_size(master)
            raw = read_until_closed(master, time.monotonic() + 30, press_ctrl_c_once_drawn)
            _, status = os.waitpid(pid, 0)
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        finally:
            os.close(master)
    text = raw.decode("utf-8", "replace")
    assert interrupted, text
    assert os.waitstatus_to_exitcode(status) == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    # The live line is ended first, then one line says what happened and how to pick the wait up again.
    assert re.search(
        rf"\r\nopenai-batches: interrupted; batch {batch_id} keeps running "
        rf"\(follow it with: openai-batches wait {batch_id}\)\r\n$",
        text,
    ), text
