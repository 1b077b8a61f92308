"""A whole batch, end to end: upload requests, create a batch, wait for it, read the results.

    make demo                                   # offline, against the local server this project ships
    OPENAI_API_KEY=sk-... python examples/quickstart.py   # against the real API (costs a few cents)

With OPENAI_BASE_URL set the example talks to that server; without it, to api.openai.com.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from openai_batches import Batch, BatchClient, OpenAIBatchesError, is_terminal

MODEL = os.environ.get("QUICKSTART_MODEL", "gpt-4o-mini")
QUESTIONS = [
    "What is the capital of France?",
    "Name three prime numbers.",
    "What colour is the sky on a clear day?",
    "How many legs does a spider have?",
    "What is 12 times 12?",
    "Who wrote Hamlet?",
]
POLL_SECONDS = float(os.environ.get("QUICKSTART_POLL_SECONDS", "1.0"))
TIMEOUT_SECONDS = float(os.environ.get("QUICKSTART_TIMEOUT_SECONDS", str(24 * 3600)))


def request_line(custom_id: str, question: str) -> str:
    body = {"model": MODEL, "messages": [{"role": "user", "content": question}], "max_tokens": 50}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def write_requests(directory: Path, name: str, questions: list[str]) -> Path:
    path = directory / name
    path.write_text("".join(request_line(f"q-{i}", q) + "\n" for i, q in enumerate(questions)), encoding="utf-8")
    return path


def progress(batch: Batch) -> str:
    counts = batch.request_counts
    done = f"{counts.completed + counts.failed}/{counts.total}" if counts else "?"
    return f"{batch.id}: {batch.status} ({done} requests done)"


def wait(client: BatchClient, batch: Batch) -> Batch:
    """Poll until the batch can change no more, printing each change."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    last = ""
    while True:
        line = progress(batch)
        if line != last:
            print("  " + line, flush=True)
            last = line
        if is_terminal(batch):
            return batch
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {batch.id} after {TIMEOUT_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)
        batch = client.batches.retrieve(batch.id)


def answers(client: BatchClient, file_id: str | None) -> list[tuple[str, str]]:
    """(custom_id, answer or error) for each line of an output or error file."""
    if not file_id:
        return []
    rows = []
    with client.files.content(file_id) as content:
        for line in content.iter_lines():
            if not line.strip():
                continue
            record = json.loads(line)
            response = record.get("response") or {}
            body = response.get("body") or {}
            if response.get("status_code") == 200 and body.get("choices"):
                text = body["choices"][0]["message"]["content"]
            else:
                text = f"error: {(record.get('error') or body.get('error') or {}).get('message', 'unknown')}"
            rows.append((record["custom_id"], text))
    return rows


def main() -> int:
    where = os.environ.get("OPENAI_BASE_URL") or "the OpenAI API"
    print(f"openai-batches quickstart against {where}")
    with BatchClient() as client, tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)

        print("\n1. Upload the requests and create a batch")
        upload = client.files.create(file=write_requests(directory, "questions.jsonl", QUESTIONS), purpose="batch")
        print(f"  uploaded {upload.filename} as {upload.id} ({upload.bytes_} bytes)")
        batch = client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", metadata={"example": "quickstart"}
        )
        print(f"  created {batch.id}")

        print("\n2. Wait for it")
        batch = wait(client, batch)
        counts = batch.request_counts
        print(
            f"  finished: {batch.status}, {counts.completed if counts else 0} succeeded, "
            f"{counts.failed if counts else 0} failed"
        )

        print("\n3. Results")
        for custom_id, text in answers(client, batch.output_file_id)[:4]:
            print(f"  {custom_id}: {text[:70]}")
        for custom_id, text in answers(client, batch.error_file_id)[:4]:
            print(f"  {custom_id}: {text[:70]}")

        print("\n4. Recent batches")
        for recent in client.batches.list(limit=5).data:
            print(f"  {recent.id} {recent.status} created_at={recent.created_at}")

        print("\n5. Cancel a second batch and look at its partial results")
        many = QUESTIONS * 40
        second_file = client.files.create(file=write_requests(directory, "many.jsonl", many), purpose="batch")
        second = client.batches.create(input_file_id=second_file.id, endpoint="/v1/chat/completions")
        time.sleep(POLL_SECONDS)
        second = client.batches.cancel(second.id)
        print(f"  cancel requested: {progress(second)}")
        second = wait(client, second)
        partial = answers(client, second.output_file_id)
        print(f"  {second.status} with {len(partial)} of {len(many)} answers kept")
        for custom_id, text in partial[:2]:
            print(f"  {custom_id}: {text[:70]}")

    ok = batch.status == "completed" and second.status in ("cancelled", "completed")
    print("\nDone." if ok else "\nSomething did not finish as expected.")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OpenAIBatchesError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
