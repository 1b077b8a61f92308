"""Benchmark section `tables` (issue 22): a finished job's results exported as tables, at two sizes.

    python tools/bench.py --tables-only            # 100,000 and 1,000,000 requests
    python tools/bench.py --tables-only --smoke    # 2,000 and 20,000

Each size's job is made once, as a run would leave it but without a service: the input read and indexed, its shards
planned, one result file per shard (a chat completion with usage per request, every 50th a 400 in an error file)
recorded and merged. Each export then runs in a child process of its own, so its peak RSS (VmHWM) is its own: rows
per second and peak memory for `write_parquet`, `write_csv`, `to_arrow` and, where the job has it, `write_report`.

Target: the streamed writers' peak memory at the larger size within 1.2x of the smaller one's (flat in the size of
the job). `to_arrow()` holds the table it returns, so its peak grows with the job by nature: it is reported, not
judged.

Another export is measured by adding a function `(job, folder) -> rows` to `EXPORTS` (or calling `add_export`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FLAT_TARGET = 1.2
EXPORT_TITLES = {
    "write_parquet": "job.write_parquet(path), streamed",
    "write_csv": "job.write_csv(path), streamed",
    "to_arrow": "job.to_arrow(), holds the table",
    "write_report": "job.write_report(path)",
}
# The exports whose memory must stay flat: they stream to a file.
STREAMED = ("write_parquet", "write_csv", "write_report")
# Imported before an export is timed, with pyarrow's first conversion (which imports pandas when it is installed).
PRELOAD = {"write_parquet": ("pyarrow", "pyarrow.parquet"), "to_arrow": ("pyarrow",)}


def _write_parquet(job: Any, folder: Path) -> int:
    return int(job.write_parquet(folder / "results.parquet"))


def _write_csv(job: Any, folder: Path) -> int:
    return int(job.write_csv(folder / "results.csv"))


def _to_arrow(job: Any, folder: Path) -> int:
    return int(job.to_arrow().num_rows)


def _write_report(job: Any, folder: Path) -> int:
    job.write_report(folder / "report.html")
    return int(job.requests)


EXPORTS: dict[str, Callable[[Any, Path], int]] = {
    "write_parquet": _write_parquet,
    "write_csv": _write_csv,
    "to_arrow": _to_arrow,
}


def add_export(name: str, export: Callable[[Any, Path], int], title: str, *, streamed: bool = True) -> None:
    """Measure one more export of a finished job beside the others (`export(job, folder)` returns the rows)."""
    global STREAMED
    EXPORTS[name] = export
    EXPORT_TITLES[name] = title
    if streamed and name not in STREAMED:
        STREAMED = (*STREAMED, name)


def _exports() -> dict[str, Callable[[Any, Path], int]]:
    from openai_batches.jobs import Job

    found = dict(EXPORTS)
    if hasattr(Job, "write_report") and "write_report" not in found:
        found["write_report"] = _write_report
    return found


# --- the job -----------------------------------------------------------------------------------------------------


def _request(number: int) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Say the number {number}."}]}
    line = {"custom_id": f"r{number:07d}", "method": "POST", "url": "/v1/chat/completions", "body": body}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def _result(custom_id: str, number: int) -> tuple[bool, bytes]:
    """The service's line for one request: (whether it goes to the error file, the line)."""
    if number % 50 == 49:
        body: dict[str, Any] = {"error": {"message": "Invalid value", "type": "invalid_request_error", "code": None}}
        response = {"status_code": 400, "request_id": f"req_{number}", "body": body}
    else:
        body = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": 1_760_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"The number {number}.", "refusal": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 14,
                "completion_tokens": 5,
                "total_tokens": 19,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }
        response = {"status_code": 200, "request_id": f"req_{number}", "body": body}
    line = {"id": f"batch_req_{number}", "custom_id": custom_id, "response": response, "error": None}
    return number % 50 == 49, json.dumps(line, separators=(",", ":")).encode() + b"\n"


