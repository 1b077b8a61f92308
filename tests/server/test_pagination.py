"""Cursor pagination exactly like the real lists: `after`, `limit`, `has_more`, `first_id`, `last_id`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .support import CHAT, assert_error, chat_line, jsonl, upload


def walk(client: httpx.Client, path: str, **params: Any) -> list[list[str]]:
    """Every page's ids, following `after=last_id` while `has_more`."""
    pages: list[list[str]] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        page = client.get(path, params=query).json()
        ids = [item["id"] for item in page["data"]]
        assert page["object"] == "list"
        assert page["first_id"] == (ids[0] if ids else None)
        assert page["last_id"] == (ids[-1] if ids else None)
        pages.append(ids)
        if not page["has_more"]:
            return pages
        after = page["last_id"]


@pytest.fixture
def five_files(client: httpx.Client) -> list[str]:
    return [upload(client, f"{n}\n".encode(), purpose="batch" if n % 2 else "user_data")["id"] for n in range(5)]


def test_files_newest_first_by_default(client: httpx.Client, five_files: list[str]) -> None:
    page = client.get("/files").json()
    assert [f["id"] for f in page["data"]] == five_files[::-1]
    assert page["has_more"] is False


def test_files_pages_in_both_orders(client: httpx.Client, five_files: list[str]) -> None:
    newest_first = five_files[::-1]
    assert walk(client, "/files", limit=2) == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert walk(client, "/files", limit=2, order="asc") == [five_files[0:2], five_files[2:4], five_files[4:]]
    assert walk(client, "/files", limit=5) == [newest_first]


def test_files_filtered_by_purpose(client: httpx.Client, five_files: list[str]) -> None:
    assert walk(client, "/files", purpose="batch", limit=1) == [[five_files[3]], [five_files[1]]]
    assert walk(client, "/files", purpose="fine-tune") == [[]]


def test_a_deleted_file_still_works_as_a_cursor(client: httpx.Client, five_files: list[str]) -> None:
    client.delete(f"/files/{five_files[2]}")
    page = client.get("/files", params={"after": five_files[2]}).json()
    assert [f["id"] for f in page["data"]] == [five_files[1], five_files[0]]


def test_empty_list(client: httpx.Client) -> None:
    assert client.get("/files").json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
    assert client.get("/batches").json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("path", "params", "code", "param"),
    [
        ("/files", {"limit": "0"}, "integer_below_min_value", "limit"),
        ("/files", {"limit": "10001"}, "integer_above_max_value", "limit"),
        ("/files", {"limit": "many"}, "invalid_type", "limit"),
        ("/files", {"order": "newest"}, "invalid_value", "order"),
        ("/batches", {"limit": "0"}, "integer_below_min_value", "limit"),
        ("/batches", {"limit": "101"}, "integer_above_max_value", "limit"),
        ("/batches", {"limit": "1.5"}, "invalid_type", "limit"),
    ],
)
def test_bad_list_parameters_are_400(
    client: httpx.Client, path: str, params: dict[str, str], code: str, param: str
) -> None:
    assert_error(client.get(path, params=params), 400, code=code, param=param)


def test_limits_at_the_bounds_are_accepted(client: httpx.Client) -> None:
    for path, limit in (("/files", 1), ("/files", 10_000), ("/batches", 1), ("/batches", 100)):
        assert client.get(path, params={"limit": limit}).status_code == 200


def test_batches_newest_first_twenty_per_page_by_default(client: httpx.Client) -> None:
    file_id = upload(client, jsonl([chat_line("a")]))["id"]
    created = [
        client.post("/batches", json={"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h"}).json()[
            "id"
        ]
        for _ in range(23)
    ]
    newest_first = created[::-1]
    first = client.get("/batches").json()
    assert [b["id"] for b in first["data"]] == newest_first[:20]
    assert first["has_more"] is True
    assert walk(client, "/batches") == [newest_first[:20], newest_first[20:]]
    assert walk(client, "/batches", limit=10) == [newest_first[:10], newest_first[10:20], newest_first[20:]]
    assert walk(client, "/batches", limit=23) == [newest_first]
    # A cursor the server does not know gives an empty page rather than a loop.
    assert client.get("/batches", params={"after": "batch_unknown"}).json()["data"] == []
