"""Sync and async twins cannot drift apart (issue 23).

Every class of the overlay named `AsyncX` is paired with `X` (or `SyncX`) of the same module: clients, resources,
their raw and streaming wrappers (the workflow helpers `wait`, `results`, `submit`, ... are resource methods), the
response and content classes, pages, jobs. For each pair the public names must be the same, each method must take
the same parameters (names, kinds, defaults, annotations) and return the same annotation, read with `Async`/`Sync`
taken off the names and `Awaitable[...]`/`Coroutine[..., ...]` taken off the return: an `async def` returning `X`
is the twin of a `def` returning `X`. The protocol methods are paired too (`__aenter__` with `__enter__`, ...).
The wrappers' methods are instance attributes, so they are read from wrappers of real clients.

The differences that are meant are listed in DELIBERATE with the reason; a listed difference that is gone must leave
the list, so the list stays true.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches import AsyncBatchClient, BatchClient
from openai_batches.anthropic import AnthropicBatchClient, AsyncAnthropicBatchClient

PROJECT = Path(__file__).resolve().parents[1]
OVERLAY_ROOT = PROJECT / "overlays"
OVERLAY_PKG = OVERLAY_ROOT / "openai_batches"

# Protocol methods whose async form has another name.
DUNDERS = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "__init__": "__init__",
    "__call__": "__call__",
    "__getitem__": "__getitem__",
    "__len__": "__len__",
    "__bool__": "__bool__",
    "__contains__": "__contains__",
}

WRAPPERS = ("WithRawResponse", "WithStreamingResponse")

# Async classes with no sync twin, and why.
NO_TWIN = {
    "openai_batches._pagination.AsyncPaginator": "`AsyncBatches.list` must check its arguments at once yet be "
    "awaitable (the first page) and async-iterable (every item); the sync `list` simply returns the first page",
    "openai_batches._content.AsyncContentCall": "`AsyncFiles.content` must be both awaitable (bytes in memory) and "
    "an async context manager (a stream); the sync `content` returns the `FileContent` itself",
}

# (pair, member) -> why the twins differ there. The pair is the async class's dotted name.
DELIBERATE: dict[tuple[str, str], str] = {
    ("openai_batches._client.AsyncBatchClient", "__init__"): "an async client's `api_key` callable may return an "
    "awaitable (the SDK's async clients accept one); the sync client's must return the key",
    ("openai_batches._client.AsyncBatchClient", "with_options"): "the same `api_key` callable difference as the "
    "constructor",
    ("openai_batches._client.AsyncBatchClient", "copy"): "`copy` is `with_options`",
    ("openai_batches._azure.AsyncAzureBatchClient", "__init__"): "the `api_key` callable difference of "
    "`AsyncBatchClient` (the token provider's, spelled `AsyncAzureADTokenProvider` as in the SDK, reads alike)",
    ("openai_batches._azure.AsyncAzureBatchClient", "with_options"): "the same `api_key` callable difference as the "
    "constructor",
    ("openai_batches._azure.AsyncAzureBatchClient", "copy"): "`copy` is `with_options`",
    ("openai_batches.resources.batches.AsyncBatches", "list"): "returns an `AsyncPaginator` (see NO_TWIN), the sync "
    "twin the first `SyncCursorPage`",
    ("openai_batches.resources.batches.AsyncBatchesWithRawResponse", "list"): "see `AsyncBatches.list`",
    ("openai_batches.resources.batches.AsyncBatchesWithStreamingResponse", "list"): "see `AsyncBatches.list`",
    ("openai_batches.resources.files.AsyncFiles", "list"): "returns an `AsyncPaginator`, as `AsyncBatches.list`",
    ("openai_batches.anthropic.batches.AsyncBatches", "list"): "returns an `AsyncPaginator`, as `AsyncBatches.list`",
    ("openai_batches.anthropic.batches.AsyncBatchesWithRawResponse", "list"): "see the Anthropic `AsyncBatches.list`",
    ("openai_batches.resources.files.AsyncFiles", "content"): "returns an `AsyncContentCall` (see NO_TWIN), the "
    "sync twin the `FileContent`",
    ("openai_batches.resources.files.AsyncFilesWithRawResponse", "list"): "see `AsyncFiles.list`",
    ("openai_batches.resources.files.AsyncFilesWithStreamingResponse", "list"): "see `AsyncFiles.list`",
    ("openai_batches.resources.files.AsyncFilesWithRawResponse", "content"): "see `AsyncFiles.content`",
    ("openai_batches.resources.files.AsyncFilesWithStreamingResponse", "content"): "see `AsyncFiles.content`",
    **{
        ("openai_batches._content.AsyncFileContent", name): "httpx's and the SDK's async spelling, kept beside the "
        "plain names, which work both ways on an async body (`for` once it is read, `async for` while streamed)"
        for name in ("aclose", "aiter_bytes", "aiter_lines", "aiter_raw", "aiter_text", "aread", "astream_to_file")
    },
    **{
        ("openai_batches._content.AsyncFileContent", name): "a `_Pieces`: iterable with `for` over a body read into "
        "memory and with `async for` over a stream, where the sync twin returns a plain iterator"
        for name in ("iter_bytes", "iter_lines", "iter_raw", "iter_text")
    },
    **{
        ("openai_batches._httpx2.AsyncHttpx2Transport", name): "an httpx transport: the async protocol is "
        "`handle_async_request`/`aclose`, the sync one `handle_request`/`close`; `__aenter__` returns its own type"
        for name in ("__enter__", "aclose", "close", "handle_async_request", "handle_request")
    },
    ("openai_batches._response.AsyncResponseContextManager", "__init__"): "takes the call's awaitable, made when the "
    "method is called and awaited at `async with`; the sync twin takes a function it calls at `with`",
    ("openai_batches._response.AsyncResponseContextManager", "__enter__"): "returns its own type variable (`AC`, "
    "the async response), the sync twin `C`",
}


# --- reading the classes ----------------------------------------------------------------------------------------


def async_classes() -> Iterator[tuple[str, str]]:
    """(module, class name) of every class named Async... defined at the top of an overlay module."""
    for path in sorted(OVERLAY_PKG.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(OVERLAY_ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and re.match(r"Async[A-Z]", node.name):
                yield module, node.name


def twin_of(module: str, name: str) -> type | None:
    """`X` or `SyncX` beside `AsyncX`; for the jobs' unasync-made twins, in the `_sync` twin of the `_async` module."""
    loaded = importlib.import_module(module.replace("._async.", "._sync."))
    base = name.removeprefix("Async")
    found = getattr(loaded, base, None) or getattr(loaded, f"Sync{base}", None)
    return found if isinstance(found, type) else None


