"""Every public method documents its arguments and what it returns in Google style, as a reference generator reads
it (mkdocstrings, `docstring_style: google`): an `Args:` section naming each parameter but `self`, and `Returns:`
(or `Yields:` for a generator) when it returns something other than None.

The public API walked: the classes and functions of `openai_batches.__all__` (and of `openai_batches.tables`,
`openai_batches.prices` and `openai_batches.jobs.estimate`), their public methods, and the resources the clients
hang on themselves (`client.batches`, `client.files`, `client.jobs`, of both clients). Left out, each for its reason:
properties (attributes, documented as such), exception classes (the library raises them), the constructors in
`BUILT_BY_THE_LIBRARY` and those attrs writes (their fields are the documented attributes), and what the generated
models inherit from `openai_batches_generated` (its docstrings are the generator's, from the API description; it is
never edited by hand).
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import openai_batches
import pytest
from openai_batches import AsyncBatchClient, BatchClient, prices, tables
from openai_batches.jobs import estimate

PACKAGE = "openai_batches"

# Classes whose constructor a caller does not call: the library builds them and hands them out.
BUILT_BY_THE_LIBRARY = {
    "Batches": "client.batches, made by the client",
    "AsyncBatches": "client.batches, made by the client",
    "Files": "client.files, made by the client",
    "AsyncFiles": "client.files, made by the client",
    "Jobs": "client.jobs, made by the client",
    "AsyncJobs": "client.jobs, made by the client",
    "BatchesWithRawResponse": "made by `with_raw_response`",
    "AsyncBatchesWithRawResponse": "made by `with_raw_response`",
    "BatchesWithStreamingResponse": "made by `with_streaming_response`",
    "AsyncBatchesWithStreamingResponse": "made by `with_streaming_response`",
    "FilesWithRawResponse": "made by `with_raw_response`",
    "AsyncFilesWithRawResponse": "made by `with_raw_response`",
    "FilesWithStreamingResponse": "made by `with_streaming_response`",
    "AsyncFilesWithStreamingResponse": "made by `with_streaming_response`",
    "BatchClientWithRawResponse": "made by `client.with_raw_response`",
    "AsyncBatchClientWithRawResponse": "made by `client.with_raw_response`",
    "BatchClientWithStreamingResponse": "made by `client.with_streaming_response`",
    "AsyncBatchClientWithStreamingResponse": "made by `client.with_streaming_response`",
    "SyncCursorPage": "a page `list()` returns",
    "AsyncCursorPage": "a page `list()` returns",
    "AsyncPaginator": "what async `list()` returns",
    "RawResponse": "what a `with_raw_response` method returns",
    "APIResponse": "what a `with_streaming_response` method yields",
    "AsyncAPIResponse": "what a `with_streaming_response` method yields",
    "FileContent": "what `files.content()` returns",
    "AsyncFileContent": "what `files.content()` gives",
    "AsyncContentCall": "what async `files.content()` returns",
    "BatchResults": "what `results_by_custom_id()` returns",
}


def _own(function: object) -> bool:
    module = getattr(function, "__module__", None) or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _handwritten(function: Callable[..., Any]) -> bool:
    """False for the `__init__` attrs or dataclasses write (their fields are the class's documented attributes)."""
    code = getattr(function, "__code__", None)
    return code is not None and not code.co_filename.startswith("<")


def _public_classes() -> Iterator[type]:
    seen: set[type] = set()
    roots: list[object] = [getattr(openai_batches, name) for name in openai_batches.__all__]
    roots += [getattr(prices, name) for name in prices.__all__]
    sync, async_client = BatchClient(api_key="sk-test"), AsyncBatchClient(api_key="sk-test")
    for client in (sync, async_client):
        roots.append(type(client.jobs))
        for resource in (client.batches, client.files):
            roots += [type(resource), type(resource.with_raw_response), type(resource.with_streaming_response)]
        roots += [type(client.with_raw_response), type(client.with_streaming_response)]
    sync.close()
    for root in roots:
        if (
            inspect.isclass(root)
            and _own(root)
            and not issubclass(root, BaseException | enum.Enum)
            and root not in seen
        ):
            seen.add(root)
            yield root


def _public_functions() -> Iterator[tuple[str, Callable[..., Any]]]:
    modules = (openai_batches, tables, prices, estimate)
    for module, names in ((module, module.__all__) for module in modules):
        for name in names:
            value = getattr(module, name)
            if inspect.isfunction(value) and _own(value):
                yield f"{value.__module__}.{value.__qualname__}", value


def _methods(cls: type) -> Iterator[tuple[str, Callable[..., Any], str]]:
    """(name, function, docstring to read) for each public method, the constructor included where callers call it."""
    for name in dir(cls):
        if name.startswith("_") and name != "__init__":
            continue
        raw = inspect.getattr_static(cls, name)
        function = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
        if not inspect.isfunction(function) or not _own(function):
            continue  # properties are attributes; inherited methods of httpx, attrs or the generated models
        if name == "__init__":
            if cls.__name__ in BUILT_BY_THE_LIBRARY or not _handwritten(function):
                continue
            # Google style puts the constructor's arguments in the class docstring or in `__init__`'s.
            yield name, function, (inspect.getdoc(cls) or "") + "\n" + (inspect.getdoc(function) or "")
        else:
            yield name, function, inspect.getdoc(function) or ""


def _cases() -> list[tuple[str, Callable[..., Any], str]]:
    cases = [
        (f"{cls.__module__}.{cls.__qualname__}.{name}", f, doc)
        for cls in _public_classes()
        for name, f, doc in _methods(cls)
    ]
    cases += [(qualname, function, inspect.getdoc(function) or "") for qualname, function in _public_functions()]
    return sorted(cases, key=lambda case: case[0])


def _section(doc: str, title: str) -> list[str] | None:
    """The lines of a Google-style section, or None when the docstring has none."""
    lines = doc.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == f"{title}:":
            indent = len(line) - len(line.lstrip())
            body = []
            for item in lines[index + 1 :]:
                if item.strip() and len(item) - len(item.lstrip()) <= indent:
                    break
                body.append(item)
            return body
    return None


ARG = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)(?: \([^)]*\))?:(?: |$)")


