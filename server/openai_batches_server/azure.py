"""Azure OpenAI's paths for the Files and Batch resources, so `AzureOpenAI` clients run unchanged here.

Azure serves the OpenAI resources under `/openai/v1/...` (its v1 API: no `api-version` needed) and under the dated
`/openai/...?api-version=YYYY-MM-DD[-preview]` paths the SDK's `AzureOpenAI(azure_endpoint=..., api_version=...)`
calls. Both are mapped here onto the one `/v1` route table, so the endpoints, the storage and the owner of every
object are the same whichever way a request came in; only what a client of Azure would notice changes: the
credentials (`api-key` header, or `Authorization: Bearer` with a Microsoft Entra ID token), the shape of the 401 and
404 answers, and batch endpoints and request-line URLs written without `/v1` (`/chat/completions`), the form Azure's
documentation uses.

A batch created through an Azure path keeps its endpoint in that un-prefixed form, which is also how the runner
knows, across restarts and without a column of its own, that its lines may use either form. A batch created through
`/v1` can never hold an un-prefixed endpoint, so it keeps refusing lines that lack `/v1`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import APIError

Dialect = Literal["openai", "azure"]

V1_PREFIX = "/openai/v1"
DATED_PREFIX = "/openai"
# Azure's versions are dates, some with `-preview`; the service names no other form.
API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")

# The service's answers, word for word, for a credential it refuses and for a path (or a dated path without
# `api-version`) it does not serve.
ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
RESOURCE_NOT_FOUND = "Resource not found"
VERSION_NOT_SUPPORTED = "API version not supported"


class AzureError(APIError):
    """An error Azure answers in its own shape, `{"error": {"code", "message"}}`, with no `type` or `param`."""

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def access_denied() -> AzureError:
    return AzureError(401, ACCESS_DENIED, code="401")


def resource_not_found() -> AzureError:
    return AzureError(404, RESOURCE_NOT_FOUND, code="404")


@dataclass(frozen=True)
class RoutedPath:
    """A request's raw path in the `/v1` form the route table holds, and which API the client spoke."""

    path: str
    dialect: Dialect
    # A dated Azure path (`/openai/files`), which needs `api-version`.
    dated: bool = False


def route_path(raw_path: str) -> RoutedPath:
    """`/openai/v1/files` and `/openai/files` both become `/v1/files`; any other path is left as it is."""
    if raw_path == V1_PREFIX or raw_path.startswith(V1_PREFIX + "/"):
        return RoutedPath("/v1" + raw_path[len(V1_PREFIX) :], "azure")
    if raw_path == DATED_PREFIX or raw_path.startswith(DATED_PREFIX + "/"):
        return RoutedPath("/v1" + raw_path[len(DATED_PREFIX) :], "azure", dated=True)
    return RoutedPath(raw_path, "openai")


def check_api_version(routed: RoutedPath, query: Mapping[str, str]) -> None:
    """A dated path needs a well-formed `api-version` (any date: the server has one behaviour for all of them).

    On the v1 paths a version, if given, is accepted whatever it says, as the v1 API takes requests without one.
    """
    if not routed.dated:
        return
    version = query.get("api-version")
    if version is None:
        raise resource_not_found()
    if API_VERSION.fullmatch(version) is None:
        raise AzureError(400, VERSION_NOT_SUPPORTED, code="BadRequest")


def openai_endpoint(endpoint: str) -> str:
    """A batch endpoint or request-line URL in the `/v1` form the responders are keyed by."""
    return endpoint if endpoint.startswith("/v1/") else "/v1" + endpoint


def azure_endpoint(endpoint: str) -> str:
    """The un-prefixed form Azure writes (`/chat/completions`), kept on a batch created through an Azure path."""
    return endpoint[len("/v1") :] if endpoint.startswith("/v1/") else endpoint


def is_azure_endpoint(endpoint: str) -> bool:
    """Whether a stored batch endpoint came through an Azure path (only those are stored without `/v1`)."""
    return not endpoint.startswith("/v1/")


def url_matches(url: object, endpoint: str) -> bool:
    """A request line's `url` against its batch's stored endpoint: exact, or with or without `/v1` for Azure's."""
    if url == endpoint:
        return True
    return isinstance(url, str) and is_azure_endpoint(endpoint) and openai_endpoint(url) == openai_endpoint(endpoint)
