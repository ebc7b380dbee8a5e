# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UPDRAFT_HOME ?= $(CURDIR)/.updraft-run

.PHONY: run examples test lint bench venv clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The browser tests drive Debian's chromium (not Playwright's own download); install it when missing.
venv: $(BIN)/.installed
	@test -x /usr/bin/chromium || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: venv
	UPDRAFT__CORE__LOAD_EXAMPLES=True UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION=False $(BIN)/updraft standalone

examples: venv
	UPDRAFT__CORE__LOAD_EXAMPLES=True $(BIN)/python scripts/run_examples.py

lint: venv
	$(BIN)/ruff check src tests benchmarks examples/ scripts
	$(BIN)/ruff format --check src tests benchmarks examples/ scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -n 2 -q

bench: venv
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/scheduler.py
	$(BIN)/python benchmarks/parse_files.py
	$(BIN)/python benchmarks/api_latency.py
	$(BIN)/python benchmarks/sql_insert.py

clean:
	rm -rf $(VENV) .updraft-run .mypy_cache .ruff_cache .pytest_cache
