"""Cursor pages: one request per page, walked lazily, with guards the official SDK lacks.

The next cursor is the id of the page's last item. A server that hands back a cursor already requested in this walk
would loop forever, and one that says `has_more: true` on an empty page gives no cursor to continue with; both raise
`PaginationError` (after the items already received were yielded) instead of looping or stopping silently.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._exceptions import PaginationError


class _HasId(Protocol):
    id: str


ItemT = TypeVar("ItemT", bound=_HasId)
PageT = TypeVar("PageT")


@attrs.frozen
class PageInfo:
    """Where the next page starts, as the official SDK's `page.next_page_info()` gives it: `params={"after": id}`."""

    params: Mapping[str, str]


def page_query(extra_query: Mapping[str, Any] | None, position: int) -> Mapping[str, Any] | None:
    """A call's extra_query for one page: on later pages the cursor wins over an `after` given there (as in the SDK)."""
    if position == 0 or not extra_query or "after" not in extra_query:
        return extra_query
    return {name: value for name, value in extra_query.items() if name != "after"}


class _Walk(Generic[PageT]):
    """The state one walk through a listing shares between its pages: the fetcher and every cursor requested."""

    def __init__(self, fetch: Callable[[str, int], PageT], first_cursor: str | None) -> None:
        self.fetch = fetch
        # Cursor -> position of the page it fetched. Asking the same page twice for its successor is fine; meeting a
        # cursor again at another position means the server is going round in circles.
        self._positions: dict[str, int] = {} if first_cursor is None else {first_cursor: 0}

    def _next_cursor(self, data: builtins.list[Any], has_more: object, position: int, what: str) -> str:
        if has_more is not True:
            raise PaginationError(f"No next page: the last {what} page said has_more={has_more!r}.")
        if not data:
            raise PaginationError(
                f"The server said has_more=true on an empty {what} page, so there is no cursor to continue from."
            )
        cursor = data[-1].id
        if not isinstance(cursor, str) or not cursor:
            raise PaginationError(f"The last item of a {what} page has no usable id to continue from: {cursor!r}.")
        seen_at = self._positions.get(cursor)
        if seen_at is not None and seen_at != position + 1:
            raise PaginationError(
                f"The server repeated the cursor after={cursor!r} while listing {what}; stopping instead of looping."
            )
        self._positions[cursor] = position + 1
        return cursor

    def next_page(self, data: builtins.list[Any], has_more: object, position: int, what: str) -> PageT:
        """The page after the one at `position` (for async walks, an awaitable of it); raises if there is none."""
        return self.fetch(self._next_cursor(data, has_more, position, what), position + 1)


class _PageBase(Generic[ItemT]):
    def __init__(
        self,
        *,
        data: builtins.list[ItemT],
        has_more: bool,
        first_id: str | None,
        last_id: str | None,
        object: str,
        what: str,
        position: int,
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.first_id = first_id
        self.last_id = last_id
        self.object = object
        self._what = what
        self._position = position

    def has_next_page(self) -> bool:
        """Whether the server says a later page exists (`get_next_page` raises if it cannot be reached).

        Returns:
            True when the page says `has_more`.
        """
        return self.has_more is True

    def next_page_info(self) -> PageInfo | None:
        """The cursor of the next page (`PageInfo(params={"after": ...})`), or None when this is the last page.

        Returns:
            The next page's `after` cursor, or None.
        """
        if self.has_more is not True or not self.data:
            return None
        cursor = getattr(self.data[-1], "id", None)
        return PageInfo(params={"after": cursor}) if isinstance(cursor, str) and cursor else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(items={len(self.data)}, has_more={self.has_more!r}, "
            f"first_id={self.first_id!r}, last_id={self.last_id!r})"
        )


class SyncCursorPage(_PageBase[ItemT]):
    """One page of a listing. `for item in page` walks this page and every later one, a request per page."""

    def __init__(self, *, walk: _Walk[SyncCursorPage[ItemT]], **fields: Any) -> None:
        super().__init__(**fields)
        self._walk = walk

    def get_next_page(self) -> SyncCursorPage[ItemT]:
        """Fetch the page after this one.

        Returns:
            The next page.

        Raises:
            PaginationError: There is no next page, or it cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        return self._walk.next_page(self.data, self.has_more, self._position, self._what)

    def iter_pages(self) -> Iterator[SyncCursorPage[ItemT]]:
        """This page, then each later one, fetched as the iteration reaches it.

        Yields:
            The pages, this one first.

        Raises:
            PaginationError: A later page cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from page.data


class AsyncCursorPage(_PageBase[ItemT]):
    """One page of a listing. `async for item in page` walks this page and every later one."""

    def __init__(self, *, walk: _Walk[Awaitable[AsyncCursorPage[ItemT]]], **fields: Any) -> None:
        super().__init__(**fields)
        self._walk = walk

    async def get_next_page(self) -> AsyncCursorPage[ItemT]:
        """Fetch the page after this one.

        Returns:
            The next page.

        Raises:
            PaginationError: There is no next page, or it cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        return await self._walk.next_page(self.data, self.has_more, self._position, self._what)

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[ItemT]]:
        """This page, then each later one, fetched as the iteration reaches it.

        Yields:
            The pages, this one first.

        Raises:
            PaginationError: A later page cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        page = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[ItemT]):
    """What async `list()` returns: `await` it for the first page, or `async for` over every item directly."""

    def __init__(self, first_page: Callable[[], Awaitable[AsyncCursorPage[ItemT]]]) -> None:
        self._first_page = first_page

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[ItemT]]:
        return self._first_page().__await__()

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        page = await self._first_page()
        async for item in page:
            yield item


def new_walk(
    fetch: Callable[[str, int], SyncCursorPage[ItemT]], first_cursor: str | None
) -> _Walk[SyncCursorPage[ItemT]]:
    return _Walk(fetch, first_cursor)


def new_async_walk(
    fetch: Callable[[str, int], Awaitable[AsyncCursorPage[ItemT]]], first_cursor: str | None
) -> _Walk[Awaitable[AsyncCursorPage[ItemT]]]:
    return _Walk(fetch, first_cursor)
