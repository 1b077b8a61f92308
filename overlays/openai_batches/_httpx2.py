"""httpx2 objects, taken where the official SDK 3.x takes them, on a request path that is httpx throughout.

The SDK 3.x is built on httpx2 (pydantic's maintained fork of httpx), so code written for it passes
`httpx2.Timeout`, `httpx2.URL` and `httpx2.Client` objects. They are converted where they come in: a timeout or a
URL to httpx's own, and a client behind an httpx transport that hands every request to it, so its transport,
proxies, auth, cookies, headers and event hooks apply just as the caller set them up. Everything after that point
(retries, errors, key redaction, streamed downloads) is the one httpx path every other call takes.

httpx2 is never imported here: it is an optional extra, and an httpx2 object can only exist once the caller has
imported it, so `sys.modules` is enough to recognise one.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from ._exceptions import OpenAIBatchesError, install_hint

if TYPE_CHECKING:
    import httpx2

EXTRA_HINT = install_hint("httpx2")
_GIVEN_CLOSED = "The httpx2 client given as http_client has been closed; give the BatchClient an open one."


def _module() -> ModuleType | None:
    module = sys.modules.get("httpx2")
    return module if isinstance(module, ModuleType) else None


def is_instance(value: object, name: str) -> bool:
    """Whether `value` is an `httpx2.<name>`, without importing httpx2."""
    module = _module()
    return module is not None and isinstance(value, getattr(module, name))


def to_httpx_timeout(value: httpx2.Timeout) -> httpx.Timeout:
    return httpx.Timeout(connect=value.connect, read=value.read, write=value.write, pool=value.pool)


def _mapped_error(exc: Exception, request: httpx.Request) -> Exception:
    """httpx's exception of the same name (`ReadTimeout`, `ConnectError`, ...), so retries and error mapping judge
    an httpx2 failure exactly as they judge an httpx one."""
    message = str(exc)
    for cls in type(exc).__mro__:
        if not cls.__module__.startswith("httpx2"):
            continue
        target = getattr(httpx, cls.__name__, None)
        if isinstance(target, type) and issubclass(target, httpx.RequestError):
            return target(message, request=request)
        if isinstance(target, type) and issubclass(target, httpx.StreamError):
            return httpx.StreamError(message)
    # An HTTPStatusError raised by an event hook: not a transport failure, so never retried.
    return httpx.RequestError(message, request=request)


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    module = _module()
    caught: tuple[type[BaseException], ...] = () if module is None else (module.HTTPError, module.StreamError)
    try:
        yield
    except caught as exc:
        raise _mapped_error(exc, request) from exc  # type: ignore[arg-type]


def _outgoing(client: httpx2.Client | httpx2.AsyncClient, request: httpx.Request, body: Any) -> httpx2.Request:
    # build_request, not a bare Request: the httpx2 client's headers, cookies and query merge in under this
    # library's, as they do for its own requests. The timeout travels in the extensions, as httpx puts it there.
    return client.build_request(
        request.method, str(request.url), headers=request.headers.raw, content=body, extensions=dict(request.extensions)
    )


def _incoming(
    response: httpx2.Response, request: httpx.Request, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    # The raw bytes are passed on undecoded: httpx decodes them by Content-Encoding, once.
    return httpx.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=stream,
        extensions=dict(response.extensions),
        request=request,
    )


def _sync_body(request: httpx.Request) -> bytes | Iterator[bytes]:
    try:
        return request.content
    except httpx.RequestNotRead:
        # An upload: streamed on from the file, never read into memory here.
        return iter(request.stream)  # type: ignore[arg-type]


async def _async_chunks(stream: httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk


def _async_body(request: httpx.Request) -> bytes | AsyncIterator[bytes]:
    try:
        return request.content
    except httpx.RequestNotRead:
        return _async_chunks(request.stream)  # type: ignore[arg-type]


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, response: httpx2.Response, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            if self._response.is_stream_consumed:
                # A transport that answered with the bytes in hand (a mock, a cache) has them read already; its
                # stream still holds them as they came, undecoded.
                yield from self._response.stream  # type: ignore[misc]
            else:
                yield from self._response.iter_raw()

    def close(self) -> None:
        self._response.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, response: httpx2.Response, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            chunks = self._response.stream if self._response.is_stream_consumed else self._response.aiter_raw()
            async for chunk in chunks:  # type: ignore[union-attr]
                yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class SyncHttpx2Transport(httpx.BaseTransport):
    """Sends through the caller's `httpx2.Client`; closing it leaves that client open (it is the caller's)."""

    def __init__(self, client: httpx2.Client) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.client.is_closed:
            raise OpenAIBatchesError(_GIVEN_CLOSED)
        with _httpx_errors(request):
            outgoing = _outgoing(self.client, request, _sync_body(request))
            response = self.client.send(outgoing, stream=True, follow_redirects=False)
        return _incoming(response, request, _SyncBody(response, request))


class AsyncHttpx2Transport(httpx.AsyncBaseTransport):
    """The async twin of `SyncHttpx2Transport`, over an `httpx2.AsyncClient`."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.client.is_closed:
            raise OpenAIBatchesError(_GIVEN_CLOSED)
        with _httpx_errors(request):
            outgoing = _outgoing(self.client, request, _async_body(request))
            response = await self.client.send(outgoing, stream=True, follow_redirects=False)
        return _incoming(response, request, _AsyncBody(response, request))


# trust_env=False: the proxies are the httpx2 client's business; httpx reading them from the environment would
# mount transports of its own that bypass it.
def sync_client_over(client: httpx2.Client) -> httpx.Client:
    return httpx.Client(
        transport=SyncHttpx2Transport(client), timeout=to_httpx_timeout(client.timeout), trust_env=False
    )


def async_client_over(client: httpx2.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AsyncHttpx2Transport(client), timeout=to_httpx_timeout(client.timeout), trust_env=False
    )
