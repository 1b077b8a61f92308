"""The HTTP side of the API as an ASGI application, built from Starlette's request and response toolkit.

A request goes through the steps the real service applies, in its order: authenticate, find the route, read the
body that route takes, run the endpoint. Injected faults come after authentication and routing (a bad key or URL is
still answered truthfully) and either before the endpoint runs (nothing happened) or after it (it happened; the
answer is lost). Every answer, errors included, carries `x-request-id` and `openai-processing-ms`.

Routes match the raw, still percent-encoded path, one segment per id, and each id is decoded on its own: an id
holding `%2F` is an id with a slash in it (an unknown file), never a second path segment. A known path asked with
another method (HEAD, OPTIONS, TRACE, anything) answers 405 with `Allow`. Azure OpenAI's paths for the same
resources (`/openai/v1/files`, `/openai/files?api-version=...`) are mapped onto the same table before matching, and
the request remembers that it came that way (`azure`): Azure's credentials, its 401 and 404 bodies, and batch
endpoints without `/v1` apply to it alone.

Endpoints are short synchronous functions over SQLite and files, so they run on the event loop itself: handing each
to a worker thread costs more than the work, and cut what a single client got through (`make bench` measures it;
the figures are in the performance documentation). What can take long runs elsewhere: downloads are read in a
worker thread chunk by chunk, and uploads are written to disk piece by piece as they arrive.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal
from urllib.parse import parse_qsl, quote, unquote

import anyio
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers
from starlette.responses import Response as StarletteResponse
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from . import anthropic_batches as anthropic
from . import azure, ids
from . import batches_endpoints as batches
from . import files_endpoints as files
from .auth import Authenticator
from .capacity import UploadSlots, out_of_descriptors
from .context import Context
from .disk_space import is_disk_full
from .errors import APIError, insufficient_storage, invalid_request, not_found, server_error
from .faults import FaultInjector
from .http_types import Request, Response
from .http_types import error_response as _error_response
from .request_body import BodyLimits, ClientDisconnected, RequestBody, too_large
from .uploads import receive_form

logger = logging.getLogger(__name__)

Endpoint = Callable[[Context, Request], Response]
# What a route reads before its endpoint runs: nothing, a JSON body (whole, bounded), or a multipart upload (to disk).
BodyKind = Literal["none", "json", "form"]

MAX_JSON_BODY = 1024 * 1024
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: Endpoint
    body: BodyKind = "none"


def _route(method: str, template: str, endpoint: Endpoint, body: BodyKind = "none") -> Route:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, re.compile(pattern), endpoint, body)


ROUTES = (
    _route("POST", "/v1/files", files.create_file, body="form"),
    _route("GET", "/v1/files", files.list_files),
    _route("GET", "/v1/files/{file_id}", files.retrieve_file),
    _route("DELETE", "/v1/files/{file_id}", files.delete_file),
    _route("GET", "/v1/files/{file_id}/content", files.file_content),
    _route("POST", "/v1/batches", batches.create_batch, body="json"),
    _route("GET", "/v1/batches", batches.list_batches),
    _route("GET", "/v1/batches/{batch_id}", batches.retrieve_batch),
    _route("POST", "/v1/batches/{batch_id}/cancel", batches.cancel_batch),
)
# Anthropic's Message Batches (see `anthropic_batches`): its own credentials, error shape and body limit.
ANTHROPIC_ROUTES = (
    _route("POST", "/v1/messages/batches", anthropic.create_batch, body="json"),
    _route("GET", "/v1/messages/batches", anthropic.list_batches),
    _route("GET", "/v1/messages/batches/{batch_id}", anthropic.retrieve_batch),
    _route("DELETE", "/v1/messages/batches/{batch_id}", anthropic.delete_batch),
    _route("POST", "/v1/messages/batches/{batch_id}/cancel", anthropic.cancel_batch),
    _route("GET", "/v1/messages/batches/{batch_id}/results", anthropic.results),
)


def find_route(
    method: str, raw_path: str, asked: str | None = None, routes: tuple[Route, ...] = ROUTES
) -> tuple[Route, dict[str, str]]:
    """The route for `raw_path`; errors name `asked`, the path as the client sent it, when it was mapped."""
    allowed: set[str] = set()
    for route in routes:
        match = route.pattern.fullmatch(raw_path)
        if match is None:
            continue
        if route.method == method:
            return route, {name: unquote(value, errors="replace") for name, value in match.groupdict().items()}
        allowed.add(route.method)
    shown = unquote(asked or raw_path, errors="replace")
    if allowed:
        raise APIError(
            405, f"Invalid method for URL ({method} {shown}).", headers={"Allow": ", ".join(sorted(allowed))}
        )
    raise not_found(f"Invalid URL ({method} {shown})")


def _find_azure_route(
    method: str, raw_path: str, routed: azure.RoutedPath, query: dict[str, str]
) -> tuple[Route, dict[str, str]]:
    """The route an Azure path maps to; an unknown path, or a dated one without `api-version`, is Azure's 404."""
    azure.check_api_version(routed, query)
    try:
        return find_route(method, routed.path, raw_path)
    except APIError as exc:
        if exc.status == 404:
            raise azure.resource_not_found() from None
        raise


def parse_query(query_string: bytes) -> dict[str, str]:
    """Query parameters, blank values kept (so `limit=` is refused, not ignored); a repeated name is refused."""
    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace"):
        if name in query:
            raise invalid_request(
                f"Invalid query: the parameter '{name}' is given more than once.",
                param=name,
                code="duplicate_parameter",
            )
        query[name] = value
    return query