def normal(annotation: object) -> str:
    """An annotation as text with the sync/async spelling taken off, so that twins read the same."""
    if annotation is inspect.Parameter.empty:
        return ""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    text = re.sub(r"\b(?:typing\.|collections\.abc\.)?Coroutine\[[^,\[\]]+, [^,\[\]]+, ", "Awaitable[", text)
    while (
        stripped := re.sub(r"\b(?:typing\.|collections\.abc\.)?Awaitable\[([^\[\]]*(?:\[[^\[\]]*\])*)\]", r"\1", text)
    ) != text:
        text = stripped
    text = re.sub(r"\bAsync(?=[A-Z])", "", text)
    text = re.sub(r"\bSync(?=[A-Z])", "", text)
    text = re.sub(r"\basync_(?=\w)", "", text)
    return text


def signature_of(member: object) -> tuple[Any, ...] | None:
    function = member.fget if isinstance(member, property) else member
    if isinstance(function, functools.cached_property):
        function = function.func
    if isinstance(function, classmethod | staticmethod):
        function = function.__func__
    if not callable(function):
        return None
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    parameters = tuple(
        (p.name, p.kind, repr(p.default), normal(p.annotation))
        for p in signature.parameters.values()
        if p.name not in {"self", "cls"}
    )
    kind = "property" if isinstance(member, property | functools.cached_property) else "method"
    return kind, parameters, normal(signature.return_annotation)


def members(obj: object) -> dict[str, object]:
    """Public names (and paired protocol methods) of a class, or of an instance with its instance attributes."""
    cls = obj if isinstance(obj, type) else type(obj)
    found: dict[str, object] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object's own members are alike on both sides
        if klass.__module__.startswith(("typing", "collections", "builtins", "abc")):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") or name in DUNDERS or name in DUNDERS.values():
                found[DUNDERS.get(name, name)] = value
    if not isinstance(obj, type):
        for name, value in vars(obj).items():
            if not name.startswith("_"):
                found[name] = value
    return found


def differences(async_side: object, sync_side: object) -> dict[str, str]:
    """Member -> what differs between the twins; empty when they are alike."""
    left, right = members(async_side), members(sync_side)
    found = {}
    for name in sorted(left.keys() | right.keys()):
        if name not in right:
            found[name] = "only in the async twin"
        elif name not in left:
            found[name] = "only in the sync twin"
        else:
            a, s = signature_of(left[name]), signature_of(right[name])
            if a != s:
                found[name] = f"async {a}\n  sync {s}"
    return found


# --- the pairs --------------------------------------------------------------------------------------------------


def class_pairs() -> list[tuple[str, object, object]]:
    pairs = []
    for module, name in async_classes():
        dotted = f"{module}.{name}"
        if dotted in NO_TWIN or name.endswith(WRAPPERS):
            continue  # the wrappers are compared as instances (wrapper_pairs)
        twin = twin_of(module, name)
        assert twin is not None, (
            f"{dotted} has no sync twin {name.removeprefix('Async')}; add one or list it in NO_TWIN"
        )
        pairs.append((dotted, getattr(importlib.import_module(module), name), twin))
    return pairs


def _wrapper(client: object, resource: str, wrapper: str) -> object:
    return getattr(getattr(client, resource) if resource else client, wrapper)


