"""Mutation testing for the core modules: change one thing at a time and check that some test fails.

    make mutate                                   # every declared module
    make mutate MUTATE_ARGS="--module _retry -j 2"
    .venv/bin/python tools/mutate.py --list --module runner   # the mutants, without running anything

Each mutant is one small change to one module (a comparison turned round, `and` for `or`, a constant moved by one, a
condition negated, a call or a raise left out). It is written into a private copy of the project, and the tests that
cover that module run against the copy (PYTHONPATH puts the copy's packages ahead of the installed ones). A mutant is
killed in one of three ways, counted apart: a test fails (an assertion, or an exception inside a test); the run times
out (the whole run, or one test past pytest-timeout's limit); or the run errs (a collection error such as a module that
no longer imports, a fixture that cannot be set up, pytest stopping on an internal or usage error, the interpreter
crashing). Only the first is a test noticing the change; a timeout or an error says the change broke something, not
that a test checks it. One that survives is a change no test notices. Survivors that change nothing observable are
listed in EQUIVALENT with the reason.

Not in CI: a run takes minutes per module. `make mutate` prints, per module, the mutants killed by a failing test, by
a timeout and by an error, the equivalents and the survivors, and every survivor, timeout and error by line.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("overlays", "server", "generated")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    tests: tuple[str, ...]


# The modules under test, and the test files that exercise them (the whole suite would be slower, not stronger).
TARGETS = (
    Target(
        "_retry",
        "overlays/openai_batches/_retry.py",
        (
            "tests/test_retry_policy.py",
            "tests/test_retries.py",
            "tests/test_secrets.py",
            "tests/test_workflow.py",
            "tests/test_properties.py",
        ),
    ),
    Target(
        "_pagination",
        "overlays/openai_batches/_pagination.py",
        (
            "tests/test_pagination_guards.py",
            "tests/test_pagination.py",
            "tests/test_request_options.py",
            "tests/test_batches.py",
            "tests/test_files.py",
            "tests/test_properties.py",
        ),
    ),
    Target(
        "_models",
        "overlays/openai_batches/_models.py",
        (
            "tests/test_model_builder.py",
            "tests/test_public_typing.py",
            "tests/test_sdk_models.py",
            "tests/test_models.py",
            "tests/test_decoding.py",
            "tests/test_batches.py",
            "tests/test_files.py",
        ),
    ),
    Target(
        "_http",
        "overlays/openai_batches/_http.py",
        (
            "tests/test_request_building.py",
            "tests/test_request_options.py",
            "tests/test_client.py",
            "tests/test_errors.py",
            "tests/test_retries.py",
            "tests/test_secrets.py",
            "tests/test_batches.py",
            "tests/test_files.py",
        ),
    ),
    Target(
        "runner",
        "server/openai_batches_server/runner.py",
        (
            "tests/server/test_runner_steps.py",
            "tests/server/test_runner_thread.py",
            "tests/server/test_runner_guards.py",
            "tests/server/test_pace.py",
            "tests/server/test_lifecycle.py",
            "tests/server/test_cancel_and_expiry.py",
            "tests/server/test_restart.py",
            "tests/server/test_input_validation.py",
            "tests/server/test_token_limit_and_line_failures.py",
        ),
    ),
    Target(
        "storage",
        "server/openai_batches_server/storage.py",
        (
            "tests/server/test_storage.py",
            "tests/server/test_runner_guards.py",
            "tests/server/test_runner_steps.py",
            "tests/server/test_runner_thread.py",
            "tests/server/test_pace.py",
            "tests/server/test_restart.py",
            "tests/server/test_lifecycle.py",
            "tests/server/test_files.py",
            "tests/server/test_batch_create.py",
            "tests/server/test_pagination.py",
            "tests/server/test_isolation.py",
            "tests/server/test_cancel_and_expiry.py",
        ),
    ),
    Target(
        "input_validation",
        "server/openai_batches_server/input_validation.py",
        (
            "tests/server/test_validation_rules.py",
            "tests/server/test_input_validation.py",
            "tests/server/test_lifecycle.py",
            "tests/server/test_large_files.py",
        ),
    ),
    # The job runner: its decision core is sans-I/O, so its own tests drive it with data in milliseconds.
    Target(
        "jobs.core",
        "overlays/openai_batches/jobs/core.py",
        ("tests/test_jobs_decide.py", "tests/test_jobs_decisions.py"),
    ),
    Target(
        "jobs.planning",
        "overlays/openai_batches/jobs/planning.py",
        (
            "tests/test_jobs_mutants.py",
            "tests/test_jobs_planning.py",
            "tests/test_jobs_crash_points.py",
            # The unit tests of the check before a shard is written (the file's end-to-end runs take half a minute).
            "tests/test_jobs_input_change.py::test_an_edit_the_stat_cannot_see_is_caught_by_the_line_digests",
            "tests/test_jobs_input_change.py::test_a_changed_input_stops_every_shard",
        ),
    ),
    Target(
        "jobs.merge",
        "overlays/openai_batches/jobs/merge.py",
        (
            "tests/test_jobs_merge.py",
            "tests/test_jobs_crash_points.py",
            "tests/test_jobs_core.py",
            "tests/test_jobs_fencing.py",
        ),
    ),
    # The driver (its async source; the sync twin is generated from it, so only the async tests see a mutant) and the
    # local work it carries out.
    Target(
        "jobs.driver",
        "overlays/openai_batches/jobs/_async/driver.py",
        ("tests/test_jobs_runners.py", "tests/test_jobs_fencing.py", "tests/test_jobs_mutants.py"),
    ),
    Target(
        "jobs.local_work",
        "overlays/openai_batches/jobs/local_work.py",
        (
            "tests/test_jobs_mutants.py",
            "tests/test_jobs_fencing.py",
            "tests/test_jobs_crash_points.py",
            "tests/test_jobs_decisions.py",
        ),
    ),
    Target("jobs.lease", "overlays/openai_batches/jobs/lease.py", ("tests/test_jobs_fencing.py",)),
    Target(
        "jobs.store",
        "overlays/openai_batches/jobs/store.py",
        (
            "tests/test_jobs_store.py",
            "tests/test_jobs_durability.py",
            "tests/test_jobs_fencing.py",
            "tests/test_jobs_input_change.py",
            "tests/test_jobs.py",
            "tests/test_jobs_budget.py",
            "tests/test_report.py",
            "tests/test_tables.py",
        ),
    ),
    Target(
        "results",
        "overlays/openai_batches/results.py",
        ("tests/test_results.py", "tests/test_workflow.py", "tests/test_decoding.py", "tests/test_sdk_models.py"),
    ),
    Target(
        "batch_input", "overlays/openai_batches/batch_input.py", ("tests/test_batch_input.py", "tests/test_workflow.py")
    ),
    Target(
        "cli",
        "overlays/openai_batches/cli.py",
        (
            "tests/test_cli_commands.py",
            "tests/test_cli.py",
            "tests/test_cli_first_steps.py",
            "tests/test_estimate_cli.py",
        ),
    ),
    Target(
        "_cli_job",
        "overlays/openai_batches/_cli_job.py",
        ("tests/test_cli_job_commands.py", "tests/test_jobs_cli.py", "tests/test_cli.py"),
    ),
)

# Survivors judged equivalent: (module, start of the mutated line's code, mutant description) -> why nothing observable
# changes. The code rather than the line number names the place, so an entry outlives edits elsewhere in the module.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    # server runner: wait lengths that only change how soon the runner's loop looks again.
    ("runner", "IDLE_WAIT = 0.5", "0.5 -> 1.5"): (
        "IDLE_WAIT: with no batch in flight nothing is due; every create and cancel wakes the runner at once, so a "
        "longer wait only delays freeing the bytes of deleted files, which the API no longer shows"
    ),
    ("runner", "def stop(self, timeout: float = 10.0) -> None:", "10.0 -> 11.0"): (
        "stop()'s default join timeout: only a step stuck for over ten seconds reaches it, and a step is at most "
        "one chunk of 200 lines"
    ),
    ("runner", "return min(max(min(paces, default=0.0) / 2, 0.005), 0.05)", "0.0 -> 1.0"): (
        "the idle wait when both paces are 0: such a pass finds nothing to do only when a cancel races it or the "
        "wall clock steps back; the next look then comes 50 ms instead of 5 ms later"
    ),
    ("storage", 'rows = self._query(f"{sql} LIMIT ?", [*params, limit + 1])', "1 -> 2"): (
        "a list page fetches one row past the limit to tell has_more; fetching two changes neither the page nor "
        "has_more (only whether at least one row follows is asked)"
    ),
    ("input_validation", "result.input_tokens += respond(", "0 -> 1"): (
        "the `now` of the answer whose input tokens are counted: it stamps only the answer's `created`, which is "
        "thrown away"
    ),
}

# The model builder's.
EQUIVALENT.update(
    {
        ("_models", "_compiling.discard(model)", "leave out the call"): (
            "a model left marked as compiling has its builder reached through the cache by every later builder that "
            "holds it in an array: the same compiled function, one dictionary lookup slower per item"
        ),
        ("_models", "elif field.kind == _MODEL and field.target not in inside", "not in -> in"): (
            "a nested object built inline or by a call to its own compiled builder: the same checks, paths and "
            "result (the inline form only saves the call); both forms stop at a model that contains itself"
        ),
        ("_models", "elif field.kind == _MODEL and field.target not in inside", "is not -> is"): (
            "a nested object built inline or by a call to its own compiled builder: the same checks, paths and "
            "result (the inline form only saves the call); a model holding itself is inlined one level, then called"
        ),
        ("_models", "gc=False,", "False -> True"): (
            "whether the garbage collector tracks a shape, which lives for one decode and holds no cycles: memory "
            "and speed only"
        ),
        ("_models", "_shaping.discard(model)", "leave out the call"): (
            "a model left marked after its shaping: one shaped is answered from _SHAPES before the mark is read, and "
            "one whose shaping failed fails in every context (it is in a cycle, contains one or contains a model no "
            "shape describes)"
        ),
    }
)

# The job runner's (kept apart from the other modules' entries so that each can change without touching the other).
EQUIVALENT.update(
    {
        (
            "jobs.core",
            "IDLE: Final = 60.0",
            "60.0 -> 61.0",
        ): "IDLE is the wait of a step that has actions, which no runner sleeps on; "
        "no reachable state has no action, nothing to wait for and shards still active",
        (
            "jobs.core",
            "wait: float = 0.0",
            "0.0 -> 1.0",
        ): "the default wait is only a finished step's, and runners return on done",
        (
            "jobs.core",
            "self._polls.pop(shard_id, None)",
            "leave out the call",
        ): "a poll clock left behind by an ended batch is never read again (a "
        "resubmitted shard gets a new one); forgetting it keeps the core's memory flat in the number of shards",
        ("jobs.core", "self.changed = True", "True -> False"): (
            "record()'s own news flag: every event that writes to the store sets it again through _save (a poll by "
            "its own rule); the others (a failure, nothing found, an extra cancelled or deleted, a reconcile) write "
            "nothing, so on_update would only be handed the same snapshot again"
        ),
        ("jobs.lease", "self._thread.join()", "leave out the call"): (
            "once _stop is set the renewing thread only leaves its loop; a renewal it was about to make runs after "
            "release() on the closed connection, fails and is swallowed (and renew_lease refuses a released lease "
            "by holder anyway), so not waiting for it changes nothing a caller or the store sees"
        ),
        ("jobs.lease", "Lease(job.lease_holder, job.lease_pid or 0,", "0 -> 1"): (
            "the new holder's pid when the store has none: acquire_lease writes holder, pid and host together, and "
            "a process id is never 0, so the fallback is never taken"
        ),
        ("jobs.lease", "Lease(job.lease_holder, job.lease_pid or 0,", "or -> and"): (
            "the `or 0.0` of the new holder's heartbeat (its pid's and host's `or` are pinned by the error "
            "message): the lost lease's heartbeat is never read, the error names only the holder's process and host"
        ),
        ("jobs.lease", "Lease(job.lease_holder, job.lease_pid or 0,", "0.0 -> 1.0"): (
            "the new holder's heartbeat when the store has none: never read (the error names only its process and "
            "host), and a holder always has one"
        ),
    }
)

# The client's retry, pagination and HTTP modules.
EQUIVALENT.update(
    {
        (
            "_pagination",
            "return self.fetch(self._next_cursor(data, has_more, position, what), position + 1)",
            "1 -> 2",
        ): (
            "a page's position is only an identity within its walk (each page's cursor is filed under the position "
            "that follows it, and compared for equality) and a test for the first page (0); numbering the pages 0, "
            "2, 4 instead of 0, 1, 2 keeps every comparison's outcome and never makes a later page 0"
        ),
        ("_http", "attempts: int = 0", "0 -> 1"): (
            "a call's attempt count before its first request: building each request sets it, and nothing reads it "
            "before a request is built (the errors raised earlier, on bad arguments or a closed client, carry none)"
        ),
    }
)

# The job store's.
EQUIVALENT.update(
    {
        ("jobs.store", "self._db = sqlite3.connect(path, isolation_level=None", "120 -> 121"): (
            "how long a connection waits for another's write lock: a second more of waiting, which only a writer "
            "holding the lock for two minutes could show"
        ),
        ("jobs.store", 'self._db.execute("PRAGMA synchronous=FULL")', "leave out the call"): (
            "this SQLite build's default for a WAL database is already FULL (tests/test_jobs_durability.py reads "
            "it back): the statement guards builds whose default is lower, which the tests do not run on"
        ),
        ("jobs.store", "return int(cursor.lastrowid or 0)", "0 -> 1"): (
            "an INSERT into jobs or shards always sets a positive lastrowid, so the fallback is never taken"
        ),
        ("jobs.store", "if row is not None and row[0] is not None", "0 -> 1"): (
            "the lease holder or its pid: acquire_lease writes the two together and release_lease clears them "
            "together, so a row has both or neither"
        ),
    }
)

# The command line's.
EQUIVALENT.update(
    {
        ("cli", "run.finish_progress()", "leave out the call"): (
            "in the interrupt and error handlers: a progress line is drawn only inside the wait, whose own finally "
            "ends it, so none is open by the time a handler runs"
        ),
        ("cli", "return False", "False -> True"): (
            "_is_azure when --azure-endpoint and --base-url are both given: the command's first use of run.azure "
            "or run.client() raises that usage error before the Azure flag could change a message"
        ),
        ("_cli_job", "self._drawn = max(len(line), 1)", "1 -> 2"): (
            "a drawn line is cut to at least ten characters, so it is never shorter than either bound"
        ),
        ("_cli_job", 'documents = [{**job.to_dict(), "summary": s.to_dict()} for job, s in zip(', "True -> False"): (
            "the summaries are made from the jobs, one each: the two lists are always as long"
        ),
        ("_cli_job", "for summary, batches in zip(summaries, in_flight, strict=True):", "True -> False"): (
            "the one caller counts the batches in flight of each summary: the two lists are always as long"
        ),
        ("_cli_job", '"-" if summary.max_cost is None else f"{dollars(summary.budget_spent or 0.0)}', "0.0 -> 1.0"): (
            "summarize sets budget_spent whenever the job has a max_cost, so the fallback is never taken"
        ),
        (
            "_cli_job",
            "return _table([(*row, budget) for row, budget in zip(rows, budgets, strict=True)])",
            "True -> False",
        ): ("the budget column is the header and one cell per summary, as many as the rows"),
        (
            "_cli_job",
            'return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))',
            "True -> False",
        ): ("every row has as many cells as the header, which is how many widths there are"),
        (
            "_cli_job",
            "widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]",
            "0 -> 1",
        ): ("reached only with a header and at least one job, every row of the same five cells: rows[1] is as wide"),
        ("cli", "umask = os.umask(0)", "0 -> 1"): (
            "the umask set for the instant it takes to read the old one, which the next line puts back"
        ),
    }
)

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}
QUIET_CALLS = ("logger.", "logging.", "log.")


@dataclass(frozen=True)
class Mutant:
    target: str
    line: int
    description: str
    # The source text between (start, end) offsets is replaced by `replacement`.
    start: int
    end: int
    replacement: str
    code: str  # the mutated line as written, without indentation

    def apply(self, source: str) -> str:
        return source[: self.start] + self.replacement + source[self.end :]

    def equivalence(self) -> str | None:
        """Why this mutant changes nothing observable, if an EQUIVALENT entry says so."""
        for (target, code, description), why in EQUIVALENT.items():
            if target == self.target and description == self.description and self.code.startswith(code):
                return why
        return None


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line.encode("utf-8")))
    return starts


class _Finder(ast.NodeVisitor):
    """Every place a mutation applies, as (node, replacement node or text, description)."""

    def __init__(self) -> None:
        self.sites: list[tuple[ast.AST, ast.AST | str, str]] = []
        self._skip_depth = 0

    # Type annotations, docstrings and TYPE_CHECKING blocks do nothing at run time.
    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_arg(self, node: ast.arg) -> None:
        return

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._body(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._body(node.body)

    def visit_Module(self, node: ast.Module) -> None:
        self._body(node.body)

    def _body(self, body: list[ast.stmt]) -> None:
        for index, statement in enumerate(body):
            if index == 0 and _is_docstring(statement):
                continue
            self.visit(statement)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.sites.append((node.test, ast.UnaryOp(ast.Not(), node.test), "negate the condition"))
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self.sites.append((node.test, ast.UnaryOp(ast.Not(), node.test), "negate the condition"))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is not None:
                ops = list(node.ops)
                ops[index] = swap()
                mutated = ast.Compare(node.left, ops, node.comparators)
                self.sites.append((node, mutated, f"{_op(op)} -> {_op(swap())}"))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        other: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.sites.append((node, ast.BoolOp(other, node.values), f"{_op(node.op)} -> {_op(other)}"))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.sites.append((node, node.operand, "drop `not`"))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = BINOP_SWAPS.get(type(node.op))
        # `+` on strings builds messages; a swap there is a TypeError that any test touching it reports trivially.
        if swap is not None and not _is_text(node):
            self.sites.append((node, ast.BinOp(node.left, swap(), node.right), f"{_op(node.op)} -> {_op(swap())}"))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            self.sites.append((node, ast.Constant(not value), f"{value} -> {not value}"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.sites.append((node, ast.Constant(value + 1), f"{value!r} -> {value + 1!r}"))

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call) and not ast.unparse(node.value.func).startswith(QUIET_CALLS):
            self.sites.append((node, "pass", "leave out the call"))
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.sites.append((node, "pass", "leave out the raise"))
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.sites.append((node, "pass", "leave out the update"))
        self.generic_visit(node)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and (isinstance(statement.value.value, str))
    )


def _is_text(node: ast.BinOp) -> bool:
    return any(
        isinstance(side, ast.JoinedStr) or (isinstance(side, ast.Constant) and isinstance(side.value, str | bytes))
        for side in (node.left, node.right)
    )


def _op(op: ast.AST) -> str:
    names = {
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
        ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or", ast.Add: "+",
        ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    }  # fmt: skip
    return names[type(op)]


def mutants(target: Target, root: Path = ROOT) -> list[Mutant]:
    source = (root / target.path).read_text(encoding="utf-8")
    encoded = source.encode("utf-8")
    tree = ast.parse(source)
    finder = _Finder()
    finder.visit(tree)
    lines = _offsets(source)
    source_lines = source.splitlines()
    found: list[Mutant] = []
    seen: set[tuple[int, int, str]] = set()
    for node, replacement, description in finder.sites:
        start = lines[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = lines[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        text = replacement if isinstance(replacement, str) else f"({ast.unparse(replacement)})"
        if (start, end, text) in seen:
            continue
        seen.add((start, end, text))
        # Offsets are in bytes (ast counts UTF-8); slice the encoded source and decode back.
        before = len(encoded[:start].decode("utf-8"))
        after = len(encoded[:end].decode("utf-8"))
        code = source_lines[node.lineno - 1].strip()  # type: ignore[attr-defined]
        found.append(Mutant(target.name, node.lineno, description, before, after, text, code))  # type: ignore[attr-defined]
    return found


# How one mutant's test run ended. Only "failed" is a test noticing the change.
Kind = Literal["survived", "failed", "timeout", "error"]
KINDS: tuple[Kind, ...] = ("failed", "timeout", "error")
# pytest-timeout's marks of a test stopped at its limit: the signal method fails the test with the first, the thread
# method prints the second before it ends the process.
TIMEOUT_MARKS = ("Failed: Timeout (>", "+ Timeout +")


@dataclass(frozen=True)
class TestRun:
    """What a pytest run left: its exit status (None when it ran past the time allowed) and what it printed."""

    __test__ = False  # not a pytest test class, whatever its name

    returncode: int | None
    output: str
    errors: str = ""

    @property
    def tail(self) -> str:
        """The last line pytest printed on stdout (its summary), or why there is none."""
        if self.returncode is None:
            return "timed out"
        return (self.output.strip().splitlines() or [""])[-1]


def classify(run: TestRun) -> Kind:
    """How a mutant's test run ended: survived (every test passed), failed (a test failed), timeout or error.

    pytest's exit statuses: 0 all passed; 1 some tests failed or errored; 2 interrupted (a collection error); 3 an
    internal error; 4 a usage error; 5 no tests collected; a negative status is a signal (a crash). Within status 1,
    a test stopped by pytest-timeout is a timeout, and a run whose summary counts errors but no failures (a fixture
    that could not be set up) is an error.
    """
    if run.returncode is None:
        return "timeout"
    if run.returncode == 0:
        return "survived"
    if any(mark in text for mark in TIMEOUT_MARKS for text in (run.output, run.errors)):
        return "timeout"
    if run.returncode == 1 and (" failed" in run.tail or "error" not in run.tail):
        return "failed"
    return "error"


@dataclass
class Outcome:
    mutant: Mutant
    kind: Kind
    seconds: float
    detail: str

    @property
    def killed(self) -> bool:
        return self.kind != "survived"


@contextlib.contextmanager
def project_copy(source: Path = ROOT) -> Iterator[Path]:
    """A private copy of the packages and tests; the installed virtualenv stays shared."""
    with tempfile.TemporaryDirectory(prefix="openai-batches-mutate-") as tmp:
        copy = Path(tmp) / "project"
        ignore = shutil.ignore_patterns("__pycache__", ".venv", "node_modules", ".git", ".*_cache", ".hypothesis")
        shutil.copytree(source, copy, ignore=ignore, symlinks=True)
        # Tests and tools that look for the project's virtualenv or Prism find the real ones.
        for shared in (".venv", "tools/prism/node_modules"):
            if (ROOT / shared).exists():
                (copy / shared).symlink_to(ROOT / shared)
        yield copy


def run_tests(copy: Path, target: Target, timeout: float) -> TestRun:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(str(copy / package) for package in PACKAGES)
    command = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not bench",
        "--timeout", "60", *target.tests,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TestRun(None, "")
    return TestRun(done.returncode, done.stdout, done.stderr)


def run_mutant(mutant: Mutant, target: Target, timeout: float, base: Path) -> Outcome:
    started = time.monotonic()
    with project_copy(base) as copy:
        module = copy / target.path
        module.write_text(mutant.apply(module.read_text(encoding="utf-8")), encoding="utf-8")
        run = run_tests(copy, target, timeout)
    return Outcome(mutant, classify(run), time.monotonic() - started, run.tail)


def _stale_equivalents(targets: list[Target]) -> list[tuple[str, str, str]]:
    """EQUIVALENT entries of these targets that no current mutant matches (the code they name has changed)."""
    names = {target.name for target in targets}
    found = [mutant for target in targets for mutant in mutants(target)]
    return [
        (target, code, description)
        for target, code, description in EQUIVALENT
        if target in names
        and not any(m.target == target and m.description == description and m.code.startswith(code) for m in found)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--module", action="append", choices=[t.name for t in TARGETS], help="only these modules")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="mutants run side by side")
    parser.add_argument("--line", type=int, action="append", help="only the mutants on these lines (to recheck some)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one mutant's test run may take")
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.module or t.name in args.module]

    stale = _stale_equivalents(targets)
    for target_name, code, description in stale:
        print(f"EQUIVALENT names no mutant: {target_name}: {code!r}: {description}", file=sys.stderr)
    if stale:
        return 2

    def selected(target: Target, root: Path = ROOT) -> list[Mutant]:
        return [m for m in mutants(target, root) if not args.line or m.line in args.line]

    if args.list:
        for target in targets:
            for mutant in selected(target):
                print(f"{target.path}:{mutant.line}: {mutant.description}: {mutant.replacement[:60]}")
        return 0

    # Every mutant is made from this snapshot, so editing the project during a run cannot change its outcome.
    with project_copy() as base:
        for target in targets:
            run = run_tests(base, target, args.timeout)
            if run.returncode != 0:
                print(f"the unmutated tests for {target.name} do not pass ({run.tail}); fix them", file=sys.stderr)
                return 2
        scores = [
            _score(target, _run(selected(target, base), target, args.jobs, args.timeout, base)) for target in targets
        ]

    print()
    print(table(scores))
    return 0 if all(not score.survived for score in scores) else 1


@dataclass(frozen=True)
class Score:
    """One module's figures: every mutant is in exactly one of failed, timeout, error, equivalent and survived."""

    target: Target
    mutants: int
    failed: int
    timeout: int
    error: int
    equivalent: int
    survived: int

    @property
    def by_tests(self) -> float:
        """The share of the mutants that change something (all but the equivalents) a failing test kills, in %."""
        changing = self.mutants - self.equivalent
        return 100.0 * self.failed / changing if changing else 100.0


