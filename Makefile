# The two commands of the README: `make demo` (main job) and `make test` (every check).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test check lint bench screenshots

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/yibao demo

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The whole suite on SQLite (the embedded default), then again on PostgreSQL; both include
# the browser tests (marker `browser`: Debian's Chromium at /usr/bin/chromium driven by
# Playwright). Without Chromium: `$(BIN)/pytest -m "not browser"`.
PG_URL ?= postgres://yibao:yibao@127.0.0.1:5432/yibao
.PHONY: test-sqlite test-postgres

test: lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: venv
	env -u DATABASE_URL $(BIN)/pytest

test-postgres: venv
	scripts/pg-up.sh
	DATABASE_URL=$(PG_URL) $(BIN)/pytest

check: test

bench: venv
	$(BIN)/python benchmarks/bench_quote.py

# The browser tests again, saving their screenshots into docs/screenshots/ (the README's
# images) instead of the ignored screenshots/ folder.
screenshots: venv
	env -u DATABASE_URL YIBAO_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -m browser
