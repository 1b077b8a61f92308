"""Fixtures for the local server's tests: an in-process server on a free port and httpx clients for two API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai_batches_server import LocalServer, run_server

from .support import KEY, OTHER_KEY, api_client

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[LocalServer]:
    with run_server(data_dir, api_keys=[KEY, OTHER_KEY], tick=0) as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(server, KEY) as http:
        yield http


@pytest.fixture
def other_client(server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(server, OTHER_KEY) as http:
        yield http
