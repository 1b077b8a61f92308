"""The public client against Prism mocks of our fragment and of the upstream extract.

Prism checks each request against the document before answering, so a 422 from it means the client sent something
the document forbids: every call here fails the test on any status error. With -d it answers with random bodies that
the document allows, so each operation runs many times to meet the odd shapes.

What Prism -d generates (measured with 5.16.0), all of which the client must parse:
- every optional property, always (json-schema-faker's alwaysFakeOptionals), so these bodies never leave a field out;
- on our fragment, null for each nullable field about half the time, and for each open enum (anyOf [enum, string])
  a known value about half the time and a lorem-ipsum string otherwise; on the upstream extract, `endpoint` and
  `completion_window` are free strings, `status` and `object` always known values;
- negative integers for timestamps, counts and token totals;
- extra properties of any JSON type (booleans, floats, strings) inside objects that do not forbid them
  (`usage`, its details, `request_counts`);
- list pages of 0 to 5 items whatever `limit` says, with random `has_more`, ids that are short lorem phrases with
  spaces (so cursors must be URL-encoded), and `first_id` / `last_id` unrelated to the items.

The one documented error those bodies can legally cause is `PaginationError`, and only while walking pages:
`has_more: true` on an empty page leaves no cursor, and lorem ids repeat often enough that a later page can end on
an id already used as a cursor. A single call never has a reason to raise.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from enum import Enum
from typing import Any, TypeVar

import httpx
import pytest
from openai_batches import (
    APIStatusError,
    AsyncBatchClient,
    Batch,
    BatchClient,
    BatchStatus,
    OpenAIBatchesError,
    PaginationError,
)
from openai_batches_generated.models import (
    BatchCompletionWindow,
    BatchEndpoint,
    BatchError,
    BatchErrors,
    BatchObjectType,
    BatchRequestCounts,
    BatchUsage,
    BatchUsageInputTokensDetails,
    BatchUsageOutputTokensDetails,
    Metadata,
)
from openai_batches_generated.types import Unset

pytestmark = pytest.mark.conformance

T = TypeVar("T")

# Bodies are random: enough calls that each nullable field and each open-enum branch turns up both ways.
CALLS = 30
# Prism -d invents has_more and ids at random, so a walk ends by chance; a cap keeps a bad walk from running on.
MAX_PAGES = 5
# Upper bound for walking every page: has_more is a coin toss per page, so reaching this means a loop.
MAX_WALK_ITEMS = 500
API_KEY = "test-key"
BATCH_ID = "batch_abc"

_TIMESTAMPS = (
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)


def _create_kwargs(i: int) -> dict[str, Any]:
    """Vary the create request so Prism validates every endpoint value, both limits of `seconds` and no options."""
    endpoint = list(BatchEndpoint)[i % len(BatchEndpoint)]
    kwargs: dict[str, Any] = {
        "input_file_id": "file-abc",
        # Members and plain strings both, as callers pass either.
        "endpoint": endpoint if i % 2 else endpoint.value,
        "completion_window": "24h",
    }
    if i % 3 == 0:
        kwargs["metadata"] = {"k": "v"}
    if i % 3 == 1:
        kwargs["output_expires_after"] = {"anchor": "created_at", "seconds": 3600 if i % 2 else 2_592_000}
    return kwargs


def _refused(exc: APIStatusError) -> pytest.fail.Exception:
    # Prism's 422 body lists the rule the request broke under "validation"; that is the useful part of the failure.
    return pytest.fail.Exception(
        f"Prism answered {exc.status_code}: the client sent a request the document does not allow.\n"
        f"{exc.request.method if exc.request else ''} {exc.request.url if exc.request else ''}\n{exc.body!r}"
    )


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except APIStatusError as exc:
        raise _refused(exc) from exc


async def acall(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    try:
        return await fn(*args, **kwargs)
    except APIStatusError as exc:
        raise _refused(exc) from exc


def _is_int(value: object) -> bool:
    # bool is an int subclass; a JSON true where an integer belongs must not pass as one.
    return type(value) is int


def _check_open_enum(value: object, enum: type[Enum], where: str) -> None:
    if isinstance(value, enum):
        return
    assert type(value) is str, f"{where}: expected {enum.__name__} or str, got {value!r}"
    # A known value kept as a plain string would make `batch.status is BatchStatus.COMPLETED` silently false.
    assert value not in {member.value for member in enum}, f"{where}: known value {value!r} not parsed as enum"


def _check_optional(value: object, kinds: tuple[type, ...], where: str) -> None:
    if value is None or isinstance(value, Unset):
        return
    assert isinstance(value, kinds), f"{where}: expected {kinds} | None | UNSET, got {value!r}"
    if int in kinds:
        assert not isinstance(value, bool), f"{where}: got a boolean {value!r}"


def _check_extra(model: Any, where: str) -> None:
    assert isinstance(model.additional_properties, dict), f"{where}.additional_properties"


def check_batch(batch: object) -> None:
    assert isinstance(batch, Batch), f"expected Batch, got {type(batch).__name__}"
    assert type(batch.id) is str, batch.id
    assert type(batch.input_file_id) is str, batch.input_file_id
    assert _is_int(batch.created_at), batch.created_at
    _check_open_enum(batch.object_, BatchObjectType, "object")
    _check_open_enum(batch.endpoint, BatchEndpoint, "endpoint")
    _check_open_enum(batch.completion_window, BatchCompletionWindow, "completion_window")
    _check_open_enum(batch.status, BatchStatus, "status")
    for name in ("model", "output_file_id", "error_file_id"):
        _check_optional(getattr(batch, name), (str,), name)
    for name in _TIMESTAMPS:
        _check_optional(getattr(batch, name), (int,), name)

    _check_optional(batch.errors, (BatchErrors,), "errors")
    if isinstance(batch.errors, BatchErrors):
        _check_extra(batch.errors, "errors")
        _check_optional(batch.errors.object_, (str,), "errors.object")
        _check_optional(batch.errors.data, (list,), "errors.data")
        if isinstance(batch.errors.data, list):
            for i, error in enumerate(batch.errors.data):
                where = f"errors.data[{i}]"
                assert isinstance(error, BatchError), f"{where}: got {error!r}"
                for name in ("code", "message", "param"):
                    _check_optional(getattr(error, name), (str,), f"{where}.{name}")
                _check_optional(error.line, (int,), f"{where}.line")

    _check_optional(batch.request_counts, (BatchRequestCounts,), "request_counts")
    if isinstance(batch.request_counts, BatchRequestCounts):
        counts = batch.request_counts
        assert all(_is_int(v) for v in (counts.total, counts.completed, counts.failed)), counts
        _check_extra(counts, "request_counts")

    _check_optional(batch.usage, (BatchUsage,), "usage")
    if isinstance(batch.usage, BatchUsage):
        usage = batch.usage
        assert all(_is_int(v) for v in (usage.input_tokens, usage.output_tokens, usage.total_tokens)), usage
        assert isinstance(usage.input_tokens_details, BatchUsageInputTokensDetails), usage
        assert _is_int(usage.input_tokens_details.cached_tokens), usage
        assert isinstance(usage.output_tokens_details, BatchUsageOutputTokensDetails), usage
        assert _is_int(usage.output_tokens_details.reasoning_tokens), usage
        _check_extra(usage, "usage")

    _check_optional(batch.metadata, (Metadata,), "metadata")
    if isinstance(batch.metadata, Metadata):
        pairs = batch.metadata.additional_properties
        assert all(type(k) is str and type(v) is str for k, v in pairs.items()), pairs

    _check_extra(batch, "batch")
    # What the client read must be what it would write back: nothing dropped or mangled on the way in.
    assert Batch.from_dict(batch.to_dict()) == batch


def check_page(page: Any) -> None:
    assert isinstance(page.data, list), page
    for batch in page.data:
        check_batch(batch)
    assert type(page.has_more) is bool, page.has_more
    _check_optional(page.first_id, (str,), "first_id")
    _check_optional(page.last_id, (str,), "last_id")
    assert page.has_next_page() is page.has_more


def check_walk_stop(pages: list[Any], exc: PaginationError) -> None:
    """A PaginationError is only right where the last page really leaves no safe cursor."""
    last = pages[-1]
    used_cursors = {page.data[-1].id for page in pages[:-1]}
    assert last.has_more, f"PaginationError after a page with has_more=false: {exc}"
    assert not last.data or not last.data[-1].id or last.data[-1].id in used_cursors, (
        f"PaginationError although the last page offers a fresh cursor {last.data[-1].id!r}: {exc}"
    )


def check_repeat_stop(seen: list[str], first_ids: list[str]) -> None:
    # The cycle shows only once page two (fetched with after=<last id>) ends on that same id again, so the client
    # may already have yielded page two's items; tests/test_pagination.py pins that it yields them once, then stops.
    assert seen[: len(first_ids)] == first_ids, seen
    assert len(seen) <= 2 * len(first_ids), f"yielded {len(seen)} items from a server that repeats one page"


@pytest.fixture
def client(prism_url: str) -> Iterator[BatchClient]:
    with BatchClient(api_key=API_KEY, base_url=prism_url, max_retries=0) as c:
        yield c


# --- sync --------------------------------------------------------------------------------------------------------


def test_create(client: BatchClient) -> None:
    for i in range(CALLS):
        check_batch(call(client.batches.create, **_create_kwargs(i)))


def test_retrieve(client: BatchClient) -> None:
    for _ in range(CALLS):
        check_batch(call(client.batches.retrieve, BATCH_ID))


def test_cancel(client: BatchClient) -> None:
    for _ in range(CALLS):
        check_batch(call(client.batches.cancel, BATCH_ID))


def test_list(client: BatchClient) -> None:
    # Both ends of the documented 1..100 range, and the service default; our fragment makes Prism enforce the range.
    limits = (None, 1, 5, 20, 100)
    for i in range(CALLS):
        limit = limits[i % len(limits)]
        page = call(client.batches.list) if limit is None else call(client.batches.list, limit=limit)
        check_page(page)


def test_list_follows_pages(client: BatchClient) -> None:
    for _ in range(CALLS):
        first = call(client.batches.list, limit=5)
        pages: list[Any] = []
        try:
            for page in itertools.islice(first.iter_pages(), MAX_PAGES):
                check_page(page)
                pages.append(page)
        except PaginationError as exc:
            check_walk_stop(pages, exc)
        except APIStatusError as exc:
            raise _refused(exc) from exc
        assert pages[0] is first
        if first.has_next_page() and first.data:
            try:
                check_page(call(first.get_next_page))
            except PaginationError as exc:
                check_walk_stop([first], exc)


def test_full_iteration_raises_only_pagination_error(client: BatchClient) -> None:
    for _ in range(CALLS):
        page = call(client.batches.list, limit=5)
        walked = 0
        try:
            for batch in itertools.islice(page, MAX_WALK_ITEMS):
                check_batch(batch)
                walked += 1
        except PaginationError:
            pass
        except APIStatusError as exc:
            raise _refused(exc) from exc
        except OpenAIBatchesError as exc:
            pytest.fail(f"walking pages raised {type(exc).__name__}, not PaginationError: {exc}")
        assert walked < MAX_WALK_ITEMS, "iteration did not stop; the client keeps following pages"


@pytest.mark.parametrize("prism_url", ["ours-static"], indirect=True)
def test_full_iteration_stops_on_repeated_cursor(client: BatchClient) -> None:
    # Without -d, Prism answers every list call with the same page and has_more: true: an endless loop for a client
    # that trusts has_more. The client must hand over the first page's items, then refuse to go round again.
    page = call(client.batches.list, limit=5)
    check_page(page)
    assert page.has_more is True and page.data, page
    first_ids = [batch.id for batch in page.data]
    seen: list[str] = []
    with pytest.raises(PaginationError):
        for batch in itertools.islice(page, MAX_WALK_ITEMS):
            seen.append(batch.id)
    check_repeat_stop(seen, first_ids)


def test_prism_refuses_a_request_that_breaks_the_document(prism_url: str) -> None:
    # Proves the 422 guard above is live: the client's own checks would stop this request before sending it.
    response = httpx.post(
        f"{prism_url}/batches",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={
            "input_file_id": "file-abc",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "output_expires_after": {"anchor": "created_at", "seconds": 60},
        },
    )
    assert response.status_code == 422, response.text


# --- async -------------------------------------------------------------------------------------------------------


async def test_async_operations(prism_url: str) -> None:
    async with AsyncBatchClient(api_key=API_KEY, base_url=prism_url, max_retries=0) as ac:
        # Concurrent calls share one connection pool, as an application's would.
        batches = await asyncio.gather(
            *(acall(ac.batches.create, **_create_kwargs(i)) for i in range(CALLS)),
            *(acall(ac.batches.retrieve, BATCH_ID) for _ in range(CALLS)),
            *(acall(ac.batches.cancel, BATCH_ID) for _ in range(CALLS)),
        )
        for batch in batches:
            check_batch(batch)
        pages = await asyncio.gather(*(acall(ac.batches.list, limit=5) for _ in range(CALLS)))
        for page in pages:
            check_page(page)


async def test_async_list_follows_pages(prism_url: str) -> None:
    async with AsyncBatchClient(api_key=API_KEY, base_url=prism_url, max_retries=0) as ac:
        for _ in range(CALLS):
            first = await acall(ac.batches.list, limit=5)
            pages: list[Any] = []
            try:
                async for page in first.iter_pages():
                    check_page(page)
                    pages.append(page)
                    if len(pages) == MAX_PAGES:
                        break
            except PaginationError as exc:
                check_walk_stop(pages, exc)
            except APIStatusError as exc:
                raise _refused(exc) from exc


async def test_async_full_iteration_raises_only_pagination_error(prism_url: str) -> None:
    async with AsyncBatchClient(api_key=API_KEY, base_url=prism_url, max_retries=0) as ac:
        for _ in range(CALLS):
            page = await acall(ac.batches.list, limit=5)
            walked = 0
            try:
                async for batch in page:
                    check_batch(batch)
                    walked += 1
                    assert walked < MAX_WALK_ITEMS, "iteration did not stop; the client keeps following pages"
            except PaginationError:
                pass
            except APIStatusError as exc:
                raise _refused(exc) from exc
            except OpenAIBatchesError as exc:
                pytest.fail(f"walking pages raised {type(exc).__name__}, not PaginationError: {exc}")


@pytest.mark.parametrize("prism_url", ["ours-static"], indirect=True)
async def test_async_full_iteration_stops_on_repeated_cursor(prism_url: str) -> None:
    async with AsyncBatchClient(api_key=API_KEY, base_url=prism_url, max_retries=0) as ac:
        page = await acall(ac.batches.list, limit=5)
        first_ids = [batch.id for batch in page.data]
        assert page.has_more is True and first_ids, page
        seen: list[str] = []
        with pytest.raises(PaginationError):
            async for batch in page:
                seen.append(batch.id)
                assert len(seen) < MAX_WALK_ITEMS, "iteration did not stop; the client keeps following pages"
        check_repeat_stop(seen, first_ids)
