"""Jobs to write reports of: one run on the local server (two models, lines that fail at once, lines that fail
once and are retried, a hostile custom_id), and one made up in the store alone at any size (no server: its result
files are written here, the way `tools/bench.py` times a job's local work).

`page_numbers` reads what a test of the page needs from its HTML: the headline numbers by id, and the rows of the
tables by their data attributes.
"""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jobs_support import line, new_job
from openai_batches import BatchClient
from openai_batches.jobs import Job
from openai_batches.jobs.merge import merge_shard
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import BatchRecord, JobRecord, ShardState
from openai_batches.jobs.store import SQLiteJobStore
from openai_batches_server import run_server

KEY = "sk-report-test-0123456789abcdef"
HOSTILE = "fail-<script>alert(1)</script>"
HEADLINE = (
    "requests",
    "succeeded",
    "failed",
    "missing",
    "cancelled",
    "pending",
    "batches",
    "input-tokens",
    "output-tokens",
    "cost",
)
PRICES = {"gpt-4o-mini": {"input": 0.075, "output": 0.3}, "gpt-4o": {"input": 1.25, "output": 5.0}}


def run_job(folder: Path) -> Job:
    """120 requests of two models in batches of 10: 8 fail with 400 at once (the hostile one among them), about a
    tenth fail with 500 on their first attempt and succeed on their second."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for number in range(120):
        request = line(f"q-{number}", f"question {number}", model=("gpt-4o-mini", "gpt-4o")[number % 2])
        if number % 15 == 7:
            request["custom_id"] = f"fail-{number}"
        lines.append(request)
    lines[7]["custom_id"] = HOSTILE
    path = folder / "requests.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))
    with (
        run_server(
            folder / "data",
            api_keys=[KEY],
            tick=0,
            ignore_idempotency_key=True,
            line_failure_rate=0.1,
            line_failure_status=500,
            line_failure_attempts=1,
        ) as server,
        BatchClient(api_key=KEY, base_url=server.base_url) as client,
    ):
        job = client.jobs.create("report", path, max_batch_requests=10, max_attempts=3, state_dir=folder / "state")
        return client.jobs.run(job, poll_interval=0.02, max_poll_interval=0.2)


def made_up_job(
    folder: Path, requests: int, *, batch_size: int = 25, codes: int = 60, custom_id_length: int = 40
) -> tuple[SQLiteJobStore, JobRecord]:
    """A finished job of `requests` requests of two models, made in the store without a server: one request in
    three fails with 400 and one of `codes` error codes (more groups than a report shows), long custom_ids, batches
    with a full timeline a minute apart, all over by the time the job was recorded (so before any report of it)."""
    pad = "x" * max(custom_id_length - 8, 0)
    lines = [line(f"{pad}{n:08d}", model=("gpt-4o-mini", "gpt-4o")[n % 2]) for n in range(requests)]
    store, record = new_job(folder, lines, max_batch_requests=batch_size, max_attempts=1)
    with store.transaction():  # one commit: made up, so nothing to keep durable step by step
        _run_made_up(store, record, folder, codes)
    done = store.get_job(record.name)
    assert done is not None and done.pending == 0
    store.set_job_status(done.id, done.status, "completed", done.created_at)
    finished = store.get_job(record.name)
    assert finished is not None
    return store, finished


def _run_made_up(store: SQLiteJobStore, record: JobRecord, folder: Path, codes: int) -> None:
    shards = plan_shards(store, record)
    start = record.created_at - 60 * len(shards) - 400  # all of it over by the time the job was recorded
    results = folder / "results"
    results.mkdir(exist_ok=True)
    for index, shard in enumerate(shards):
        output = results / f"shard{shard.id}.jsonl"
        with output.open("w") as file:
            for _line, custom_id, *_ in store.shard_lines(record.id, shard.id):
                number = int(custom_id[-8:])
                if number % 3 == 1:
                    error = {"message": f"bad request {number}", "type": "invalid_request_error"}
                    error["code"] = f"code_{number // 3 % codes}"
                    response = {"status_code": 400, "request_id": "r", "body": {"error": error}}
                else:
                    response = {"status_code": 200, "request_id": "r", "body": {"choices": []}}
                file.write(json.dumps({"id": "x", "custom_id": custom_id, "response": response, "error": None}) + "\n")
        batch_id = f"batch_{shard.id:06d}"
        number = store.add_result_file(record.id, batch_id, "output", str(output))
        created = start + 60 * index
        store.add_batch(
            BatchRecord(
                job=record.id,
                batch_id=batch_id,
                shard=shard.id,
                attempt=1,
                submission=1,
                model=shard.model,
                status="completed",
                created_at=created,
                input_tokens=10 * shard.requests,
                output_tokens=5 * shard.requests,
                in_progress_at=created + 5,
                finalizing_at=created + 300 + index % 11,
                ended_at=created + 320 + index % 11,
                requests_total=shard.requests,
                requests_completed=shard.requests,
            )
        )
        current = shard
        for state in ("uploading", "uploaded", "creating", "submitted", "ended", "downloaded"):
            moved = dataclasses.replace(current, state=ShardState(state), batch_id=batch_id, batch_status="completed")
            store.save_shard(current, moved)
            current = moved
        merge_shard(store, record, current, [(number, output)], cancelling=False)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.tags: list[str] = []
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        self.tags.append(tag)
        if tag == "table":
            self._table = found.get("id")
        if "id" in found and "data-value" in found:
            self.values[found["id"]] = found["data-value"]
        if tag in ("tr", "g") and any(key.startswith("data-") for key in found):
            where = self._table if tag == "tr" else found.get("class", "g")
            self.rows.setdefault(where or "", []).append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def page_numbers(html: str) -> tuple[dict[str, str], dict[str, list[dict[str, str]]], list[str]]:
    """(headline values by id, data-attributes of table rows and timeline lanes, every tag name)."""
    reader = _Reader()
    reader.feed(html)
    return reader.values, reader.rows, reader.tags


def expected_headline(summary: Any) -> dict[str, str]:
    return {
        "requests": str(summary.requests),
        "succeeded": str(summary.succeeded),
        "failed": str(summary.failed),
        "missing": str(summary.missing),
        "cancelled": str(summary.cancelled),
        "pending": str(summary.pending),
        "batches": str(summary.batches),
        "input-tokens": str(summary.input_tokens),
        "output-tokens": str(summary.output_tokens),
        "cost": "" if summary.cost is None else repr(summary.cost),
    }
