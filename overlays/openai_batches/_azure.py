"""`AzureBatchClient` and `AsyncAzureBatchClient`: the Batch and Files API of an Azure OpenAI resource.

They are `BatchClient` and `AsyncBatchClient` with another base URL, another key header and Azure's `api-version`;
every request still goes through the one request path (`_http`), so retries, redaction, pagination, the workflow
helpers and the jobs work the same. The arguments and environment variables are those of the official SDK's
`openai.AzureOpenAI`.

Which API the requests go to:

- No `api_version` (and no OPENAI_API_VERSION), or `api_version="v1"`: Azure's v1 API, `{azure_endpoint}/openai/v1`,
  with no `api-version` parameter (the v1 API takes none).
- `api_version="latest"` or `"preview"`: the v1 API, with `api-version=latest` (or `preview`) on every request, as
  Azure's v1 API asks for its preview features.
- Any other `api_version` (a dated one, `2024-10-21`): the dated API, `{azure_endpoint}/openai`, with
  `api-version=<version>` on every request.

A given `base_url` replaces `{azure_endpoint}/openai[/v1]` as given; the `api-version` rule is the same. The
`api-version` query parameter belongs to `api_version`: a `default_query` entry of that name is replaced by it (as in
the SDK) or, where no version is sent, dropped; a call's own `extra_query` still wins, for that call.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs
import httpx

from ._client import AsyncBatchClient, BatchClient, _ClientBase
from ._config import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    QueryValue,
    TimeoutTypes,
    URLTypes,
    check_headers,
    check_text,
)
from ._exceptions import InvalidParameterError, MissingAPIKeyError
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from typing import Self

    import httpx2

    from .jobs.provider_rules import ProviderRules

__all__ = ["AsyncAzureBatchClient", "AzureBatchClient"]

# What the SDK's `openai.lib.azure` names them: a callable returning a Microsoft Entra ID token, asked per request.
AzureADTokenProvider: TypeAlias = Callable[[], str]
AsyncAzureADTokenProvider: TypeAlias = Callable[[], "str | Awaitable[str]"]

_CREDENTIALS: Final = ("api_key", "azure_ad_token", "azure_ad_token_provider")
# The v1 API's own versions: `v1` is the API itself (no parameter sent), the others select its preview features.
_V1_VERSIONS: Final = frozenset({"v1", "latest", "preview"})
_API_VERSION: Final = "api-version"


def _env(name: str) -> str | None:
    # As for OPENAI_API_KEY: an empty variable counts as unset.
    value = os.environ.get(name)
    return value if value else None


def _given(value: object) -> bool:
    # An empty string is no credential, as `BatchClient(api_key="")` is none: the environment is asked instead.
    return value is not None and value is not NOT_GIVEN and value != ""


@attrs.frozen(repr=False)
class _AzureSettings:
    """What an Azure client adds to `ClientOptions`; frozen, as they are: `with_options` builds new ones."""

    # Exactly one of the two: the resource's endpoint (no trailing slash), or a base URL used as given.
    endpoint: str | None
    base_url: URLTypes | None
    api_version: str | None
    deployment: str | None
    # Which of `_CREDENTIALS` the credential was given as, and the key, token or callable itself.
    credential_param: str
    credential: str | Callable[[], Any]

    def __repr__(self) -> str:
        # The credential is left out on purpose, as `ClientOptions` leaves out the key.
        return f"_AzureSettings(endpoint={self.endpoint!r}, api_version={self.api_version!r}, credential=<hidden>)"

    @property
    def url(self) -> URLTypes:
        if self.base_url is not None:
            return self.base_url
        version = self.api_version
        return f"{self.endpoint}/openai/v1" if version is None or version in _V1_VERSIONS else f"{self.endpoint}/openai"

    @property
    def sent_version(self) -> str | None:
        return None if self.api_version is None or self.api_version == "v1" else self.api_version

    def adapt(self, options: ClientOptions) -> ClientOptions:
        query: dict[str, QueryValue] = {k: v for k, v in options.default_query.items() if k != _API_VERSION}
        if self.sent_version is not None:
            query[_API_VERSION] = self.sent_version
        # A key goes in `api-key` alone; an Entra ID token as a bearer token, where BatchClient sends its key.
        header = "api-key" if self.credential_param == "api_key" else "Authorization"
        return attrs.evolve(options, key_header=header, key_param=self.credential_param, default_query=query)

    def changed(
        self,
        credentials: Mapping[str, object],
        *,
        api_version: str | NotGiven,
        azure_endpoint: str | NotGiven,
        azure_deployment: str | NotGiven | None,
        base_url: URLTypes | NotGiven,
    ) -> _AzureSettings:
        """The settings of a `with_options` copy: a new credential replaces the old one whatever its kind."""
        credential_param, credential = self.credential_param, self.credential
        given = [(name, value) for name, value in credentials.items() if _given(value)]
        if given:
            credential_param, credential = _one_credential(given)
        endpoint, url = self.endpoint, self.base_url
        if _given(azure_endpoint) and _given(base_url):
            raise InvalidParameterError("base_url", "give azure_endpoint or base_url, not both")
        if _given(azure_endpoint):
            endpoint, url = _endpoint(azure_endpoint), None
        elif base_url is not NOT_GIVEN and _given(base_url):
            endpoint, url = None, base_url
        return _AzureSettings(
            endpoint=endpoint,
            base_url=url,
            api_version=self.api_version if api_version is NOT_GIVEN else _version(api_version),
            deployment=self.deployment if azure_deployment is NOT_GIVEN else _deployment(azure_deployment),
            credential_param=credential_param,
            credential=credential,
        )


def _one_credential(given: list[tuple[str, object]]) -> tuple[str, str | Callable[[], Any]]:
    if len(given) > 1:
        raise InvalidParameterError(
            given[1][0],
            f"api_key, azure_ad_token and azure_ad_token_provider are mutually exclusive: give one, not "
            f"{' and '.join(name for name, _ in given)}",
        )
    ((param, value),) = given
    if param != "azure_ad_token" and callable(value) and not isinstance(value, type):
        return param, value  # asked before every request, retries included
    if param == "azure_ad_token_provider" or not isinstance(value, str):
        expected = "a callable that returns a token" if param == "azure_ad_token_provider" else "a string"
        if param == "api_key":
            expected += " or a callable that returns one"
        raise InvalidParameterError(param, f"expected {expected}, got {type(value).__name__}")
    # It travels in a header, so it must be ASCII on one line; the message never repeats it.
    check_headers({"api-key": value}, param)
    return param, value


def _endpoint(value: object) -> str:
    if not isinstance(value, str) and not isinstance(value, httpx.URL):
        raise InvalidParameterError("azure_endpoint", f"expected a URL string, got {type(value).__name__}")
    try:
        url = httpx.URL(str(value))
    except (httpx.InvalidURL, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InvalidParameterError(
            "azure_endpoint", f"expected the resource's URL, as https://RESOURCE.openai.azure.com, got {str(value)!r}"
        )
    return str(value).rstrip("/")


def _version(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError("api_version", f"expected a non-empty string, got {value!r}")
    return check_text(value, "api_version")


def _deployment(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidParameterError("azure_deployment", f"expected a string or None, got {type(value).__name__}")
    return value


def _resolve(
    *,
    credentials: Mapping[str, object],
    api_version: str | None,
    azure_endpoint: str | None,
    azure_deployment: str | None,
    base_url: URLTypes | None,
    enforce_credentials: bool,
) -> _AzureSettings:
    """Explicit arguments first, then the environment, in the SDK's order."""
    if enforce_credentials is False:
        raise InvalidParameterError(
            "_enforce_credentials",
            "every request needs a credential: pass api_key, azure_ad_token or azure_ad_token_provider",
        )
    given = [(name, value) for name, value in credentials.items() if _given(value)]
    if not given:
        # As the SDK: with no credential given, an Entra ID token in the environment wins over a key.
        token, key = _env("AZURE_OPENAI_AD_TOKEN"), _env("AZURE_OPENAI_API_KEY")
        if token is not None:
            given = [("azure_ad_token", token)]
        elif key is not None:
            given = [("api_key", key)]
        else:
            raise MissingAPIKeyError(
                "No Azure OpenAI credential: pass api_key=..., azure_ad_token=... or azure_ad_token_provider=... (a "
                "callable that returns a Microsoft Entra ID token), or set the AZURE_OPENAI_API_KEY or "
                "AZURE_OPENAI_AD_TOKEN environment variable to a non-empty value."
            )
    credential_param, credential = _one_credential(given)
    version = api_version if api_version else _env("OPENAI_API_VERSION")
    endpoint: str | None = None
    if base_url is not None:
        if azure_endpoint is not None:
            raise InvalidParameterError("base_url", "give azure_endpoint or base_url, not both")
    else:
        found = azure_endpoint if azure_endpoint else _env("AZURE_OPENAI_ENDPOINT")
        if found is None:
            raise InvalidParameterError(
                "azure_endpoint",
                "no Azure OpenAI endpoint: pass azure_endpoint='https://RESOURCE.openai.azure.com' (or base_url=...), "
                "or set the AZURE_OPENAI_ENDPOINT environment variable",
            )
        endpoint = _endpoint(found)
    return _AzureSettings(
        endpoint=endpoint,
        base_url=base_url,
        api_version=None if version is None else _version(version),
        deployment=_deployment(azure_deployment),
        credential_param=credential_param,
        credential=credential,
    )


