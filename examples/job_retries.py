"""A job: 120 requests in batches of 30, at most 800 input tokens enqueued at once, failed lines retried.

    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-local python examples/job_retries.py

To see the retries offline, start the local server with some request lines failing on their first attempt, and
with the service's enqueued-token limit:

    openai-batches serve --data-dir ./batches-data --line-failure-rate 0.2 --line-failure-attempts 1 \
        --enqueued-token-limit 800

A line that fails for a retryable reason (a 429 or 5xx answer, an expired batch) goes into a later batch, up to
`max_attempts` batches in all; `enqueued_token_limit` keeps the job's batches in flight under that many estimated
input tokens, so the service never refuses one for its own limit (a refused batch would be sent again later). The
job's state lives in a folder (here a temporary one, JOB_STATE_DIR to keep it): stop the script at any moment and run
it again, and it goes on where it stopped, sending nothing twice.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from openai_batches import BatchClient, Job, OpenAIBatchesError

MODEL = os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini")
REQUESTS = 120
TOKEN_LIMIT = 800


def write_requests(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(REQUESTS):
            body = {"model": MODEL, "messages": [{"role": "user", "content": f"Say the number {i}."}], "max_tokens": 10}
            out.write(
                json.dumps({"custom_id": f"n-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body})
            )
            out.write("\n")


def main() -> int:
    state_dir = os.environ.get("JOB_STATE_DIR") or tempfile.mkdtemp(prefix="job-retries-")
    folder = Path(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    requests = folder / "requests.jsonl"
    if not requests.exists():
        write_requests(requests)
    most_in_flight = 0

    def on_update(job: Job) -> None:
        nonlocal most_in_flight
        most_in_flight = max(most_in_flight, job.batches_in_flight)

    with BatchClient() as client:
        job = client.jobs.create(
            "numbers",
            str(requests),
            max_batch_requests=30,
            max_attempts=4,
            enqueued_token_limit=TOKEN_LIMIT,
            state_dir=state_dir,
        )
        print(f"job {job.name}: {job.requests} requests, about {job.estimated_tokens} input tokens in all")
        job = client.jobs.run(job, on_update=on_update, poll_interval=0.5, state_dir=state_dir)
        summary = job.summary()
        print(f"status: {job.status}")
        print(f"succeeded {summary.succeeded} of {summary.requests}, failed {summary.failed}")
        print(f"requests retried: {summary.retried}")
        print(f"batches: {summary.batches}, at most {most_in_flight} in flight at once (token limit {TOKEN_LIMIT})")
        print(f"batches refused for the service's token limit: {summary.token_limit_refusals}")
        written = job.write_results(folder / "results.jsonl")
        print(f"{written} results in input order in {folder / 'results.jsonl'}")
    return 0 if job.status == "completed" and summary.succeeded == REQUESTS else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OpenAIBatchesError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
