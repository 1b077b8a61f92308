"""The job report: its numbers are the job's, its strings are escaped, and its size does not grow with the job.

One job runs on the local server (two models, lines that fail at once, lines retried once); another is made in the
store alone, at two sizes, to show the page stays the same size. The page in a real browser is
test_report_browser.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches import BatchClient
from openai_batches.cli import main
from openai_batches.jobs import Job
from openai_batches.jobs.openai_batch_view import view_from_dict
from openai_batches.jobs.report import EXAMPLES, FAILURE_GROUPS, MODEL_LANES, SLOWEST, write_report
from openai_batches.jobs.store import open_store
from report_support import HOSTILE, PRICES, expected_headline, made_up_job, page_numbers, run_job


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Job]:
    yield run_job(tmp_path_factory.mktemp("report-job"))


@pytest.fixture(scope="module")
def page(job: Job, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = job.write_report(tmp_path_factory.mktemp("report-page") / "report.html", prices=PRICES)
    return path.read_text(encoding="utf-8")


def test_the_headline_numbers_are_the_summary(job: Job, page: str) -> None:
    values, _, _ = page_numbers(page)
    summary = job.summary(PRICES)
    assert (summary.succeeded, summary.failed, summary.retried > 0) == (112, 8, True)
    assert {key: values[key] for key in expected_headline(summary)} == expected_headline(summary)
    assert summary.cost is not None and float(values["cost"]) == summary.cost


def test_failures_are_grouped_by_status_and_code_with_examples(job: Job, page: str) -> None:
    _, rows, _ = page_numbers(page)
    (group,) = rows["failures"]
    assert (group["data-outcome"], group["data-status"], group["data-code"]) == (
        "failed",
        "400",
        "invalid_request_error",
    )
    assert int(group["data-value"]) == job.failed == 8 and int(group["data-examples"]) == EXAMPLES
    failed = [r.custom_id for r in job.results() if not r.ok]
    # The examples are the group's first requests in input order, the hostile one among them.
    assert all(f">{custom_id}</code>" in page for custom_id in failed[1:EXAMPLES])
    assert "Failed on purpose" in page, "the first example's message, read from its result line"


def test_a_hostile_custom_id_is_text_not_markup(page: str) -> None:
    _, _, tags = page_numbers(page)
    assert "script" not in tags and HOSTILE not in page
    assert "fail-&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_retries_per_attempt_and_tokens_per_model(job: Job, page: str) -> None:
    _, rows, _ = page_numbers(page)
    summary = job.summary(PRICES)
    attempts = {int(row["data-attempts"]): int(row["data-value"]) for row in rows["attempts"]}
    assert attempts == summary.attempts and set(attempts) == {1, 2}
    models = {row["data-model"]: row for row in rows["models"]}
    assert {name: int(row["data-value"]) for name, row in models.items()} == {"gpt-4o-mini": 60, "gpt-4o": 60}
    assert sum(int(row["data-input-tokens"]) for row in models.values()) == summary.input_tokens
    assert sum(int(row["data-output-tokens"]) for row in models.values()) == summary.output_tokens


def test_every_batch_is_on_the_timeline_and_the_slowest_are_listed(job: Job, page: str) -> None:
    _, rows, _ = page_numbers(page)
    summary = job.summary()
    lanes = rows["lane"]
    assert sum(int(lane["data-batches"]) for lane in lanes) == summary.batches
    assert {lane["data-model"] for lane in lanes} == {"gpt-4o-mini", "gpt-4o"}
    assert all(lane["data-running"] == "0" for lane in lanes), "a finished job has nothing running"
    slowest = [float(row["data-value"]) for row in rows["slowest"]]
    assert len(slowest) == min(SLOWEST, summary.batches) and slowest == sorted(slowest, reverse=True)
    # What the timeline is drawn from: the service's times, recorded as the run polled.
    with open_store(job.state_dir) as store:
        record = store.get_job(job.name)
        assert record is not None
        batches = store.batches(record.id)
    assert all(b.in_progress_at is not None and b.finalizing_at is not None and b.ended_at is not None for b in batches)
    assert all(b.created_at <= b.in_progress_at <= b.finalizing_at <= b.ended_at for b in batches)  # type: ignore[operator]
    assert sum(b.requests_total for b in batches) == summary.attempts_used


def test_the_service_timeline_is_read_from_its_batch_object() -> None:
    view = view_from_dict(
        {
            "id": "batch_1",
            "status": "expired",
            "created_at": 100,
            "in_progress_at": 110,
            "finalizing_at": 200,
            "expired_at": 210,
            "request_counts": {"total": 5, "completed": 3, "failed": 1},
        }
    )
    assert (view.created_at, view.in_progress_at, view.finalizing_at, view.ended_at) == (100.0, 110.0, 200.0, 210.0)
    assert view.progress == ("expired", 3, 1, 5)
    running = view_from_dict({"id": "batch_2", "status": "in_progress", "in_progress_at": 110, "completed_at": None})
    assert (running.in_progress_at, running.finalizing_at, running.ended_at) == (110.0, None, None)


def test_the_report_of_a_job_ten_times_bigger_is_the_same_size(tmp_path: Path) -> None:
    sizes = {}
    for requests in (1_000, 10_000):
        # Batches of 12: both sizes have more batches per model than the timeline has lanes.
        store, record = made_up_job(tmp_path / str(requests), requests, batch_size=12, custom_id_length=120)
        target = tmp_path / f"report-{requests}.html"
        with store:
            write_report(store, record, target, PRICES)
        page = target.read_text(encoding="utf-8")
        values, rows, _ = page_numbers(page)
        assert values["requests"] == str(requests) and int(values["failed"]) == len(range(1, requests, 3))
        assert len(rows["failures"]) == FAILURE_GROUPS, "the largest groups, not one per code"
        assert all(int(row["data-examples"]) == EXAMPLES for row in rows["failures"])
        lanes = rows["lane"]
        assert len(lanes) <= 2 * MODEL_LANES and sum(int(lane["data-batches"]) for lane in lanes) == -(-requests // 12)
        sizes[requests] = target.stat().st_size
    assert sizes[10_000] < 1.1 * sizes[1_000] and sizes[10_000] < 200_000, sizes


def test_a_job_not_run_yet_has_a_report_too(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    path.write_text(json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body}))
    with BatchClient(api_key="sk-unused-0123456789abcdef", base_url="http://127.0.0.1:9/v1") as client:
        job = client.jobs.create("fresh", path, state_dir=tmp_path / "state")
    page = job.write_report(tmp_path / "fresh.html").read_text(encoding="utf-8")
    values, _, _ = page_numbers(page)
    assert (values["requests"], values["pending"], values["batches"]) == ("1", "1", "0")
    assert "No batch has been created yet." in page


def test_the_command_writes_the_report_from_the_state_directory_alone(
    job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    target = tmp_path / "cli.html"
    argv = ["job", "report", job.name, "-o", str(target), "--state-dir", str(job.state_dir), "--json"]
    argv += ["--price", "gpt-4o-mini=0.075,0.3", "--price", "gpt-4o=1.25,5"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["path"] == str(target) and document["bytes"] == target.stat().st_size
    values, _, _ = page_numbers(target.read_text(encoding="utf-8"))
    assert values == {**values, **expected_headline(job.summary(PRICES))}
    assert main(["job", "report", "nope", "-o", str(target), "--state-dir", str(job.state_dir)]) == 2


def test_a_job_recorded_before_batches_kept_their_times_reports_them_ended(tmp_path: Path) -> None:
    store, record = made_up_job(tmp_path, 200, batch_size=50)
    with store, sqlite3.connect(store.path) as db:  # as an older version left it: no timeline, no counts
        db.execute("UPDATE batches SET in_progress_at = NULL, finalizing_at = NULL, ended_at = NULL")
    target = tmp_path / "old.html"
    with open_store(tmp_path / "state") as reopened:
        write_report(reopened, record, target)
    _, rows, _ = page_numbers(target.read_text(encoding="utf-8"))
    assert [lane["data-running"] for lane in rows["lane"]] == ["0"] * 4, "final batches, not running ones"
    assert all(float(row["data-value"]) >= 0 for row in rows["slowest"])
