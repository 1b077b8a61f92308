"""Batch input files: typed request lines, a builder that refuses what the service would refuse, and sharding.

Every check runs before anything is uploaded, so a mistake costs no upload and no failed batch. A line is encoded
once, when it is added, and kept as bytes: a 200 MB input costs about 200 MB, not several times that in dicts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from enum import Enum
from pathlib import Path
from typing import Any, Final, NamedTuple, Self, TypeVar

import attrs

from ._exceptions import InvalidParameterError
from ._types import EndpointParam

__all__ = [
    "BatchInput",
    "BatchInputError",
    "BatchRequest",
    "FileSummary",
    "InputLimits",
    "read_requests",
    "shard_requests",
    "validate_file",
]

_T = TypeVar("_T")

EMBEDDINGS_ENDPOINT: Final = "/v1/embeddings"
REQUIRED_FIELDS: Final = ("custom_id", "method", "url", "body")


def _json_default(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON type")


# Compact, key order kept, UTF-8 rather than \u escapes; NaN and Infinity are not JSON and the service refuses them.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)


class BatchInputError(InvalidParameterError):
    """A request the service would refuse, found before any upload.

    `reason` is a short code (`duplicate_custom_id`, `wrong_endpoint`, `too_large`, ...), `line` the 1-based line of
    the input file (for requests in memory: their position + 1), `custom_id` the offending request's id when known.
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        line: int | None = None,
        custom_id: str | None = None,
        path: Path | None = None,
    ) -> None:
        where = [str(path)] if path is not None else []
        if line is not None:
            where.append(f"line {line}")
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__("path" if path is not None else "requests", message)
        # InvalidParameterError prefixes the parameter name; "line 3: ..." reads better for a file of requests.
        self.args = (text,)
        self.reason = reason
        self.line = line
        self.custom_id = custom_id
        self.path = path
        self.message = message


