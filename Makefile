# renkei: two commands for a new machine.
#   make demo   - set up, make sure a broker runs, run one survival/change inquiry cycle end to end
#   make test   - set up, start every service the tests need, run lint, types, layering and the whole suite
#   make test-cluster - the cluster test: a node of a local three-node RabbitMQ cluster stops mid-flow (~2 min)
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-cluster check lint typecheck layers pytest services rabbitmq postgres clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

rabbitmq:
	@scripts/ensure-rabbitmq.sh

postgres:
	@scripts/ensure-postgres.sh

services: rabbitmq postgres
	@scripts/ensure-chromium.sh

demo: $(STAMP) rabbitmq
	$(BIN)/renkei demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck layers

pytest: $(STAMP) services
	@set -a; for f in var/services/*.env; do source $$f; done; set +a; $(BIN)/pytest -m "not cluster"

test: $(STAMP) services check pytest

# Starts its own cluster (scripts/rabbitmq-cluster.sh, ports 5681-5683) and removes it afterwards.
test-cluster: $(STAMP) rabbitmq
	@set -a; for f in var/services/*.env; do source $$f; done; set +a; $(BIN)/pytest -m cluster

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
