"""Issue 20: the `serve` flags for the body deadlines and the caps, the caps' defaults, and the refusal log's rhythm
(a line when a kind of refusal starts, then a count per interval, never a line per refusal)."""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server.capacity import RefusalLog, UploadSlots
from openai_batches_server.cli import config_from_args
from openai_batches_server.config import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MIN_BODY_RATE,
    MAX_DEFAULT_CONNECTIONS,
    ServerConfig,
    connection_caps,
    default_max_connections,
)
from openai_batches_server.errors import APIError

from .support import assert_error, upload


def test_the_flags_and_their_defaults() -> None:
    config, _ = config_from_args(["--data-dir", "d"], {})
    assert (config.body_timeout, config.min_body_rate) == (DEFAULT_BODY_TIMEOUT, DEFAULT_MIN_BODY_RATE) == (300, 1024)
    assert (config.max_connections, config.max_uploads) == (None, None)
    given = ["--body-timeout", "30", "--min-body-rate", "0", "--max-connections", "100", "--max-uploads", "10"]
    config, _ = config_from_args(["--data-dir", "d", *given], {})
    assert (config.body_timeout, config.min_body_rate, config.max_connections, config.max_uploads) == (30, 0, 100, 10)


@pytest.mark.parametrize(
    "flags", [["--body-timeout", "0"], ["--min-body-rate", "-1"], ["--max-connections", "0"], ["--max-uploads", "x"]]
)
def test_bad_values_are_refused(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        config_from_args(["--data-dir", "d", *flags], {})
    assert flags[0] in capsys.readouterr().err


def test_the_caps_default_to_well_below_the_descriptor_limit() -> None:
    # Each connection may hold two descriptors, and the ones refused need some while they are answered.
    assert default_max_connections(1024) == 320
    assert default_max_connections(100_000) == MAX_DEFAULT_CONNECTIONS
    assert default_max_connections(None) == MAX_DEFAULT_CONNECTIONS
    assert default_max_connections(16) >= 1
    config = ServerConfig(data_dir="d")
    assert connection_caps(config, 1024) == (320, 160)
    assert connection_caps(ServerConfig(data_dir="d", max_connections=50), 1024) == (50, 25)
    assert connection_caps(ServerConfig(data_dir="d", max_uploads=7), 1024) == (320, 7)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_refusal_log_says_when_a_kind_starts_then_counts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="openai_batches_server")
    clock = Clock()
    log = RefusalLog(interval=10, clock=clock)
    for _ in range(1000):
        log.note("connections", "refusing connections")
        log.flush()
    assert caplog.messages == ["refusing connections"]
    clock.now = 10
    log.note("uploads", "refusing uploads")
    log.flush()
    assert caplog.messages[1:] == ["refusing uploads", "refusing connections (999 more in the last 10 s)"]
    # A kind quiet for a whole interval is over: its next refusal is a new start, logged at once.
    clock.now = 25
    log.flush()
    log.note("connections", "refusing connections")
    assert caplog.messages[3:] == ["refusing connections"]
    log.note("connections", "refusing connections")
    log.flush(final=True)
    assert caplog.messages[4:] == ["refusing connections (1 more in the last 0 s)"]


def test_upload_slots_refuse_past_the_cap_and_free_on_the_way_out() -> None:
    slots = UploadSlots(2, RefusalLog())
    with slots.hold(), slots.hold():
        with pytest.raises(APIError) as refused, slots.hold():
            pass
        assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
        assert slots.in_use == 2
    assert slots.in_use == 0
    with pytest.raises(RuntimeError), slots.hold():
        raise RuntimeError("an upload that failed")
    assert slots.in_use == 0


def test_a_download_that_meets_the_descriptor_limit_is_a_503_to_retry_not_a_500(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    uploaded = upload(client, b'{"a": 1}\n', purpose="user_data", filename="data.jsonl")
    real_open = Path.open

    def open_without_descriptors(self: Path, *args: Any, **kwargs: Any) -> Any:
        if "files" in self.parts[-3:-1]:  # a stored file's bytes, under the data directory's files/
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_without_descriptors)
    with caplog.at_level(logging.WARNING):
        answers = [client.get(f"/files/{uploaded['id']}/content") for _ in range(3)]
    for response in answers:
        error = assert_error(response, 503, type_="server_error")
        assert response.headers["Retry-After"] == "1" and "open files" in error["message"]
    assert "Traceback" not in caplog.text and caplog.text.count("Too many open files") == 1
    monkeypatch.undo()
    assert client.get(f"/files/{uploaded['id']}/content").content == b'{"a": 1}\n'
