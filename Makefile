# Every target that needs the virtualenv depends on its stamp, so `make test` alone works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GEN_DIR := generated/openai_batches_generated
# The Anthropic Message Batches package: anthropic-openapi.yaml (tools/anthropic_spec.py), its own generator config.
ANTHROPIC_GEN_DIR := generated/anthropic_batches_generated
PRISM := tools/prism/node_modules/.bin/prism
# The vendored upstream OpenAI document (spec/upstream/README.md says where it comes from); UPSTREAM= takes another.
VENDORED_UPSTREAM := spec/upstream/openai-openapi.yaml
UPSTREAM ?= $(VENDORED_UPSTREAM)

.PHONY: setup update-spec check-spec spec-drift generate check-generated lint typecheck test fuzz check prism demo \
	bench bench-smoke mutate clean unasync check-unasync chromium docs

# Two stamps: `make demo` needs only the package and the local server's extra; everything else needs the dev tools.
RUNTIME_STAMP := $(VENV)/.installed-runtime

setup: $(STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@echo "== installing openai-batches with the local server's extra (httpx, attrs; starlette, uvicorn, python-multipart) into $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[server]'
	@touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	@echo "== installing the development tools (generator, ruff, mypy, pytest, the official SDK) into $(VENV)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# openapi.yaml is derived: tools/update_spec.py writes it from the upstream document, spec/operations.yaml,
# spec/overrides.yaml and spec/descriptions.yaml, and prints what changed in API terms.
update-spec: $(STAMP)
	$(BIN)/python tools/update_spec.py --upstream $(UPSTREAM)

# Always the vendored copy: CI fails when openapi.yaml is not exactly what update-spec writes (a hand edit).
check-spec: $(STAMP)
	$(BIN)/python tools/update_spec.py --check --upstream $(VENDORED_UPSTREAM)
	$(BIN)/python tools/anthropic_spec.py --check

# What an update from UPSTREAM would change, writing nothing (exit status 1 if it would change anything).
spec-drift: $(STAMP)
	$(BIN)/python tools/update_spec.py --check --upstream $(UPSTREAM)

# The generator runs its ruff post-hooks from PATH: put the pinned ruff first.
generate: $(STAMP)
	rm -rf $(GEN_DIR)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate \
		--path openapi.yaml --config generator-config.yaml \
		--meta none --output-path $(GEN_DIR) --fail-on-warning
	rm -rf $(ANTHROPIC_GEN_DIR)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate \
		--path anthropic-openapi.yaml --config generator-config-anthropic.yaml \
		--meta none --output-path $(ANTHROPIC_GEN_DIR) --fail-on-warning

# `git diff` misses files a spec change adds; porcelain status with untracked files catches them.
check-generated: generate
	@changes="$$(git status --porcelain --untracked-files=all -- generated)"; \
	if [ -n "$$changes" ]; then \
		echo "generated/ differs from what make generate writes:"; echo "$$changes"; exit 1; \
	fi; echo "generated/ is up to date"

lint: $(STAMP)
	$(BIN)/ruff check overlays server tests tools examples
	$(BIN)/ruff format --check overlays server tests tools examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict overlays/openai_batches server/openai_batches_server $(GEN_DIR) $(ANTHROPIC_GEN_DIR)
	$(BIN)/mypy --strict tools/update_spec.py tools/cut_spec_extract.py tools/mutate.py tools/unasync_jobs.py tools/spec_update \
		tools/anthropic_spec.py

# The documentation site (mkdocs.yml, docs/): --strict fails on any broken link, reference or docstring problem.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

$(PRISM): tools/prism/package.json tools/prism/package-lock.json
	npm ci --prefix tools/prism --no-audit --no-fund --loglevel=error
	touch $(PRISM)

prism: $(PRISM)

# tests/test_report_browser.py opens the job report in headless Chromium, Debian's package: installed here when
# missing (as root, or through sudo), so `make test` on a fresh machine has it; the test fails without it.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "== installing Debian's chromium for the report's browser test"; \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q chromium; }

test: $(STAMP) $(PRISM) chromium
	$(BIN)/python -m pytest -q -m "not bench and not fuzz"

# Schemathesis against the local server: every check, a fixed seed, 20,000+ requests in about three minutes.
fuzz: $(STAMP)
	$(BIN)/python -m pytest -q -s -m fuzz tests/server/test_fuzz.py

# The sync job driver and `Jobs` are generated from their async source (jobs/_async/ -> jobs/_sync/).
unasync: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tools/unasync_jobs.py

check-unasync: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tools/unasync_jobs.py --check

check: check-spec check-generated check-unasync lint typecheck test

# The main job: a whole batch, offline, against the local server (started and stopped by tools/demo.py).
demo: $(RUNTIME_STAMP)
	$(BIN)/python tools/demo.py

# Side by side against a bare httpx call and the official SDK; prints medians and per-round ratios to the floor.
bench: $(STAMP)
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

# The same code in a seconds-long mode: checks that it runs and its numbers are sane, never a speed threshold.
bench-smoke: $(STAMP)
	$(BIN)/python -m pytest -q -m bench tests/test_bench_smoke.py

# Mutation testing of the core modules (tools/mutate.py): minutes per module, so not part of check or CI.
mutate: $(STAMP)
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) tools/prism/node_modules .pytest_cache .mypy_cache .ruff_cache
