# The two commands a newcomer needs: `make conformance PROFILE=runai` and `make test`.
# Both install what is missing first (Debian's prometheus packages via apt, Python packages into .venv).

PROFILE ?= runai
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: setup tools venv conformance test lint typecheck bench clean

setup: tools venv

# promtool, amtool, prometheus and Alertmanager come from Debian's packages (apt needs root).
tools:
	@if command -v promtool >/dev/null && command -v amtool >/dev/null && command -v prometheus >/dev/null \
	   && (command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null); then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; \
	elif command -v sudo >/dev/null; then \
	  sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; \
	else \
	  echo "promtool/amtool/prometheus/alertmanager missing: run as root: apt-get install prometheus prometheus-alertmanager" >&2; exit 1; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python
	@$(BIN)/python -c "import conformance, pytest, yaml, jsonschema, promql_parser, kubernetes, kubernetes_validate, mypy, ruff" 2>/dev/null \
	  || $(BIN)/pip install -q -e '.[dev]'

conformance: setup
	$(BIN)/pytest --profile $(PROFILE) $(ARGS)

test: setup
	$(BIN)/pytest -n 2 tests $(ARGS)

lint: venv typecheck
	$(BIN)/lint-imports
	$(BIN)/ruff check conformance plugins fixtures tests benchmarks
	$(BIN)/ruff format --check conformance plugins fixtures tests benchmarks

# mypy reads plugins/ and fixtures/ under their installed package names (see [tool.mypy] in pyproject.toml).
typecheck: venv
	@mkdir -p build/typecheck
	@ln -sfn ../../plugins build/typecheck/conformance_plugins
	@ln -sfn ../../fixtures build/typecheck/conformance_fixtures
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/static.py
	$(BIN)/python benchmarks/scrape.py
	$(BIN)/python benchmarks/live.py

clean:
	rm -rf $(VENV) build *.egg-info