def _positive(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(attribute.name, f"expected a positive integer, got {value!r}")


@attrs.frozen(kw_only=True)
class InputLimits:
    """What one batch accepts. The defaults are the service's; smaller ones make tests and small shards cheap."""

    max_requests: int = attrs.field(default=50_000, validator=_positive)
    max_bytes: int = attrs.field(default=200 * 1024 * 1024, validator=_positive)
    max_embedding_inputs: int = attrs.field(default=50_000, validator=_positive)


DEFAULT_LIMITS: Final = InputLimits()


@attrs.frozen(kw_only=True)
class BatchRequest:
    """One line of a batch input file: `body` is sent as a `method` request to `url` and answered under `custom_id`.

    Construction checks nothing; a request is checked when it is added to a `BatchInput`, encoded, or parsed.
    """

    custom_id: str
    body: Mapping[str, Any]
    url: str
    method: str = "POST"

    def to_dict(self) -> dict[str, Any]:
        """The line as a dict, in the order the service documents.

        Returns:
            `{custom_id, method, url, body}`; `body` is this request's own mapping, not a copy.
        """
        return {"custom_id": self.custom_id, "method": self.method, "url": self.url, "body": self.body}

    def to_json_line(self) -> bytes:
        """Compact JSON in UTF-8 ending in b"\\n", exactly as `BatchInput.write` stores it; raises BatchInputError.

        Returns:
            The encoded line.

        Raises:
            BatchInputError: The request breaks the service's rules; `code` says which, `line` where.
        """
        return _encode(self, None, None).data

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """A request from a parsed line; all four fields are required and their shapes checked (BatchInputError).

        Args:
            d: A parsed line: `custom_id`, `method`, `url` and `body`.

        Returns:
            The request.

        Raises:
            BatchInputError: The request breaks the service's rules; `code` says which, `line` where.
        """
        request = cls._build(d, None, None)
        _check_fields(request, None, None, None)
        return request

    @classmethod
    def _build(cls, d: object, line: int | None, path: Path | None) -> Self:
        """The request a parsed line describes, with only the presence of its fields checked."""
        if not isinstance(d, Mapping):
            raise BatchInputError(
                "invalid_json", f"expected a JSON object (or BatchRequest), got {_kind(d)}", line=line, path=path
            )
        raw_id = d.get("custom_id")
        custom_id = raw_id if isinstance(raw_id, str) else None
        missing = [name for name in REQUIRED_FIELDS if name not in d]
        if missing:
            raise BatchInputError(
                "missing_field",
                f"missing {', '.join(map(repr, missing))}; each line needs custom_id, method, url and body",
                line=line,
                custom_id=custom_id,
                path=path,
            )
        return cls(custom_id=d["custom_id"], method=d["method"], url=d["url"], body=d["body"])

    @classmethod
    def chat(cls, custom_id: str, *, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> Self:
        """A `/v1/chat/completions` request; `params` (temperature, max_completion_tokens, ...) join the body.

        Args:
            custom_id: The id the request's result comes back under; unique within a batch.
            model: The model to call.
            messages: The chat messages, each a mapping such as `{"role": "user", "content": ...}`.
            **params: More body fields, e.g. `temperature`, `max_completion_tokens`.

        Returns:
            The request; nothing is checked until it is added or encoded.
        """
        return cls(
            custom_id=custom_id, url="/v1/chat/completions", body={"model": model, "messages": list(messages), **params}
        )

    @classmethod
    def responses(cls, custom_id: str, *, model: str, input: str | Iterable[Mapping[str, Any]], **params: Any) -> Self:
        """A `/v1/responses` request; `input` is a prompt string or a list of input items.

        Args:
            custom_id: The id the request's result comes back under; unique within a batch.
            model: The model to call.
            input: A prompt string or a list of input items.
            **params: More body fields, e.g. `instructions`, `max_output_tokens`.

        Returns:
            The request; nothing is checked until it is added or encoded.
        """
        value: str | list[Mapping[str, Any]] = input if isinstance(input, str) else list(input)
        return cls(custom_id=custom_id, url="/v1/responses", body={"model": model, "input": value, **params})

    @classmethod
    def embeddings(
        cls,
        custom_id: str,
        *,
        model: str,
        input: str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]],
        **params: Any,
    ) -> Self:
        """A `/v1/embeddings` request; `input` is a string, a list of strings, a token array or a list of them.

        Args:
            custom_id: The id the request's result comes back under; unique within a batch.
            model: The model to call.
            input: A string, a list of strings, a token array or a list of token arrays.
            **params: More body fields, e.g. `dimensions`, `encoding_format`.

        Returns:
            The request; nothing is checked until it is added or encoded.
        """
        value = input if isinstance(input, str) else list(input)
        return cls(custom_id=custom_id, url=EMBEDDINGS_ENDPOINT, body={"model": model, "input": value, **params})


class _Line(NamedTuple):
    data: bytes
    custom_id: str
    embedding_inputs: int
    model: str | None


def _model_of(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) else None


