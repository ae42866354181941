# The course's commands. `make book` and `make test` set up everything on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
SOLUTIONS := $(sort $(wildcard solutions/*.ipynb))
# Unattended runs: static figures instead of widgets, no progress bars.
export MLPBOOK_STATIC := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help book book-student test lint unit nbval notebooks build-check execute exercises lab bench clean

help:
	@echo "make book | test | execute | exercises | lab | bench | book-student | clean"

$(STAMP): requirements.txt pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	@start=$$(date +%s); \
	for step in lint unit nbval notebooks build-check; do \
	  t0=$$(date +%s); $(MAKE) --no-print-directory $$step; \
	  echo "== make $$step: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "== make test: $$(( $$(date +%s) - start )) s in all"

lint: $(STAMP)
	$(VPY) -m ruff check .

# Helper unit tests, bad input, mutant tests of every check, exercise integrity.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests -m "not slow" -n 2 -q

# Re-execute chapters and solutions; compare every output with the committed one.
# One thread per worker: this also proves the outputs do not depend on the core count.
nbval: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m pytest --nbval $(NOTEBOOKS) $(SOLUTIONS) \
	  --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 300 \
	  -n 2 --dist loadscope -q -p no:cacheprovider

# Papermill runs: exercises fail only in their stubs; chapters run with another SEED
# and their smallest settings.
notebooks: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests -m slow -n 2 -q

build-check: $(STAMP)
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

# Refresh the committed outputs of chapters and solutions, one after another.
execute: $(STAMP)
	@for nb in $(NOTEBOOKS) $(SOLUTIONS); do \
	  t0=$$(date +%s); \
	  $(VENV)/bin/papermill --no-progress-bar -k python3 --cwd $$(dirname $$nb) $$nb $$nb; \
	  echo "executed $$nb in $$(( $$(date +%s) - t0 )) s"; \
	done
	$(VPY) tools/nbtools.py tidy $(NOTEBOOKS) $(SOLUTIONS)
	$(VPY) tools/nbtools.py exercises

exercises: $(STAMP)
	$(VPY) tools/nbtools.py exercises

lab: $(STAMP)
	MLPBOOK_STATIC= $(VENV)/bin/jupyter lab

clean:
	rm -rf _build
