"""File listings that read only what they show (issue 20, finding 6): a page's work does not grow with the table.

Before, a page walked the owner's index of every file and filtered the rest row by row: a `purpose=` page stepped
over every file of another purpose, and every listing over deleted and expired files. Each test here asserts
structure, never speed (`make bench` measures that): the pages are what they were (against a reference computed
from every row), the query plan searches an index with no sort, SQLite does the same work for a page whatever
else the table holds, and an existing data directory gains the indexes when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import storage as storage_module
from openai_batches_server.records import FileRecord, file_object
from openai_batches_server.storage import Storage

from .support import upload

OWNER, OTHER = "owner-a", "owner-b"
NOW = 1_700_000_000
PURPOSES = ("batch", "user_data", "fine-tune")


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    made = Storage(tmp_path / "data")
    yield made
    made.close()


def add(storage: Storage, file_id: str, *, owner: str = OWNER, purpose: str = "batch", expires_at: int | None = None,
        filename: str | None = None, size: int = 5) -> FileRecord:  # fmt: skip
    record = FileRecord(
        file_id, owner, size, NOW, expires_at, filename or f"{file_id}.jsonl", purpose, f"files/{file_id}"
    )
    storage.blob(record.path).write_bytes(b"x" * min(size, 16))
    storage.add_file(record)
    return record


def every_row(storage: Storage) -> list[FileRecord]:
    return [storage_module._file_from_row(row) for row in storage._query("SELECT * FROM files ORDER BY seq")]


def reference(
    rows: list[FileRecord], owner: str, *, purpose: str | None, limit: int, ascending: bool, after: str | None
) -> tuple[list[str], bool]:
    """The page the API defines, computed from every row with no index: the owner's files still present, in
    creation order (newest first unless ascending), after the cursor's place (empty for an id the owner never had)."""
    mine = [row for row in rows if row.owner == owner]
    visible = [
        row
        for row in mine
        if not row.deleted and (row.expires_at is None or row.expires_at > NOW) and purpose in (None, row.purpose)
    ]
    visible.sort(key=lambda row: row.seq, reverse=not ascending)
    if after is not None:
        cursor = [row.seq for row in mine if row.id == after]
        if not cursor:
            return [], False
        visible = [row for row in visible if (row.seq > cursor[0] if ascending else row.seq < cursor[0])]
    return [row.id for row in visible[:limit]], len(visible) > limit


def mixed_table(storage: Storage) -> None:
    """Sixty files of one owner among another's: three purposes, some deleted, some expired, some swept."""
    for number in range(60):
        file_id = f"file-{number:03d}"
        expired = number % 11 == 4
        add(storage, file_id, purpose=PURPOSES[number % 3], expires_at=NOW - 1 if expired else None)
        add(storage, f"file-other-{number:03d}", owner=OTHER, purpose=PURPOSES[number % 2])
        if expired:
            continue
        if number % 7 == 3:
            assert storage.remove_file(OWNER, file_id, NOW)
        elif number % 13 == 5:
            assert storage.delete_file(OWNER, file_id, NOW)  # marked only: its bytes wait for the sweep
    for record in storage.files_to_sweep(NOW)[::2]:
        storage.mark_blob_removed(record.id)


def test_pages_are_the_pages_the_api_defines_for_every_filter_and_cursor(storage: Storage) -> None:
    mixed_table(storage)
    rows = every_row(storage)
    cursors: list[str | None] = [None, "file-unknown", "file-other-007", *(f"file-{n:03d}" for n in range(60))]
    checked = 0
    for purpose in (None, *PURPOSES, "vision"):
        for ascending in (False, True):
            for limit in (1, 2, 7, 10_000):
                for after in cursors:
                    expected = reference(rows, OWNER, purpose=purpose, limit=limit, ascending=ascending, after=after)
                    options: dict[str, Any] = {"purpose": purpose, "limit": limit, "ascending": ascending}
                    records, more = storage.list_files(OWNER, now=NOW, after=after, **options)
                    assert ([record.id for record in records], more) == expected, (purpose, ascending, limit, after)
                    page = storage.file_page(OWNER, now=NOW, after=after, **options)
                    assert [json.loads(text) for text in page.objects] == [file_object(r) for r in records]
                    ids = expected[0]
                    assert (page.first_id, page.last_id, page.has_more) == (
                        ids[0] if ids else None,
                        ids[-1] if ids else None,
                        expected[1],
                    )
                    checked += 1
    assert checked == 5 * 2 * 4 * 63


