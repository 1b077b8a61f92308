"""Client settings: what the constructor was given, filled in from the environment."""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs
import httpx

from . import _httpx2
from ._exceptions import APIKeyProviderError, InvalidParameterError, MissingAPIKeyError
from ._retry import RetryPolicy
from ._version import __version__

if TYPE_CHECKING:
    import httpx2

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
# Batch calls move small JSON bodies, so a minute is generous; the short connect timeout makes a dead host fail
# fast instead of eating the whole budget.
_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=_CONNECT_TIMEOUT)
DEFAULT_MAX_RETRIES: Final = 2
_PYTHON = ".".join(map(str, sys.version_info[:3]))
USER_AGENT: Final = f"openai-batches/{__version__} (Python {_PYTHON}; httpx {httpx.__version__})"


class _NotGiven(Enum):
    """Marks a parameter the caller left out, where None is a meaningful value (timeout=None: no timeout)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
NotGiven: TypeAlias = Literal[_NotGiven.NOT_GIVEN]

if TYPE_CHECKING:
    # What the official SDK 3.x passes (httpx2's types) as well as httpx's; httpx2 is an optional extra, so the
    # alias names it for type checkers only.
    TimeoutTypes: TypeAlias = float | httpx.Timeout | httpx2.Timeout | None
    URLTypes: TypeAlias = str | httpx.URL | httpx2.URL
else:
    TimeoutTypes: TypeAlias = float | httpx.Timeout | None
    URLTypes: TypeAlias = str | httpx.URL
# A key, or what returns one per request (a token service, a vault); the async client also takes an async callable.
APIKeyProvider: TypeAlias = Callable[[], object]
QueryScalar: TypeAlias = str | int | float | bool | None
QueryValue: TypeAlias = QueryScalar | list[QueryScalar] | tuple[QueryScalar, ...]


def _env(name: str) -> str | None:
    # An empty variable counts as unset: `OPENAI_API_KEY= python x.py` should not send `Bearer `.
    value = os.environ.get(name)
    return value if value else None


@attrs.frozen(repr=False)
class ClientOptions:
    """The resolved settings of one client. Frozen: `with_options` builds a new one."""

    api_key: str
    organization: str | None
    project: str | None
    base_url: httpx.URL
    timeout: httpx.Timeout
    max_retries: int
    default_headers: Mapping[str, str]
    retry: RetryPolicy
    default_query: Mapping[str, QueryValue] = attrs.field(factory=dict)
    # Called for every attempt when given; `api_key` is then empty and no Authorization is sent in its name.
    api_key_provider: APIKeyProvider | None = None
    # The header the key travels in: `Authorization: Bearer KEY`, or another service's own (Azure's `api-key: KEY`).
    key_header: str = "Authorization"
    # The argument the key or its callable was given as, named in the errors about it.
    key_param: str = "api_key"

    def __repr__(self) -> str:
        # The key is left out on purpose: reprs end up in logs and bug reports.
        return (
            f"ClientOptions(base_url={str(self.base_url)!r}, organization={self.organization!r}, "
            f"project={self.project!r}, timeout={self.timeout!r}, max_retries={self.max_retries!r}, api_key=<hidden>)"
        )

    def key_value(self, key: str) -> str:
        """What `key_header` carries for `key`: a bearer token in Authorization, the bare key in any other."""
        return f"Bearer {key}" if self.key_header == "Authorization" else key

    def auth_headers(self) -> httpx.Headers:
        headers = httpx.Headers({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if self.api_key:
            headers[self.key_header] = self.key_value(self.api_key)
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        # Caller-supplied defaults win (as in the official SDK): a gateway may need its own auth header.
        headers.update(self.default_headers)
        return headers


# Sockets overflow on absurd timeouts; a week is far past anything a Batch API call needs (None means no limit).
MAX_TIMEOUT_SECONDS: Final = 7 * 24 * 3600.0


def _seconds(value: object, param: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= MAX_TIMEOUT_SECONDS
    ):
        raise InvalidParameterError(
            param,
            f"expected seconds from 0 to {MAX_TIMEOUT_SECONDS:.0f}, an httpx.Timeout, an httpx2.Timeout or None, "
            f"got {value!r}",
        )
    return float(value)


def coerce_timeout(value: TimeoutTypes | httpx.Timeout, param: str = "timeout") -> httpx.Timeout:
    if _httpx2.is_instance(value, "Timeout"):
        value = _httpx2.to_httpx_timeout(value)  # type: ignore[arg-type]
    if isinstance(value, httpx.Timeout):
        for part in (value.connect, value.read, value.write, value.pool):
            if part is not None:
                _seconds(part, param)
        return value
    if value is None:
        return httpx.Timeout(None)
    seconds = _seconds(value, param)
    return httpx.Timeout(seconds, connect=min(seconds, _CONNECT_TIMEOUT))


def check_max_retries(value: object, param: str = "max_retries") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(param, f"expected an integer >= 0, got {value!r}")
    return value


def _base_url(value: URLTypes) -> httpx.URL:
    try:
        # An httpx2.URL (the SDK 3.x's) is read from its text: the two URL types share no class.
        url = httpx.URL(str(value) if _httpx2.is_instance(value, "URL") else value)  # type: ignore[arg-type]
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidParameterError("base_url", f"expected an absolute http(s) URL, got {str(value)!r}")
        if url.fragment:
            raise InvalidParameterError("base_url", "must not have a #fragment")
        # Paths are appended to the base path, so a trailing slash would double up; a query is kept.
        path, _, query = url.raw_path.partition(b"?")
        return url.copy_with(raw_path=path.rstrip(b"/") + (b"?" + query if query else b""))
    except InvalidParameterError:
        raise
    except (httpx.InvalidURL, TypeError, ValueError) as exc:  # UnicodeError (bad IDNA, surrogates) is a ValueError
        raise InvalidParameterError("base_url", f"not a valid URL: {type(exc).__name__}") from None


def check_text(value: str, param: str) -> str:
    """Refuse strings that cannot travel as UTF-8 (lone surrogates), which would fail deep inside httpx."""
    if value.isascii():  # a flag of the string, read without encoding it: the usual case costs nothing
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameterError(param, "contains characters that cannot be encoded as UTF-8") from None
    return value


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")


def check_headers(headers: object, param: str = "default_headers") -> dict[str, str]:
    """Header names must be HTTP tokens and values ASCII text without line breaks, or httpx fails mid-request."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidParameterError(param, "expected a mapping of header names to strings")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidParameterError(param, f"{name!r} is not a valid header name")
        if not isinstance(value, str):
            raise InvalidParameterError(param, f"header {name!r} must be a string, got {type(value).__name__}")
        # What HTTP/1.1 can carry: visible ASCII and inner spaces, no control characters or padding.
        if not _HEADER_VALUE.fullmatch(value) or value != value.strip():
            raise InvalidParameterError(
                param, f"header {name!r} must be printable ASCII without leading or trailing whitespace"
            )
        checked[name] = value
    return checked


