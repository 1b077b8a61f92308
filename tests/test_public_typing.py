"""The public models type like the official SDK's: an optional response field is `X | None`, never `Unset`.

The spec lists every optional response field as required and nullable (`x-absent-is-null`, tools/spec_update/
derive.py), the model builder reads a field the body leaves out as None, and so user code needs one None check and
no import from the generated package. Three checks: typed user code run through `mypy --strict`, a walk over every
public annotation, and the repr a user prints.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import openai_batches
from openai_batches import types as public
from openai_batches._generated import Unset
from openai_batches.resources import batches, files

# Each optional field of each response model read with one None check, then used as its plain type.
USER_CODE = """\
from openai_batches import (
    AsyncBatchClient,
    Batch,
    BatchClient,
    BatchError,
    BatchErrors,
    BatchRequestCounts,
    BatchUsage,
    FileDeleted,
    FileObject,
    ListBatchesResponse,
    ListFilesResponse,
    Metadata,
)


def counts(c: BatchRequestCounts) -> int:
    return c.total + c.completed + c.failed


def usage(u: BatchUsage) -> int:
    return u.input_tokens + u.input_tokens_details.cached_tokens + u.output_tokens_details.reasoning_tokens


def error(e: BatchError) -> str:
    text = ""
    if e.code is not None:
        text += e.code
    if e.message is not None:
        text += e.message
    if e.param is not None:
        text += e.param
    if e.line is not None:
        text += str(e.line + 1)
    return text


def errors(es: BatchErrors) -> list[str]:
    kind: str = es.object if es.object is not None else ""
    return [kind, *(error(e) for e in es.data)] if es.data is not None else [kind]


def batch(b: Batch) -> int:
    total = 0
    if b.request_counts:
        print(b.request_counts.completed)
        total += counts(b.request_counts)
    if b.usage is not None:
        total += usage(b.usage)
    if b.errors is not None:
        errors(b.errors)
    if b.metadata is not None:
        meta: Metadata = b.metadata
        job: str | None = meta.get("job")
        print(job)
    for text in (b.model, b.output_file_id, b.error_file_id):
        if text is not None:
            total += len(text)
    for moment in (
        b.in_progress_at, b.expires_at, b.finalizing_at, b.completed_at, b.failed_at, b.expired_at,
        b.cancelling_at, b.cancelled_at,
    ):
        if moment is not None:
            total += moment
    return total


def file(f: FileObject) -> int:
    size: int = f.bytes + f.created_at
    if f.expires_at is not None:
        size += f.expires_at
    if f.status_details is not None:
        size += len(f.status_details)
    return size


def deleted(d: FileDeleted) -> bool:
    return d.deleted and d.id != ""


def pages(batch_page: ListBatchesResponse, file_page: ListFilesResponse) -> list[str]:
    ids: list[str] = [b.id for b in batch_page.data] + [f.id for f in file_page.data]
    for cursor in (batch_page.first_id, batch_page.last_id, file_page.first_id, file_page.last_id):
        if cursor is not None:
            ids.append(cursor)
    return ids


def client(c: BatchClient) -> None:
    page = c.batches.list(limit=10)
    if page.first_id is not None:
        print(page.first_id.upper())
    for b in page:
        batch(b)
    file(c.files.retrieve("file-1"))
    deleted(c.files.delete("file-1"))


async def async_client(c: AsyncBatchClient) -> None:
    b = await c.batches.retrieve("batch_1")
    if b.request_counts is not None:
        print(b.request_counts.failed)
