"""What every endpoint shares: configuration, storage, the clock, and a way to nudge the batch runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import ServerConfig
from .storage import Storage


@dataclass(frozen=True)
class Context:
    config: ServerConfig
    storage: Storage
    wake_runner: Callable[[], None]

    def now(self) -> float:
        return self.config.clock()