class ApiApp:
    """The ASGI application: `await app(scope, receive, send)` for each HTTP request."""

    def __init__(
        self,
        context: Context,
        authenticator: Authenticator,
        faults: FaultInjector,
        *,
        body_limits: BodyLimits,
        uploads: UploadSlots,
    ) -> None:
        self.context = context
        self.authenticator = authenticator
        self.faults = faults
        self.body_limits = body_limits
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # The server runs without lifespan events and without websockets: nothing else arrives here.
            return
        started = time.monotonic()
        headers = Headers(scope=scope)
        body = RequestBody(headers, receive, self.body_limits)
        anthropic_path = anthropic.is_anthropic_path(scope["path"])

        def error_response(error: APIError) -> Response:
            return _error_response(anthropic.as_anthropic(error) if anthropic_path else error)

        try:
            response = await self._answer(scope, headers, body)
        except APIError as exc:
            response = error_response(exc)
        except ClientDisconnected:
            return
        except Exception as exc:
            if is_disk_full(exc, self.context.storage.root):
                logger.warning(
                    "no room left in %s answering %s %s: %s",
                    self.context.storage.root,
                    scope["method"],
                    scope["path"],
                    exc,
                )
                response = error_response(insufficient_storage())
            elif out_of_descriptors(exc):
                # A download or a database open met the descriptor limit: a retry can succeed once others close.
                assert isinstance(exc, OSError)
                response = error_response(self.uploads.no_descriptor(f"{scope['method']} {scope['path']}", exc))
            else:
                logger.exception("unhandled error answering %s %s", scope["method"], scope["path"])
                response = error_response(server_error())
        if body.unread:
            # The rest of the body is still on the connection, where it would be read as the next request.
            response.close_connection = True
        if anthropic_path:
            # The header name the anthropic SDK reads a request id from.
            response.headers["request-id"] = anthropic.request_id()
        await _send(response, started, scope, receive, send)

    async def _answer(self, scope: Scope, headers: Headers, body: RequestBody) -> Response:
        latency = self.faults.config.latency
        if latency:
            await anyio.sleep(latency)
        method: str = scope["method"]
        # raw_path is optional in ASGI; uvicorn and httpx's ASGITransport both give it.
        raw_path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else quote(scope["path"])
        routed = azure.route_path(raw_path)
        anthropic_path = anthropic.is_anthropic_path(raw_path)
        if anthropic_path:
            owner = anthropic.owner(self.authenticator.key_owner, headers)
            route, params = find_route(method, raw_path, routes=ANTHROPIC_ROUTES)
            query = parse_query(scope["query_string"])
        elif routed.dialect == "azure":
            owner = self.authenticator.azure_owner(headers.get("api-key"), headers.get("authorization"))
            # The query first: which api-version was asked decides whether the path exists.
            query = parse_query(scope["query_string"])
            route, params = _find_azure_route(method, raw_path, routed, query)
        else:
            owner = self.authenticator.owner(headers.get("authorization"))
            route, params = find_route(method, raw_path)
            query = parse_query(scope["query_string"])
        request = Request(method, unquote(raw_path), query, headers, owner, params, dialect=routed.dialect)
        fault = self.faults.draw()
        if fault is not None and self.faults.config.timing == "before":
            raise fault
        if route.body == "json":
            request.body = await _json_body(
                headers, body, anthropic.MAX_BODY_BYTES if anthropic_path else MAX_JSON_BODY
            )
        elif route.body == "form":
            request.form = await receive_form(
                body.chunks(),
                headers,
                temp_dir=self.context.storage.tmp_dir,
                max_file_bytes=self.context.config.limits.upload_bytes,
                accepted=files.FORM_FIELDS,
                slots=self.uploads,
            )
        try:
            response = route.endpoint(self.context, request)
        finally:
            if request.form is not None:
                request.form.discard()
        if fault is not None:
            response.discard()
            raise fault
        return response


async def _json_body(headers: Headers, body: RequestBody, limit: int = MAX_JSON_BODY) -> bytes:
    _require_json_content_type(headers.get("content-type"))
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    return await body.read(limit)


def _require_json_content_type(value: str | None) -> None:
    """JSON bodies come as `application/json` (in UTF-8, the only charset JSON has), as the SDKs send them.

    A form or `text/plain` body that happens to parse as JSON is a client sending something else by mistake.
    """
    media_type, options = parse_options_header(value or "")
    charset = options.get(b"charset", b"utf-8").lower()
    if media_type != b"application/json" or charset not in (b"utf-8", b"utf8"):
        shown = f"'{value}'" if value else "none"
        raise invalid_request(
            f"Invalid Content-Type header ({shown}): a JSON body must be sent as application/json in UTF-8.",
            param="Content-Type",
            code="unsupported_content_type",
        )


async def _send(response: Response, started: float, scope: Scope, receive: Receive, send: Send) -> None:
    headers = dict(response.headers)
    headers["x-request-id"] = ids.request_id()
    headers["openai-processing-ms"] = str(int((time.monotonic() - started) * 1000))
    if response.close_connection:
        headers["connection"] = "close"
    answer: StarletteResponse
    if response.stream is None:
        answer = StarletteResponse(response.body, status_code=response.status, headers=headers)
    else:
        headers["content-length"] = str(response.length)
        answer = StreamingResponse(_file_chunks(response.stream, response.length), response.status, headers)
    await answer(scope, receive, send)


def _file_chunks(stream: BinaryIO, length: int) -> Iterator[bytes]:
    """The file's first `length` bytes in pieces; Starlette reads each piece in a worker thread."""
    with stream:
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(COPY_CHUNK, remaining))
            if not chunk:
                # The file shrank under us: the client sees a short body, and the server closes the connection.
                return
            remaining -= len(chunk)
            yield chunk
