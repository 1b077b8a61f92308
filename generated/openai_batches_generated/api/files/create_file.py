from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_create_params import FileCreateParams
from ...models.file_object import FileObject
from ...types import Response


def _get_kwargs(
    *,
    body: FileCreateParams,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/files",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FileObject | None:
    if response.status_code == 200:
        response_200 = FileObject.from_dict(response.json())

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[FileObject]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileCreateParams,
) -> Response[FileObject]:
    """Upload a file (a batch input file is JSONL, purpose `batch`, at most 200 MB; any file at most 512
    MB).

    Args:
        body (FileCreateParams): A file upload. The service reads `expires_after` as form fields
            in bracket notation.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileObject]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: FileCreateParams,
) -> FileObject | None:
    """Upload a file (a batch input file is JSONL, purpose `batch`, at most 200 MB; any file at most 512
    MB).

    Args:
        body (FileCreateParams): A file upload. The service reads `expires_after` as form fields
            in bracket notation.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileObject
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileCreateParams,
) -> Response[FileObject]:
    """Upload a file (a batch input file is JSONL, purpose `batch`, at most 200 MB; any file at most 512
    MB).

    Args:
        body (FileCreateParams): A file upload. The service reads `expires_after` as form fields
            in bracket notation.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileObject]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: FileCreateParams,
) -> FileObject | None:
    """Upload a file (a batch input file is JSONL, purpose `batch`, at most 200 MB; any file at most 512
    MB).

    Args:
        body (FileCreateParams): A file upload. The service reads `expires_after` as form fields
            in bracket notation.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileObject
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
