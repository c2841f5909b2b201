# The README's commands. `make demo` installs the core with the explanation metrics and runs the embedded demo;
# `make test` installs everything (CPU torch pinned by constraints-cpu.txt) and runs the tests;
# `make docs` builds the documentation site from docs/ into site/ (offline, warnings are errors).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints-cpu.txt

.PHONY: demo test lint docs bench install-core install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.core-installed: $(BIN)/python pyproject.toml setup.py $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) "torch==2.13.0"
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[text]"
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml setup.py $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) "torch==2.13.0"
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[all,dev]"
	touch $(VENV)/.core-installed $@

install-core: $(VENV)/.core-installed
install-dev: $(VENV)/.dev-installed

demo: install-core
	$(BIN)/fdrbench demo

test: install-dev
	$(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install-dev
	$(BIN)/mkdocs build --strict --site-dir site

# every script runs even when one misses its target; the exit status says whether any did
bench: install-dev
	@status=0; for script in $(wildcard bench/*.py); do echo "== $$script"; $(BIN)/python $$script || status=1; done; exit $$status

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache
