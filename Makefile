# Two commands on a bare machine:  make test   and   make book
# Each creates .venv and installs what it needs (pinned by constraints.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt pyproject.toml | cksum | cut -d' ' -f1)

# Offline copies of the data sets (this repository's CI); elsewhere the loaders fall back to
# the user cache and the canonical download addresses.
export BIGMODEL_DATA     ?= $(abspath ../shared/data)
# Stored notebook outputs and test runs carry no progress-bar noise.
export BIGMODEL_PROGRESS ?= 0
export TF_CPP_MIN_LOG_LEVEL ?= 2
export TF_ENABLE_ONEDNN_OPTS ?= 0
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1

NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
NB ?= $(NOTEBOOKS)

.PHONY: venv test book execute lint constraints clean

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

## make test: unit tests, every notebook under nbval, the -W book build
test: venv
	$(BIN)/python -m pytest

## make book: the HTML site in _build/html, from the stored outputs, warnings are errors
book: venv
	$(BIN)/jupyter-book build . -W -n --keep-going

## make execute [NB=book/x.ipynb]: re-run notebooks top to bottom in a fresh kernel, store outputs
execute: venv
	@for nb in $(NB); do \
	  echo "executing $$nb"; \
	  start=$$(date +%s); \
	  $(BIN)/jupyter-execute --inplace --timeout=900 --kernel_name=python3 $$nb || exit 1; \
	  $(BIN)/python tools/strip_timing.py $$nb; \
	  echo "  $$nb: $$(( $$(date +%s) - start )) s"; \
	done

lint: venv
	$(BIN)/ruff check lib tests

## make constraints: re-pin every package from a fresh resolve (review the diff!)
constraints:
	rm -rf /tmp/bigmodel-pin && $(PYTHON) -m venv /tmp/bigmodel-pin
	/tmp/bigmodel-pin/bin/pip install -q -r requirements.txt
	( echo "# Exact versions of everything make venv installs (pip freeze of a fresh .venv)."; \
	  echo "# Refresh: make constraints (then review the diff)."; \
	  /tmp/bigmodel-pin/bin/pip freeze | sed 's/+cpu$$//' ) > constraints.txt

clean:
	rm -rf _build .pytest_cache
