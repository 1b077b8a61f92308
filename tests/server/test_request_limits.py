"""Issue 20, finding 3: the upload size limit is the request's, not each part's, and a part the endpoint does not take
is refused before any of its bytes reach the disk.

What reached the disk is measured, not inferred: a spy on `tempfile.mkstemp` keeps a descriptor on every temporary
file the server opens, so its size can be read after the server has refused the upload and removed the file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.config import Limits
from openai_batches_server.errors import APIError
from openai_batches_server.uploads import MULTIPART_OVERHEAD, receive_form

from .support import KEY, api_client, assert_error

LIMIT = 100_000
BOUNDARY = "limits"
CONTENT_TYPE = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class TempFiles:
    """Every temporary file the server opened, by the bytes written to it (read after it was unlinked)."""

    def __init__(self) -> None:
        self._kept: list[int] = []

    def spy(self, real: Any) -> Any:
        def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
            fd, path = real(*args, **kwargs)
            self._kept.append(os.open(path, os.O_RDONLY))
            return fd, path

        return mkstemp

    def sizes(self) -> list[int]:
        return [os.fstat(fd).st_size for fd in self._kept]

    def close(self) -> None:
        for fd in self._kept:
            os.close(fd)


@pytest.fixture
def temp_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[TempFiles]:
    files = TempFiles()
    monkeypatch.setattr(tempfile, "mkstemp", files.spy(tempfile.mkstemp))
    yield files
    files.close()


@pytest.fixture
def limited(data_dir: Path) -> Iterator[LocalServer]:
    with run_server(data_dir, api_keys=[KEY], tick=0, limits=Limits(upload_bytes=LIMIT)) as running:
        yield running


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + ("" if filename is None else f'; filename="{filename}"')
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def chunked(*pieces: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """The body without a Content-Length, as a client streaming it sends it."""
    for piece in pieces:
        for start in range(0, len(piece), size):
            yield piece[start : start + size]


def post(server: LocalServer, *pieces: bytes) -> httpx.Response:
    with api_client(server) as client:
        return client.post("/files", content=chunked(*pieces), headers=CONTENT_TYPE)


def test_3_a_part_the_endpoint_does_not_take_is_refused_before_a_byte_of_it_is_written(
    limited: LocalServer, temp_files: TempFiles, data_dir: Path
) -> None:
    file_bytes = b"f" * 60_000
    response = post(limited, part("file", file_bytes, "in.jsonl"), part("extra", b"e" * 60_000, "more.jsonl"), END)
    assert_error(response, 400, code="unknown_parameter", param="extra")
    assert temp_files.sizes() == [len(file_bytes)]  # the first part's file; none for the second
    assert list((data_dir / "tmp").iterdir()) == []


def test_3_a_second_file_part_writes_nothing_of_its_own(limited: LocalServer, temp_files: TempFiles) -> None:
    response = post(limited, part("file", b"1" * 60_000, "a"), part("file", b"2" * 60_000, "b"), END)
    assert_error(response, 400, code="duplicate_parameter", param="file")
    assert temp_files.sizes() == [60_000]


def test_3_a_file_sent_in_a_text_field_is_refused_unwritten(limited: LocalServer, temp_files: TempFiles) -> None:
    response = post(limited, part("purpose", b"p" * 60_000, "purpose.txt"), part("file", b"x", "a"), END)
    assert_error(response, 400, param="purpose")
    assert temp_files.sizes() == []


def test_3_a_chunked_upload_over_the_limit_writes_no_more_than_the_limit(
    limited: LocalServer, temp_files: TempFiles, data_dir: Path
) -> None:
    response = post(limited, part("purpose", b"batch"), part("file", b"x" * (6 * LIMIT), "big"), END)
    assert_error(response, 413, code="file_too_large")
    assert response.headers["connection"] == "close"
    [written] = temp_files.sizes()
    assert written <= LIMIT
    assert list((data_dir / "tmp").iterdir()) == []


def test_3_the_limit_counts_the_whole_body_not_only_its_file_parts(limited: LocalServer) -> None:
    # A file under the limit, then an epilogue (ignored by multipart parsers) far beyond it: no client can make the
    # server read more than the limit and the form's framing allows, whatever the bytes are in the form.
    response = post(
        limited, part("purpose", b"batch"), part("file", b"x" * 1000, "a"), END, b"e" * (LIMIT + MULTIPART_OVERHEAD)
    )
    assert_error(response, 413, code="file_too_large")
    # The same form without the epilogue is an upload like any other.
    assert post(limited, part("purpose", b"batch"), part("file", b"x" * 1000, "a"), END).status_code == 200


def test_3_a_file_at_the_limit_with_its_framing_is_accepted(limited: LocalServer) -> None:
    response = post(limited, part("purpose", b"batch"), part("file", b"x" * LIMIT, "a"), END)
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == LIMIT


def test_3_file_parts_together_count_against_the_limit(tmp_path: Path, temp_files: TempFiles) -> None:
    # Where no endpoint narrows the parts (receive_form on its own), two files under the limit each are still one
    # request over it, though the whole body is well within the limit and its framing allowance.
    async def body() -> Any:
        for piece in (part("a", b"1" * 600, "a"), part("b", b"2" * 600, "b"), END):
            yield piece

    headers = {"content-type": CONTENT_TYPE["Content-Type"]}
    with pytest.raises(APIError) as refused:
        asyncio.run(receive_form(body(), headers, temp_dir=tmp_path, max_file_bytes=1000))
    assert refused.value.status == 413
    assert sum(temp_files.sizes()) <= 1000
    assert list(tmp_path.iterdir()) == []
