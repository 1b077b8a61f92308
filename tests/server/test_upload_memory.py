"""Issue 20, finding 6: memory under many parallel uploads grew with the number of uploads times uvicorn's buffers.

The bound is structural, so it is asserted as one, never as a timing or a size of the whole process (`make bench`
reports RSS before, during and after 200 parallel 5 MB uploads): each read takes at most READ_SIZE bytes, and
reading stops once a read's worth of body waits for the app, so a connection holds at most two reads of it, where
uvicorn alone would take 256 KiB a read and go on reading until 64 KiB wait.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openai_batches_server import LocalServer
from openai_batches_server.http_server import READ_SIZE, GuardedProtocol

from .support import api_client


def test_6_a_connection_holds_at_most_two_reads_of_body_the_app_has_not_taken(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    largest = {"read": 0, "waiting": 0}
    data_received, on_body = GuardedProtocol.data_received, GuardedProtocol.on_body

    def measured_read(self: GuardedProtocol, data: bytes) -> None:
        largest["read"] = max(largest["read"], len(data))
        data_received(self, data)

    def measured_body(self: GuardedProtocol, body: bytes) -> None:
        on_body(self, body)
        largest["waiting"] = max(largest["waiting"], len(self.cycle.body))

    monkeypatch.setattr(GuardedProtocol, "data_received", measured_read)
    monkeypatch.setattr(GuardedProtocol, "on_body", measured_body)

    def upload(number: int) -> Any:
        with api_client(server) as client:
            content = bytes([65 + number % 26]) * 2_000_000
            return client.post("/files", files={"file": ("a.jsonl", content)}, data={"purpose": "user_data"})

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(upload, range(16)))
    assert [response.status_code for response in responses] == [200] * 16
    assert 0 < largest["read"] <= READ_SIZE
    assert 0 < largest["waiting"] < 2 * READ_SIZE