def test_a_cursor_at_a_deleted_or_expired_file_still_marks_its_place(storage: Storage) -> None:
    for number in range(6):
        add(storage, f"file-{number}", expires_at=NOW - 1 if number == 2 else None)
    assert storage.remove_file(OWNER, "file-3", NOW)

    def ids(after: str, ascending: bool) -> list[str]:
        page = storage.file_page(OWNER, now=NOW, purpose=None, limit=10, ascending=ascending, after=after)
        return [json.loads(text)["id"] for text in page.objects]

    assert ids("file-3", False) == ["file-1", "file-0"]
    assert ids("file-3", True) == ["file-4", "file-5"]
    assert ids("file-2", True) == ["file-4", "file-5"]


ODD_NAMES = [
    'a "quoted" name with \\ backslashes',
    "line\nbreak\ttab\rreturn",
    "control \x00\x01\x1f and \x7f",
    "emoji 😀, 中文, עברית",
    "separators \u2028\u2029",
    "'; DROP TABLE files; --",
    "x" * 5000,
]


@pytest.mark.parametrize("in_sql", [True, False], ids=["json-in-sqlite", "json-in-python"])
def test_the_objects_built_in_sqlite_are_file_object_exactly(storage: Storage, in_sql: bool) -> None:
    # Built from the same table of fields as `file_object`; the Python route is what an SQLite without its JSON
    # functions takes.
    if not in_sql:
        storage._json_in_sql = False
    records = [add(storage, f"file-odd-{n}", filename=name) for n, name in enumerate(ODD_NAMES)]
    records.append(add(storage, "file-expiring", expires_at=NOW + 2**40, size=2**53))
    records.append(add(storage, "file-empty", size=0, purpose="user_data"))
    page = storage.file_page(OWNER, now=NOW, purpose=None, limit=100, ascending=True, after=None)
    assert [json.loads(text) for text in page.objects] == [file_object(record) for record in records]
    assert [list(json.loads(text)) for text in page.objects] == [list(file_object(r)) for r in records]


def test_the_list_endpoint_shows_what_retrieve_shows_for_odd_filenames(client: httpx.Client) -> None:
    names = ["back\\slash.jsonl", "zeichen äöü 😀.jsonl", "semi;colon 'single'.jsonl"]
    files = [upload(client, b"{}\n", filename=name, purpose="user_data") for name in names]
    listed = client.get("/files", params={"order": "asc"})
    assert listed.headers["content-type"] == "application/json"
    body = listed.json()
    assert body == {
        "object": "list",
        "data": [client.get(f"/files/{file['id']}").json() for file in files],
        "first_id": files[0]["id"],
        "last_id": files[-1]["id"],
        "has_more": False,
    }
    assert [file["filename"] for file in body["data"]] == names


def test_walking_pages_over_http_in_both_orders_and_by_purpose(client: httpx.Client) -> None:
    made = [upload(client, f"{n}\n".encode(), purpose="batch" if n % 3 else "user_data")["id"] for n in range(25)]
    for file_id in made[5:9]:
        assert client.delete(f"/files/{file_id}").status_code == 200
    present = [file_id for file_id in made if file_id not in made[5:9]]

    def walk(**params: Any) -> list[str]:
        seen: list[str] = []
        while True:
            page = client.get("/files", params={**params, **({"after": seen[-1]} if seen else {})}).json()
            ids = [item["id"] for item in page["data"]]
            assert (page["first_id"], page["last_id"]) == ((ids[0], ids[-1]) if ids else (None, None))
            seen += ids
            if not page["has_more"]:
                return seen

    assert walk(limit=4) == present[::-1]
    assert walk(limit=4, order="asc") == present
    user_data = [file_id for n, file_id in enumerate(made) if n % 3 == 0 and file_id in present]
    assert walk(limit=2, purpose="user_data") == user_data[::-1]
    after_deleted = client.get("/files", params={"after": made[6], "order": "asc", "limit": 3}).json()
    assert [item["id"] for item in after_deleted["data"]] == made[9:12]


# --- the query plan --------------------------------------------------------------------------------------------


def captured_pages(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """The page queries the storage runs from now on, as (SQL, parameters)."""
    seen: list[tuple[str, list[Any]]] = []
    page = storage._page

    def capture(sql: str, params: list[Any], limit: int) -> tuple[list[sqlite3.Row], bool]:
        seen.append((f"{sql} LIMIT ?", [*params, limit + 1]))
        return page(sql, params, limit)

    monkeypatch.setattr(storage, "_page", capture)
    return seen


def plan(storage: Storage, sql: str, params: list[Any]) -> list[str]:
    return [row["detail"] for row in storage._query(f"EXPLAIN QUERY PLAN {sql}", params)]


LISTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("newest first", {"purpose": None, "ascending": False, "after": None}, "files_live"),
    ("oldest first", {"purpose": None, "ascending": True, "after": None}, "files_live"),
    ("after a cursor", {"purpose": None, "ascending": False, "after": "file-b-0010"}, "files_live"),
    ("after a cursor, oldest first", {"purpose": None, "ascending": True, "after": "file-b-0010"}, "files_live"),
    ("by purpose", {"purpose": "batch", "ascending": False, "after": None}, "files_live_by_purpose"),
    ("by purpose after a cursor", {"purpose": "batch", "ascending": True, "after": "file-b-0010"},
     "files_live_by_purpose"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "options", "index"), LISTINGS, ids=[listing[0] for listing in LISTINGS])
