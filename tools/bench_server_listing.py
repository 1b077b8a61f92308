"""The listing part of `make bench`'s server section (issue 20): how `GET /v1/files` grows with the files stored.

Two servers run side by side as `python -m openai_batches_server serve` child processes, one holding SMALL files
and one LARGE (1,000 and 20,000; 200 and 3,000 with `--smoke`), uploaded through the API. Of each, exactly
`RARE` files have purpose `user_data` (spread evenly) and the rest `batch`, so a purpose filter returns the same
page at both sizes and any difference is rows the server stepped over. Each listing is timed from this process over
one keep-alive connection (h11, so the client's share is small); the endpoints run on the server's event loop, so
a listing's latency is also how long it holds every other request up.

Rounds alternate the two servers; the ratio LARGE / SMALL is taken per round and summarised as median (min-max).
The target is 1.5x for every listing whose page is the same at both sizes. The default listing (no `limit`: 10,000
per page, as the real API) returns more rows at the larger size by definition; it is reported per row returned,
beside its plain ratio. `--baseline-server DIR` measures another tree's server the same way, for a before/after.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h11
import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-listing-0000"
RARE = 100
PAGE = 100
TARGET = 1.5
SEED_CONNECTIONS = 32
TIMEOUT = 60.0
CONTENT = b'{"custom_id":"r","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}\n'


@dataclass(frozen=True)
class Sizes:
    small: int
    large: int
    rounds: int
    block_seconds: float


FULL = Sizes(small=1_000, large=20_000, rounds=7, block_seconds=0.3)
SMOKE = Sizes(small=300, large=3_000, rounds=2, block_seconds=0.02)


class ListingServer:
    """`openai_batches_server serve` from one source tree with `files` files, in a child process of its own."""

    def __init__(self, source: Path, files: int) -> None:
        self.files = files
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-listing-")
        env = {**os.environ, "PYTHONPATH": str(source)}
        command = [sys.executable, "-m", "openai_batches_server", "serve", "--port", "0", "--tick", "0"]
        command += ["--data-dir", self._tmp.name, "--api-key", KEY]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first.startswith("listening on "):
            self.close()
            raise RuntimeError(f"the server from {source} did not start: {first!r}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.base_url = first.removeprefix("listening on ").strip()
        hostport = self.base_url.split("//", 1)[1].split("/", 1)[0]
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.headers = [(b"host", hostport.encode()), (b"authorization", f"Bearer {KEY}".encode())]
        asyncio.run(self._seed())
        ids: list[str] = []
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=TIMEOUT) as c:
            while True:
                params: dict[str, str | int] = {"limit": 10_000, "order": "asc"}
                if ids:
                    params["after"] = ids[-1]
                page = c.get("/files", params=params).json()
                ids += [item["id"] for item in page["data"]]
                if not page["has_more"]:
                    break
        if len(ids) != files:
            raise RuntimeError(f"seeded {files} files, the server lists {len(ids)}")
        self.middle_id = ids[files // 2]

    def _upload(self, purpose: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
        request = httpx.Request(
            "POST", self.base_url + "/files", files={"file": ("in.jsonl", CONTENT)}, data={"purpose": purpose}
        )
        body = request.read()
        headers = [*self.headers, (b"content-type", request.headers["content-type"].encode())]
        return [*headers, (b"content-length", str(len(body)).encode())], body

    async def _seed(self) -> None:
        uploads = {purpose: self._upload(purpose) for purpose in ("batch", "user_data")}
        every = self.files // RARE
        numbers = iter(range(self.files))

        async def connection() -> None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            conn = h11.Connection(h11.CLIENT)
            try:
                for number in numbers:
                    headers, body = uploads["user_data" if number % every == every // 2 else "batch"]
                    status, _ = await _exchange(reader, writer, conn, b"POST", b"/v1/files", headers, body)
                    if status != 200:
                        raise RuntimeError(f"an upload answered {status}")
            finally:
                writer.close()

        # In order of arrival, not of number: which files are rare does not depend on it, only how many.
        await asyncio.gather(*(connection() for _ in range(SEED_CONNECTIONS)))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._tmp.cleanup()


def queries(server: ListingServer) -> dict[str, str]:
    middle = server.middle_id
    return {
        "default (10,000 per page)": "/v1/files",
        f"limit={PAGE}": f"/v1/files?limit={PAGE}",
        f"purpose=user_data, limit={PAGE}": f"/v1/files?purpose=user_data&limit={PAGE}",
        f"after=<middle>, limit={PAGE}": f"/v1/files?after={middle}&limit={PAGE}",
        f"order=asc, limit={PAGE}": f"/v1/files?order=asc&limit={PAGE}",
        f"order=asc, after=<middle>, limit={PAGE}": f"/v1/files?order=asc&after={middle}&limit={PAGE}",
    }


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: h11.Connection,
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
) -> tuple[int, int]:
    """One request on a keep-alive connection: its status and how many body bytes came back."""
    data = conn.send(h11.Request(method=method, target=target, headers=headers))
    if body:
        data += conn.send(h11.Data(data=body))
    data += conn.send(h11.EndOfMessage())
    writer.write(data)
    status = received = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            chunk = await reader.read(1 << 20)
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            conn.receive_data(chunk)
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            received += len(event.data)
        elif isinstance(event, h11.EndOfMessage):
            conn.start_next_cycle()
            return status, received
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionResetError("the server closed the connection")


async def _time_block(server: ListingServer, target: str, seconds: float) -> float:
    """Seconds per request over a block of at least `seconds` (and at least three requests), one after another."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    conn = h11.Connection(h11.CLIENT)
    try:
        await _exchange(reader, writer, conn, b"GET", target.encode(), server.headers)  # warm
        count = 0
        started = time.perf_counter()
        while count < 3 or time.perf_counter() - started < seconds:
            status, _ = await _exchange(reader, writer, conn, b"GET", target.encode(), server.headers)
            if status != 200:
                raise RuntimeError(f"GET {target} answered {status}")
            count += 1
        return (time.perf_counter() - started) / count
    finally:
        writer.close()


