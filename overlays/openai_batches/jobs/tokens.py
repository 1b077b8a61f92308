"""Estimated input tokens per request: what the service counts against an organisation's enqueued-token limit.

The service's batch queue limit counts the *input* tokens of the batches in progress per model (the prompt, not
the answer), so that is what a job estimates, once per request when it is created, and stores.

Two estimators:

- `HeuristicEstimator` (the default, no dependency): the text a request sends (message contents, a Responses
  `input` and `instructions`, embedding or moderation inputs, a completions prompt, tool definitions as JSON) at one
  token per 4 characters, rounded up per piece, plus 3 tokens per chat message and 3 to prime the reply, as the
  OpenAI cookbook counts them. Token arrays count one token per element. Images and audio count nothing. Bodies of
  other endpoints count their whole JSON at 4 characters a token. English text comes out a little above what a
  tokenizer finds, which is the safe side for a budget.
- `TiktokenEstimator`, chosen automatically when `tiktoken` is installed (the `[tokens]` extra, `pip install
  '.[tokens]'` from the repository folder): the same pieces counted with the model's encoding (o200k_base for models
  tiktoken does not know). If an encoding cannot be loaded (tiktoken fetches them once, so an offline machine may
  lack them), that model falls back to the heuristic.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

logger = logging.getLogger("openai_batches")

__all__ = ["HeuristicEstimator", "TiktokenEstimator", "TokenEstimator", "default_estimator", "request_pieces"]

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING_TOKENS = 3
FALLBACK_ENCODING = "o200k_base"
# Chat fields besides the messages that reach the model as input.
_CHAT_EXTRAS = ("tools", "functions", "response_format")


class TokenEstimator(Protocol):
    """Estimated input tokens of one request body sent to `endpoint`."""

    name: str

    def __call__(self, endpoint: str, body: Mapping[str, Any]) -> int: ...


def _texts(value: object) -> Iterator[str | int]:
    """Text pieces of a content value: a string, or a list of parts (text parts count; other parts do not).

    An int yielded is a count of tokens already known (a token array).
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            yield len(value)
            return
        for item in value:
            if isinstance(item, str):
                yield item
            elif isinstance(item, list):
                yield from _texts(item)
            elif isinstance(item, Mapping):
                text = item.get("text")
                if isinstance(text, str):
                    yield text
                elif "content" in item:
                    yield from _texts(item["content"])


def request_pieces(endpoint: str, body: Mapping[str, Any]) -> tuple[list[str], int]:
    """The texts a request sends to the model, and the tokens counted without a tokenizer (overheads, arrays)."""
    texts: list[str] = []
    fixed = 0

    def take(value: object) -> None:
        nonlocal fixed
        for piece in _texts(value):
            if isinstance(piece, int):
                fixed += piece
            else:
                texts.append(piece)

    if endpoint == "/v1/chat/completions":
        messages = body.get("messages")
        for message in messages if isinstance(messages, list) else []:
            if not isinstance(message, Mapping):
                continue
            fixed += TOKENS_PER_MESSAGE
            take(message.get("content"))
            if isinstance(message.get("name"), str):
                texts.append(message["name"])
        fixed += REPLY_PRIMING_TOKENS
        for extra in _CHAT_EXTRAS:
            if body.get(extra) is not None:
                texts.append(json.dumps(body[extra], separators=(",", ":")))
    elif endpoint == "/v1/responses":
        take(body.get("instructions"))
        take(body.get("input"))
        if body.get("tools") is not None:
            texts.append(json.dumps(body["tools"], separators=(",", ":")))
    elif endpoint in ("/v1/embeddings", "/v1/moderations"):
        take(body.get("input"))
    elif endpoint == "/v1/completions":
        take(body.get("prompt"))
    else:
        texts.append(json.dumps(body, separators=(",", ":"), default=str))
    return texts, fixed


class HeuristicEstimator:
    """One token per 4 characters of the text a request sends, plus the chat overheads; no dependency."""

    name = "heuristic"

    def __call__(self, endpoint: str, body: Mapping[str, Any]) -> int:
        texts, fixed = request_pieces(endpoint, body)
        return fixed + sum(math.ceil(len(text) / CHARS_PER_TOKEN) for text in texts)


class TiktokenEstimator:
    """The model's own encoding, through tiktoken (the `[tokens]` extra)."""

    name = "tiktoken"

    def __init__(self, module: Any | None = None) -> None:
        self._tiktoken = module if module is not None else importlib.import_module("tiktoken")
        self._encoders: dict[str, Callable[[str], int] | None] = {}
        self._heuristic = HeuristicEstimator()

    def _encoder(self, model: str) -> Callable[[str], int] | None:
        if model not in self._encoders:
            self._encoders[model] = self._load(model)
        return self._encoders[model]

    def _load(self, model: str) -> Callable[[str], int] | None:
        try:
            try:
                encoding = self._tiktoken.encoding_for_model(model)
            except KeyError:
                encoding = self._tiktoken.get_encoding(FALLBACK_ENCODING)
        except Exception as exc:  # tiktoken downloads encodings on first use; offline that fails in many ways
            logger.warning(
                "tiktoken cannot load an encoding for %r (%s); estimating its tokens by characters", model, exc
            )
            return None

        def count(text: str) -> int:
            return len(encoding.encode(text, disallowed_special=()))

        return count

    def __call__(self, endpoint: str, body: Mapping[str, Any]) -> int:
        model = body.get("model")
        encoder = self._encoder(model if isinstance(model, str) else "")
        if encoder is None:
            return self._heuristic(endpoint, body)
        texts, fixed = request_pieces(endpoint, body)
        return fixed + sum(encoder(text) for text in texts)


def default_estimator() -> TokenEstimator:
    """tiktoken's count when the `[tokens]` extra is installed, else the character heuristic."""
    try:
        return TiktokenEstimator()
    except ImportError:
        return HeuristicEstimator()
