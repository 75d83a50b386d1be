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
# pytest-xdist workers; --dist loadfile keeps each notebook in one kernel.
JOBS ?= auto

# Another CPU's numerics. PORTABLE_ENV: one without AVX-512, like many readers' and CI's
# (PyTorch's, oneDNN's, OpenBLAS's and NumPy's kernels capped at AVX2), one thread
# everywhere. TensorFlow's oneDNN stays off here: with its ISA capped below the CPU's,
# TensorFlow 2.21's bfloat16 batch matmul crashed (a segmentation fault, on AVX-512 with
# ONEDNN_MAX_CPU_ISA=AVX2). BASELINE_ENV: no SIMD at all in PyTorch, older OpenBLAS
# kernels, TensorFlow's oneDNN on (make test-baseline; not in CI, for its time).
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
PORTABLE_ENV := ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
	OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
	TF_ENABLE_ONEDNN_OPTS=0 $(ONE_THREAD)
BASELINE_ENV := OPENBLAS_CORETYPE=Sandybridge ATEN_CPU_CAPABILITY=default \
	TF_ENABLE_ONEDNN_OPTS=1 $(ONE_THREAD)

.PHONY: venv browser unit test test-portable test-avx2 test-baseline test-loaded \
	test-gpu-branch test-cuda book figures zh-notebooks gettext execute sync lint constraints clean

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

## make browser: find Chromium for the browser tests, or install Debian's (as root), or stop
browser: venv
	@$(BIN)/python tests/browser.py || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium (.ci/install-chromium.sh)"; \
	    bash .ci/install-chromium.sh && $(BIN)/python tests/browser.py; \
	  else exit 1; fi; }

## make unit: the edit loop's tier: the unit tests, without notebooks and the built site
unit: venv
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests -m "not site"

## make test: unit tests, every notebook under nbval, the -W book build, the browser tests
test: venv browser
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

## make test-portable (alias test-avx2): the unit tests and every notebook again, as on a
## CPU without AVX-512, one thread (CONTRIBUTING.md, "Tolerances in unit tests")
# Unit tests that compare no computed numbers (data checksums, packaging, translations,
# notebook structure, the tools, the browser): left out of that pass, for CI's time.
NOT_NUMERIC := $(addprefix --ignore=tests/test_,$(addsuffix .py,bench book_build browser budget \
	colab data data_fsdd data_tang device_names lint nbval_tolerance notebook_sync packages \
	reader_installs run_chapters site site_harness translations))
