"""The request path every call goes through: headers, timeouts, the base URL, retries and error mapping.

The generated request builders, reached through `_generated.request_kwargs`, describe each request (method, path
with percent-encoded ids, query, JSON or multipart body); the `Dispatcher` sends it through the httpx client, which
is only ever asked to `send` a request built here, so everything holds for a user-supplied `http_client` too. The
generated `sync_detailed` functions are not used: they parse with `HTTPStatus(code)`, which raises ValueError for
499/520/529, try to parse HTML error pages as JSON, and build models more slowly than `_models.build` (see there).
Every non-success status is raised here as the library's own error.

The headers the generated code describes are not sent: they are only ever a Content-Type, which httpx writes itself
for a JSON body, and a multipart one with a fixed boundary a file's own bytes could contain, where httpx picks a
random boundary (tests/test_request_building.py checks that the generated code sets no other header).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from ._config import ClientOptions, QueryValue, provided_key, provider_failed
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    InvalidParameterError,
    OpenAIBatchesError,
    status_error_class,
)

log = logging.getLogger("openai_batches")

_REDACTED = "<redacted>"
_SNIPPET = 300
_CLOSED = "This client has been closed; create a new one to send more requests."
# The keys an api_key callable gave that errors still hide: enough for a token that rotates while a response to the
# previous one is still being reported, bounded so a long-lived process does not collect them forever.
_REMEMBERED_KEYS = 16


@attrs.frozen
class RequestExtras:
    """A call's `extra_query` and `extra_body`, merged over what the generated request builder describes.

    As in the official SDK the extra values win over the method's own, and a query value of None leaves that
    parameter out. Extra body fields join the JSON body, or the form fields of an upload (nested mappings in the
    bracket notation the service reads, as `expires_after[seconds]`).
    """

    query: Mapping[str, QueryValue] | None
    body: Mapping[str, Any] | None

    def apply(self, method: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        merged = dict(kwargs)
        if self.query:
            merged["params"] = _without_none({**(kwargs.get("params") or {}), **self.query})
        if self.body:
            if method.upper() == "GET":
                raise InvalidParameterError(
                    "extra_body", "a GET request has no body; send extra values with extra_query"
                )
            if kwargs.get("files") is not None:
                merged["files"] = _merged_form(kwargs["files"], self.body)
            else:
                merged["json"] = {**(kwargs.get("json") or {}), **self.body}
        return merged


def _without_none(params: Mapping[str, QueryValue]) -> dict[str, QueryValue]:
    kept: dict[str, QueryValue] = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            kept[name] = [item for item in value if item is not None]
        elif value is not None:
            kept[name] = value
    return kept


def _form_fields(name: str, value: object) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [field for key, item in value.items() for field in _form_fields(f"{name}[{key}]", item)]
    if isinstance(value, list | tuple):
        return [field for item in value for field in _form_fields(f"{name}[]", item)]
    if value is None:
        return []
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    return [(name, str(value))]


def _merged_form(parts: list[tuple[str, Any]], body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if "file" in body:
        raise InvalidParameterError("extra_body", "'file' is the upload itself; pass it as file=")
    replaced = tuple(body)
    kept = [(name, part) for name, part in parts if not any(name == r or name.startswith(f"{r}[") for r in replaced)]
    added = [
        (name, (None, value.encode("utf-8"), "text/plain"))
        for key, item in body.items()
        for name, value in _form_fields(key, item)
    ]
    return kept + added


@attrs.define
class CallContext:
    """Per-call settings, and what the call saw (attempts, the last response)."""

    timeout: httpx.Timeout | None = None
    max_retries: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    # Leave a successful body unread, for downloads that must not be held in memory.
    stream: bool = False
    attempts: int = 0
    # Set by the dispatcher, so errors raised after the response arrived can hide the key as well.
    redact_json: Callable[[object], object] | None = None
    response: httpx.Response | None = None
    extras: RequestExtras | None = None

    def redact(self, text: str) -> str:
        """`text` with the API key hidden (for errors raised after the response arrived)."""
        return text if self.redact_json is None else str(self.redact_json(text))


class RequestBuilder:
    """Shared by the sync and async dispatchers: builds the outgoing request and judges the response.

    Everything that does not depend on the call is worked out here once: the base URL as text, this client's headers
    merged over the httpx client's own, the timeout as httpx passes it to the transport. A request is then built
    as a bare httpx call builds one, or cheaper: the URL parsed once from text, the headers copied from the merged
    set, no per-request merging, unless the call brings headers, a query or a file of its own.
    """

    def __init__(self, options: ClientOptions, http: httpx.Client | httpx.AsyncClient) -> None:
        self.options = options
        self._http = http
        # Every key this client has sent, so errors hide a rotated one too; the static key, if any, first.
        self._secrets: list[str] = [options.api_key] if options.api_key else []
        # Headers that name their own key header (Authorization, Azure's api-key) make the callable pointless: the
        # SDK does not call it then.
        self._key_header = options.key_header.lower()
        self._own_authorization = any(name.lower() == self._key_header for name in options.default_headers)
        base = str(options.base_url)
        # Paths go between the base path and the base URL's own query (an `api-version=` of a gateway, say);
        # as text, so building a request parses the URL once, as a plain httpx call does.
        prefix, _, query = base.partition("?")
        if options.default_query:
            # Merged into the URL once, here, so a client's default query costs nothing per request.
            query = str(httpx.QueryParams(query).merge(_without_none(options.default_query)))
        self._prefix = prefix.rstrip("/")
        self._suffix = "?" + query if query else ""
        # httpx replaces a URL's query with `params=` rather than merging: a call with parameters of its own gets
        # these merged under them instead (the call's own values win).
        self._base_params = httpx.QueryParams(query) if query else None
        headers = options.auth_headers()
        self._headers = headers
        # Lower-cased name -> (name, value): merging a call's headers is then a dict update, case-insensitive as
        # HTTP wants, without the cost of copying an httpx.Headers.
        self._header_map = {name.lower(): (name, value) for name, value in headers.items()}
        # An upload's Content-Type is left to httpx, which writes the multipart one with a boundary of its own; a
        # default Content-Type of this client's would make the body unreadable.
        self._upload_header_map = {name: pair for name, pair in self._header_map.items() if name != "content-type"}
        self._extensions = {"timeout": options.timeout.as_dict()}
        # A subclass of httpx's client may build requests its own way (`build_request`): it is asked, every time.
        self._direct = type(http).build_request in _STOCK_BUILD_REQUEST
        # The merged headers, and the httpx client's headers they were merged from (as raw pairs, which change
        # whether the client's headers are changed in place or replaced).
        self._merged = headers
        self._merged_from: list[tuple[bytes, bytes]] | None = None

    def _merged_headers(self) -> httpx.Headers:
        """The httpx client's headers with this client's over them, as `build_request` merges them; merged again only
        when the httpx client's headers change."""
        current = self._http.headers
        raw = current.raw
        if raw != self._merged_from:
            merged = httpx.Headers(current)
            merged.update(self._headers)
            self._merged, self._merged_from = merged, raw
        return self._merged

    def _url_and_params(self, path: str, params: Any) -> tuple[str, Any]:
        if not params:
            return self._prefix + path + self._suffix, None
        if self._base_params is None:
            query = _plain_query(params)
            if query is not None:
                return self._prefix + path + "?" + query, None
            return self._prefix + path, params
        return self._prefix + path, self._base_params.merge(params)

    def _all_params(self, params: Any) -> Any:
        if self._base_params is None:
            return params or None
        return self._base_params.merge(params) if params else self._base_params

    @property
    def last_key(self) -> str:
        """The key most recently sent ("" before an api_key callable was first asked), as the SDK's `api_key`."""
        return self._secrets[-1] if self._secrets else ""

    def _wants_key(self, context: CallContext) -> bool:
        if self.options.api_key_provider is None or self._own_authorization:
            return False
        return not any(name.lower() == self._key_header for name in context.headers)

    def _call_provider(self) -> object:
        provider = self.options.api_key_provider
        assert provider is not None
        try:
            return provider()
        except Exception as exc:
            raise self._provider_error(exc) from self.cause(exc)

    def _provider_error(self, exc: Exception) -> OpenAIBatchesError:
        error = provider_failed(exc, self.options.key_param)
        error.args = (self.redact(str(error)),)
        return error

    def _remember(self, value: object) -> str:
        key = provided_key(value, self.options.key_param)
        if key in self._secrets:
            self._secrets.remove(key)
        self._secrets.append(key)
        del self._secrets[:-_REMEMBERED_KEYS]
        return key

    def api_key(self, context: CallContext) -> str | None:
        """The key for one attempt from the api_key callable, or None when the headers already carry it."""
        return self._remember(self._call_provider()) if self._wants_key(context) else None

    async def async_api_key(self, context: CallContext) -> str | None:
        """`api_key` for the async client, whose callable may be async (as the SDK's `AsyncOpenAI` takes it)."""
        if not self._wants_key(context):
            return None
        value = self._call_provider()
        if inspect.isawaitable(value):
            try:
                value = await value
            except Exception as exc:
                raise self._provider_error(exc) from self.cause(exc)
        return self._remember(value)

    def build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        url: str,
        kwargs: Mapping[str, Any],
        context: CallContext,
        attempt: int,
        key: str | None = None,
    ) -> httpx.Request:
        context.attempts = attempt
        context.redact_json = self.redact_json
        files = kwargs.get("files")
        if self._direct and files is None and not http.params:
            full_url, params = self._url_and_params(url, kwargs.get("params"))
            request = self._direct_request(http, method, full_url, params, kwargs, context, key)
        else:
            # httpx replaces a URL's query with the merged params: the whole query goes as params here.
            params = self._all_params(kwargs.get("params"))
            request = self._client_request(http, method, self._prefix + url, params, kwargs, context, files, key)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "Sending %s %s (attempt %d) headers=%s",
                request.method,
                request.url,
                attempt,
                _loggable_headers(request.headers),
            )
        return request

    def _direct_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        url: str,
        params: Any,
        kwargs: Mapping[str, Any],
        context: CallContext,
        key: str | None,
    ) -> httpx.Request:
        """What `http.build_request` builds, without merging what was merged once already."""
        headers = self._merged_headers()
        if context.headers or key is not None:
            # The merged set's encoding was worked out once; the copy keeps it rather than trying every header again.
            headers = httpx.Headers(headers, encoding=headers.encoding)
            if key is not None:
                headers[self.options.key_header] = self.options.key_value(key)
            # As httpx merges a request's headers: each name replaces the client's, and names that differ only in
            # case are all sent, as they would be by a bare httpx call.
            headers.update(context.headers)
        timeout = context.timeout
        cookies = http.cookies
        return httpx.Request(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies if cookies else None,
            json=kwargs.get("json"),
            content=kwargs.get("content"),
            data=kwargs.get("data"),
            extensions=self._extensions if timeout is None else {"timeout": timeout.as_dict()},
        )

    def _client_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        url: str,
        params: Any,
        kwargs: Mapping[str, Any],
        context: CallContext,
        files: Any,
        key: str | None,
    ) -> httpx.Request:
        """The request built by `http.build_request`: for uploads, and for clients that build requests their way."""
        merged = dict(self._header_map if files is None else self._upload_header_map)
        if key is not None:
            merged[self._key_header] = (self.options.key_header, self.options.key_value(key))
        for name, value in context.headers.items():
            merged[name.lower()] = (name, value)
        timeout: httpx.Timeout | httpx._client.UseClientDefault = (
            context.timeout if context.timeout is not None else self.options.timeout
        )
        if timeout == http.timeout:
            timeout = httpx.USE_CLIENT_DEFAULT  # the same value, without httpx copying it per request
        return http.build_request(
            method.upper(),
            url,
            params=params,
            json=kwargs.get("json"),
            content=kwargs.get("content"),
            data=kwargs.get("data"),
            files=files,
            headers=list(merged.values()),
            timeout=timeout,
        )

    def _max_retries(self, context: CallContext) -> int:
        return context.max_retries if context.max_retries is not None else self.options.max_retries

    def succeeded(self, response: httpx.Response, context: CallContext) -> bool:
        context.response = response
        if log.isEnabledFor(logging.DEBUG):
            request = response.request
            log.debug(
                "%s %s -> %s (request id %s)",
                request.method,
                request.url,
                response.status_code,
                self.redact(response.headers.get("x-request-id") or ""),
            )
        return 200 <= response.status_code < 300

    def undecodable(self, response: httpx.Response) -> APIResponseValidationError:
        encoding = response.headers.get("content-encoding", "none")
        return APIResponseValidationError(
            f"Response body could not be decoded (content-encoding {encoding}).", response=response
        )

    def cause(self, exc: BaseException) -> BaseException | None:
        """The exception to chain, or None when its text would show the key in a traceback."""
        text = f"{exc!s} {exc!r}"
        return None if any(secret in text for secret in self._secrets) else exc

    def transport_failure(
        self, exc: Exception, request: httpx.Request, context: CallContext, attempt: int
    ) -> tuple[APIConnectionError, float | None]:
        if isinstance(exc, httpx.TimeoutException):
            error: APIConnectionError = APITimeoutError(
                f"Request timed out: {request.method} {request.url}", request=request
            )
        else:
            detail = self.redact(str(exc)) or type(exc).__name__
            error = APIConnectionError(f"Connection error on {request.method} {request.url}: {detail}", request=request)
        error.attempts = attempt
        # A body that cannot be decoded (gzip garbage) will not decode better the second time.
        retryable = isinstance(exc, httpx.TransportError)
        return error, self._wait(request, attempt, context, retryable, None, error.message)

    def status_failure(
        self, response: httpx.Response, context: CallContext, attempt: int
    ) -> tuple[APIStatusError, float | None]:
        error = self.status_error(response)
        error.attempts = attempt
        retryable = self.options.retry.should_retry(response)
        return error, self._wait(response.request, attempt, context, retryable, response, str(error))

    def _wait(
        self,
        request: httpx.Request,
        attempt: int,
        context: CallContext,
        retryable: bool,
        response: httpx.Response | None,
        reason: str,
    ) -> float | None:
        max_retries = self._max_retries(context)
        if not retryable or attempt > max_retries:
            return None
        wait = self.options.retry.delay(attempt, response)
        log.info(
            "Retrying %s %s in %.2f s (retry %d of %d) after: %s",
            request.method,
            request.url,
            wait,
            attempt,
            max_retries,
            reason,
        )
        return wait

    def status_error(self, response: httpx.Response) -> APIStatusError:
        text = _safe_text(response)
        body: object | None
        try:
            # Redact after decoding too: a key echoed with JSON escapes only shows once decoded.
            body = self.redact_json(json.loads(text)) if text else None
        except (ValueError, RecursionError):
            body = self.redact(text) or None
        reason = self.redact(response.reason_phrase)
        message = _error_message(body) or _snippet(self.redact(text)) or reason or "no response body"
        error = status_error_class(response.status_code)(message, response=response, body=body)
        error.request_id = self.redact(error.request_id) if error.request_id else error.request_id
        return error

    def redact(self, text: str) -> str:
        # No secret is empty (an empty key is refused, given or returned), so none can match everywhere.
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def redact_json(self, value: object) -> object:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_json(v) for k, v in value.items()}
        return value