"""


def test_typed_user_code_reads_every_optional_field_with_one_none_check(tmp_path: Path) -> None:
    source = tmp_path / "user_code.py"
    source.write_text(USER_CODE)
    assert "openai_batches_generated" not in USER_CODE and "Unset" not in USER_CODE
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary"]
    done = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# Sent, never received: here absent and null differ (`metadata=None` clears, an absent one is not sent), so these
# keep the generator's `Unset`.
REQUEST_MODELS = {public.BatchCreateParams, public.OutputExpiresAfter, openai_batches.FileCreateParams}


def _mentions_unset(hint: object) -> bool:
    if hint is Unset:
        return True
    return any(_mentions_unset(arg) for arg in typing.get_args(hint))


def _hints(owner: Any, module: types.ModuleType) -> dict[str, Any]:
    # Annotations name what their module imports only for type checking; the public package exports those names.
    return typing.get_type_hints(owner, globalns={**vars(openai_batches), **vars(module)})


def _return_hint(function: Any, module: types.ModuleType) -> Any:
    # Only the return annotation: a parameter may name a type the public package does not export.
    returned = function.__annotations__.get("return")
    namespace = {**vars(openai_batches), **vars(module)}
    return eval(returned, namespace) if isinstance(returned, str) else returned


def _public_models() -> list[type]:
    found = {getattr(public, name) for name in public.__all__}
    found |= {
        value
        for name in openai_batches.__all__
        if isinstance(value := getattr(openai_batches, name), type) and attrs.has(value)
    }
    return sorted(found, key=lambda model: model.__name__)


def test_no_public_model_annotation_mentions_unset() -> None:
    models = _public_models()
    assert {"Batch", "FileObject", "BatchRequestCounts", "BatchErrors", "ListFilesResponse"} <= {
        m.__name__ for m in models
    }
    offending = []
    for model in models:
        if model in REQUEST_MODELS:
            continue
        for name, hint in _hints(model, sys.modules[model.__module__]).items():
            if _mentions_unset(hint):
                offending.append(f"{model.__name__}.{name}: {hint}")
        for name, member in vars(model).items():
            if isinstance(member, property) and member.fget is not None:
                hint = _hints(member.fget, sys.modules[model.__module__]).get("return")
                if _mentions_unset(hint):
                    offending.append(f"{model.__name__}.{name}: {hint}")
    assert offending == []


def test_no_client_method_returns_a_type_that_mentions_unset() -> None:
    checked = 0
    for resource in (batches.Batches, batches.AsyncBatches, files.Files, files.AsyncFiles):
        module = sys.modules[resource.__module__]
        for name, method in inspect.getmembers(resource, inspect.isfunction):
            if name.startswith("_"):
                continue
            returned = _return_hint(method, module)
            assert not _mentions_unset(returned), f"{resource.__name__}.{name} returns {returned}"
            checked += 1
    assert checked > 20


def test_a_field_left_out_reads_as_none_and_request_models_keep_unset() -> None:
    body = {
        "id": "b",
        "object": "batch",
        "endpoint": "/v1/embeddings",
        "input_file_id": "f",
        "completion_window": "24h",
        "status": "validating",
        "created_at": 1,
    }
    got = public.Batch.from_dict(body)
    assert got.request_counts is None and got.usage is None and got.model is None
    sent = public.BatchCreateParams.from_dict(
        {"input_file_id": "f", "endpoint": "/v1/embeddings", "completion_window": "24h", "metadata": None}
    )
    assert sent.metadata is None and isinstance(sent.output_expires_after, Unset)


def test_repr_shows_the_fields_not_an_empty_additional_properties() -> None:
    counts = public.BatchRequestCounts(total=3, completed=2, failed=1)
    assert repr(counts) == "BatchRequestCounts(total=3, completed=2, failed=1)"
    assert str(counts) == repr(counts)
    built = public.BatchRequestCounts.from_dict({"total": 3, "completed": 2, "failed": 1, "skipped": 0})
    assert repr(built) == "BatchRequestCounts(total=3, completed=2, failed=1, additional_properties={'skipped': 0})"
    page = public.ListFilesResponse.from_dict({"object": "list", "data": [], "has_more": False})
    assert "additional_properties" not in repr(page) and "first_id=None" in repr(page)
