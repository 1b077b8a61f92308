"""Prism mock servers for the conformance tests.

Prism is an independent implementation of the OpenAPI rules: it checks every request we send against a document and
answers with bodies built from the same document. Running it against our own fragment and against the upstream extract
catches a client that sends what neither document allows, or that cannot read what they promise.

`prism_url` is session-scoped and parametrised over the targets in `DEFAULT_TARGETS`; a test picks another target
(e.g. the non-dynamic server) with `@pytest.mark.parametrize("prism_url", ["ours-static"], indirect=True)`.
Pytest keeps at most one instance of a parametrised session fixture alive, so only one Prism runs at a time.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRISM_BIN = REPO_ROOT / "tools" / "prism" / "node_modules" / ".bin" / "prism"
OUR_SPEC = REPO_ROOT / "openapi.yaml"
UPSTREAM_EXTRACT = REPO_ROOT / "spec" / "upstream" / "openai-batch-files-extract.yaml"

# Prism loads either document within a few seconds on an idle machine; a loaded 2-core runner can be far slower.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
# Another process can take the port between our probe and Prism's bind; that is worth a fresh port, nothing else is.
START_ATTEMPTS = 3
READY_MARKER = "Prism is listening"


@dataclass(frozen=True)
class PrismTarget:
    spec: Path
    dynamic: bool


TARGETS = {
    "ours": PrismTarget(OUR_SPEC, dynamic=True),
    "upstream": PrismTarget(UPSTREAM_EXTRACT, dynamic=True),
    # Without -d, Prism answers every list call with the same page and has_more: true (see test_prism.py).
    "ours-static": PrismTarget(OUR_SPEC, dynamic=False),
}
DEFAULT_TARGETS = ["ours", "upstream"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrismServer:
    """One Prism process in its own process group, with its output drained by a thread.

    The thread matters beyond readiness: Prism logs several lines per request, and an undrained pipe would
    eventually fill and block Prism mid-test.
    """

    def __init__(self, target: PrismTarget) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [str(PRISM_BIN), "mock", str(target.spec), "-h", "127.0.0.1", "-p", str(self.port)]
        if target.dynamic:
            # No --seed: Prism re-seeds per request, so a seed would make every body identical.
            self.command.insert(3, "-d")
        # Teardown never runs if pytest itself is killed (a CI timeout); the kernel then kills Prism with it.
        # setpriv execs Prism in place, so the pid and process group stay Prism's own.
        setpriv = shutil.which("setpriv")
        launch = [setpriv, "--pdeathsig", "KILL", "--", *self.command] if setpriv else self.command
        self._startup: list[str] = []
        self._tail: collections.deque[str] = collections.deque(maxlen=200)
        self._ready = threading.Event()
        self._eof = threading.Event()
        env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
        self.process = subprocess.Popen(
            launch,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            # A group of its own: teardown can signal all of it at once, and a Ctrl-C meant for pytest does not
            # kill Prism behind the back of the fixture, which stops it in order.
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._drain, name=f"prism-{self.port}", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                if not self._ready.is_set():
                    self._startup.append(line)
                    if READY_MARKER in line:
                        self._ready.set()
                else:
                    self._tail.append(line)
        finally:
            self._eof.set()

    def wait_ready(self, timeout: float) -> bool:
        """True once Prism listens; False if it exited or the timeout passed first."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            # EOF and exit both count: output may still be in flight after the process is gone.
            if self._eof.is_set() and self.process.poll() is not None:
                return self._ready.is_set()
            if time.monotonic() > deadline:
                return False
        return True

    def output(self) -> str:
        text = "".join(self._startup) + "".join(self._tail)
        return text.strip() or "(no output)"

    def stop(self) -> None:
        pgid = self.process.pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_S)
        # The leader can go while something it forked lives on in the group; nothing of it may outlive the session.
        _signal_group(pgid, signal.SIGKILL)
        self._reader.join(STOP_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _missing_prism(reason: str) -> NoReturn:
    # `make test` installs Prism before it runs the tests, so a missing Prism is a broken setup, never a skip.
    pytest.fail(f"{reason}; run `make prism` to install the pinned Prism mock server (tools/prism).", pytrace=False)


def start_prism(target: PrismTarget) -> PrismServer:
    if not os.access(PRISM_BIN, os.X_OK):
        _missing_prism(f"{PRISM_BIN} is missing")
    failures: list[str] = []
    for _ in range(START_ATTEMPTS):
        started = time.monotonic()
        server = PrismServer(target)
        if server.wait_ready(START_TIMEOUT_S):
            return server
        elapsed = time.monotonic() - started
        # Poll before stop(): afterwards every failure would look like our own SIGTERM.
        exit_status = server.process.poll()
        server.stop()
        if exit_status is None:
            what = f"no {READY_MARKER!r} after {elapsed:.1f} s; stopped it"
        else:
            what = f"exited with status {exit_status} after {elapsed:.1f} s"
        output = server.output()
        failures.append(f"$ {' '.join(server.command)}\n({what})\n{output}")
        if "EADDRINUSE" not in output:
            break
    pytest.fail("Prism did not start:\n\n" + "\n\n".join(failures), pytrace=False)


@pytest.fixture(scope="session", params=DEFAULT_TARGETS)
def prism_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of a running Prism mock (no /v1 prefix: Prism serves the document's paths as written)."""
    target = TARGETS[request.param]
    server = start_prism(target)
    try:
        yield server.url
    finally:
        server.stop()
