"""`make bench-smoke`: the benchmark's seconds-long mode runs and every number it reports is sane.

Sane means present, positive and finite, with a ratio to the floor for every contender; never a speed threshold,
because CI machines are too noisy for one and the full `make bench` is where speed is read.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openai_batches.resources.batches import Batches

# Runs under `make bench-smoke` (its own CI step), not `make test`: it takes seconds of benchmarking.
pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "tools" / "bench.py"
TRANSPORTS = ("mock", "loopback")
OPERATIONS = ("retrieve", "create", "cancel", "list_100", "walk_pages", "async_retrieve_64")
CONTENDERS = ("floor", "old_floor", "openai", "client")
# The old floor (issue 14 keeps it beside the lean one for a release) is timed, not measured for memory.
MEMORY_CONTENDERS = ("floor", "openai", "client")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"bench failed:\n{completed.stdout}\n{completed.stderr}"
    report: dict[str, Any] = json.loads(out.read_text())
    return report, completed.stdout


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return []


def _positive(value: object, what: str) -> None:
    numbers = _numbers(value)
    assert numbers, f"{what}: no numbers"
    assert all(math.isfinite(number) and number > 0 for number in numbers), f"{what}: {numbers}"


def _check_summary(summary: dict[str, Any], what: str, rounds: int) -> None:
    assert set(summary) >= {"median", "min", "max", "values"}, what
    assert len(summary["values"]) == rounds, what
    assert summary["min"] <= summary["median"] <= summary["max"], what
    _positive(summary, what)


def test_reports_machine_and_parameters(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    assert report["params"]["smoke"] is True
    assert report["machine"]["cpu_count"] >= 1
    assert report["machine"]["python"] == sys.version.split()[0]
    assert report["machine"]["json_decoder"] == "msgspec"  # the dev install has the speed extra
    assert "=== mock transport" in stdout and "=== loopback" in stdout


def test_every_transport_operation_and_contender_has_times_and_ratios(run: tuple[dict[str, Any], str]) -> None:
    report, _ = run
    rounds = report["params"]["rounds"]
    assert set(report["timings"]) == set(TRANSPORTS)
    for transport in TRANSPORTS:
        assert set(report["timings"][transport]) == set(OPERATIONS)
        for op in OPERATIONS:
            rows = report["timings"][transport][op]
            assert set(rows) == set(CONTENDERS), (transport, op)
            for name, row in rows.items():
                what = f"{transport} {op} {name}"
                _check_summary(row["seconds"], what, rounds)
                _check_summary(row["ratio"], what, rounds)
                _check_summary(row["ratio_old_floor"], what, rounds)
                assert row["calls"] >= rounds, what
            assert rows["floor"]["ratio"]["values"] == [1.0] * rounds
            assert rows["old_floor"]["ratio_old_floor"]["values"] == [1.0] * rounds


def test_loopback_counts_connections(run: tuple[dict[str, Any], str]) -> None:
    report, _ = run
    for op, rows in report["timings"]["loopback"].items():
        for name, row in rows.items():
            assert row["requests"] > 0, (op, name)
            assert isinstance(row["connections_opened"], int) and row["connections_opened"] >= 0, (op, name)


def test_import_times(run: tuple[dict[str, Any], str]) -> None:
    report, _ = run
    imports = report["import"]
    assert set(imports["seconds"]) == {"openai_batches", "openai_batches_client", "openai_batches_first_use", "openai"}
    for ratio in ("ratio", "client_ratio", "first_use_ratio"):
        _check_summary(imports[ratio], ratio, report["params"]["import_runs"])
    assert all(len(values) == report["params"]["import_runs"] for values in imports["seconds"].values())
    _positive(imports, "import")


def test_memory(run: tuple[dict[str, Any], str]) -> None:
    report, _ = run
    memory = report["memory"]
    params = report["params"]
    assert set(memory["bytes_per_batch"]) == set(MEMORY_CONTENDERS)
    _positive(memory["bytes_per_batch"], "bytes per batch")
    assert set(memory["walk_peak_bytes"]) == set(MEMORY_CONTENDERS)
    for name in MEMORY_CONTENDERS:
        peaks = memory["walk_peak_bytes"][name]
        assert set(peaks) == {str(params["walk_pages_small"]), str(params["walk_pages"])}, name
        _positive(peaks, f"walk peak {name}")


def test_results_parsing_runs_once_the_api_exists(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    results = report["results"]
    if not hasattr(Batches, "results"):
        assert results == {"skipped": "results API not available"}
        assert "skipped: results API not available" in stdout
        return
    assert results["lines"] > 0 and results["file_bytes"] > 0
    assert set(results["timings"]) == set(TRANSPORTS)
    for transport, rows in results["timings"].items():
        assert set(rows) == {"floor", "client"}, transport
        for name, row in rows.items():
            _check_summary(row["seconds"], f"results {transport} {name}", report["params"]["results_rounds"])
            _check_summary(row["ratio"], f"results {transport} {name}", report["params"]["results_rounds"])
    assert {name: set(peaks) for name, peaks in results["peak_bytes"].items()} == {
        "floor": {"small", "large"},
        "client": {"small", "large"},
    }
    _positive(results["peak_bytes"], "results peak")


def test_json_decoders_are_compared_on_the_fixtures(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    decoders = report["decoders"]
    assert set(decoders["bytes"]) == {"batch", "page", "results_lines"}
    _positive(decoders["bytes"], "fixture sizes")
    rows = decoders["seconds"]
    rounds = report["params"]["rounds"]
    assert {"json.loads", "msgspec", "client, speed extra (msgspec shapes)", "client, standard library"} <= set(rows)
    for body in ("batch", "page", "results_lines"):
        assert rows["json.loads"][body]["ratio"]["values"] == [1.0] * rounds
        _check_summary(rows["msgspec"][body]["seconds"], f"msgspec {body}", rounds)
    for body in ("batch", "page"):
        _check_summary(rows["client, speed extra (msgspec shapes)"][body]["ratio"], body, rounds)
    assert "=== JSON decoders on the fixtures" in stdout


def test_jobs_section_reports_rates_and_peak_memory(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    jobs = report["jobs"]
    sizes = [str(size) for size in report["params"]["jobs_sizes"]]
    assert list(jobs["sizes"]) == sizes
    for size in sizes:
        entry = jobs["sizes"][size]
        assert entry["requests"] == int(size) and entry["shards"] >= 1
        assert set(entry["lines_per_second"]) == {"ingest", "plan", "shard_files", "merge", "write_results"}
        _positive(entry["lines_per_second"], f"jobs {size} rates")
        _positive(entry["peak_rss_bytes"], f"jobs {size} peak")
    _positive(jobs["rss_ratio"], "jobs RSS ratio")
    assert "=== jobs:" in stdout and "jobs peak RSS" in stdout


def test_the_local_server_section_reports_uploads_and_retrieves(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    server = report["server"]
    assert set(server["rates"]) == {"this tree"}
    rates = server["rates"]["this tree"]
    assert set(rates) == {f"{op}_{clients}" for op in ("upload", "retrieve") for clients in (1, 64)}
    for key, summary in rates.items():
        _check_summary(summary, f"server {key}", server["rounds"])
    assert server["errors"]["this tree"] == {key: {} for key in rates}
    assert "=== local server" in stdout and "retrieves/s, 64 clients" in stdout


def test_the_event_loop_section_reports_the_worst_lag_of_an_async_job(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    loop = report["jobs_loop"]
    assert loop["requests"] == report["params"]["jobs_loop_requests"] and loop["batches"] == 1
    assert loop["ticks"] > 0 and loop["target_ms"] == 50
    lags = loop["worst_lag_ms"]
    assert set(lags) == {"create", "start", "service", "merge", "whole"}
    # A phase shorter than a tick may hold no late wake-up (0 ms); the whole run holds every phase's.
    assert all(math.isfinite(lag) and lag >= 0 for lag in lags.values()), lags
    assert lags["whole"] == max(lags.values()) > 0
    assert set(loop["phase_seconds"]) == set(lags)
    _positive(loop["phase_seconds"], "event loop phases")
    _positive([loop["run_seconds"], loop["sync_run_seconds"], loop["median_lag_ms"]], "event loop run")
    assert "=== jobs on the event loop" in stdout and "target: under 50 ms:" in stdout
    assert "async job, event loop worst lag" in stdout


def test_the_tables_section_reports_export_rates_and_peak_memory(run: tuple[dict[str, Any], str]) -> None:
    report, stdout = run
    tables = report["tables"]
    sizes = [str(size) for size in report["params"]["tables_sizes"]]
    assert list(tables["sizes"]) == sizes and tables["flat_target"] == 1.2
    assert {"write_parquet", "write_csv", "to_arrow"} <= set(tables["exports"])
    for size in sizes:
        assert set(tables["sizes"][size]) == set(tables["exports"])
        for export, entry in tables["sizes"][size].items():
            assert entry["rows"] == int(size), (size, export)
            _positive([entry["rows_per_second"], entry["peak_rss_bytes"], entry["file_bytes"] or 1], export)
    assert set(tables["rss_ratio"]) == set(tables["exports"])
    _positive(tables["rss_ratio"], "tables RSS ratio")
    assert "=== tables:" in stdout and "write_parquet peak RSS" in stdout and "flat: <= 1.2x" in stdout
