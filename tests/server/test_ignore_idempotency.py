"""`serve --ignore-idempotency-key`: the local server ignores the header on every endpoint, as the public API does.

With the option, a create repeated with the same key (and the same body) makes a second file or batch, so a pipeline
can be tested against the duplicates a retried create can leave on the real service; without it the repeat answers
with the first object, as before.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.cli import config_from_args, main
from openai_batches_server.config import API_KEYS_ENV

from .conftest import PROJECT
from .support import CHAT, KEY, TLS, api_client, chat_line, jsonl, upload, wait_for

CONTENT = jsonl([chat_line("a"), chat_line("b")])


@pytest.fixture
def ignoring(data_dir: Path) -> Iterator[LocalServer]:
    with run_server(data_dir, api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


@pytest.fixture
def ignoring_client(ignoring: LocalServer) -> Iterator[httpx.Client]:
    with api_client(ignoring) as http:
        yield http


def post_file(client: httpx.Client, key: str | None, content: bytes = CONTENT) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post("/files", files={"file": ("input.jsonl", content)}, data={"purpose": "batch"}, headers=headers)


def post_batch(client: httpx.Client, key: str, file_id: str, **extra: Any) -> httpx.Response:
    payload = {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", **extra}
    return client.post("/batches", json=payload, headers={"Idempotency-Key": key})


def listed(client: httpx.Client, what: str) -> list[str]:
    response = client.get(f"/{what}")
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


# --- ignored ---


def test_two_uploads_with_one_key_make_two_files(ignoring_client: httpx.Client) -> None:
    first, again = post_file(ignoring_client, "upload-1"), post_file(ignoring_client, "upload-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["id"] != again.json()["id"]
    assert listed(ignoring_client, "files") == [again.json()["id"], first.json()["id"]]
    for file in (first.json(), again.json()):
        content = ignoring_client.get(f"/files/{file['id']}/content")
        assert (content.status_code, content.content) == (200, CONTENT)


def test_two_creates_with_one_key_make_two_batches_that_both_run(ignoring_client: httpx.Client) -> None:
    file_id = upload(ignoring_client, CONTENT)["id"]
    first, again = post_batch(ignoring_client, "create-1", file_id), post_batch(ignoring_client, "create-1", file_id)
    assert (first.status_code, again.status_code) == (200, 200)
    ids = [first.json()["id"], again.json()["id"]]
    assert ids[0] != ids[1]
    assert listed(ignoring_client, "batches") == ids[::-1]
    for batch_id in ids:
        done = wait_for(ignoring_client, batch_id)
        assert (done["status"], done["input_file_id"]) == ("completed", file_id)
        assert done["request_counts"] == {"total": 2, "completed": 2, "failed": 0}


def test_one_key_with_another_body_is_a_new_object_not_a_409(ignoring_client: httpx.Client) -> None:
    first, other = post_file(ignoring_client, "upload-2"), post_file(ignoring_client, "upload-2", b'{"x": 1}\n')
    assert (first.status_code, other.status_code) == (200, 200)
    assert other.json()["bytes"] == len(b'{"x": 1}\n') != first.json()["bytes"]
    batch = post_batch(ignoring_client, "create-2", first.json()["id"])
    changed = post_batch(ignoring_client, "create-2", first.json()["id"], metadata={"x": "y"})
    assert (batch.status_code, changed.status_code) == (200, 200)
    assert batch.json()["id"] != changed.json()["id"]
    assert changed.json()["metadata"] == {"x": "y"}


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_the_header_is_not_even_checked(ignoring_client: httpx.Client, key: str) -> None:
    # Honoured, an empty or overlong key is a 400 (test_batch_create); ignored, it is as if it was not sent.
    uploaded = post_file(ignoring_client, key)
    assert uploaded.status_code == 200, uploaded.text
    created = post_batch(ignoring_client, key, uploaded.json()["id"])
    assert created.status_code == 200, created.text


def test_an_ignored_key_is_not_remembered_for_a_later_honouring_server(data_dir: Path) -> None:
    with run_server(data_dir, api_keys=[KEY], tick=0, ignore_idempotency_key=True) as server, api_client(server) as c:
        ignored = post_file(c, "upload-3").json()["id"]
    with run_server(data_dir, api_keys=[KEY], tick=0) as server, api_client(server) as c:
        first, again = post_file(c, "upload-3"), post_file(c, "upload-3")
        assert first.json()["id"] not in (ignored, None)
        assert again.json()["id"] == first.json()["id"]
        assert listed(c, "files") == [first.json()["id"], ignored]


# --- honoured (the default) ---


def test_by_default_a_repeated_upload_answers_the_first_file(client: httpx.Client) -> None:
    first, again = post_file(client, "upload-1"), post_file(client, "upload-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert listed(client, "files") == [first.json()["id"]]


def test_by_default_a_repeated_create_answers_the_first_batch(client: httpx.Client) -> None:
    file_id = upload(client, CONTENT)["id"]
    first, again = post_batch(client, "create-1", file_id), post_batch(client, "create-1", file_id)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"]
    assert listed(client, "batches") == [first.json()["id"]]
    assert post_batch(client, "create-1", file_id, metadata={"x": "y"}).status_code == 409


# --- the command line ---


def test_the_option_reaches_the_config() -> None:
    assert config_from_args(["serve", "--data-dir", "d"], {})[0].ignore_idempotency_key is False
    assert config_from_args(["--data-dir", "d", "--ignore-idempotency-key"], {})[0].ignore_idempotency_key is True


def test_the_option_is_in_the_help_of_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from openai_batches.cli import main as openai_batches_main

    assert main(["serve", "--help"]) == 0
    server_help = " ".join(capsys.readouterr().out.split())
    assert "--ignore-idempotency-key ignore the Idempotency-Key header on every endpoint" in server_help
    assert openai_batches_main(["serve", "--help"]) == 0
    assert " ".join(capsys.readouterr().out.split()) == server_help


def test_openai_batches_serve_ignores_the_key_over_the_wire(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT / "server"), os.environ.get("PYTHONPATH", "")]),
        API_KEYS_ENV: "",
    }
    argv = ["serve", "--ignore-idempotency-key", "--port", "0", "--data-dir", str(tmp_path), "--tick", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "openai_batches", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/v1)\n", first)
        assert match, first + (process.stderr.read() if process.stderr else "")
        assert "accepting any non-empty key" in process.stdout.readline()
        assert process.stdout.readline().startswith("ignoring Idempotency-Key headers")
        headers = {"Authorization": "Bearer anything"}
        with httpx.Client(base_url=match.group(1), headers=headers, timeout=30, verify=TLS) as http:
            files = [post_file(http, "same").json()["id"] for _ in range(2)]
            batches = [post_batch(http, "same", files[0]).json()["id"] for _ in range(2)]
            assert len(set(files)) == len(set(batches)) == 2
            assert listed(http, "files?purpose=batch") == files[::-1]
            assert listed(http, "batches") == batches[::-1]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
