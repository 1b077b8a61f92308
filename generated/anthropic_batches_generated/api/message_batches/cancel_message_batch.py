from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.message_batch import MessageBatch
from ...types import Response


def _get_kwargs(
    message_batch_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/messages/batches/{message_batch_id}/cancel".format(
            message_batch_id=quote(str(message_batch_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> MessageBatch | None:
    if response.status_code == 200:
        response_200 = MessageBatch.from_dict(response.json())

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[MessageBatch]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    message_batch_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[MessageBatch]:
    """Cancel a Message Batch

    Args:
        message_batch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessageBatch]
    """

    kwargs = _get_kwargs(
        message_batch_id=message_batch_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    message_batch_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> MessageBatch | None:
    """Cancel a Message Batch

    Args:
        message_batch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessageBatch
    """

    return sync_detailed(
        message_batch_id=message_batch_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    message_batch_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[MessageBatch]:
    """Cancel a Message Batch

    Args:
        message_batch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessageBatch]
    """

    kwargs = _get_kwargs(
        message_batch_id=message_batch_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    message_batch_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> MessageBatch | None:
    """Cancel a Message Batch

    Args:
        message_batch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessageBatch
    """

    return (
        await asyncio_detailed(
            message_batch_id=message_batch_id,
            client=client,
        )
    ).parsed
