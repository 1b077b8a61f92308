"""Cursor pagination of `batches.list`, sync and async.

What a user relies on: iterating a page walks every later page in order, one request per page and only when needed,
with `after` = the previous page's last id and their `limit` on every request; a misbehaving server (a repeated cursor,
`has_more: true` on an empty page) ends the walk with `PaginationError` after the items already received, never an
endless loop or a silent stop; a bad `limit` is refused before anything is sent.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import httpx
import pytest
from helpers import Recorder, async_client, json_response, list_body, sync_client
from openai_batches import (
    AsyncCursorPage,
    Batch,
    InvalidParameterError,
    OpenAIBatchesError,
    PaginationError,
    SyncCursorPage,
)

PAGES = [["b1", "b2"], ["b3", "b4"], ["b5", "b6"]]
ALL_IDS = [i for page in PAGES for i in page]


def paged_server(pages: list[list[str]] = PAGES) -> Recorder:
    """Serves `pages` in order: page 0 without `after`, page i for `after` = the last id of page i - 1."""
    index_by_cursor: dict[str | None, int] = {None: 0}
    for i, page in enumerate(pages[:-1]):
        index_by_cursor[page[-1]] = i + 1

    def respond(request: httpx.Request) -> httpx.Response:
        index = index_by_cursor[request.url.params.get("after")]
        return json_response(200, list_body(pages[index], has_more=index < len(pages) - 1))

    return Recorder(respond)


def scripted_server(*bodies: dict[str, Any]) -> Recorder:
    """Answers the n-th request with the n-th body, whatever it asks for; the last body repeats forever."""

    def respond(request: httpx.Request) -> httpx.Response:
        index = min(len(server.requests), len(bodies)) - 1
        return json_response(200, bodies[index])

    server = Recorder(respond)
    return server


def ids(items: list[Batch]) -> list[str]:
    return [b.id for b in items]


def assert_list_requests(server: Recorder, expected_queries: list[dict[str, str]]) -> None:
    assert [r.method for r in server.requests] == ["GET"] * len(expected_queries)
    assert {r.url.path for r in server.requests} == {"/v1/batches"}
    assert server.queries() == expected_queries


EXPECTED_QUERIES = [{"limit": "2"}, {"limit": "2", "after": "b2"}, {"limit": "2", "after": "b4"}]


# ---------------------------------------------------------------- sync walk


def test_iterating_a_page_walks_every_page_in_order() -> None:
    server = paged_server()
    page = sync_client(server).batches.list(limit=2)
    assert isinstance(page, SyncCursorPage)
    assert ids(list(page)) == ALL_IDS
    assert_list_requests(server, EXPECTED_QUERIES)


def test_pages_are_fetched_lazily_one_request_per_page() -> None:
    server = paged_server()
    page = sync_client(server).batches.list(limit=2)
    assert server.count == 1  # the first page is fetched by list()
    items = iter(page)
    assert [next(items).id, next(items).id] == ["b1", "b2"]
    assert server.count == 1  # the first page's items need no further request
    assert next(items).id == "b3"
    assert server.count == 2
    assert ids(list(items)) == ["b4", "b5", "b6"]
    assert server.count == 3  # nothing requested past the last page


def test_page_attributes_and_manual_paging() -> None:
    server = paged_server()
    first = sync_client(server).batches.list(limit=2)
    assert ids(first.data) == ["b1", "b2"]
    assert (first.has_more, first.first_id, first.last_id) == (True, "b1", "b2")
    assert first.has_next_page()

    second = first.get_next_page()
    assert ids(second.data) == ["b3", "b4"]
    assert (second.first_id, second.last_id) == ("b3", "b4")
    third = second.get_next_page()
    assert ids(third.data) == ["b5", "b6"]
    assert third.has_more is False
    assert not third.has_next_page()
    assert_list_requests(server, EXPECTED_QUERIES)

    with pytest.raises(PaginationError):
        third.get_next_page()
    assert server.count == 3


def test_iter_pages_yields_each_page_once() -> None:
    server = paged_server()
    first = sync_client(server).batches.list(limit=2)
    pages = list(first.iter_pages())
    assert pages[0] is first
    assert [ids(p.data) for p in pages] == PAGES
    assert_list_requests(server, EXPECTED_QUERIES)


def test_user_after_is_sent_on_the_first_request() -> None:
    server = paged_server()
    page = sync_client(server).batches.list(after="b2", limit=2)
    assert ids(list(page)) == ["b3", "b4", "b5", "b6"]
    assert_list_requests(server, EXPECTED_QUERIES[1:])


def test_no_limit_sends_no_limit() -> None:
    server = paged_server()
    assert ids(list(sync_client(server).batches.list())) == ALL_IDS
    assert server.queries() == [{}, {"after": "b2"}, {"after": "b4"}]


def test_cursor_is_the_last_item_id_when_the_page_has_no_last_id() -> None:
    server = scripted_server(
        list_body(["b1", "b2"], has_more=True, with_ids=False),
        list_body(["b3"], has_more=False, with_ids=False),
    )
    page = sync_client(server).batches.list()
    assert page.first_id is None
    assert page.last_id is None
    assert ids(list(page)) == ["b1", "b2", "b3"]
    assert server.queries() == [{}, {"after": "b2"}]


def test_empty_last_page_ends_the_walk() -> None:
    server = scripted_server(list_body([], has_more=False))
    page = sync_client(server).batches.list()
    assert list(page) == []
    assert not page.has_next_page()
    assert server.count == 1


# ---------------------------------------------------------------- guards against misbehaving servers


def collect_until_error(page: Any) -> tuple[list[str], PaginationError]:
    seen: list[str] = []
    with pytest.raises(PaginationError) as info:
        for item in page:
            seen.append(item.id)
    return seen, info.value


def test_same_page_forever_raises_after_its_items() -> None:
    server = scripted_server(list_body(["b1", "b2"], has_more=True))
    page = sync_client(server).batches.list(limit=2)
    seen, exc = collect_until_error(page)
    # Page two was asked for with after=b2 and again ends with b2: asking for after=b2 again would loop.
    assert seen == ["b1", "b2", "b1", "b2"]
    assert server.count == 2
    assert "b2" in str(exc)
    assert isinstance(exc, OpenAIBatchesError)


def test_cycle_of_two_pages_raises() -> None:
    page_a = list_body(["a1", "a2"], has_more=True)
    page_b = list_body(["b1", "b2"], has_more=True)

    def respond(request: httpx.Request) -> httpx.Response:
        return json_response(200, page_b if request.url.params.get("after") == "a2" else page_a)

    server = Recorder(respond)
    seen, _ = collect_until_error(sync_client(server).batches.list())
    assert seen == ["a1", "a2", "b1", "b2", "a1", "a2"]
    assert server.queries() == [{}, {"after": "a2"}, {"after": "b2"}]


def test_server_ignoring_the_user_cursor_raises() -> None:
    # The user asks for the page after b2; the server answers with a page ending in b2 again.
    server = scripted_server(list_body(["b1", "b2"], has_more=True))
    seen, _ = collect_until_error(sync_client(server).batches.list(after="b2"))
    assert seen == ["b1", "b2"]
    assert server.count == 1


def test_has_more_on_an_empty_page_raises_after_earlier_items() -> None:
    server = scripted_server(list_body(["b1", "b2"], has_more=True), list_body([], has_more=True))
    seen, exc = collect_until_error(sync_client(server).batches.list())
    assert seen == ["b1", "b2"]
    assert server.count == 2
    assert "empty" in str(exc)


def test_has_more_on_an_empty_first_page_raises() -> None:
    server = scripted_server(list_body([], has_more=True))
    page = sync_client(server).batches.list()
    assert page.data == []
    seen, _ = collect_until_error(page)
    assert seen == []
    assert server.count == 1
    with pytest.raises(PaginationError):
        page.get_next_page()


def test_get_next_page_on_a_repeating_server_raises() -> None:
    server = scripted_server(list_body(["b1", "b2"], has_more=True))
    second = sync_client(server).batches.list().get_next_page()
    with pytest.raises(PaginationError):
        second.get_next_page()
    assert server.count == 2


# ---------------------------------------------------------------- limit validation


BAD_LIMITS = [0, 101, -1, "10", 1.5, True, False]


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
def test_bad_limit_is_refused_before_any_request(limit: object) -> None:
    server = paged_server()
    with pytest.raises(InvalidParameterError) as info:
        sync_client(server).batches.list(limit=limit)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.param == "limit"
    assert "limit" in str(info.value)
    assert server.count == 0


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
def test_bad_limit_is_refused_by_async_list_before_awaiting(limit: object) -> None:
    server = paged_server()
    client = async_client(server)
    with pytest.raises(InvalidParameterError) as info:
        client.batches.list(limit=limit)  # type: ignore[arg-type]  # no await: list() itself refuses
    assert info.value.param == "limit"
    assert server.count == 0


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_bounds_are_accepted(limit: int) -> None:
    server = scripted_server(list_body(["b1"], has_more=False))
    assert ids(list(sync_client(server).batches.list(limit=limit))) == ["b1"]
    assert server.queries() == [{"limit": str(limit)}]


@pytest.mark.parametrize("after", ["", "   "], ids=repr)
def test_empty_after_is_refused_before_any_request(after: str) -> None:
    server = paged_server()
    with pytest.raises(InvalidParameterError) as info:
        sync_client(server).batches.list(after=after)
    assert info.value.param == "after"
    assert server.count == 0


# ---------------------------------------------------------------- async


async def test_async_for_over_list_without_await() -> None:
    server = paged_server()
    seen = [b.id async for b in async_client(server).batches.list(limit=2)]
    assert seen == ALL_IDS
    assert_list_requests(server, EXPECTED_QUERIES)


async def test_await_list_gives_the_first_page() -> None:
    server = paged_server()
    page = await async_client(server).batches.list(limit=2)
    assert isinstance(page, AsyncCursorPage)
    assert ids(page.data) == ["b1", "b2"]
    assert (page.has_more, page.first_id, page.last_id) == (True, "b1", "b2")
    assert page.has_next_page()
    assert server.count == 1

    items = page.__aiter__()
    assert [(await anext(items)).id, (await anext(items)).id] == ["b1", "b2"]
    assert server.count == 1
    assert (await anext(items)).id == "b3"
    assert server.count == 2
    assert [b.id async for b in items] == ["b4", "b5", "b6"]
    assert_list_requests(server, EXPECTED_QUERIES)


async def test_async_get_next_page_and_iter_pages() -> None:
    server = paged_server()
    first = await async_client(server).batches.list(limit=2)
    second = await first.get_next_page()
    assert ids(second.data) == ["b3", "b4"]
    assert second.last_id == "b4"
    pages = [ids(p.data) async for p in first.iter_pages()]
    assert pages == PAGES
    # get_next_page() asked for after=b2 once; iter_pages() walks from the first page again.
    assert server.queries() == [
        {"limit": "2"},
        {"limit": "2", "after": "b2"},
        {"limit": "2", "after": "b2"},
        {"limit": "2", "after": "b4"},
    ]
    last = await second.get_next_page()
    assert not last.has_next_page()
    with pytest.raises(PaginationError):
        await last.get_next_page()


async def test_async_user_after_is_sent_first() -> None:
    server = paged_server()
    seen = [b.id async for b in async_client(server).batches.list(after="b4", limit=2)]
    assert seen == ["b5", "b6"]
    assert server.queries() == [{"after": "b4", "limit": "2"}]


async def test_async_same_page_forever_raises_after_its_items() -> None:
    server = scripted_server(list_body(["b1", "b2"], has_more=True))
    seen: list[str] = []
    with pytest.raises(PaginationError):
        async for b in async_client(server).batches.list():
            seen.append(b.id)
    assert seen == ["b1", "b2", "b1", "b2"]
    assert server.count == 2


async def test_async_has_more_on_an_empty_page_raises_after_earlier_items() -> None:
    server = scripted_server(list_body(["b1"], has_more=True), list_body([], has_more=True))
    seen: list[str] = []
    with pytest.raises(PaginationError):
        async for b in async_client(server).batches.list():
            seen.append(b.id)
    assert seen == ["b1"]
    assert server.count == 2


# ---------------------------------------------------------------- long walks


LONG_WALK = 2000


def long_server() -> Recorder:
    """LONG_WALK pages of one batch each, `p0` ... `p1999`, chained by cursor."""

    def respond(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        index = 0 if after is None else int(after[1:]) + 1
        return json_response(200, list_body([f"p{index}"], has_more=index < LONG_WALK - 1))

    return Recorder(respond)


def test_long_walk_does_not_keep_old_pages() -> None:
    server = long_server()
    first = sync_client(server).batches.list(limit=1)
    server.requests.clear()  # the recorder must not be what keeps requests (and so memory) growing
    early: list[weakref.ref[SyncCursorPage[Batch]]] = []
    count = 0
    for index, page in enumerate(first.iter_pages()):
        count += len(page.data)
        if 1 <= index <= 5:
            early.append(weakref.ref(page))
        if index == LONG_WALK // 2:
            gc.collect()
            assert [ref() for ref in early] == [None] * 5, "pages already walked past are still referenced"
        server.requests.clear()
    assert count == LONG_WALK


async def test_async_long_walk_completes() -> None:
    server = long_server()
    count = 0
    last = None
    async for b in async_client(server).batches.list(limit=1):
        count += 1
        last = b.id
    assert count == LONG_WALK
    assert last == f"p{LONG_WALK - 1}"


@pytest.mark.parametrize("has_more", ["yes", 1, "false"])
def test_a_has_more_that_is_not_a_boolean_is_refused_not_a_silent_stop(has_more: object) -> None:
    from openai_batches import APIResponseValidationError

    body = {**list_body(["b1"], has_more=False), "has_more": has_more}
    server = scripted_server(body)
    with pytest.raises(APIResponseValidationError) as info:
        list(sync_client(server).batches.list())
    assert info.value.field == "has_more"
    assert len(server.requests) == 1