class _ModelCheck:
    """The service refuses a batch whose requests name different models; the first model named sets it."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.line = 0

    def check(self, model: str | None, number: int, custom_id: str, path: Path | None = None) -> None:
        if model is None:
            return
        if self.model is None:
            self.model, self.line = model, number
        elif model != self.model:
            raise BatchInputError(
                "mismatched_model",
                f"model {model!r} differs from {self.model!r} (line {self.line}); all requests of a batch must use "
                "the same model (submit one batch per model)",
                line=number,
                custom_id=custom_id,
                path=path,
            )


class BatchInput:
    """The requests of one batch, checked as they are added and written as JSONL.

    `add` refuses a bad request at once (BatchInputError) and leaves the builder as it was.

    Args:
        endpoint: The endpoint every request targets, e.g. `/v1/chat/completions`.
        limits: What one batch accepts; the service's limits by default.

    Raises:
        InvalidParameterError: `endpoint` or `limits` was refused.
    """

    def __init__(self, endpoint: EndpointParam | str, *, limits: InputLimits = DEFAULT_LIMITS) -> None:
        self._endpoint = check_endpoint(endpoint)
        if not isinstance(limits, InputLimits):
            raise InvalidParameterError("limits", f"expected InputLimits, got {type(limits).__name__}")
        self._limits = limits
        self._lines: list[bytes] = []
        self._ids: dict[str, int] = {}
        self._size = 0
        self._inputs = 0
        self._models = _ModelCheck()

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def limits(self) -> InputLimits:
        return self._limits

    @property
    def size_bytes(self) -> int:
        """The size of the JSONL file `write` produces."""
        return self._size

    @property
    def embedding_inputs(self) -> int:
        """Embedding inputs over all requests (0 unless the endpoint is /v1/embeddings)."""
        return self._inputs

    @property
    def custom_ids(self) -> AbstractSet[str]:
        """A live, read-only set view of the custom_ids added so far."""
        return self._ids.keys()

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[BatchRequest]:
        for data in self._lines:
            d = json.loads(data)
            yield BatchRequest(custom_id=d["custom_id"], method=d["method"], url=d["url"], body=d["body"])

    def __repr__(self) -> str:
        return f"BatchInput({self._endpoint!r}, requests={len(self)}, size_bytes={self._size})"

    def add(self, request: BatchRequest | Mapping[str, Any]) -> None:
        """Check one request (a BatchRequest or a line as a dict) and append it; BatchInputError if refused.

        Args:
            request: A `BatchRequest`, or a line as a dict.

        Raises:
            BatchInputError: The request is malformed, targets another endpoint or model rules forbid, repeats a
                custom_id, or would take the batch past its limits.
        """
        number = len(self._lines) + 1
        line = _prepare(request, number, self._endpoint)
        if line.custom_id in self._ids:
            raise _duplicate(line.custom_id, number, self._ids[line.custom_id])
        self._check_fits(line, number)
        self._models.check(line.model, number, line.custom_id)
        self._append(line)

    def extend(self, requests: Iterable[BatchRequest | Mapping[str, Any]]) -> None:
        """`add` each request in turn; on a refusal the ones before it stay added.

        Args:
            requests: `BatchRequest`s or lines as dicts, read once.

        Raises:
            InvalidParameterError: `requests` is a single request, a string or not iterable.
            BatchInputError: A request was refused, as by `add`.
        """
        for request in _iterable(requests):
            self.add(request)

    def to_bytes(self) -> bytes:
        """The JSONL file `write` produces, in memory.

        Returns:
            Every line, in order, each ending in a line feed.
        """
        return b"".join(self._lines)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSONL to `path` atomically (a temporary file beside it, then a rename) and return the path.

        Args:
            path: The file to write; replaced whole.

        Returns:
            `path`, as a `Path`.

        Raises:
            OSError: The file could not be written.
        """
        target = Path(path)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        # os.open with 0o666 lets the umask decide the mode, as a plain open() would (mkstemp would force 0o600).
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as file:
                file.writelines(self._lines)
                file.flush()
                # Without this a crash soon after the rename can leave an empty file under the final name.
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        return target

    def _check_fits(self, line: _Line, number: int) -> None:
        limits = self._limits
        alone = not self._lines
        if len(self._lines) + 1 > limits.max_requests:
            raise BatchInputError(
                "too_many_requests",
                f"one batch holds at most {limits.max_requests:,} requests (shard_requests splits larger sets)",
                line=number,
                custom_id=line.custom_id,
            )
        size = self._size + len(line.data)
        if size > limits.max_bytes:
            what = f"this line alone is {size:,} bytes" if alone else f"the JSONL would reach {size:,} bytes"
            raise BatchInputError(
                "too_large",
                f"{what}; one batch input file holds at most {limits.max_bytes:,} bytes",
                line=number,
                custom_id=line.custom_id,
            )
        inputs = self._inputs + line.embedding_inputs
        if inputs > limits.max_embedding_inputs:
            what = f"this request alone has {inputs:,}" if alone else f"the batch would reach {inputs:,}"
            raise BatchInputError(
                "too_many_embedding_inputs",
                f"{what} embedding inputs; one batch holds at most {limits.max_embedding_inputs:,}",
                line=number,
                custom_id=line.custom_id,
            )

    def _fits(self, line: _Line) -> bool:
        limits = self._limits
        return (
            len(self._lines) < limits.max_requests
            and self._size + len(line.data) <= limits.max_bytes
            and self._inputs + line.embedding_inputs <= limits.max_embedding_inputs
        )

    def _append(self, line: _Line) -> None:
        self._lines.append(line.data)
        self._ids[line.custom_id] = len(self._lines)
        self._size += len(line.data)
        self._inputs += line.embedding_inputs


