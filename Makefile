# The README's two commands: `make run` and `make test`. Both set everything up first, so they
# work on a fresh machine with only Python 3.11+ and Node.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8283

.PHONY: run test setup lint typecheck protocol-coverage pytest proto bench clean ide browser

$(BIN)/goval: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(BIN)/goval node_modules/.package-lock.json

run: setup
	$(BIN)/goval serve demo --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: setup
	$(BIN)/mypy

ide/node_modules/.package-lock.json: ide/package.json ide/package-lock.json
	cd ide && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Playwright's sync API keeps its own event loop running for the whole session, which must not
# share a process with the asyncio tests: the browser tests run in a second pytest process.
pytest: setup browser ide/node_modules/.package-lock.json
	$(BIN)/pytest --ignore=tests/ide
	$(BIN)/pytest tests/ide

# The sans-I/O core must stay exhaustively tested (issue 2: coverage >= 95%).
protocol-coverage: setup
	$(BIN)/pytest tests/protocol -q -p no:cacheprovider --cov=goval.protocol --cov-report=term --cov-fail-under=95

test: lint typecheck protocol-coverage pytest

proto: setup
	$(BIN)/python tools/gen_proto.py

bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/connect.py
	$(BIN)/python bench/files.py
	$(BIN)/python bench/terminal.py
	$(BIN)/python bench/ot.py
	$(BIN)/python bench/fanout.py

# The browser IDE: rebuild the committed bundle from ide/ (tests/ide checks it is not stale).
ide: ide/node_modules/.package-lock.json
	cd ide && node_modules/.bin/tsc --noEmit -p .
	cd ide && node build.mjs ../src/goval/web/static

# What the Playwright tests need: Debian's chromium (never a downloaded browser); the playwright
# package itself is a dev dependency (its wheel carries its driver).
browser:
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

clean:
	rm -rf $(VENV) node_modules
