"""What an endpoint receives and returns, free of `http.server`, so endpoints read like the API they implement."""

from __future__ import annotations

import email.message
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from .errors import APIError
from .request_body import BodyReader


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: email.message.Message
    body: BodyReader
    owner: str
    path_params: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    # A file streamed to the client after the headers; `length` bytes, then closed.
    stream: BinaryIO | None = None
    length: int = 0
    close_connection: bool = False

    def discard(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, {"Content-Type": "application/json"}, body, length=len(body))


def error_response(error: APIError) -> Response:
    response = json_response(error.body(), error.status)
    response.headers.update(error.headers)
    response.close_connection = error.close_connection
    return response