def shard_requests(
    requests: Iterable[BatchRequest | Mapping[str, Any]],
    endpoint: EndpointParam | str,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
) -> Iterator[BatchInput]:
    """Split requests, in order, into as few consecutive `BatchInput`s as fit the limits (greedy).

    Every request is checked before the first shard is returned, so a bad one (a custom_id repeated in any shard, a
    request too big for any batch) raises BatchInputError before anything could be uploaded. `line` in an error
    counts over all the requests, not within a shard.

    Args:
        requests: `BatchRequest`s or lines as dicts, read once.
        endpoint: The endpoint every request targets.
        limits: What one batch accepts; the service's limits by default.

    Returns:
        The shards, in order; each fits one batch.

    Raises:
        InvalidParameterError: `endpoint` or `requests` was refused.
        BatchInputError: A request is malformed, repeats a custom_id, or is too big for any batch.
    """
    target = check_endpoint(endpoint)
    shards: list[BatchInput] = []
    current = BatchInput(target, limits=limits)
    seen: dict[str, int] = {}
    models = _ModelCheck()
    for index, request in enumerate(_iterable(requests)):
        number = index + 1
        line = _prepare(request, number, target)
        if line.custom_id in seen:
            raise _duplicate(line.custom_id, number, seen[line.custom_id])
        models.check(line.model, number, line.custom_id)
        if not current._fits(line):
            if len(current):
                shards.append(current)
                current = BatchInput(target, limits=limits)
            # An empty shard that cannot take the request means no batch can: raises with this request's line.
            current._check_fits(line, number)
        current._append(line)
        seen[line.custom_id] = number
    if len(current):
        shards.append(current)
    return iter(shards)


@attrs.frozen(kw_only=True)
class FileSummary:
    """What `validate_file` found in a valid batch input file."""

    path: Path
    endpoint: str | None
    """The endpoint every line targets; None only for a file without requests and no endpoint given."""
    requests: int
    size_bytes: int
    embedding_inputs: int
    custom_ids: frozenset[str] = attrs.field(repr=False)