def test_a_page_searches_its_index_in_order_with_no_scan_and_no_sort(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, name: str, options: dict[str, Any], index: str
) -> None:
    for number in range(40):
        add(storage, f"file-b-{number:04d}")
        add(storage, f"file-u-{number:04d}", purpose="user_data")
    queries = captured_pages(storage, monkeypatch)
    storage.file_page(OWNER, now=NOW, limit=10, **options)
    storage.list_files(OWNER, now=NOW, limit=10, **options)
    assert len(queries) == 2
    for sql, params in queries:
        details = plan(storage, sql, params)
        assert details == [details[0]] and details[0].startswith(f"SEARCH files USING INDEX {index} (owner=?"), details
        if options["purpose"]:
            assert "purpose=?" in details[0]
        if options["after"]:
            assert ("seq>?" if options["ascending"] else "seq<?") in details[0]


def test_a_removal_still_waiting_to_be_recorded_keeps_the_plan(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(20):
        add(storage, f"file-b-{number:04d}")
    storage._unrecorded.update({"file-b-0003", "file-b-0004"})
    monkeypatch.setattr(storage, "_record_unrecorded", lambda: None)  # the disk stays full: they stay unrecorded
    queries = captured_pages(storage, monkeypatch)
    page = storage.file_page(OWNER, now=NOW, purpose="batch", limit=100, ascending=True, after=None)
    shown = [json.loads(text)["id"] for text in page.objects]
    assert shown == [f"file-b-{number:04d}" for number in range(20) if number not in (3, 4)]
    (details,) = [plan(storage, sql, params) for sql, params in queries]
    assert details[0].startswith("SEARCH files USING INDEX files_live_by_purpose"), details
    assert not any(detail.startswith("SCAN") or "TEMP B-TREE" in detail for detail in details), details


def test_a_batch_page_searches_the_owners_index_with_no_sort(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_batches_server.records import BatchRecord

    for number in range(30):
        for owner in (OWNER, OTHER):
            storage.add_batch(BatchRecord(f"batch_{owner}_{number}", owner, "/v1/chat/completions", "file-x", "24h",
                                          "completed", NOW, NOW + 86_400))  # fmt: skip
    queries = captured_pages(storage, monkeypatch)
    first, more = storage.list_batches(OWNER, limit=10, after=None)
    assert more and [b.id for b in first] == [f"batch_{OWNER}_{n}" for n in range(29, 19, -1)]
    storage.list_batches(OWNER, limit=10, after=first[-1].id)
    for sql, params in queries:
        assert plan(storage, sql, params) == [
            "SEARCH batches USING INDEX batches_by_owner (owner=?" + (" AND seq<?)" if "seq <" in sql else ")")
        ]


# --- the work of a page ----------------------------------------------------------------------------------------


def vm_steps(storage: Storage, read: Callable[[], object]) -> int:
    """SQLite virtual-machine instructions `read` costs: a count of work that does not depend on the machine."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    storage._db.set_progress_handler(count, 1)
    try:
        read()
    finally:
        storage._db.set_progress_handler(None, 1)
    return steps


def shown_files(storage: Storage, between: Callable[[int], None]) -> None:
    """Thirty files of purpose batch (the page's rows), with `between(n)` called after the n-th."""
    for number in range(30):
        add(storage, f"file-shown-{number:02d}")
        between(number)


def invisible_rows(storage: Storage, number: int) -> None:
    """Rows no listing of OWNER shows: another owner's, removed, deleted while read by no batch, swept after expiry."""
    for extra in range(10):
        add(storage, f"file-x-{number}-{extra}-other", owner=OTHER)
        add(storage, f"file-x-{number}-{extra}-removed")
        storage.remove_file(OWNER, f"file-x-{number}-{extra}-removed", NOW)
        add(storage, f"file-x-{number}-{extra}-expired", expires_at=NOW - 5)
        storage.blob(f"files/file-x-{number}-{extra}-expired").unlink()
        storage.mark_blob_removed(f"file-x-{number}-{extra}-expired")


@pytest.mark.parametrize(
    "options",
    [
        {"purpose": None, "ascending": False, "after": None},
        {"purpose": None, "ascending": True, "after": None},
        {"purpose": None, "ascending": False, "after": "file-shown-20"},
        {"purpose": None, "ascending": True, "after": "file-shown-05"},
        {"purpose": "batch", "ascending": False, "after": None},
        {"purpose": "batch", "ascending": True, "after": "file-shown-05"},
    ],
    ids=["newest", "oldest", "after", "oldest-after", "purpose", "purpose-after"],
)
def test_a_page_costs_the_same_whatever_else_the_table_holds(tmp_path: Path, options: dict[str, Any]) -> None:
    bare = Storage(tmp_path / "bare")
    crowded = Storage(tmp_path / "crowded")
    try:
        # Both tables have an index entry past the page's range (another owner's file, another purpose's), so that
        # reaching the end of the range costs both the same comparison.
        add(bare, "file-past-the-range", owner=OTHER)
        if options["purpose"]:
            add(bare, "file-past-the-purpose", purpose="user_data")
        shown_files(bare, lambda number: None)

        def crowd(number: int) -> None:
            invisible_rows(crowded, number)
            if options["purpose"]:
                for extra in range(10):  # present, but of the purpose the page does not ask for
                    add(crowded, f"file-x-{number}-{extra}-user", purpose="user_data")

        shown_files(crowded, crowd)
        assert crowded._query("SELECT count(*) AS n FROM files")[0]["n"] >= 900
        for limit in (1, 10, 100):
            pages = [
                vm_steps(made, lambda made=made, limit=limit: made.file_page(OWNER, now=NOW, limit=limit, **options))
                for made in (bare, crowded)
            ]
            assert pages[1] == pages[0], f"limit {limit}: {pages[1]} steps among other rows, {pages[0]} without"
            shown = bare.file_page(OWNER, now=NOW, limit=limit, **options)
            assert crowded.file_page(OWNER, now=NOW, limit=limit, **options) == shown
    finally:
        bare.close()
        crowded.close()


def test_a_page_fetches_at_most_one_row_beyond_its_limit(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(50):
        add(storage, f"file-{number:03d}")
    queries = captured_pages(storage, monkeypatch)
    for limit in (1, 10, 49, 50, 10_000):
        storage.file_page(OWNER, now=NOW, purpose=None, limit=limit, ascending=False, after=None)
        sql, params = queries[-1]
        assert sql.endswith("LIMIT ?") and params[-1] == limit + 1
        assert len(storage._query(sql, params)) == min(limit + 1, 50)


# --- an existing data directory ----------------------------------------------------------------------------------


def old_data_dir(path: Path) -> None:
    """A data directory as the server before issue 20 left it: one owner index, no partial ones, user_version 0,
    and an expired file its sweep freed with `deleted` still 0."""
    (path / "files").mkdir(parents=True)
    db = sqlite3.connect(path / "state.sqlite3", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(storage_module._SCHEMA + "CREATE INDEX files_by_owner ON files (owner, seq);")
        rows = [
            (f"file-{n:03d}", OWNER if n % 4 else OTHER, PURPOSES[n % 3], NOW - 1 if n == 9 else None, int(n == 9))
            for n in range(40)
        ]
        for file_id, owner, purpose, expires_at, swept in rows:
            db.execute(
                "INSERT INTO files (id, owner, bytes, created_at, expires_at, filename, purpose, path, blob_removed)"
                " VALUES (?, ?, 1, ?, ?, 'in.jsonl', ?, ?, ?)",
                (file_id, owner, NOW, expires_at, purpose, f"files/{file_id}", swept),
            )
            if not swept:
                (path / "files" / file_id).write_bytes(b"x")
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    finally:
        db.close()


def indexes(storage: Storage) -> set[str]:
    return {row["name"] for row in storage._query("PRAGMA index_list(files)") if row["origin"] == "c"}


def test_opening_an_old_data_directory_adds_the_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    old_data_dir(data)
    storage = Storage(data)
    try:
        assert indexes(storage) == {"files_live", "files_live_by_purpose"}
        assert storage._query("PRAGMA user_version")[0][0] == len(storage_module._MIGRATIONS)
        swept = storage.file_by_id("file-009")
        assert swept is not None and swept.deleted and swept.blob_removed, "a swept file leaves the live indexes"
        rows = every_row(storage)
        for purpose in (None, "batch"):
            for ascending in (False, True):
                expected = reference(rows, OWNER, purpose=purpose, limit=100, ascending=ascending, after=None)
                page = storage.file_page(OWNER, now=NOW, purpose=purpose, limit=100, ascending=ascending, after=None)
                assert [json.loads(text)["id"] for text in page.objects] == expected[0]
        queries = captured_pages(storage, monkeypatch)
        storage.file_page(OWNER, now=NOW, purpose="batch", limit=5, ascending=False, after=None)
        assert "files_live_by_purpose" in plan(storage, *queries[0])[0]
    finally:
        storage.close()
    again = Storage(data)  # the step is not taken twice
    try:
        assert indexes(again) == {"files_live", "files_live_by_purpose"}
        assert len(every_row(again)) == 40
    finally:
        again.close()