def _documented_args(doc: str) -> list[str]:
    body = _section(doc, "Args")
    if body is None:
        return []
    entries = [line for line in body if line.strip()]
    if not entries:
        return []
    indent = min(len(line) - len(line.lstrip()) for line in entries)
    names = []
    for line in entries:
        match = ARG.match(line.strip()) if len(line) - len(line.lstrip()) == indent else None
        if match:
            names.append(match.group(1))
    return names


def _expected_args(function: Callable[..., Any]) -> list[str]:
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        names.append(prefix + parameter.name)
    return names


def _returns_something(function: Callable[..., Any]) -> bool:
    annotation = inspect.signature(function).return_annotation
    return annotation not in (None, "None", inspect.Signature.empty)


CASES = _cases()


def test_the_walk_reaches_the_public_api() -> None:
    names = {name for name, _, _ in CASES}
    for expected in (
        "openai_batches._client.BatchClient.__init__",
        "openai_batches._client.AsyncBatchClient.with_options",
        "openai_batches.resources.batches.Batches.create",
        "openai_batches.resources.batches.AsyncBatches.results_table",
        "openai_batches.resources.files.Files.wait_for_processing",
        "openai_batches.jobs._sync.api.Jobs.run",
        "openai_batches.jobs._async.api.AsyncJobs.delete",
        "openai_batches.jobs.job.Job.write_report",
        "openai_batches._content.FileContent.iter_lines",
        "openai_batches._response.AsyncAPIResponse.parse",
        "openai_batches._pagination.SyncCursorPage.get_next_page",
        "openai_batches.batch_input.read_requests",
        "openai_batches.tables.write_parquet",
    ):
        assert expected in names
    assert len(CASES) > 190


@pytest.mark.parametrize(("name", "function", "doc"), CASES, ids=[case[0] for case in CASES])
def test_public_method_documents_its_arguments_and_result(name: str, function: Callable[..., Any], doc: str) -> None:
    expected = _expected_args(function)
    if expected:
        assert _section(doc, "Args") is not None, f"{name}: no Args: section"
        documented = _documented_args(doc)
        missing = [arg for arg in expected if arg not in documented]
        assert not missing, f"{name}: Args: does not name {missing}"
        unknown = [arg for arg in documented if arg not in expected]
        assert not unknown, f"{name}: Args: names {unknown}, which it does not take"
    if _returns_something(function) and function.__name__ != "__init__":
        assert _section(doc, "Returns") is not None or _section(doc, "Yields") is not None, (
            f"{name}: no Returns: (or Yields:) section"
        )


def test_every_exemption_names_a_class_the_walk_meets() -> None:
    met = {cls.__name__ for cls in _public_classes()}
    assert not set(BUILT_BY_THE_LIBRARY) - met


def test_raw_and_streaming_methods_carry_the_plain_methods_docstrings() -> None:
    # Their methods are instance attributes (functools.wraps of the plain ones), so the walk above does not see them.
    client = BatchClient(api_key="sk-test")
    try:
        for resource in (client.batches, client.files):
            for wrapper in (resource.with_raw_response, resource.with_streaming_response):
                for name, method in vars(wrapper).items():
                    if callable(method):
                        assert method.__doc__ == getattr(resource, name).__doc__, name
    finally:
        client.close()
