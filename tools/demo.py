"""`make demo`: start the local Batch API server, run examples/quickstart.py against it, stop the server.

The server gets a fresh data directory and a free port; its first output line names the URL. Whatever happens, the
server is stopped and the example's exit status is passed on.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 30.0
DEMO_KEY = "sk-local-demo"


def _pump(stream: object, lines: queue.Queue[str | None], log: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        log.append(line)
        lines.put(line)
    lines.put(None)


def main() -> int:
    # A watchable pace (--speed 4, a sixteenth of a second per line) so the second batch can be cancelled midway.
    print("== starting the local Batch API server (openai-batches serve --speed 4), offline", flush=True)
    with tempfile.TemporaryDirectory(prefix="openai-batches-demo-") as tmp:
        command = [
            sys.executable,
            "-m",
            "openai_batches.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(Path(tmp) / "data"),
            "--api-key",
            DEMO_KEY,
            "--speed",
            "4",
        ]
        server = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, bufsize=1
        )
        log: list[str] = []
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(server.stdout, lines, log), daemon=True).start()
        try:
            url = _wait_for_url(lines)
            if url is None:
                print("The local server did not start:\n" + "".join(log), file=sys.stderr)
                return 1
            print(f"== the local Batch API server is up at {url} (its data in a temporary folder)", flush=True)
            print(
                "== running examples/quickstart.py against it: upload, create, wait, read results, cancel\n", flush=True
            )
            env = {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": DEMO_KEY, "QUICKSTART_POLL_SECONDS": "0.5"}
            for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
                env.pop(name, None)
            return subprocess.call([sys.executable, str(ROOT / "examples" / "quickstart.py")], env=env, cwd=ROOT)
        finally:
            print("== stopping the local server", flush=True)
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for_url(lines: queue.Queue[str | None]) -> str | None:
    while True:
        try:
            line = lines.get(timeout=READY_TIMEOUT_SECONDS)
        except queue.Empty:
            return None
        if line is None:
            return None
        if line.startswith("listening on "):
            return line.removeprefix("listening on ").strip()


if __name__ == "__main__":
    sys.exit(main())