test-portable test-avx2: venv
	$(PORTABLE_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests book -m "not site" $(NOT_NUMERIC)

## make test-baseline: every notebook with no SIMD kernels in PyTorch (slow; not in CI)
test-baseline: venv
	$(BASELINE_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile book

## make test-loaded: make test with one of the cores kept busy by a spinning process
test-loaded: venv browser
	@sh -c 'while :; do :; done' & spin=$$!; trap "kill $$spin" EXIT; \
	start=$$(date +%s); $(BIN)/python -m pytest -n $(JOBS) --dist loadfile; rc=$$?; \
	echo "make test with one core busy: $$(( $$(date +%s) - start )) s"; exit $$rc

## make test-gpu-branch: every chapter on its GPU branch, rehearsed on this CPU with the
## knobs' `dry` sizes and a T4's float16 + loss scaling, both frameworks, as plain Python
## (tools/run_chapters.py: the chapters' own cells and asserts; no Jupyter needed)
GPU_BRANCH_ENV := BIGMODEL_BRANCH=gpu BIGMODEL_PRECISION=float16 MPLBACKEND=Agg
test-gpu-branch: venv
	$(GPU_BRANCH_ENV) $(BIN)/python tools/run_chapters.py --jobs 2 --out _build/gpu-branch $(CHAPTERS)

## make test-cuda: for a GPU machine with PyTorch only (no TensorFlow, Jupyter or venv):
## the CUDA tests, then every chapter's PyTorch half on its GPU branch at its real sizes,
## with the chapter's own asserts. On a CPU it is a dry run (CUDA tests skip; dry sizes).
CUDA_PYTHON ?= python3
# chapters at once: one on a GPU (each fills it, and times its own steps); two on a CPU dry run
CUDA_JOBS ?= $(shell $(CUDA_PYTHON) -c "import torch; print(1 if torch.cuda.is_available() else 2)" 2>/dev/null || echo 1)
test-cuda:
	PYTHONPATH=$(CURDIR)/lib$${PYTHONPATH:+:$$PYTHONPATH} $(CUDA_PYTHON) -m pytest -q -rs -m cuda \
	  tests/test_cuda.py tests/test_gpt_cuda.py tests/test_tf_cuda.py tests/test_chapter_gpu_cuda.py
	PYTHONPATH=$(CURDIR)/lib$${PYTHONPATH:+:$$PYTHONPATH} MPLBACKEND=Agg BIGMODEL_BRANCH=gpu \
	  $(CUDA_PYTHON) tools/run_chapters.py --torch-only --jobs $(CUDA_JOBS) --out _build/test-cuda $(CHAPTERS)

## make book: the HTML site from the stored outputs, warnings are errors: English in
## _build/html, Chinese in _build/html/zh (from locales/zh_CN; CONTRIBUTING.md)
book: venv
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python tools/i18n.py zh

## make figures: redraw the diagrams in book/figures for each edition (needs a CJK font)
figures: venv
	$(BIN)/python tools/figures.py

## make zh-notebooks: write the Chinese notebooks (locales/zh_CN/notebooks) from the
## English ones and the catalogues; after make gettext and translating, or make execute
zh-notebooks: venv
	$(BIN)/python tools/zh_notebooks.py

## make gettext: after changing English prose, bring locales/zh_CN/**/*.po up to date;
## new messages arrive untranslated, changed ones fuzzy, and the tests fail until translated
gettext: venv
	$(BIN)/python tools/i18n.py gettext

## make sync [NB=book/x.ipynb]: bring each .ipynb and its book/md/*.md to the same cells
## (the newer file's text wins; outputs stay in the .ipynb)
sync: venv
	@for nb in $(NB); do $(BIN)/jupytext --sync --quiet $$nb || exit 1; done

## make execute [NB=book/x.ipynb]: sync, re-run notebooks top to bottom in a fresh kernel, store outputs
execute: venv sync
	@for nb in $(NB); do \
	  echo "executing $$nb"; \
	  start=$$(date +%s); \
	  $(BIN)/jupyter-execute --inplace --timeout=900 --kernel_name=python3 $$nb || exit 1; \
	  $(BIN)/python tools/strip_timing.py $$nb; \
	  echo "  $$nb: $$(( $$(date +%s) - start )) s"; \
	done
	@$(BIN)/python tools/zh_notebooks.py || echo "the Chinese notebooks need translations first: make gettext, translate, make zh-notebooks"

lint: venv
	$(BIN)/ruff check lib tests tools book

## make constraints: re-pin every package from a fresh resolve (review the diff!)
constraints:
	rm -rf /tmp/bigmodel-pin && $(PYTHON) -m venv /tmp/bigmodel-pin
	/tmp/bigmodel-pin/bin/pip install -q -r requirements.txt
	( echo "# Exact versions of everything make venv installs (pip freeze of a fresh .venv)."; \
	  echo "# Refresh: make constraints (then review the diff)."; \
	  /tmp/bigmodel-pin/bin/pip freeze | sed 's/+cpu$$//' ) > constraints.txt

clean:
	rm -rf _build .pytest_cache

## make release: tag this commit v<version> for Colab, after proving that its wheel works:
## build it, install it (with PyTorch and TensorFlow, pinned) in a fresh venv in a temp
## folder and run book/00_setup.ipynb there. Refuses a dirty tree or an existing tag;
## never pushes (README, "Releasing"). make release-check: only the refusals.
# the tag, once the launch button and every chapter name it; computed once, when first used
RELEASE_TAG = $(eval RELEASE_TAG := $$(shell $(BIN)/python tools/nbtools.py release))$(RELEASE_TAG)
release: release-check
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; start=$$(date +%s); \
	rm -rf dist build; \
	$(BIN)/python -m pip wheel -q --no-deps -w dist .; \
	wheel=$$(ls dist/bigmodel-*.whl); echo "built $$wheel; installing it in $$tmp/venv"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -q "$$wheel[torch]" tensorflow-cpu ipykernel \
	  nbclient -c constraints.txt; \
	cp book/00_setup.ipynb "$$tmp/"; \
	( cd "$$tmp" && export JUPYTER_PATH="$$tmp/venv/share/jupyter" && unset PYTHONPATH \
	  && venv/bin/python -c "import bigmodel; print('bigmodel from', bigmodel.__file__)" \
	  && venv/bin/jupyter-execute --timeout=900 --kernel_name=python3 00_setup.ipynb ); \
	echo "wheel built, installed and book/00_setup.ipynb run from it in $$(( $$(date +%s) - start )) s"
	@test -z "$$(git status --porcelain)" || { git status --short; \
	  echo "make release: the working tree changed meanwhile; not tagged"; exit 1; }
	git tag -a $(RELEASE_TAG) -m "bigmodel $(RELEASE_TAG): the release the book's Colab cells install"
	@echo "Tagged $(RELEASE_TAG) (not pushed). Next: git push origin $(RELEASE_TAG)"

release-check: venv
	@test -n "$(RELEASE_TAG)" || exit 1
	@test -z "$$(git status --porcelain)" || { git status --short; \
	  echo "make release: the working tree is not clean; commit or remove the files above"; exit 1; }
	@! git rev-parse -q --verify "refs/tags/$(RELEASE_TAG)" >/dev/null || { \
	  echo "make release: tag $(RELEASE_TAG) exists; raise __version__ in lib/bigmodel/__init__.py first"; exit 1; }
	@echo "make release: ready to tag $(RELEASE_TAG)"

.PHONY: release release-check