def _refuse_sdk_settings(*, data_residency: str | None, provider: object, enforce_credentials: bool | None) -> None:
    if data_residency is not None:
        raise InvalidParameterError(
            "data_residency", "only for OpenAI's own API; an Azure resource's region is that of its endpoint"
        )
    if provider is not None:
        raise InvalidParameterError("provider", "not supported by the Azure clients; give azure_endpoint or base_url")
    if enforce_credentials is False:
        raise InvalidParameterError("_enforce_credentials", "every request needs a credential")


class _AzureClient(_ClientBase):
    """What the sync and async Azure clients share: their settings, and how they send them."""

    _azure: _AzureSettings
    _http: Any

    @property
    def api_version(self) -> str | None:
        """The `api_version` given (or OPENAI_API_VERSION); None on the v1 API without one."""
        return self._azure.api_version

    @property
    def azure_deployment(self) -> str | None:
        """The deployment given, kept for the SDK's sake: the Batch and Files paths name none.

        A batch's requests name their deployment in each line's `model`; this value is only read back from here.
        """
        return self._azure.deployment

    @property
    def azure_endpoint(self) -> str | None:
        """The resource's endpoint, or None when a `base_url` was given instead."""
        return self._azure.endpoint

    @property
    def api_key(self) -> str:
        """The key this client sends in `api-key` (read-only; never shown in a repr or an error); "" when it
        authenticates with a Microsoft Entra ID token instead."""
        return (self._options.api_key or self._builder.last_key) if self._azure.credential_param == "api_key" else ""

    def _adapt_options(self, options: ClientOptions) -> ClientOptions:
        return self._azure.adapt(options)

    def _account_identity(self) -> tuple[str, ...]:
        # Files and batches belong to the Azure resource (its endpoint, which a job checks apart), not to a key: both
        # of a resource's keys, and every Entra ID token (which expires within hours), see the same ones.
        return ("azure-openai-resource",)

    def _job_rules(self) -> ProviderRules:
        from .jobs.provider_rules import AZURE_RULES

        return AZURE_RULES

    def _azure_copy(
        self,
        azure: _AzureSettings,
        settings: dict[str, Any],
        http_client: object,
        workload_identity: object,
        data_residency: str | None,
        provider: object,
        enforce_credentials: bool | None,
    ) -> Self:
        _refuse_sdk_settings(data_residency=data_residency, provider=provider, enforce_credentials=enforce_credentials)
        settings.update(api_key=azure.credential, base_url=azure.url)
        twin = type(self).__new__(type(self))
        twin._azure = azure
        # The plain client's constructor (the next class after this one), with the Azure settings already chosen.
        base: Any = super(_AzureClient, twin)
        base.__init__(
            **settings,
            http_client=http_client if http_client is not None else self._http,
            workload_identity=workload_identity,
        )
        return twin if http_client is not None else self._share_pool(twin)


