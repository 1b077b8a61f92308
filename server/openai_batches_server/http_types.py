"""What an endpoint receives and returns, free of the HTTP stack, so endpoints read like the API they implement.

Endpoints are plain functions `(Context, Request) -> Response`. By the time one runs, the HTTP layer (`app.py`) has
authenticated the caller, routed the request and read the body the route needs: a bounded JSON body as bytes, or an
upload already parsed to disk (`form`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from .azure import Dialect
from .errors import APIError

if TYPE_CHECKING:
    from .uploads import FormData


@dataclass
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    # Case-insensitive, as HTTP header names are.
    headers: Mapping[str, str]
    owner: str
    path_params: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    form: FormData | None = None
    # Which API the client called: "azure" for the /openai/... paths (see `azure`), where a batch's endpoint and
    # its lines' URLs may be written without /v1.
    dialect: Dialect = "openai"


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
    text = json.dumps(payload, ensure_ascii=False)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        # Text no UTF-8 can hold (a lone surrogate echoed from somewhere): escaped, the answer is still JSON.
        body = json.dumps(payload).encode("ascii")
    return Response(status, {"content-type": "application/json"}, body, length=len(body))


def error_response(error: APIError) -> Response:
    response = json_response(error.body(), error.status)
    response.headers.update(error.headers)
    response.close_connection = error.close_connection
    return response
