"""Runner A of `test_jobs_stalled.py`: runs one job through the library, logging every HTTP request it sends.

    python stalled_runner_child.py sync|async BASE_URL API_KEY STATE_DIR NAME LOG LEASE_SECONDS

Each request is appended to LOG as `TIME METHOD PATH` (time.time() when httpx is about to send it), one flushed line
at a time, so the parent can see what this runner sent after it was continued. Exit status: 0 when the job
finished, 9 on `JobLeaseLostError` (its message on stderr, no traceback), 1 on anything else (with the traceback).
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from typing import TextIO

import httpx
from openai_batches import AsyncBatchClient, BatchClient, JobLeaseLostError

EXIT_LEASE_LOST = 9
POLL = {"poll_interval": 0.1, "max_poll_interval": 0.3}


def log_line(log: TextIO, request: httpx.Request) -> None:
    log.write(f"{time.time():.6f} {request.method} {request.url.path}\n")
    log.flush()


def run_sync(base_url: str, api_key: str, state_dir: str, name: str, log: TextIO, lease: float) -> None:
    def hook(request: httpx.Request) -> None:
        log_line(log, request)

    with (
        httpx.Client(event_hooks={"request": [hook]}) as http,
        BatchClient(base_url=base_url, api_key=api_key, http_client=http) as client,
    ):
        client.jobs.run(name, state_dir=state_dir, lease_seconds=lease, **POLL)


async def run_async(base_url: str, api_key: str, state_dir: str, name: str, log: TextIO, lease: float) -> None:
    async def hook(request: httpx.Request) -> None:
        log_line(log, request)

    async with (
        httpx.AsyncClient(event_hooks={"request": [hook]}) as http,
        AsyncBatchClient(base_url=base_url, api_key=api_key, http_client=http) as client,
    ):
        await client.jobs.run(name, state_dir=state_dir, lease_seconds=lease, **POLL)


def main(argv: list[str]) -> int:
    mode, base_url, api_key, state_dir, name, log_path, lease_text = argv
    lease = int(lease_text) if lease_text.isdigit() else float(lease_text)
    with open(log_path, "a", encoding="utf-8") as log:
        try:
            if mode == "sync":
                run_sync(base_url, api_key, state_dir, name, log, lease)
            elif mode == "async":
                asyncio.run(run_async(base_url, api_key, state_dir, name, log, lease))
            else:
                raise ValueError(f"mode must be sync or async, got {mode!r}")
        except JobLeaseLostError as exc:
            print(f"runner A lost its lease: {exc}", file=sys.stderr)
            return EXIT_LEASE_LOST
        except BaseException:
            traceback.print_exc()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
