"""Switching from the official `openai` SDK: code written for its batch and file calls, with the import changed.

    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-local python examples/from_openai_sdk.py

Everything below the imports is code for the SDK, and runs with it unchanged: put back `from openai import OpenAI`
and `import openai` and it prints the same (tests/test_examples.py runs it both ways). What changing the import adds:
requests checked before the upload, a create that is not sent twice when a retry follows a lost answer, pages that
stop on a cursor the server repeats, and errors for any status or body.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import openai_batches as openai  # the official SDK: import openai
from openai_batches import BatchClient as OpenAI  # the official SDK: from openai import OpenAI

FINAL = {"completed", "failed", "expired", "cancelled"}


def main() -> int:
    client = OpenAI()  # OPENAI_API_KEY and OPENAI_BASE_URL from the environment, as the SDK reads them
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        with path.open("w") as f:
            for i, word in enumerate(["apple", "river", "cloud"]):
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Define {word}."}]}
                f.write(
                    json.dumps({"custom_id": f"w-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body})
                )
                f.write("\n")
        with path.open("rb") as f:
            uploaded = client.files.create(file=f, purpose="batch")
    print(f"uploaded {uploaded.filename}: {uploaded.bytes} bytes, purpose {uploaded.purpose}")

    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"example": "from-openai-sdk"},
    )
    while batch.status not in FINAL:
        time.sleep(0.5)
        batch = client.batches.retrieve(batch.id)
    print(f"batch {batch.status}: {batch.request_counts.completed} of {batch.request_counts.total} completed")

    content = client.files.content(batch.output_file_id)
    records = [json.loads(line) for line in content.text.splitlines()]
    for record in sorted(records, key=lambda r: r["custom_id"]):  # the output file keeps no particular order
        print(record["custom_id"], record["response"]["status_code"])

    try:
        client.batches.retrieve("batch_does_not_exist")
    except openai.NotFoundError as e:
        print(f"not found: {e.status_code}")

    mine = [b for b in client.batches.list(limit=100) if b.metadata and b.metadata.get("example") == "from-openai-sdk"]
    print(f"listed the batch: {any(b.id == batch.id for b in mine)}")
    client.close()
    return 0 if batch.status == "completed" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except openai.APIError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
