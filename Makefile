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

# A venv's own pip costs seconds of CPU to put in (ensurepip byte-compiles all of it) and a server
# never uses it: when the machine's pip can install into another environment (`--python`, pip
# 22.3+), the venv is made without one and that pip fills it; otherwise the venv gets its own.
HOST_PIP := $(shell $(PYTHON) -c "import sys, pip; sys.exit(tuple(map(int, pip.__version__.split('.')[:2])) < (22, 3))" 2>/dev/null && echo yes)
ifeq ($(HOST_PIP),yes)
VENV_FLAGS := --without-pip
PIP        := $(PYTHON) -m pip --python $(BIN)/python
else
VENV_FLAGS :=
PIP        := $(BIN)/pip
endif
PIP_INSTALL := $(PIP) install --quiet --disable-pip-version-check --no-compile
# The runtime set is not byte-compiled up front (a server never imports most of it: stripe,
# pygments' lexers, fonttools): `make run`'s processes compile what they import, once, and keep
# it even where PYTHONDONTWRITEBYTECODE is set (the cache is the venv's). The dev set and the
# project are compiled on every core at once (pip compiles one file after another); a file
# that does not compile is only not cached.
COMPILE_ALL := $(BIN)/python -m compileall -q -j 0
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

# A new lock means a new venv: cleared and filled with exactly the locked runtime set (hash-checked,
# no resolving), so nothing left from an earlier lock survives; the dev set is added on top of it
# only for tests and development, so `make run` installs what a server needs and no more.
$(VENV)/.runtime: $(RUNTIME_LOCK) $(LOCK)
	$(PYTHON) -m venv --clear $(VENV_FLAGS) $(VENV)
	$(PIP_INSTALL) --require-hashes --no-deps -r $(RUNTIME_LOCK)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP_INSTALL) --require-hashes --no-deps -r $(LOCK)
	-$(COMPILE_ALL) $(VENV)/lib
	touch $@

$(VENV)/.project: $(VENV)/.runtime pyproject.toml
	$(PIP_INSTALL) --no-deps -e .
	$(PIP) check --disable-pip-version-check
	-$(COMPILE_ALL) src
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

# one process for migrate, demo data, the quickstart token and the admin's sign-in: each
# `dropwire` command loads the whole app again (seconds of CPU on a small machine)
run: install-runtime
	$(KEEP_BYTECODE) $(BIN)/dropwire quickstart
	@# the demo's pull feed is a file this server serves itself, on 127.0.0.1
	DROPWIRE_ALLOWED_TARGET_NETWORKS=$${DROPWIRE_ALLOWED_TARGET_NETWORKS:-127.0.0.1/32} $(KEEP_BYTECODE) $(BIN)/dropwire serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: install
	bash scripts/test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dropwire.db*
