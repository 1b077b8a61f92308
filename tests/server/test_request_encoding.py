"""What a request's bytes may be: UTF-8 JSON sent as application/json, with no lone surrogate anywhere.

Python's `json.loads(bytes)` takes more than that (UTF-16 and UTF-32 by guessing, a byte order mark, raw surrogate
bytes through `surrogatepass`), and a surrogate that got in broke the server far from the request: a create with one
in its metadata answered 500 while hashing the request, an input line with one in its custom_id failed the running
batch and lost the lines answered before it. Each is refused where it arrives now, with the place named, and a batch
keeps every line it answered whatever a line holds.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openai_batches_server import runner as runner_module

from .support import CHAT, assert_error, chat_line, create_batch, jsonl, read_lines, run_batch, upload, wait_for

RAW_SURROGATE = b"\xed\xb0\x80"  # U+DC00 encoded as if it were a character: not UTF-8, but surrogatepass takes it


def create_payload(file_id: str, note: str = "ok") -> dict[str, Any]:
    return {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", "metadata": {"note": note}}


def post_batch(client: httpx.Client, body: bytes, content_type: str | None = "application/json") -> httpx.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return client.post("/batches", content=body, headers=headers)


@pytest.fixture
def input_file(client: httpx.Client) -> str:
    return str(upload(client, jsonl([chat_line("a"), chat_line("b")]))["id"])


def test_a_raw_surrogate_in_metadata_is_a_400_naming_the_field(client: httpx.Client, input_file: str) -> None:
    body = json.dumps(create_payload(input_file, "NOTE")).encode().replace(b"NOTE", b"x" + RAW_SURROGATE)
    error = assert_error(post_batch(client, body), 400, code="invalid_json", param="metadata.note")
    assert "metadata.note" in error["message"] and "lone surrogate" in error["message"]
    assert client.get("/batches").json()["data"] == []


def test_an_escaped_surrogate_in_a_key_is_refused_too(client: httpx.Client, input_file: str) -> None:
    body = json.dumps(create_payload(input_file)).encode().replace(b'"note"', b'"\\udc00"')
    error = assert_error(post_batch(client, body), 400, code="invalid_json", param="metadata")
    assert "a key in metadata" in error["message"]


@pytest.mark.parametrize(
    ("encoding", "named"),
    [("utf-16", "UTF-16 byte order mark"), ("utf-16-le", "UTF-16-LE"), ("utf-16-be", "UTF-16-BE"),
     ("utf-32", "UTF-32 byte order mark"), ("utf-32-le", "UTF-32-LE"), ("utf-8-sig", "UTF-8 byte order mark")],
)  # fmt: skip
def test_a_body_in_another_encoding_or_with_a_bom_is_refused(
    client: httpx.Client, input_file: str, encoding: str, named: str
) -> None:
    body = json.dumps(create_payload(input_file)).encode(encoding)
    error = assert_error(post_batch(client, body), 400, code="invalid_json")
    assert named in error["message"]
    assert client.get("/batches").json()["data"] == []


def test_bytes_that_are_not_utf8_are_refused_with_their_offset(client: httpx.Client, input_file: str) -> None:
    body = json.dumps(create_payload(input_file, "NOTE")).encode()
    offset = body.index(b"NOTE")
    error = assert_error(post_batch(client, body.replace(b"NOTE", b"\xff")), 400, code="invalid_json")
    assert f"at byte {offset}" in error["message"]


def test_utf8_text_that_merely_starts_with_the_surrogate_lead_byte_is_accepted(
    client: httpx.Client, input_file: str
) -> None:
    # Hangul syllables are encoded ED 80 80 to ED 9F BF: the same lead byte as a raw surrogate, and valid UTF-8.
    batch = create_batch(client, input_file, metadata={"note": "한국어 메모"})
    assert batch["metadata"] == {"note": "한국어 메모"}


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
     "application/jsonp"],
)  # fmt: skip
def test_a_json_body_must_come_as_application_json(
    client: httpx.Client, input_file: str, content_type: str | None
) -> None:
    body = json.dumps(create_payload(input_file)).encode()
    error = assert_error(post_batch(client, body, content_type), 400, code="unsupported_content_type")
    assert error["param"] == "Content-Type" and "application/json" in error["message"]
    assert client.get("/batches").json()["data"] == []


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=UTF-8"])
def test_application_json_with_or_without_its_charset_is_accepted(
    client: httpx.Client, input_file: str, content_type: str
) -> None:
    response = post_batch(client, json.dumps(create_payload(input_file)).encode(), content_type)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("raw", ["1_0", "+5", " 5", "5 ", "\u0665", "\uff11\uff10", "0x10", "1e2", "5.0", "9" * 5000])
def test_query_integers_are_plain_ascii_decimal(client: httpx.Client, raw: str) -> None:
    for path in ("/batches", "/files"):
        error = assert_error(client.get(path, params={"limit": raw}), 400, code="invalid_type", param="limit")
        assert len(error["message"]) < 200


def test_a_negative_or_zero_limit_is_out_of_range_not_malformed(client: httpx.Client) -> None:
    assert_error(client.get("/batches", params={"limit": "-1"}), 400, code="integer_below_min_value")
    assert_error(client.get("/batches", params={"limit": "0"}), 400, code="integer_below_min_value")
    assert client.get("/batches", params={"limit": "007"}).status_code == 200


@pytest.mark.parametrize(
    ("place", "line"),
    [("custom_id", b'{"custom_id": "id-SUR", "method": "POST", "url": "/v1/chat/completions", '
                   b'"body": {"model": "gpt-4o-mini", "messages": []}}'),
     ("body.messages[0].content",
      b'{"custom_id": "c", "method": "POST", "url": "/v1/chat/completions", '
      b'"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi SUR"}]}}')],
)  # fmt: skip
@pytest.mark.parametrize("form", ["raw", "escaped"])
def test_an_input_line_with_a_lone_surrogate_fails_validation_with_its_line_number(
    client: httpx.Client, place: str, line: bytes, form: str
) -> None:
    surrogate = RAW_SURROGATE if form == "raw" else b"\\udc00"
    content = jsonl([chat_line("a")]) + line.replace(b"SUR", surrogate) + b"\n" + jsonl([chat_line("z")])
    batch = run_batch(client, content)
    assert batch["status"] == "failed", batch
    (error,) = batch["errors"]["data"]
    assert error["code"] == "invalid_json_line" and error["line"] == 2
    assert place in error["message"] and "lone surrogate" in error["message"]


def test_an_input_line_in_utf16_fails_validation_naming_the_encoding(client: httpx.Client) -> None:
    content = jsonl([chat_line("a")]) + json.dumps(chat_line("b")).encode("utf-16-le") + b"\n"
    batch = run_batch(client, content)
    assert batch["status"] == "failed"
    (error,) = batch["errors"]["data"]
    assert error["line"] == 2 and "UTF-16-LE" in error["message"]


def test_a_line_the_server_cannot_answer_becomes_an_error_line_and_the_batch_goes_on(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth behind validation: a line whose answer fails (a responder bug), even one whose custom_id
    could not be written back, gets a 500 error line of its own; the lines before and after it are kept."""
    real_respond = runner_module.respond

    def respond(endpoint: str, custom_id: str, body: dict[str, Any], *, now: int) -> Any:
        if custom_id.startswith("bad"):
            raise RuntimeError("a responder bug")
        return real_respond(endpoint, custom_id, body, now=now)

    monkeypatch.setattr(runner_module, "respond", respond)
    # Validation must not stop the line first: it only checks what a client controls, which this line gets right.
    monkeypatch.setattr(runner_module, "loads", _loads_letting_a_surrogate_id_through())
    lines = [chat_line("a"), chat_line("bad-1"), chat_line("bad-\udc00"), chat_line("z")]
    content = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8", "surrogatepass")
    batch = create_batch(client, upload(client, content.replace(b"\\udc00", b"SURROGATE"))["id"])
    batch = wait_for(client, batch["id"])
    assert batch["status"] == "completed", batch
    assert batch["request_counts"] == {"total": 4, "completed": 2, "failed": 2}
    assert [line["custom_id"] for line in read_lines(client, batch["output_file_id"])] == ["a", "z"]
    errors = read_lines(client, batch["error_file_id"])
    assert [line["custom_id"] for line in errors] == ["bad-1", "bad-\\udc00"]
    assert {line["response"]["status_code"] for line in errors} == {500}


def _loads_letting_a_surrogate_id_through() -> Any:
    """The runner's parser, except that the placeholder id turns into a lone surrogate after validation passed."""
    real_loads = runner_module.loads

    def loads(content: bytes) -> Any:
        request = real_loads(content)
        if request.get("custom_id") == "bad-SURROGATE":
            request["custom_id"] = "bad-\udc00"
        return request

    return loads
