# One task runner: CI runs `make test` verbatim (.ci/run).
# Every target creates the virtual environment and installs Kurator into it when missing or
# when pyproject.toml changed, so a fresh clone needs only Python 3.11 and pip.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint bench clean

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(INSTALLED)
	$(BIN)/kurator dev

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest records its own verdict in .pytest-verdict (tests/conftest.py). The Python
# interpreter can abort at exit after a green run (an open Temporal SDK issue); only that case,
# a signal death after pytest itself reported success, is turned into success.
#
# The suite runs on PYTEST_WORKERS processes (pytest-xdist), each with its own PostgreSQL and
# Temporal servers: most of its time is spent waiting on servers and timers, not computing,
# so three processes on two cores take about half the time of one. PYTEST_WORKERS=0 runs it
# in this process alone (for a debugger, or -x on one failure).
PYTEST_WORKERS ?= 3
test: lint
	@rm -f .pytest-verdict
	@$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); status=$$?; verdict=$$(cat .pytest-verdict 2>/dev/null); \
	if [ $$status -ge 128 ] && [ "$$verdict" = "0" ]; then \
		echo "pytest passed; the interpreter then died with status $$status at exit (known SDK issue), ignored"; \
		status=0; \
	fi; \
	exit $$status

bench: $(INSTALLED)
	$(BIN)/kurator bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .pytest-verdict
