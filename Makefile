# Two commands do everything: `make run` (install, migrate, demo data, serve on SQLite)
# and `make test` (install, lint, type-check, the whole suite on SQLite and PostgreSQL).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test lint bench clean

$(BIN)/dropwire: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/dropwire

install: $(BIN)/dropwire

run: install
	$(BIN)/dropwire migrate
	$(BIN)/dropwire demo
	@echo "Admin token (shown once):"
	@$(BIN)/dropwire token create --name quickstart
	@echo "Web sign-in (admin dashboard at /, API docs at /docs):"
	@$(BIN)/dropwire user ensure admin@dropwire.local
	$(BIN)/dropwire serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: install
	bash scripts/test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dropwire.db*
