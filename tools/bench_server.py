"""The server section of `make bench`: the local server's uploads/s and retrieves/s at 1 and 64 concurrent clients.

Each server under test runs as `python -m openai_batches_server serve` in a child process (its own interpreter and
GIL), from this checkout's `server/` or, for a before/after comparison, from another tree's (`--baseline-server
PATH/server`, for instance a worktree of an older commit). The load comes from this process: asyncio connections
speaking HTTP/1.1 through h11, so the client costs a small fraction of what the server does and the figures are the
server's. Each connection sends its requests back to back on one keep-alive connection; a connection the server
resets or refuses is counted as an error and opened again.

- upload: `POST /v1/files` with a 10-line JSONL batch input file (about 1.4 KB, multipart), purpose "batch";
- retrieve: `GET /v1/batches/{id}` of a completed batch.

Rounds interleave the servers and rotate their order; a ratio (this tree / baseline) is taken per round and
summarised as median (min-max), so machine load that comes and goes hits both sides alike.

Then memory under parallel uploads (issue 20): a fresh server per tree takes 200 uploads of 5 MB at once (16 of
1 MB with `--smoke`), each on its own connection, and its resident set (VmRSS, Linux) is reported before the burst,
at its peak during it (sampled every 10 ms) and a second after it, with the most descriptors it held open. An upload
refused with 503 (over the server's upload cap) is sent again after its Retry-After and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-server-0000"
CONCURRENCY = (1, 64)
OPERATIONS = ("upload", "retrieve")
REQUEST_TIMEOUT = 30.0
INPUT_LINE = (
    b'{"custom_id":"req-%d","method":"POST","url":"/v1/chat/completions",'
    b'"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is 2+2?"}]}}\n'
)
INPUT_FILE = b"".join(INPUT_LINE % number for number in range(10))
MIB = 1024 * 1024
MEMORY_UPLOADS, MEMORY_UPLOAD_BYTES = 200, 5 * MIB
SMOKE_MEMORY_UPLOADS, SMOKE_MEMORY_UPLOAD_BYTES = 16, 1 * MIB
MEMORY_SAMPLE_SECONDS = 0.01
SETTLE_SECONDS = 1.0
SEND_PIECE = 256 * 1024
BOUNDARY = "bench-memory"


@dataclass(frozen=True)
class Wire:
    """One request as h11 events, built once and sent many times."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class Outcome:
    completed: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        name = type(exc).__name__
        self.error_kinds[name] = self.error_kinds.get(name, 0) + 1


class ServerUnderTest:
    """`openai_batches_server serve` from one source tree, in a child process with a fresh data directory."""

    def __init__(self, label: str, source: Path) -> None:
        if not (source / "openai_batches_server" / "__main__.py").is_file():
            # Else the child would import the installed package instead, and measure this tree under another label.
            raise RuntimeError(f"no openai_batches_server package in {source}")
        self.label = label
        self.source = source
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-server-")
        env = {**os.environ, "PYTHONPATH": str(source)}
        command = [sys.executable, "-m", "openai_batches_server", "serve", "--port", "0", "--tick", "0"]
        command += ["--data-dir", self._tmp.name, "--api-key", KEY]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first.startswith("listening on "):
            self.close()
            raise RuntimeError(f"the server from {source} did not start: {first!r}")
        # The server goes on logging (a line per finished batch); keep its pipe from filling up.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.base_url = first.removeprefix("listening on ").strip()
        hostport = self.base_url.split("//", 1)[1].split("/", 1)[0]
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.wires = self._prepare()

    def _prepare(self) -> dict[str, Wire]:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
            upload = client.post("/files", files={"file": ("input.jsonl", INPUT_FILE)}, data={"purpose": "batch"})
            upload.raise_for_status()
            payload = {"input_file_id": upload.json()["id"], "endpoint": "/v1/chat/completions"}
            batch = client.post("/batches", json={**payload, "completion_window": "24h"}).json()
            for _ in range(200):
                if client.get(f"/batches/{batch['id']}").json()["status"] == "completed":
                    break
                time.sleep(0.05)
            multipart = client.build_request(
                "POST", "/files", files={"file": ("input.jsonl", INPUT_FILE)}, data={"purpose": "batch"}
            )
        body = multipart.read()
        host = f"{self.host}:{self.port}".encode()
        auth = headers["Authorization"].encode()
        upload_headers = [
            (b"host", host),
            (b"authorization", auth),
            (b"content-type", multipart.headers["content-type"].encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        return {
            "upload": Wire(b"POST", b"/v1/files", upload_headers, body),
            "retrieve": Wire(
                b"GET", f"/v1/batches/{batch['id']}".encode(), [(b"host", host), (b"authorization", auth)], b""
            ),
        }

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._tmp.cleanup()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: h11.Connection, wire: Wire
) -> int:
    data = conn.send(h11.Request(method=wire.method, target=wire.target, headers=wire.headers))
    if wire.body:
        data += conn.send(h11.Data(data=wire.body))
    data += conn.send(h11.EndOfMessage())
    writer.write(data)
    status = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            conn.receive_data(chunk)
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.EndOfMessage):
            conn.start_next_cycle()
            return status
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionResetError("the server closed the connection")


