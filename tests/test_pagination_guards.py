"""The guards of a list walk against a server's odd cursors, and `next_page_info()`, sync and async.

tests/test_pagination.py walks well-behaved and looping servers; these are the cases between: a last item whose id
cannot be a cursor (empty, or not a string), a server that leads back to the cursor the user started from, and what
`next_page_info()` says for each kind of page.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import Recorder, async_client, batch, json_response, list_body, sync_client
from openai_batches import PageInfo, PaginationError


def serving(*bodies: dict[str, Any]) -> Recorder:
    """Answers the n-th request with the n-th body (the last one repeats)."""

    def respond(request: httpx.Request) -> httpx.Response:
        return json_response(200, bodies[min(len(recorder.requests), len(bodies)) - 1])

    recorder = Recorder(respond)
    return recorder


def page_ending_with(last_id: object, *, has_more: bool = True) -> dict[str, Any]:
    return {"object": "list", "data": [batch("b1"), batch(last_id)], "has_more": has_more}  # type: ignore[arg-type]


def walk_sync(server: Recorder, **list_args: Any) -> tuple[list[object], BaseException | None]:
    seen: list[object] = []
    try:
        for item in sync_client(server).batches.list(**list_args):
            seen.append(item.id)
    except PaginationError as exc:
        return seen, exc
    return seen, None


async def walk(mode: str, server: Recorder, **list_args: Any) -> tuple[list[object], BaseException | None]:
    """The ids a walk yielded, and the PaginationError that ended it (None if it ended on its own)."""
    if mode == "sync":
        return walk_sync(server, **list_args)
    seen: list[object] = []
    try:
        async for item in async_client(server).batches.list(**list_args):
            seen.append(item.id)
    except PaginationError as exc:
        return seen, exc
    return seen, None


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
@pytest.mark.parametrize(("last_id", "shown"), [("", "''"), (7, "7")], ids=["empty", "number"])
async def test_a_last_id_that_cannot_be_a_cursor_ends_the_walk_with_an_error(
    mode: str, last_id: object, shown: str
) -> None:
    # `after=` with an empty id would list from the start again; a number is no id at all.
    server = serving(page_ending_with(last_id))
    seen, error = await walk(mode, server)
    assert seen == ["b1", last_id]
    assert str(error) == f"The last item of a batches page has no usable id to continue from: {shown}."
    assert server.count == 1


@MODES
async def test_a_server_leading_back_to_the_users_own_cursor_is_stopped_at_once(mode: str) -> None:
    # after=b0 gives a page ending in b2, after=b2 a page ending in b0 again: a third request would repeat the first.
    server = serving(page_ending_with("b2"), page_ending_with("b0"))
    seen, error = await walk(mode, server, after="b0")
    assert seen == ["b1", "b2", "b1", "b0"]
    assert str(error) == "The server repeated the cursor after='b0' while listing batches; stopping instead of looping."
    assert server.queries() == [{"after": "b0"}, {"after": "b2"}]


NEXT_PAGE_INFO = [
    (page_ending_with("b2"), PageInfo(params={"after": "b2"})),
    (page_ending_with("b2", has_more=False), None),
    (list_body([], has_more=True), None),
    (page_ending_with(""), None),
    (page_ending_with(7), None),
]
NEXT_PAGE_IDS = ["more", "last-page", "empty-page", "empty-id", "number-id"]


@pytest.mark.parametrize(("body", "info"), NEXT_PAGE_INFO, ids=NEXT_PAGE_IDS)
def test_next_page_info_sync(body: dict[str, Any], info: PageInfo | None) -> None:
    page = sync_client(serving(body)).batches.list()
    assert page.next_page_info() == info
    assert page.has_next_page() is body["has_more"]


@pytest.mark.parametrize(("body", "info"), NEXT_PAGE_INFO, ids=NEXT_PAGE_IDS)
async def test_next_page_info_async(body: dict[str, Any], info: PageInfo | None) -> None:
    page = await async_client(serving(body)).batches.list()
    assert page.next_page_info() == info
    assert page.has_next_page() is body["has_more"]