def check_query(params: object, param: str) -> dict[str, QueryValue]:
    """Query parameters: names are non-empty strings, values strings, numbers, booleans, None (left out of the
    request) or lists of those, as httpx encodes them."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidParameterError(
            param, f"expected a mapping of parameter names to values, got {type(params).__name__}"
        )
    checked: dict[str, QueryValue] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(param, f"parameter names must be non-empty strings, got {name!r}")
        check_text(name, param)
        for item in value if isinstance(value, list | tuple) else (value,):
            if item is not None and not isinstance(item, str | int | float | bool):
                raise InvalidParameterError(
                    param,
                    f"{name!r}: expected a string, number, boolean or None (or a list of them), got "
                    f"{type(item).__name__}",
                )
            if isinstance(item, str):
                check_text(item, param)
        checked[name] = list(value) if isinstance(value, list | tuple) else value
    return checked


def resolve_options(
    *,
    api_key: str | APIKeyProvider | None,
    organization: str | None,
    project: str | None,
    base_url: URLTypes | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
    http_client_timeout: httpx.Timeout | None,
    retry_policy: RetryPolicy | None,
    default_query: Mapping[str, QueryValue] | None = None,
) -> ClientOptions:
    """Explicit arguments first, then the environment, then the defaults."""
    key = api_key if api_key else _env("OPENAI_API_KEY")
    if key is None:
        raise MissingAPIKeyError(
            "No API key: pass api_key=... (a string, or a callable that returns one) or set the OPENAI_API_KEY "
            "environment variable to a non-empty value."
        )
    provider: APIKeyProvider | None = None
    # A class is callable, but calling `int` or `str` yields no key: refused here, not on every request.
    if isinstance(key, type):
        raise InvalidParameterError(
            "api_key", f"expected a string or a callable that returns one, got the class {key.__name__}"
        )
    # Callable first, as in the SDK: a str subclass that is also callable is asked per request.
    if callable(key):
        provider, key = key, ""
    elif not isinstance(key, str):
        raise InvalidParameterError(
            "api_key", f"expected a string or a callable that returns one, got {type(key).__name__}"
        )
    else:
        # These travel in headers, so they must be ASCII on one line; the message never repeats the key itself.
        check_headers({"Authorization": key}, "api_key")
    for param, value in (("organization", organization), ("project", project)):
        if value is not None and not isinstance(value, str):
            raise InvalidParameterError(param, f"expected a string or None, got {type(value).__name__}")
        if value:
            check_headers({"X": value}, param)
    if timeout is NOT_GIVEN:
        # A supplied http_client's own timeout is kept unless the caller gave one to us explicitly.
        resolved_timeout = http_client_timeout if http_client_timeout is not None else DEFAULT_TIMEOUT
    else:
        resolved_timeout = coerce_timeout(timeout)
    return ClientOptions(
        api_key=key,
        organization=organization or _env("OPENAI_ORG_ID"),
        project=project or _env("OPENAI_PROJECT_ID"),
        base_url=_base_url(base_url or _env("OPENAI_BASE_URL") or DEFAULT_BASE_URL),
        timeout=resolved_timeout,
        max_retries=check_max_retries(max_retries),
        default_headers=check_headers(default_headers),
        retry=_check_retry_policy(retry_policy),
        default_query=check_query(default_query, "default_query"),
        api_key_provider=provider,
    )


def provided_key(value: object, param: str = "api_key") -> str:
    """What the `api_key` callable (or the one `param` names) returned, checked as a key given directly is, never
    repeated in the message."""
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()  # never awaited: closed here so Python does not warn about it
        raise APIKeyProviderError(
            f"The {param} callable returned an awaitable: an async callable needs AsyncBatchClient (or "
            "AsyncAzureBatchClient), or make it a plain function that returns the key."
        )
    if not isinstance(value, str):
        raise APIKeyProviderError(f"The {param} callable returned {type(value).__name__}, not a string key.")
    if not value:
        raise APIKeyProviderError(f"The {param} callable returned an empty string, not a key.")
    try:
        check_headers({"Authorization": value}, param)
    except InvalidParameterError:
        raise APIKeyProviderError(
            f"The {param} callable returned a key that cannot travel in a header (it must be printable ASCII "
            "without leading or trailing whitespace)."
        ) from None
    return value


def provider_failed(exc: Exception, param: str = "api_key") -> APIKeyProviderError:
    return APIKeyProviderError(f"The {param} callable raised {type(exc).__name__}: {exc}")


def check_body(body: object, param: str = "extra_body") -> dict[str, Any]:
    """Extra request body fields: a mapping with string keys whose values JSON can carry."""
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise InvalidParameterError(param, f"expected a mapping of field names to values, got {type(body).__name__}")
    checked = dict(body)
    for name in checked:
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(param, f"field names must be non-empty strings, got {name!r}")
    try:
        # NaN and Infinity are not JSON: the server would refuse the whole body, so say which argument holds them.
        json.dumps(checked, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError (a lone surrogate) is a ValueError
        raise InvalidParameterError(param, f"cannot be sent as JSON: {exc}") from None
    return checked


def _check_retry_policy(policy: RetryPolicy | None) -> RetryPolicy:
    if policy is None:
        return RetryPolicy()
    if not isinstance(policy, RetryPolicy):
        raise InvalidParameterError("retry_policy", f"expected a RetryPolicy, got {type(policy).__name__}")
    return policy
