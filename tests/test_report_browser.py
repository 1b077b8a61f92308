"""The job report opened in headless Chromium (Debian's `chromium`, which `.ci/run` installs): it loads with no
console error and requests nothing beyond itself, its headline numbers in the DOM are `summary()`'s, and a hostile
custom_id is text on the page, never a script. A screenshot of the whole page is kept as a test artifact, in
$OPENAI_BATCHES_TEST_ARTIFACTS or tests/artifacts/.

Without Chromium this test fails rather than skips: a report nobody opened in a browser is not tested.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from headless import Chromium, find_chromium
from openai_batches.jobs.report import write_report
from report_support import HEADLINE, HOSTILE, PRICES, expected_headline, made_up_job, run_job

ARTIFACTS = Path(os.environ.get("OPENAI_BATCHES_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts")

READ_HEADLINE = (
    "JSON.stringify(Object.fromEntries("
    + json.dumps(list(HEADLINE))
    + ".map(id => [id, document.getElementById(id) ? document.getElementById(id).dataset.value : null])))"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    binary = find_chromium()
    if binary is None:
        pytest.fail(
            "no Chromium to open the report in: install Debian's `chromium` package (apt-get install -y chromium; "
            ".ci/run does) or set OPENAI_BATCHES_CHROMIUM to a Chromium binary"
        )
    with Chromium(binary) as running:
        yield running


def test_the_report_opens_clean_and_shows_the_summary(browser: Chromium, tmp_path: Path) -> None:
    job = run_job(tmp_path / "job")
    path = job.write_report(tmp_path / "report.html", prices=PRICES)
    url = path.resolve().as_uri()

    page = browser.open(url)
    values = json.loads(page.evaluate(READ_HEADLINE))
    assert values == expected_headline(job.summary(PRICES))
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert HOSTILE in page.evaluate("document.getElementById('failures').innerText")
    assert page.evaluate("document.querySelectorAll('#timeline .lane').length") == job.summary().batches
    page.screenshot(ARTIFACTS / "report.png")

    log = page.collect()
    assert log.errors == [], "the page printed errors"
    assert log.requests == [url] and log.failed == [], "the page requests nothing beyond itself"
    assert (ARTIFACTS / "report.png").read_bytes().startswith(b"\x89PNG")


def test_the_report_of_a_big_job_opens_clean(browser: Chromium, tmp_path: Path) -> None:
    store, record = made_up_job(tmp_path / "job", 5_000, batch_size=10, custom_id_length=300)
    target = tmp_path / "big.html"
    with store:
        write_report(store, record, target, PRICES)
    url = target.resolve().as_uri()
    page = browser.open(url)
    assert json.loads(page.evaluate(READ_HEADLINE))["requests"] == "5000"
    page.screenshot(ARTIFACTS / "report-many-batches.png")
    log = page.collect()
    assert log.errors == [] and log.requests == [url] and log.failed == []