class AzureBatchClient(_AzureClient, BatchClient):
    """Synchronous client for the Batch and Files API of an Azure OpenAI resource; a `BatchClient` in everything else.

    The arguments and environment variables are those of the official SDK's `openai.AzureOpenAI`. By default the
    requests go to Azure's v1 API (`{azure_endpoint}/openai/v1`, no `api-version`); a dated `api_version` selects the
    dated API (`{azure_endpoint}/openai`, `api-version=<version>` on every request), `"latest"` or `"preview"` the v1
    API's preview features. A key goes in the `api-key` header and no Authorization is sent; a Microsoft Entra ID
    token (or a callable returning one, asked before every request, retries included) as `Authorization: Bearer`.

    Args:
        api_version: The API version; OPENAI_API_VERSION when None, then Azure's v1 API.
        azure_endpoint: The resource's URL, as `https://RESOURCE.openai.azure.com`; AZURE_OPENAI_ENDPOINT when None
            (and no `base_url` is given).
        azure_deployment: A model deployment, taken as the SDK takes it and readable as `azure_deployment`: the
            Batch and Files paths name no deployment, each line of a batch names its deployment in `model`.
        api_key: The resource's key, or a callable returning one, asked before each request; AZURE_OPENAI_API_KEY
            when no credential is given.
        azure_ad_token: A Microsoft Entra ID token; AZURE_OPENAI_AD_TOKEN (which wins over AZURE_OPENAI_API_KEY)
            when no credential is given.
        azure_ad_token_provider: A callable returning a Microsoft Entra ID token, asked before each request.
        organization: The `OpenAI-Organization` header; OPENAI_ORG_ID when None.
        project: The `OpenAI-Project` header; OPENAI_PROJECT_ID when None.
        base_url: A base URL used as given instead of `{azure_endpoint}/openai[/v1]` (a gateway's); not with
            `azure_endpoint`.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request.
        default_query: Query parameters added to every request; an `api-version` here is `api_version`'s to set.
        http_client: An `httpx.Client` or `httpx2.Client` to send through (not closed by `close()`); a new one
            when None.
        retry_policy: The backoff, clock and sleep of retries and waits; the library's default when None.
        workload_identity: The SDK's setting, refused when given: pass `azure_ad_token_provider` instead.
        admin_api_key: Taken for the official SDK's sake and dropped: no batch or file request uses it.
        webhook_secret: Taken for the official SDK's sake and dropped.
        websocket_base_url: Taken for the official SDK's sake and dropped.
        _strict_response_validation: Taken for the official SDK's sake and dropped: responses are always checked.
        _enforce_credentials: The SDK's setting; False is refused, since every request needs a credential.

    Raises:
        MissingAPIKeyError: No credential was given and AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are unset or
            empty.
        InvalidParameterError: A setting was refused: more than one of `api_key`, `azure_ad_token` and
            `azure_ad_token_provider`, no endpoint (no `azure_endpoint`, `base_url` or AZURE_OPENAI_ENDPOINT), both
            `azure_endpoint` and `base_url`, or any of `BatchClient`'s refusals.
    """

    def __init__(
        self,
        *,
        api_version: str | None = None,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        api_key: str | Callable[[], str] | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: AzureADTokenProvider | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        workload_identity: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
    ) -> None:
        self._azure = _resolve(
            credentials={
                "api_key": api_key,
                "azure_ad_token": azure_ad_token,
                "azure_ad_token_provider": azure_ad_token_provider,
            },
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            base_url=base_url,
            enforce_credentials=_enforce_credentials,
        )
        super().__init__(
            self._azure.credential,
            organization=organization,
            project=project,
            base_url=self._azure.url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client=http_client,
            retry_policy=retry_policy,
            workload_identity=workload_identity,
        )

    def with_options(
        self,
        *,
        api_key: str | Callable[[], str] | NotGiven = NOT_GIVEN,
        azure_ad_token: str | NotGiven = NOT_GIVEN,
        azure_ad_token_provider: AzureADTokenProvider | NotGiven = NOT_GIVEN,
        api_version: str | NotGiven = NOT_GIVEN,
        azure_endpoint: str | NotGiven = NOT_GIVEN,
        azure_deployment: str | NotGiven | None = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _enforce_credentials: bool | None = None,
    ) -> AzureBatchClient:
        """A copy with some settings changed, Azure's kept unless changed here (the jobs make their copies this way).

        It shares this client's connection pool unless given its own `http_client`. A new credential of any kind
        replaces the old one. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key, or a callable returning one.
            azure_ad_token: A new Microsoft Entra ID token.
            azure_ad_token_provider: A new callable returning a Microsoft Entra ID token.
            api_version: A new API version; `"v1"` goes back to the v1 API without one.
            azure_endpoint: A new resource endpoint; not with `base_url`.
            azure_deployment: A new deployment to keep (None for none).
            organization: A new `OpenAI-Organization` header; None falls back to OPENAI_ORG_ID.
            project: A new `OpenAI-Project` header; None falls back to OPENAI_PROJECT_ID.
            base_url: A new base URL, used as given; not with `azure_endpoint`.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.
            data_residency: The SDK's setting for OpenAI's own API, refused when given.
            workload_identity: The SDK's setting, refused when given.
            provider: The SDK's setting, refused when given.
            admin_api_key: Taken for the official SDK's sake and dropped.
            webhook_secret: Taken for the official SDK's sake and dropped.
            websocket_base_url: Taken for the official SDK's sake and dropped.
            _enforce_credentials: The SDK's setting; False is refused.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        azure = self._azure.changed(
            {"api_key": api_key, "azure_ad_token": azure_ad_token, "azure_ad_token_provider": azure_ad_token_provider},
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            base_url=base_url,
        )
        settings = self._changed(
            {
                "organization": organization,
                "project": project,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            }
        )
        return self._azure_copy(
            azure, settings, http_client, workload_identity, data_residency, provider, _enforce_credentials
        )

    copy = with_options


class AsyncAzureBatchClient(_AzureClient, AsyncBatchClient):
    """Asynchronous client for an Azure OpenAI resource; the same settings as `AzureBatchClient`, with
    `httpx.AsyncClient`, and callables (`api_key`, `azure_ad_token_provider`) that may be async, as the SDK's
    `openai.AsyncAzureOpenAI` takes them.

    Args:
        api_version: The API version; OPENAI_API_VERSION when None, then Azure's v1 API.
        azure_endpoint: The resource's URL, as `https://RESOURCE.openai.azure.com`; AZURE_OPENAI_ENDPOINT when None
            (and no `base_url` is given).
        azure_deployment: A model deployment, taken as the SDK takes it and readable as `azure_deployment`: the
            Batch and Files paths name no deployment, each line of a batch names its deployment in `model`.
        api_key: The resource's key, or a callable returning one (or an awaitable of one), asked before each
            request; AZURE_OPENAI_API_KEY when no credential is given.
        azure_ad_token: A Microsoft Entra ID token; AZURE_OPENAI_AD_TOKEN (which wins over AZURE_OPENAI_API_KEY)
            when no credential is given.
        azure_ad_token_provider: A callable returning a Microsoft Entra ID token (or an awaitable of one), asked
            before each request.
        organization: The `OpenAI-Organization` header; OPENAI_ORG_ID when None.
        project: The `OpenAI-Project` header; OPENAI_PROJECT_ID when None.
        base_url: A base URL used as given instead of `{azure_endpoint}/openai[/v1]` (a gateway's); not with
            `azure_endpoint`.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request.
        default_query: Query parameters added to every request; an `api-version` here is `api_version`'s to set.
        http_client: An `httpx.AsyncClient` or `httpx2.AsyncClient` to send through (not closed by `close()`); a new
            one when None.
        retry_policy: The backoff, clock and sleep of retries and waits; the library's default when None.
        workload_identity: The SDK's setting, refused when given: pass `azure_ad_token_provider` instead.
        admin_api_key: Taken for the official SDK's sake and dropped: no batch or file request uses it.
        webhook_secret: Taken for the official SDK's sake and dropped.
        websocket_base_url: Taken for the official SDK's sake and dropped.
        _strict_response_validation: Taken for the official SDK's sake and dropped: responses are always checked.
        _enforce_credentials: The SDK's setting; False is refused, since every request needs a credential.

    Raises:
        MissingAPIKeyError: No credential was given and AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are unset or
            empty.
        InvalidParameterError: A setting was refused: more than one of `api_key`, `azure_ad_token` and
            `azure_ad_token_provider`, no endpoint (no `azure_endpoint`, `base_url` or AZURE_OPENAI_ENDPOINT), both
            `azure_endpoint` and `base_url`, or any of `AsyncBatchClient`'s refusals.
    """

    def __init__(
        self,
        *,
        api_version: str | None = None,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        api_key: str | Callable[[], str | Awaitable[str]] | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: AsyncAzureADTokenProvider | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
        workload_identity: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
    ) -> None:
        self._azure = _resolve(
            credentials={
                "api_key": api_key,
                "azure_ad_token": azure_ad_token,
                "azure_ad_token_provider": azure_ad_token_provider,
            },
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            base_url=base_url,
            enforce_credentials=_enforce_credentials,
        )
        super().__init__(
            self._azure.credential,
            organization=organization,
            project=project,
            base_url=self._azure.url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client=http_client,
            retry_policy=retry_policy,
            workload_identity=workload_identity,
        )

    def with_options(
        self,
        *,
        api_key: str | Callable[[], str | Awaitable[str]] | NotGiven = NOT_GIVEN,
        azure_ad_token: str | NotGiven = NOT_GIVEN,
        azure_ad_token_provider: AsyncAzureADTokenProvider | NotGiven = NOT_GIVEN,
        api_version: str | NotGiven = NOT_GIVEN,
        azure_endpoint: str | NotGiven = NOT_GIVEN,
        azure_deployment: str | NotGiven | None = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _enforce_credentials: bool | None = None,
    ) -> AsyncAzureBatchClient:
        """A copy with some settings changed, Azure's kept unless changed here (the jobs make their copies this way).

        It shares this client's connection pool unless given its own `http_client`. A new credential of any kind
        replaces the old one. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key, or a callable returning one (or an awaitable of one).
            azure_ad_token: A new Microsoft Entra ID token.
            azure_ad_token_provider: A new callable returning a Microsoft Entra ID token (or an awaitable of one).
            api_version: A new API version; `"v1"` goes back to the v1 API without one.
            azure_endpoint: A new resource endpoint; not with `base_url`.
            azure_deployment: A new deployment to keep (None for none).
            organization: A new `OpenAI-Organization` header; None falls back to OPENAI_ORG_ID.
            project: A new `OpenAI-Project` header; None falls back to OPENAI_PROJECT_ID.
            base_url: A new base URL, used as given; not with `azure_endpoint`.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.
            data_residency: The SDK's setting for OpenAI's own API, refused when given.
            workload_identity: The SDK's setting, refused when given.
            provider: The SDK's setting, refused when given.
            admin_api_key: Taken for the official SDK's sake and dropped.
            webhook_secret: Taken for the official SDK's sake and dropped.
            websocket_base_url: Taken for the official SDK's sake and dropped.
            _enforce_credentials: The SDK's setting; False is refused.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        azure = self._azure.changed(
            {"api_key": api_key, "azure_ad_token": azure_ad_token, "azure_ad_token_provider": azure_ad_token_provider},
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            base_url=base_url,
        )
        settings = self._changed(
            {
                "organization": organization,
                "project": project,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            }
        )
        return self._azure_copy(
            azure, settings, http_client, workload_identity, data_residency, provider, _enforce_credentials
        )

    copy = with_options
