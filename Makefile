# renkei: two commands for a new machine.
#   make demo   - set up, make sure a broker runs, run every flow end to end, each service as its own broker user
#   make test   - set up, start every service the tests need, run lint, types, layering and the whole suite
#   make test-cluster - the cluster test: a node of a local three-node RabbitMQ cluster stops mid-flow (~2 min)
#   make test-stack   - the stack test: docker/compose.yaml's services as local processes, every flow (3-5 min)
#   make lock   - regenerate requirements.lock (hashed runtime dependencies) after changing pyproject.toml
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-cluster test-stack check lint typecheck layers pytest services rabbitmq postgres promtool lock clean

# The runtime dependencies come from requirements.lock (exact versions, every file's hash), as in the image;
# then the project itself without resolving anything, then the development tools, held to the same runtime
# versions by the lock used as constraints.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	sed -n 's/^\([A-Za-z0-9._-]*==[^ ;]*\).*/\1/p' requirements.lock >$(VENV)/runtime-constraints.txt
	$(BIN)/pip install --quiet -c $(VENV)/runtime-constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Regenerate requirements.lock after changing the runtime dependencies in pyproject.toml (needs PyPI).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" --quiet -o requirements.lock

rabbitmq:
	@scripts/ensure-rabbitmq.sh

postgres:
	@scripts/ensure-postgres.sh

promtool:
	@scripts/ensure-promtool.sh

services: rabbitmq postgres promtool
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

# Whole files to each worker, in the order tests/conftest.py sorts them (files with a `slow` test first), not
# xdist's default of the files with the most tests first, which left the minutes-long fault flows for last.
pytest: $(STAMP) services
	@set -a; for f in var/services/*.env; do source $$f; done; set +a; $(BIN)/pytest -m "not cluster and not stack" -n 2 --dist loadfile --no-loadscope-reorder

test: $(STAMP) services check pytest

# Starts its own cluster (scripts/rabbitmq-cluster.sh, ports 5681-5683) and removes it afterwards.
test-cluster: $(STAMP) rabbitmq
	@set -a; for f in var/services/*.env; do source $$f; done; set +a; $(BIN)/pytest -m cluster

# Boots docker/compose.yaml as local processes (its own cluster on 5681-5683, in var/stack-test; a scratch
# database on the shared PostgreSQL server), runs every flow with a node and a hub worker stopped mid-flow.
test-stack: $(STAMP) rabbitmq postgres
	@set -a; for f in var/services/*.env; do source $$f; done; set +a; $(BIN)/pytest -m stack -s

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
