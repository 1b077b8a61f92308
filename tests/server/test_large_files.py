"""A 50 MB upload and download pass through the server in pieces: traced memory stays far below the file size.

tracemalloc counts every Python allocation in the process (server threads and the httpx client alike), so the peak
is a size measurement, not a timing: reading the upload or the download whole would push it past 50 MB.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import httpx

SIZE = 50 * 1024 * 1024
PEAK_LIMIT = 8 * 1024 * 1024


def _big_file(path: Path) -> str:
    line = b'{"custom_id": "x", "pad": "' + b"a" * 994 + b'"}\n'
    digest = hashlib.sha256()
    assert len(line) == 1024
    with path.open("wb") as out:
        for _ in range(SIZE // len(line)):
            out.write(line)
            digest.update(line)
    return digest.hexdigest()


def test_50_mb_upload_and_download_keep_memory_flat(client: httpx.Client, tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    expected = _big_file(source)
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            response = client.post("/files", files={"file": ("big.jsonl", handle)}, data={"purpose": "batch"})
        _, upload_peak = tracemalloc.get_traced_memory()
        assert response.status_code == 200, response.text
        file = response.json()
        assert file["bytes"] == SIZE

        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        received = 0
        with client.stream("GET", f"/files/{file['id']}/content") as stream:
            assert stream.headers["content-length"] == str(SIZE)
            for chunk in stream.iter_bytes():
                digest.update(chunk)
                received += len(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == SIZE
    assert digest.hexdigest() == expected
    assert upload_peak < PEAK_LIMIT, f"upload peaked at {upload_peak / 1e6:.1f} MB"
    assert download_peak < PEAK_LIMIT, f"download peaked at {download_peak / 1e6:.1f} MB"
