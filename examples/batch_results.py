"""A batch from requests to results with the workflow helpers: each answer matched to its request by custom_id.

    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-local python examples/batch_results.py
    OPENAI_API_KEY=sk-... python examples/batch_results.py      # against the real API (costs a cent or so)

Start the local server first with `openai-batches serve --data-dir ./batches-data`. With OPENAI_BASE_URL set the
example talks to that server; without it, to api.openai.com, where the wait takes minutes to hours.
"""

from __future__ import annotations

import os
import sys

from openai_batches import Batch, BatchClient, BatchRequest, OpenAIBatchesError

MODEL = os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini")
QUESTIONS = {
    "capital": "What is the capital of France?",
    "primes": "Name three prime numbers.",
    "spider": "How many legs does a spider have?",
}


def show(batch: Batch) -> None:
    counts = batch.request_counts
    print(f"  {batch.status}: {counts.completed if counts else 0}/{counts.total if counts else 0} done", flush=True)


def main() -> int:
    requests = [
        BatchRequest.chat(key, model=MODEL, messages=[{"role": "user", "content": question}], max_tokens=50)
        for key, question in QUESTIONS.items()
    ]
    with BatchClient() as client:  # OPENAI_API_KEY, and OPENAI_BASE_URL when set
        # submit checks every request as the service would (ids, endpoint, size) before it uploads and creates.
        batch = client.batches.submit(requests, endpoint="/v1/chat/completions", metadata={"example": "results"})
        print(f"submitted {batch.id}")
        batch = client.batches.wait(batch, poll_interval=0.5, on_update=show)
        results = client.batches.results_by_custom_id(batch)
        for key in QUESTIONS:
            result = results.get(key)
            if result is None:
                print(f"{key}: no result")
            elif result.ok:
                print(f"{key}: {result.text}")
            else:
                print(f"{key}: error {result.error}")
        print(f"missing: {sorted(results.missing)}")
    return 0 if batch.status == "completed" and not results.missing else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OpenAIBatchesError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