async def _client(server: ServerUnderTest, wire: Wire, deadline: float, outcome: Outcome) -> None:
    """One client: a keep-alive connection, requests back to back until the deadline, reconnecting after errors."""
    while time.perf_counter() < deadline:
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(server.host, server.port), timeout=REQUEST_TIMEOUT
            )
            conn = h11.Connection(h11.CLIENT)
            while time.perf_counter() < deadline:
                status = await asyncio.wait_for(_exchange(reader, writer, conn, wire), timeout=REQUEST_TIMEOUT)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                outcome.completed += 1
        except (TimeoutError, OSError, h11.ProtocolError, RuntimeError) as exc:
            outcome.error(exc)
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


async def _block(server: ServerUnderTest, op: str, clients: int, seconds: float) -> tuple[float, Outcome]:
    outcome = Outcome()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(server, server.wires[op], deadline, outcome) for _ in range(clients)))
    return outcome.completed / (time.perf_counter() - started), outcome


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _upload(server: ServerUnderTest, head: bytes, payload: bytes, tail: bytes, refused: list[int]) -> None:
    """One upload on a connection of its own, sent again after Retry-After for as long as the server answers 503."""
    while True:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        try:
            writer.write(head)
            for start in range(0, len(payload), SEND_PIECE):
                writer.write(payload[start : start + SEND_PIECE])
                await writer.drain()
            writer.write(tail)
            await writer.drain()
            answer = await reader.read(65536)
        except ConnectionError:
            answer = await reader.read(65536)  # refused while sending: the answer may still be there
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        status = answer[9:12]
        if status == b"200":
            return
        if status != b"503":
            raise RuntimeError(f"an upload was answered {answer[:200]!r}")
        refused.append(1)
        retry_after = re.search(rb"(?i)\r\nretry-after: *(\d+)", answer)
        await asyncio.sleep(float(retry_after.group(1)) if retry_after else 1.0)


async def _burst(server: ServerUnderTest, uploads: int, size: int) -> dict[str, Any]:
    pid = server.process.pid
    preamble = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    head = (
        f"POST /v1/files HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(preamble) + size + len(tail)}\r\n\r\n"
    ).encode() + preamble
    payload = b"x" * size
    before = _rss_bytes(pid)
    peak = {"rss": before, "descriptors": _descriptors(pid)}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], _rss_bytes(pid))
            peak["descriptors"] = max(peak["descriptors"], _descriptors(pid))
            await asyncio.sleep(MEMORY_SAMPLE_SECONDS)

    sampler = asyncio.create_task(sample())
    refused: list[int] = []
    started = time.perf_counter()
    try:
        await asyncio.gather(*(_upload(server, head, payload, tail, refused) for _ in range(uploads)))
    finally:
        seconds = time.perf_counter() - started
        done.set()
        await sampler
    await asyncio.sleep(SETTLE_SECONDS)
    return {
        "uploads": uploads,
        "upload_bytes": size,
        "seconds": seconds,
        "refused_503": len(refused),
        "rss_before_bytes": before,
        "rss_peak_bytes": peak["rss"],
        "rss_after_bytes": _rss_bytes(pid),
        "peak_descriptors": peak["descriptors"],
    }


def measure_upload_memory(sources: dict[str, Path], smoke: bool) -> dict[str, Any]:
    """RSS of a fresh server per tree before, during and after a burst of parallel uploads."""
    if not Path("/proc/self/status").exists():
        return {"skipped": "needs /proc (Linux) to read a process's resident set"}
    uploads, size = (
        (SMOKE_MEMORY_UPLOADS, SMOKE_MEMORY_UPLOAD_BYTES) if smoke else (MEMORY_UPLOADS, MEMORY_UPLOAD_BYTES)
    )
    results: dict[str, Any] = {}
    for label, source in sources.items():
        server = ServerUnderTest(label, source)
        try:
            results[label] = asyncio.run(_burst(server, uploads, size))
        finally:
            server.close()
    return results


