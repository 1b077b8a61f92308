"""Jobs talk to their service through a provider: the shared parts know no provider, and a job keeps the rules of
the service it was made for (its shard limits, and the refusal of a client of another service)."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest
from openai_batches import AzureBatchClient, BatchClient, InvalidParameterError
from openai_batches.jobs.errors import JobAccountError
from openai_batches.jobs.planning import ShardLimits
from openai_batches.jobs.provider_rules import (
    ANTHROPIC_RULES,
    AZURE_RULES,
    OPENAI_RULES,
    PROVIDERS,
    rules_named,
)
from openai_batches.jobs.store import open_store

JOBS = Path(__file__).resolve().parents[1] / "overlays" / "openai_batches" / "jobs"
# What carries out actions on one service, and the table of every service's limits: the only modules of jobs/ that
# may know a provider by name or reach a client.
PROVIDER_MODULES = {
    "provider_rules.py",
    "_async/openai_provider.py",
    "_sync/openai_provider.py",
    "_async/anthropic_provider.py",
    "_sync/anthropic_provider.py",
    "anthropic_lines.py",
    "openai_account.py",
    "openai_batch_view.py",
}
CLIENT_MODULES = ("_client", "_azure", "resources", "_generated", "anthropic", "openai_provider", "anthropic_provider")


def shared_modules() -> list[Path]:
    return sorted(path for path in JOBS.rglob("*.py") if str(path.relative_to(JOBS)) not in PROVIDER_MODULES)


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", shared_modules(), ids=lambda p: str(p.relative_to(JOBS)))
def test_the_shared_job_modules_know_no_provider(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    reached = {name for name in imported(tree) for part in CLIENT_MODULES if part in name.split(".")}
    assert not reached, f"{path.name} imports {sorted(reached)}: a shared module reaches a service only by a provider"
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                if isinstance(operand, ast.Constant) and operand.value in PROVIDERS:
                    pytest.fail(f"{path.name}:{node.lineno} branches on the provider {operand.value!r}")


def test_the_scan_sees_a_branch_on_a_provider() -> None:
    tree = ast.parse("if job.provider == 'anthropic':\n    pass\n")
    compares = [node for node in ast.walk(tree) if isinstance(node, ast.Compare)]
    assert [c.comparators[0].value for c in compares if isinstance(c.comparators[0], ast.Constant)] == ["anthropic"]


def test_each_provider_has_its_own_batch_limits() -> None:
    assert (OPENAI_RULES.max_requests, OPENAI_RULES.max_bytes) == (50_000, 200 * 1024 * 1024)
    assert (AZURE_RULES.max_requests, AZURE_RULES.max_bytes) == (100_000, 200 * 1024 * 1024)
    assert ANTHROPIC_RULES.max_requests == 100_000
    assert ANTHROPIC_RULES.max_bytes < 256 * 1000 * 1000, "room for the translation under the create request's cap"
    assert rules_named("azure") is AZURE_RULES
    with pytest.raises(InvalidParameterError, match=r"unknown provider 'bedrock'; known: anthropic, azure, openai"):
        rules_named("bedrock")


def write(path: Path, count: int) -> Path:
    body = {"model": "gpt-4o-mini-batch", "messages": [{"role": "user", "content": "hi"}]}
    rows = ({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body} for i in range(count))
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def azure() -> AzureBatchClient:
    return AzureBatchClient(azure_endpoint="https://example.openai.azure.com", api_key="azure-key-1")


def test_an_azure_job_keeps_azure_rules_and_cuts_its_shards_by_them(tmp_path: Path) -> None:
    job = azure().jobs.create("az", write(tmp_path / "in.jsonl", 3), max_batch_requests=80_000, state_dir=tmp_path)
    assert job.max_batch_requests == 80_000
    with open_store(tmp_path) as store:
        record = store.get_job("az")
    assert record is not None and record.provider == "azure"
    assert ShardLimits.of(record).max_requests == 80_000
    with open_store(tmp_path) as store:
        store.update_job(record.id, {"max_batch_requests": None})
        unlimited = store.get_job("az")
    assert unlimited is not None and ShardLimits.of(unlimited).max_requests == 100_000


def test_an_openai_job_refuses_more_requests_per_batch_than_openai_takes(tmp_path: Path) -> None:
    client = BatchClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InvalidParameterError, match=r"max_batch_requests.*1 to 50,000 \(what one openai batch"):
        client.jobs.create("big", write(tmp_path / "in.jsonl", 2), max_batch_requests=80_000, state_dir=tmp_path)
    job = client.jobs.create("ok", write(tmp_path / "in.jsonl", 2), max_batch_requests=50_000, state_dir=tmp_path)
    with pytest.raises(InvalidParameterError, match=r"1 to 50,000"):
        client.jobs.create("ok", write(tmp_path / "in.jsonl", 2), max_batch_requests=50_001, state_dir=tmp_path)
    assert client.jobs.get(job.name, state_dir=tmp_path).max_batch_requests == 50_000
    with pytest.raises(InvalidParameterError, match=r"1 to 100,000"):
        client.jobs.create("ok", write(tmp_path / "in.jsonl", 2), max_batch_requests=100_001, state_dir=tmp_path)


def test_the_estimate_counts_batches_by_the_clients_provider(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", 5)
    openai = BatchClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    assert azure().jobs.estimate(path, max_batch_requests=80_000).batches == 1
    with pytest.raises(InvalidParameterError, match="max_batch_requests"):
        openai.jobs.estimate(path, max_batch_requests=80_000)


def test_a_job_runs_only_on_the_service_it_was_made_for(tmp_path: Path) -> None:
    azure().jobs.create("az", write(tmp_path / "in.jsonl", 2), state_dir=tmp_path)
    openai = BatchClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(JobAccountError, match="job az runs on azure, not openai: its batches live there"):
        openai.jobs.run("az", state_dir=tmp_path)
    with pytest.raises(JobAccountError, match="runs on azure, not openai"):
        openai.jobs.cancel("az", state_dir=tmp_path)


def test_a_job_of_an_older_version_runs_on_openai(tmp_path: Path) -> None:
    client = BatchClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    client.jobs.create("old", write(tmp_path / "in.jsonl", 2), state_dir=tmp_path)
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    db.execute("ALTER TABLE jobs DROP COLUMN provider")
    db.commit()
    db.close()
    with open_store(tmp_path) as store:
        record = store.get_job("old")
    assert record is not None and record.provider == "openai"