_STOCK_BUILD_REQUEST = (httpx.Client.build_request, httpx.AsyncClient.build_request)
# Query values that need no escaping: the request's URL is then written as text, parsed once, as the floor's is.
_PLAIN_QUERY_TEXT = re.compile(r"[A-Za-z0-9_.~-]+")


def _plain_query(params: Mapping[str, Any]) -> str | None:
    """`params` as query text when every name and value is plain (letters, digits, `_.~-`, or an int), else None."""
    parts = []
    plain = _PLAIN_QUERY_TEXT.fullmatch
    for name, value in params.items():
        if value.__class__ is int:
            value = str(value)
        elif value.__class__ is not str or not plain(value):
            return None
        if name.__class__ is not str or not plain(name):
            return None
        parts.append(f"{name}={value}")
    return "&".join(parts)


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"})


def _loggable_headers(headers: httpx.Headers) -> dict[str, str]:
    return {name: _REDACTED if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()}


_SPENT = httpx.ByteStream(b"")


def _unbound(response: httpx.Response) -> httpx.Response:
    # httpx's bound stream refers back to its response, a cycle that keeps each page's bytes alive until the
    # garbage collector runs; once the body is read the stream is spent, so cutting the cycle frees a page as soon
    # as it is dropped and keeps memory flat over a long walk.
    response.stream = _SPENT
    return response