def _rows(server: ListingServer, target: str) -> int:
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=TIMEOUT) as client:
        return len(client.get(f"http://{server.host}:{server.port}{target}").json()["data"])


def measure(source: Path, sizes: Sizes) -> dict[str, Any]:
    """Every listing at both sizes, `sizes.rounds` times alternating the servers; times, rows and ratios."""
    small = large = None
    try:
        small = ListingServer(source, sizes.small)
        large = ListingServer(source, sizes.large)
        pair = {"small": small, "large": large}
        names = list(queries(small))
        targets = {label: queries(server) for label, server in pair.items()}
        rows = {name: {label: _rows(pair[label], targets[label][name]) for label in pair} for name in names}
        seconds: dict[str, dict[str, list[float]]] = {name: {"small": [], "large": []} for name in names}
        for number in range(sizes.rounds):
            order = ["small", "large"] if number % 2 == 0 else ["large", "small"]
            for name in names:
                for label in order:
                    block = _time_block(pair[label], targets[label][name], sizes.block_seconds)
                    seconds[name][label].append(asyncio.run(block))
    finally:
        for server in (small, large):
            if server is not None:
                server.close()
    report: dict[str, Any] = {}
    for name in names:
        ratios = [b / a for a, b in zip(seconds[name]["small"], seconds[name]["large"], strict=True)]
        entry: dict[str, Any] = {
            "rows": rows[name],
            "ms": {label: _summary([s * 1000 for s in values]) for label, values in seconds[name].items()},
            "ratio": _summary(ratios),
        }
        if rows[name]["small"] != rows[name]["large"] and rows[name]["small"] and rows[name]["large"]:
            scale = rows[name]["small"] / rows[name]["large"]
            entry["per_row_ratio"] = _summary([ratio * scale for ratio in ratios])
        report[name] = entry
    return report


def run(smoke: bool, baseline: Path | None = None, source: Path = ROOT / "server") -> dict[str, Any]:
    sizes = SMOKE if smoke else FULL
    trees = {"this tree": source, **({"baseline": baseline} if baseline is not None else {})}
    print(f"  measuring file listings at {sizes.small:,} and {sizes.large:,} files", file=sys.stderr, flush=True)
    return {
        "sizes": {"small": sizes.small, "large": sizes.large},
        "rounds": sizes.rounds,
        "rare": RARE,
        "target": TARGET,
        "trees": {label: str(tree) for label, tree in trees.items()},
        "listings": {label: measure(tree, sizes) for label, tree in trees.items()},
    }


def _summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": list(values)}


def print_report(report: dict[str, Any]) -> None:
    small, large = report["sizes"]["small"], report["sizes"]["large"]
    print(
        f"\n=== local server: file listings at {small:,} vs {large:,} files ({report['rare']} with purpose user_data), "
        f"{report['rounds']} rounds; latency = time the server's event loop is held"
    )
    for label, listings in report["listings"].items():
        print(f"  {label}")
        print(f"    {'listing':<42}{'rows':>14}{f'ms at {small:,}':>14}{f'ms at {large:,}':>14}{'ratio':>26}")
        for name, entry in listings.items():
            rows = f"{entry['rows']['small']:,}/{entry['rows']['large']:,}"
            ratio = entry["ratio"]
            cell = f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"
            times = f"{entry['ms']['small']['median']:>14.2f}{entry['ms']['large']['median']:>14.2f}"
            print(f"    {name:<42}{rows:>14}{times}{cell:>26}")
            if "per_row_ratio" in entry:
                per_row = entry["per_row_ratio"]
                print(f"    {'  the same, per row returned':<84}{per_row['median']:>12.2f}x")
    listings = report["listings"]["this tree"]
    same_page = [entry["ratio"]["median"] for entry in listings.values() if "per_row_ratio" not in entry]
    per_row = [entry["per_row_ratio"]["median"] for entry in listings.values() if "per_row_ratio" in entry]
    worst = max(same_page + per_row)
    verdict = "met" if worst <= report["target"] else "NOT met"
    print(f"  target: every listing at {large:,} files within {report['target']}x of {small:,} (per row where the")
    print(f"  page itself grows): worst {worst:.2f}x, {verdict}")