def read_requests(
    path: str | os.PathLike[str],
    *,
    endpoint: EndpointParam | str | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> Iterator[BatchRequest]:
    """Stream the requests of a JSONL file, checking each line as it is read (BatchInputError names the line).

    Blank lines are skipped but counted. Without `endpoint`, the first request's url sets it.

    Args:
        path: The JSONL file.
        endpoint: The endpoint every line must target; the first request's url when None.
        limits: What one batch accepts; the service's limits by default.

    Returns:
        The requests, read lazily: the errors come as the iteration reaches them.

    Raises:
        InvalidParameterError: `path` or `limits` is not what it should be.
        BatchInputError: A line breaks the service's rules (raised during iteration, naming the line).
        OSError: The file could not be read.
    """
    return iter(_FileScan(path, endpoint, limits))


def validate_file(
    path: str | os.PathLike[str],
    *,
    endpoint: EndpointParam | str | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> FileSummary:
    """Check a whole JSONL file as the service would, one line at a time (memory stays flat but for the ids).

    Args:
        path: The JSONL file.
        endpoint: The endpoint every line must target; the first request's url when None.
        limits: What one batch accepts; the service's limits by default.

    Returns:
        What the file holds: its endpoint, requests, size, embedding inputs and custom_ids.

    Raises:
        InvalidParameterError: `path` or `limits` is not what it should be.
        BatchInputError: A line breaks the service's rules; the error names it.
        OSError: The file could not be read.
    """
    scan = _FileScan(path, endpoint, limits)
    for _ in scan:
        pass
    return FileSummary(
        path=scan.path,
        endpoint=scan.endpoint,
        requests=len(scan.ids),
        size_bytes=scan.size,
        embedding_inputs=scan.inputs,
        custom_ids=frozenset(scan.ids),
    )


class _FileScan:
    def __init__(self, path: str | os.PathLike[str], endpoint: object, limits: InputLimits) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidParameterError("path", f"expected a file path, got {type(path).__name__}")
        if not isinstance(limits, InputLimits):
            raise InvalidParameterError("limits", f"expected InputLimits, got {type(limits).__name__}")
        self.path = Path(path)
        self.endpoint = None if endpoint is None else check_endpoint(endpoint)
        self.limits = limits
        self.ids: dict[str, int] = {}
        self.size = 0
        self.inputs = 0
        self.models = _ModelCheck()

    def __iter__(self) -> Iterator[BatchRequest]:
        limits = self.limits
        with self.path.open("rb") as file:
            number = 0
            while True:
                # Never read more than the limit allows: one 5 GB line must not be loaded to learn it is too big.
                raw = file.readline(limits.max_bytes - self.size + 1)
                if not raw:
                    return
                number += 1
                self.size += len(raw)
                if self.size > limits.max_bytes:
                    raise self._error(
                        "too_large",
                        f"the file is larger than {limits.max_bytes:,} bytes, the most one batch takes",
                        number,
                    )
                if raw.isspace():
                    continue
                parsed = self._parse(raw, number)
                if self.endpoint is None and isinstance(parsed, dict) and isinstance(parsed.get("url"), str):
                    self.endpoint = parsed["url"]
                request = BatchRequest._build(parsed, number, self.path)
                _check_fields(request, number, self.endpoint, self.path)
                custom_id = request.custom_id
                if custom_id in self.ids:
                    raise _duplicate(custom_id, number, self.ids[custom_id], self.path)
                self.models.check(_model_of(request.body), number, custom_id, self.path)
                if len(self.ids) + 1 > limits.max_requests:
                    raise self._error(
                        "too_many_requests",
                        f"one batch holds at most {limits.max_requests:,} requests",
                        number,
                        custom_id,
                    )
                if request.url == EMBEDDINGS_ENDPOINT:
                    self.inputs += _embedding_inputs(request.body)
                    if self.inputs > limits.max_embedding_inputs:
                        raise self._error(
                            "too_many_embedding_inputs",
                            f"the file reaches {self.inputs:,} embedding inputs; one batch holds at most "
                            f"{limits.max_embedding_inputs:,}",
                            number,
                            custom_id,
                        )
                self.ids[custom_id] = number
                yield request

    def _parse(self, raw: bytes, number: int) -> object:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self._error("invalid_json", f"not valid UTF-8 (byte {error.start + 1} of the line)", number) from None
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as error:
            raise self._error("invalid_json", f"not valid JSON: {error.msg} (column {error.colno})", number) from None
        except ValueError as error:
            raise self._error("invalid_json", f"not valid JSON: {error}", number) from None
        except RecursionError:
            raise self._error("invalid_json", "not valid JSON: nested too deeply", number) from None

    def _error(self, reason: str, message: str, number: int, custom_id: str | None = None) -> BatchInputError:
        return BatchInputError(reason, message, line=number, custom_id=custom_id, path=self.path)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _prepare(request: object, number: int, endpoint: str) -> _Line:
    if not isinstance(request, BatchRequest):
        request = BatchRequest._build(request, number, None)
    return _encode(request, number, endpoint)


def _encode(request: BatchRequest, number: int | None, endpoint: str | None) -> _Line:
    _check_fields(request, number, endpoint, None)
    try:
        data = (_ENCODER.encode(request.to_dict()) + "\n").encode("utf-8")
    except (TypeError, ValueError, RecursionError) as error:
        # ValueError covers NaN, circular references and lone surrogates (UnicodeEncodeError).
        if isinstance(error, UnicodeEncodeError):
            problem = "it has characters that cannot be encoded as UTF-8 (lone surrogates)"
        else:
            problem = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise BatchInputError(
            "invalid_json", f"body cannot be sent as JSON: {problem}", line=number, custom_id=request.custom_id
        ) from None
    inputs = _embedding_inputs(request.body) if request.url == EMBEDDINGS_ENDPOINT else 0
    return _Line(data, request.custom_id, inputs, _model_of(request.body))


def _check_fields(request: BatchRequest, number: int | None, endpoint: str | None, path: Path | None) -> None:
    custom_id: object = request.custom_id
    if not isinstance(custom_id, str) or not custom_id:
        shown = "an empty string" if custom_id == "" else _kind(custom_id)
        raise BatchInputError(
            "bad_custom_id", f"custom_id must be a non-empty string, got {shown}", line=number, path=path
        )
    if not _is_utf8(custom_id):
        raise BatchInputError(
            "bad_custom_id", "custom_id has characters that cannot be encoded as UTF-8", line=number, path=path
        )
    if request.method != "POST":
        raise BatchInputError(
            "bad_method",
            f"method must be 'POST', the only one batches support, got {request.method!r}",
            line=number,
            custom_id=custom_id,
            path=path,
        )
    url: object = request.url
    if not isinstance(url, str):
        raise BatchInputError(
            "wrong_endpoint", f"url must be a string, got {_kind(url)}", line=number, custom_id=custom_id, path=path
        )
    if endpoint is not None and url != endpoint:
        raise BatchInputError(
            "wrong_endpoint",
            f"url is {url!r} but the batch is for {endpoint!r}; every line must target the batch's endpoint",
            line=number,
            custom_id=custom_id,
            path=path,
        )
    body: object = request.body
    if not isinstance(body, Mapping):
        raise BatchInputError(
            "body_not_object",
            f"body must be a JSON object (a dict), got {_kind(body)}",
            line=number,
            custom_id=custom_id,
            path=path,
        )
    for key in body:
        if not isinstance(key, str):
            raise BatchInputError(
                "body_not_object",
                f"body keys must be strings, got {key!r}",
                line=number,
                custom_id=custom_id,
                path=path,
            )


def _embedding_inputs(body: Mapping[str, Any]) -> int:
    """How many inputs the service counts: a string or one token array is one, a list of either is its length."""
    value = body.get("input")
    if value is None:
        return 0
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return 1
        return len(value)
    return 1


def _duplicate(custom_id: str, number: int, first: int, path: Path | None = None) -> BatchInputError:
    return BatchInputError(
        "duplicate_custom_id",
        f"custom_id {_show(custom_id)} is already used on line {first}; custom_ids must be unique in a batch",
        line=number,
        custom_id=custom_id,
        path=path,
    )


def check_endpoint(endpoint: object) -> str:
    """The endpoint as its string (`BatchEndpoint` members too), or InvalidParameterError.

    Args:
        endpoint: A string such as `/v1/chat/completions`, or a `BatchEndpoint`.

    Returns:
        The endpoint's string.

    Raises:
        InvalidParameterError: `endpoint` is not a non-empty string.
    """
    value = endpoint.value if isinstance(endpoint, Enum) else endpoint
    if not isinstance(value, str) or not value or not _is_utf8(value):
        raise InvalidParameterError("endpoint", f"expected an endpoint such as '/v1/chat/completions', got {value!r}")
    return value


def _iterable(requests: Iterable[_T]) -> Iterable[_T]:
    # A single dict or a string is iterable too, and would fail one confusing key or character at a time.
    if isinstance(requests, str | bytes | bytearray | Mapping | BatchRequest) or not isinstance(requests, Iterable):
        raise InvalidParameterError(
            "requests", f"expected an iterable of BatchRequests or dicts, got {type(requests).__name__}"
        )
    return requests


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(value: object) -> str:
    return "null" if value is None else f"{type(value).__name__} {_show(value)}"


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