def _safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeError, LookupError, httpx.HTTPError, httpx.StreamError):
        return ""


def _error_message(body: object) -> str | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        return message if isinstance(message, str) and message else None
    return error if isinstance(error, str) and error else None


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


class Dispatcher:
    """Sends the requests the generated request builders describe, with retries, through the httpx client."""

    def __init__(self, options: ClientOptions, http: httpx.Client) -> None:
        self._builder = RequestBuilder(options, http)
        self._http = http

    def request(self, context: CallContext, method: str, url: str, **kwargs: Any) -> httpx.Response:
        builder = self._builder
        if context.extras is not None:
            kwargs = context.extras.apply(method, kwargs)
        attempt = 0
        while True:
            attempt += 1
            if self._http.is_closed:
                raise OpenAIBatchesError(_CLOSED)
            key = builder.api_key(context)
            request = builder.build(self._http, method, str(url), kwargs, context, attempt, key)
            # Always streamed, so the status is known before the body is decoded: a 503 with a broken body is
            # still a retryable 503.
            try:
                response = self._http.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                error, wait = builder.transport_failure(exc, request, context, attempt)
                if wait is None:
                    raise error from builder.cause(exc)
                builder.options.retry.sleep(wait)
                continue
            success = builder.succeeded(response, context)
            if success and context.stream:
                return response
            try:
                response.read()
            except httpx.DecodingError as exc:
                if success:
                    response.close()
                    raise builder.undecodable(response) from exc
            except httpx.HTTPError as exc:
                response.close()
                error, wait = builder.transport_failure(exc, request, context, attempt)
                if wait is None:
                    raise error from builder.cause(exc)
                builder.options.retry.sleep(wait)
                continue
            if success:
                return _unbound(response)
            response.close()
            status_error, wait = builder.status_failure(response, context, attempt)
            if wait is None:
                raise status_error
            builder.options.retry.sleep(wait)