def run(
    rounds: int,
    block_seconds: float,
    baseline: Path | None = None,
    source: Path = ROOT / "server",
    *,
    smoke: bool = False,
) -> dict[str, Any]:
    """Every server x operation x concurrency, `rounds` times interleaved; rates, errors and per-round ratios; then
    memory under a burst of parallel uploads."""
    servers = [ServerUnderTest("this tree", source)]
    try:
        if baseline is not None:
            servers.append(ServerUnderTest("baseline", baseline))
        rates: dict[str, dict[str, list[float]]] = {s.label: {} for s in servers}
        errors: dict[str, dict[str, dict[str, int]]] = {s.label: {} for s in servers}
        for number in range(rounds):
            order = servers[number % len(servers) :] + servers[: number % len(servers)]
            for op in OPERATIONS:
                for clients in CONCURRENCY:
                    key = f"{op}_{clients}"
                    for server in order:
                        rate, outcome = asyncio.run(_block(server, op, clients, block_seconds))
                        rates[server.label].setdefault(key, []).append(rate)
                        kinds = errors[server.label].setdefault(key, {})
                        for kind, count in outcome.error_kinds.items():
                            kinds[kind] = kinds.get(kind, 0) + count
    finally:
        for server in servers:
            server.close()
    report: dict[str, Any] = {
        "rounds": rounds,
        "block_seconds": block_seconds,
        "servers": {server.label: str(server.source) for server in servers},
        "rates": {label: {key: _summary(values) for key, values in by_key.items()} for label, by_key in rates.items()},
        "errors": errors,
    }
    if baseline is not None:
        report["ratios"] = {
            key: _summary([a / b for a, b in zip(rates["this tree"][key], rates["baseline"][key], strict=True) if b])
            for key in rates["this tree"]
        }
    report["memory"] = measure_upload_memory({server.label: server.source for server in servers}, smoke)
    return report


def _summary(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"median": 0.0, "min": 0.0, "max": 0.0, "values": []}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": list(values)}


def print_report(report: dict[str, Any]) -> None:
    print(f"\n=== local server: requests/s, {report['rounds']} rounds of {report['block_seconds']:g} s per block")
    labels = list(report["rates"])
    header = f"  {'operation':<26}" + "".join(f"{label:>24}" for label in labels)
    if "ratios" in report:
        header += f"{'this tree / baseline':>28}"
    print(header)
    for op in OPERATIONS:
        for clients in CONCURRENCY:
            key = f"{op}_{clients}"
            row = f"  {f'{op}s/s, {clients} client' + ('s' if clients > 1 else ''):<26}"
            for label in labels:
                failed = sum(report["errors"][label].get(key, {}).values())
                cell = f"{report['rates'][label][key]['median']:,.0f}" + (f" ({failed} errors)" if failed else "")
                row += f"{cell:>24}"
            if "ratios" in report:
                ratio = report["ratios"][key]
                row += f"{ratio['median']:>15.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"
            print(row)
    for label in labels:
        for key, kinds in report["errors"][label].items():
            if kinds:
                print(f"  {label}, {key}: " + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())))
    if "ratios" in report:
        worst = min(report["ratios"][f"{op}_1"]["median"] for op in OPERATIONS)
        verdict = "met" if worst >= 0.8 else "NOT met"
        print(f"  target: one client at >= 0.8x the baseline (no more than 20 % slower): {worst:.2f}x, {verdict}")
    print_memory(report.get("memory", {}))


def print_memory(memory: dict[str, Any]) -> None:
    if "skipped" in memory:
        print(f"  upload memory: skipped: {memory['skipped']}")
        return
    for label, row in memory.items():
        mb = 1e6
        print(
            f"  upload memory, {label}, {row['uploads']} parallel uploads of {row['upload_bytes'] / MIB:g} MiB: "
            f"RSS before {row['rss_before_bytes'] / mb:.0f} MB, during (peak) {row['rss_peak_bytes'] / mb:.0f} MB, "
            f"after {row['rss_after_bytes'] / mb:.0f} MB; {row['seconds']:.1f} s, "
            f"{row['refused_503']} refused with 503 and sent again, at most {row['peak_descriptors']} descriptors"
        )