def wrapper_pairs() -> list[tuple[str, object, object]]:
    """The raw and streaming wrappers as real clients hand them out: their methods are instance attributes."""
    sync_client, async_client = BatchClient(api_key="sk-twins"), AsyncBatchClient(api_key="sk-twins")
    pairs = []
    for path in ("batches", "files", ""):
        for wrapper in ("with_raw_response", "with_streaming_response"):
            a, s = _wrapper(async_client, path, wrapper), _wrapper(sync_client, path, wrapper)
            pairs.append((f"{type(a).__module__}.{type(a).__name__}", a, s))
    sync_client.close()
    anthropic_sync, anthropic_async = (
        AnthropicBatchClient(api_key="sk-twins"),
        AsyncAnthropicBatchClient(api_key="sk-twins"),
    )
    for a, s in (
        (anthropic_async.with_raw_response, anthropic_sync.with_raw_response),
        (anthropic_async.with_raw_response.messages, anthropic_sync.with_raw_response.messages),
        (anthropic_async.messages.batches.with_raw_response, anthropic_sync.messages.batches.with_raw_response),
    ):
        pairs.append((f"{type(a).__module__}.{type(a).__name__}", a, s))
    anthropic_sync.close()
    return pairs


ALL_PAIRS = class_pairs() + wrapper_pairs()


def test_the_pairs_are_found() -> None:
    names = {name for name, _, _ in ALL_PAIRS}
    expected = {
        "openai_batches._client.AsyncBatchClient",
        "openai_batches.resources.batches.AsyncBatches",
        "openai_batches.resources.files.AsyncFiles",
        "openai_batches.resources.batches.AsyncBatchesWithRawResponse",
        "openai_batches.resources.files.AsyncFilesWithStreamingResponse",
        "openai_batches._client.AsyncBatchClientWithRawResponse",
        "openai_batches.jobs._async.api.AsyncJobs",
        "openai_batches._content.AsyncFileContent",
        "openai_batches._response.AsyncAPIResponse",
        "openai_batches._pagination.AsyncCursorPage",
        "openai_batches.anthropic._client.AsyncAnthropicBatchClient",
        "openai_batches.anthropic._client.AsyncAnthropicBatchClientWithRawResponse",
        "openai_batches.anthropic.batches.AsyncMessages",
        "openai_batches.anthropic.batches.AsyncBatches",
        "openai_batches.anthropic.batches.AsyncBatchesWithRawResponse",
        "openai_batches.anthropic.batches.AsyncPage",
        "openai_batches.anthropic.batches.AsyncResultStream",
    }
    assert expected <= names, expected - names


@pytest.mark.parametrize(("name", "async_side", "sync_side"), ALL_PAIRS, ids=[name for name, _, _ in ALL_PAIRS])
def test_twins_have_the_same_names_parameters_and_returns(name: str, async_side: object, sync_side: object) -> None:
    found = differences(async_side, sync_side)
    drift = {member: what for member, what in found.items() if (name, member) not in DELIBERATE}
    assert not drift, f"{name} and its sync twin differ:\n" + "\n".join(f"{m}: {w}" for m, w in drift.items())
    stale = [member for (pair, member) in DELIBERATE if pair == name and member not in found]
    assert not stale, f"listed as deliberate differences of {name} but alike now; remove them from DELIBERATE: {stale}"


def test_every_listed_difference_names_a_pair() -> None:
    names = {name for name, _, _ in ALL_PAIRS}
    assert {pair for pair, _ in DELIBERATE} <= names
    assert all(reason for reason in [*DELIBERATE.values(), *NO_TWIN.values()])


def test_async_methods_are_awaitable_and_sync_ones_are_not() -> None:
    for name, async_side, sync_side in class_pairs():
        for member, value in members(sync_side).items():
            assert not inspect.iscoroutinefunction(value), f"{name}: the sync twin's {member} is a coroutine function"
        del async_side


def test_normal_takes_off_the_sync_and_async_spelling() -> None:
    assert normal("Awaitable[RawResponse[public.Batch]]") == "RawResponse[public.Batch]"
    assert normal("Coroutine[Any, Any, AsyncCursorPage[FileObject]]") == "CursorPage[FileObject]"
    assert normal("SyncCursorPage[FileObject]") == "CursorPage[FileObject]"
    assert normal("AsyncIterator[BatchResult]") == normal("Iterator[BatchResult]")
    assert normal("httpx.AsyncClient | None") == normal("httpx.Client | None")
    assert normal("AsyncPaginator[Batch]") != normal("SyncCursorPage[Batch]")


def test_differences_see_a_parameter_a_default_a_return_and_a_missing_method() -> None:
    class AsyncThing:
        async def get(self, key: str, *, limit: int = 1) -> AsyncIterator[int]: ...
        async def same(self, key: str) -> AsyncThing: ...
        async def only_async(self) -> None: ...
        async def __aenter__(self) -> AsyncThing: ...

    class Thing:
        def get(self, name: str, *, limit: int = 2) -> Iterator[str]: ...
        def same(self, key: str) -> Thing: ...
        def __enter__(self) -> Thing: ...

    found = differences(AsyncThing, Thing)
    assert sorted(found) == ["get", "only_async"]
    assert found["only_async"] == "only in the async twin"
    assert "'key'" in found["get"] and "'name'" in found["get"] and "'1'" in found["get"]