class AsyncDispatcher:
    """The async twin of `Dispatcher`."""

    def __init__(self, options: ClientOptions, http: httpx.AsyncClient) -> None:
        self._builder = RequestBuilder(options, http)
        self._http = http

    async def request(self, context: CallContext, method: str, url: str, **kwargs: Any) -> httpx.Response:
        builder = self._builder
        if context.extras is not None:
            kwargs = context.extras.apply(method, kwargs)
        attempt = 0
        while True:
            attempt += 1
            if self._http.is_closed:
                raise OpenAIBatchesError(_CLOSED)
            key = await builder.async_api_key(context)
            request = builder.build(self._http, method, str(url), kwargs, context, attempt, key)
            try:
                response = await self._http.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                error, wait = builder.transport_failure(exc, request, context, attempt)
                if wait is None:
                    raise error from builder.cause(exc)
                await builder.options.retry.async_sleep(wait)
                continue
            success = builder.succeeded(response, context)
            if success and context.stream:
                return response
            try:
                await response.aread()
            except httpx.DecodingError as exc:
                if success:
                    await response.aclose()
                    raise builder.undecodable(response) from exc
            except httpx.HTTPError as exc:
                await response.aclose()
                error, wait = builder.transport_failure(exc, request, context, attempt)
                if wait is None:
                    raise error from builder.cause(exc)
                await builder.options.retry.async_sleep(wait)
                continue
            if success:
                return _unbound(response)
            await response.aclose()
            status_error, wait = builder.status_failure(response, context, attempt)
            if wait is None:
                raise status_error
            await builder.options.retry.async_sleep(wait)
