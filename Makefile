# Two commands do everything: `make run` (install, migrate, demo data, serve on SQLite)
# and `make test` (install, lint, type-check, the whole suite on SQLite and PostgreSQL).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Hashed pins for Python 3.11 on x86_64 Linux, written by `make lock`: runtime.txt is what `make run`
# installs, dev.txt the same pins plus the dev extra (what `make test` and developers install).
LOCK         := requirements/dev.txt
RUNTIME_LOCK := requirements/runtime.txt
UV_VERSION   := 0.13.9
UV           := build/lock-tools/bin/uv
COMPILE      := $(UV) pip compile pyproject.toml --no-config --generate-hashes --python-version 3.11 \
                --python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" --quiet

.PHONY: install install-runtime run test lint lock lock-upgrade bench clean

# A new lock means a new venv: cleared and filled with exactly the locked runtime set (hash-checked,
# no resolving), so nothing left from an earlier lock survives; the dev set is added on top of it
# only for tests and development, so `make run` installs what a server needs and no more.
$(VENV)/.runtime: $(RUNTIME_LOCK) $(LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(RUNTIME_LOCK)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	touch $@

$(VENV)/.project: $(VENV)/.runtime pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/pip check --disable-pip-version-check
	touch $@

install-runtime: $(VENV)/.project

install: $(VENV)/.project $(VENV)/.dev

# `make lock` adds or changes only what pyproject.toml asks for and keeps every other pin;
# `make lock-upgrade` moves every pin to the newest release the ranges allow.
$(UV):
	$(PYTHON) -m venv build/lock-tools
	build/lock-tools/bin/pip install --quiet "uv==$(UV_VERSION)"

lock: $(UV)
	$(COMPILE) --extra dev $(LOCK_FLAGS) -o $(LOCK)
	$(COMPILE) --constraint $(LOCK) -o $(RUNTIME_LOCK)

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

run: install-runtime
	$(BIN)/dropwire migrate
	$(BIN)/dropwire demo
	@$(BIN)/dropwire token ensure --name quickstart
	@echo "Web sign-in (admin dashboard at /, API docs at /docs):"
	@$(BIN)/dropwire user ensure admin@dropwire.local
	@# the demo's pull feed is a file this server serves itself, on 127.0.0.1
	DROPWIRE_ALLOWED_TARGET_NETWORKS=$${DROPWIRE_ALLOWED_TARGET_NETWORKS:-127.0.0.1/32} $(BIN)/dropwire serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: install
	bash scripts/test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dropwire.db*
