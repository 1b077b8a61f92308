"""Async: three batches submitted, awaited and read side by side with `AsyncBatchClient`, in one event loop.

    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-local python examples/async_batches.py

The same calls as `BatchClient`, awaited; `asyncio.gather` runs the three waits at once, so the whole run takes about
as long as the slowest batch. Without OPENAI_BASE_URL it talks to api.openai.com.
"""

from __future__ import annotations

import asyncio
import os
import sys

from openai_batches import AsyncBatchClient, BatchRequest, OpenAIBatchesError

MODEL = os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini")
TOPICS = {
    "fruit": ["Name a red fruit.", "Name a yellow fruit."],
    "maths": ["What is 7 times 8?", "What is the square root of 81?"],
    "places": ["Name a city in Japan.", "Name a river in Africa."],
}


async def one_batch(client: AsyncBatchClient, topic: str, questions: list[str]) -> list[str]:
    requests = [
        BatchRequest.chat(f"{topic}-{i}", model=MODEL, messages=[{"role": "user", "content": q}], max_tokens=30)
        for i, q in enumerate(questions)
    ]
    batch = await client.batches.submit(requests, endpoint="/v1/chat/completions", metadata={"topic": topic})
    batch = await client.batches.wait(batch, poll_interval=0.5)
    lines = [f"{topic}: {batch.status}"]
    async for result in client.batches.results(batch):  # streamed, one result line at a time
        lines.append(f"  {result.custom_id}: {result.text if result.ok else result.error}")
    return lines


async def main() -> int:
    async with AsyncBatchClient() as client:
        done = await asyncio.gather(*(one_batch(client, topic, qs) for topic, qs in TOPICS.items()))
        for heading, *answers in done:
            print(heading)
            for line in sorted(answers):
                print(line)
        page = await client.batches.list(limit=3)
        print(f"latest batches: {sorted(dict(batch.metadata or {}).get('topic', '?') for batch in page.data)}")
    return 0 if all(lines[0].endswith("completed") for lines in done) else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except OpenAIBatchesError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
