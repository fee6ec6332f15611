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

pytest: setup
	$(BIN)/pytest

# The sans-I/O core must stay exhaustively tested (issue 2: coverage >= 95%).
protocol-coverage: setup
	$(BIN)/pytest tests/protocol -q -p no:cacheprovider --cov=goval.protocol --cov-report=term --cov-fail-under=95

test: lint typecheck protocol-coverage pytest

proto: setup
	$(BIN)/python tools/gen_proto.py

bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/connect.py

# The browser IDE: rebuild the committed bundle from ide/ (tests/ide checks it is not stale).
ide:
	cd ide && npm ci --no-audit --no-fund --loglevel=error
	cd ide && node build.mjs ../src/goval/web/static

# What the Playwright tests need: Debian's chromium (never a downloaded browser) and playwright.
browser: $(BIN)/goval
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	$(BIN)/pip install --quiet playwright

clean:
	rm -rf $(VENV) node_modules