TABLE_HEAD = ("module", "mutants", "failing test", "timeout", "error", "equivalent", "survived", "by tests")


def table(scores: list[Score]) -> str:
    """The printed summary: one row per module, the three ways of being killed in columns of their own.

    `by tests` is the share of the non-equivalent mutants killed by a failing test: a timeout or an error kills a
    mutant without any test checking what it changed, so it does not count there.
    """
    rows = [TABLE_HEAD] + [
        (
            s.target.name, str(s.mutants), str(s.failed), str(s.timeout), str(s.error), str(s.equivalent),
            str(s.survived), f"{s.by_tests:.1f} %",
        )
        for s in scores
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEAD))]
    lines = ["mutation score, per module (every mutant counted once):"]
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
        lines.append("  " + "  ".join(cells))
    return "\n".join(lines)


def _run(found: list[Mutant], target: Target, jobs: int, timeout: float, base: Path) -> list[Outcome]:
    print(f"{target.name}: {len(found)} mutants of {target.path}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        return list(pool.map(functools.partial(run_mutant, target=target, timeout=timeout, base=base), found))


def _score(target: Target, outcomes: list[Outcome]) -> Score:
    """Prints the module's survivors, timeouts, errors and equivalents as soon as its run ends; its figures."""
    survivors = [o for o in outcomes if not o.killed and o.mutant.equivalence() is None]
    equivalent = [o for o in outcomes if not o.killed and o.mutant.equivalence() is not None]
    for outcome in survivors:
        m = outcome.mutant
        print(f"  survived {target.path}:{m.line}: {m.description}: {m.replacement[:70]}", flush=True)
    for outcome in outcomes:
        if outcome.kind in ("timeout", "error"):
            m = outcome.mutant
            print(f"  {outcome.kind} {target.path}:{m.line}: {m.description} ({outcome.detail[:100]})", flush=True)
    for outcome in equivalent:
        m = outcome.mutant
        print(f"  equivalent {target.path}:{m.line}: {m.description} ({m.equivalence()})", flush=True)
    counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in KINDS}
    return Score(
        target, len(outcomes), counts["failed"], counts["timeout"], counts["error"], len(equivalent), len(survivors)
    )


if __name__ == "__main__":
    sys.exit(main())