def make_finished_job(root: Path, requests: int) -> Path:
    """A completed job of `requests` requests in `root / "state"`, every request with its result; returns the
    state directory."""
    from openai_batches.jobs.creation import Account, JobSettings, create_job
    from openai_batches.jobs.merge import merge_shard
    from openai_batches.jobs.planning import plan_shards
    from openai_batches.jobs.records import BatchRecord, ShardState
    from openai_batches.jobs.store import open_store
    from openai_batches.jobs.tokens import HeuristicEstimator

    source = root / "requests.jsonl"
    with source.open("wb") as file:
        for number in range(requests):
            file.write(_request(number))
    state = root / "state"
    create_job(
        state,
        "bench",
        source,
        endpoint=None,
        completion_window="24h",
        settings=JobSettings(),
        account=Account("https://api.openai.com/v1", "bench"),
        estimator=HeuristicEstimator(),
    )
    with open_store(state) as store:
        job = store.get_job("bench")
        assert job is not None
        shards = plan_shards(store, job)
        files: dict[int, list[tuple[int, Path]]] = {}
        for shard in shards:
            batch_id = f"batch_{shard.id:04d}"
            folder = root / "results"
            folder.mkdir(exist_ok=True)
            paths = {False: folder / f"{batch_id}_output.jsonl", True: folder / f"{batch_id}_error.jsonl"}
            with paths[False].open("wb") as output, paths[True].open("wb") as errors:
                for line, custom_id, *_ in store.shard_lines(job.id, shard.id):
                    failed, text = _result(custom_id, line - 1)
                    (errors if failed else output).write(text)
            store.add_batch(
                BatchRecord(job.id, batch_id, shard.id, 1, 1, shard.model, "completed", time.time(), "out", "err")
            )
            files[shard.id] = [
                (store.add_result_file(job.id, batch_id, kind, str(paths[failed])), paths[failed])
                for kind, failed in (("output", False), ("error", True))
            ]
            current = shard
            for step in ("uploading", "uploaded", "creating", "submitted", "ended", "downloaded"):
                moved = dataclasses.replace(
                    current, state=ShardState(step), batch_id=batch_id, batch_status="completed"
                )
                store.save_shard(current, moved)
                current = moved
        for shard in store.active_shards(job.id):
            merge_shard(store, job, shard, files[shard.id], cancelling=False)
        done = store.get_job("bench")
        assert done is not None and done.succeeded + done.failed == requests, done
        if done.status != "completed":
            store.set_job_status(done.id, done.status, "completed", time.time())
    return state


# --- one export in a child process ---------------------------------------------------------------------------------


def _peak_rss() -> int:
    """This process's peak resident memory (VmHWM: getrusage would report the forking parent's peak on Linux)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def child(export: str, state: Path, out: Path) -> None:
    from openai_batches.jobs.api import read_job

    job = read_job("bench", state)
    for module in PRELOAD.get(export, ()):
        importlib.import_module(module)  # what the first call of a process pays once, not per row
    if export in PRELOAD:
        importlib.import_module("pyarrow").array(["x"])
    with tempfile.TemporaryDirectory(prefix="bench-tables-out-") as folder:
        start = time.perf_counter()
        rows = _exports()[export](job, Path(folder))
        seconds = time.perf_counter() - start
        written = sum(path.stat().st_size for path in Path(folder).iterdir())
    out.write_text(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_bytes": _peak_rss(), "file_bytes": written}))


def _measure(export: str, state: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-tables-child-") as temp:
        out = Path(temp) / "out.json"
        subprocess.run([sys.executable, __file__, "--child", export, str(state), str(out)], check=True)
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def run(sizes: tuple[int, int]) -> dict[str, Any]:
    exports = list(_exports())
    report: dict[str, Any] = {"sizes": {}, "exports": exports, "flat_target": FLAT_TARGET}
    for requests in sizes:
        print(f"  tables: making a finished job of {requests:,} requests", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-tables-") as temp:
            state = make_finished_job(Path(temp), requests)
            entry: dict[str, Any] = {}
            for export in exports:
                print(f"  tables: {export} at {requests:,}", file=sys.stderr, flush=True)
                result = _measure(export, state)
                assert result["rows"] == requests, (export, result)
                result["rows_per_second"] = requests / result["seconds"]
                entry[export] = result
            report["sizes"][str(requests)] = entry
    small, large = (report["sizes"][str(size)] for size in sizes)
    report["rss_ratio"] = {
        export: large[export]["peak_rss_bytes"] / small[export]["peak_rss_bytes"] for export in exports
    }
    return report


def print_report(report: dict[str, Any]) -> None:
    small, large = list(report["sizes"])
    print(f"=== tables: a finished job's results exported, {int(small):,} and {int(large):,} requests ===")
    print(
        f"  {'export':40s} {'rows/s at ' + f'{int(small):,}':>20s} {'rows/s at ' + f'{int(large):,}':>22s}"
        f" {'peak RSS':>12s} {'peak RSS':>12s} {'ratio':>7s}"
    )
    for export in report["exports"]:
        rows = [report["sizes"][size][export] for size in (small, large)]
        print(
            f"  {EXPORT_TITLES.get(export, export):40s} {rows[0]['rows_per_second']:20,.0f}"
            f" {rows[1]['rows_per_second']:22,.0f} {rows[0]['peak_rss_bytes'] / 2**20:8,.1f} MiB"
            f" {rows[1]['peak_rss_bytes'] / 2**20:8,.1f} MiB {report['rss_ratio'][export]:6.2f}x"
        )
    print()


def target_rows(report: dict[str, Any]) -> list[str]:
    small, large = list(report["sizes"])
    lines = []
    for export in report["exports"]:
        ratio = report["rss_ratio"][export]
        what = f"{export} peak RSS, {int(large):,} vs {int(small):,}"
        if export in STREAMED:
            verdict = "met" if ratio <= FLAT_TARGET else "NOT met"
            lines.append(f"  {what:48s} {f'{ratio:.2f}x':20s} {f'flat: <= {FLAT_TARGET}x':18s} {verdict}")
        else:
            lines.append(f"  {what:48s} {f'{ratio:.2f}x':20s} {'(holds the table)':18s} reported")
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit("run it through tools/bench.py --tables-only")
