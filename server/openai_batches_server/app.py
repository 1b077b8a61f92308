"""Routing, in the order the real service applies it: authenticate, find the route, then run the endpoint.

Injected faults come after authentication and routing (a bad key or URL is still answered truthfully) and either
before the endpoint runs (nothing happened) or after it (it happened; the answer is lost).
"""

from __future__ import annotations

import email.message
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

from . import batches_endpoints as batches
from . import files_endpoints as files
from .auth import Authenticator
from .context import Context
from .errors import APIError, not_found
from .faults import FaultInjector
from .http_types import Request, Response
from .request_body import BodyReader

Endpoint = Callable[[Context, Request], Response]

_ID = r"(?P<{name}>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("POST", re.compile(r"/v1/files"), files.create_file),
    ("GET", re.compile(r"/v1/files"), files.list_files),
    ("GET", re.compile(r"/v1/files/" + _ID.format(name="file_id")), files.retrieve_file),
    ("DELETE", re.compile(r"/v1/files/" + _ID.format(name="file_id")), files.delete_file),
    ("GET", re.compile(r"/v1/files/" + _ID.format(name="file_id") + "/content"), files.file_content),
    ("POST", re.compile(r"/v1/batches"), batches.create_batch),
    ("GET", re.compile(r"/v1/batches"), batches.list_batches),
    ("GET", re.compile(r"/v1/batches/" + _ID.format(name="batch_id")), batches.retrieve_batch),
    ("POST", re.compile(r"/v1/batches/" + _ID.format(name="batch_id") + "/cancel"), batches.cancel_batch),
]


class App:
    def __init__(self, context: Context, authenticator: Authenticator, faults: FaultInjector) -> None:
        self.context = context
        self.authenticator = authenticator
        self.faults = faults

    def handle(self, method: str, target: str, headers: email.message.Message, body: BodyReader) -> Response:
        if self.faults.config.latency:
            time.sleep(self.faults.config.latency)
        raw_path, _, query_string = target.partition("?")
        path = unquote(raw_path)
        owner = self.authenticator.owner(headers.get("Authorization"))
        endpoint, params = _route(method, path)
        request = Request(method, path, dict(parse_qsl(query_string)), headers, body, owner, params)
        fault = self.faults.draw()
        if fault is not None and self.faults.config.timing == "before":
            raise fault
        response = endpoint(self.context, request)
        if fault is not None:
            response.discard()
            raise fault
        return response


def _route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    allowed = []
    for route_method, pattern, endpoint in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if route_method == method:
            return endpoint, match.groupdict()
        allowed.append(route_method)
    if allowed:
        raise APIError(
            405, f"Invalid method for URL ({method} {path}).", headers={"Allow": ", ".join(sorted(set(allowed)))}
        )
    raise not_found(f"Invalid URL ({method} {path})")
