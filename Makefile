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
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning threads
# made small PyTorch models 7-14 times slower (measured); on an idle one it costs nothing.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: help book book-student test lint unit nbval notebooks build-check pdf browser web-assets execute exercises jupyter jupyter-branch lab colab-image bench nbgrader clean

help:
	@echo "make book | test | pdf | browser | execute | exercises | lab | bench | book-student | jupyter | jupyter-branch | colab-image | nbgrader | clean"

$(STAMP): requirements.txt pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The build also writes _build/html/mlp-pytorch-notebooks.zip (every notebook; tools/bookext.py).
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The Colab image (downloads, once) is set-up, like the venv: it is not timed as a step.
test: $(STAMP) colab-image
	@start=$$(date +%s); \
	for step in lint unit nbval notebooks build-check pdf browser; do \
	  t0=$$(date +%s); $(MAKE) --no-print-directory $$step; \
	  echo "== make $$step: $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "== make test: $$(( $$(date +%s) - start )) s in all"

lint: $(STAMP)
	$(VPY) -m ruff check .

# Helper unit tests, bad input, mutant tests of every check, exercise integrity.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests -m "not slow and not browser" -n 2 -q

# Re-execute chapters and solutions; compare every output with the committed one.
# One thread per worker, as `make execute` and `make bench` use: PyTorch's sums can differ
# in their last digits between thread counts, and training can amplify that (chapters 2,
# 4 and 12 do, measured), so the committed outputs are one-thread outputs.
nbval: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m pytest --nbval $(NOTEBOOKS) $(SOLUTIONS) \
	  --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 300 \
	  -n 2 --dist loadscope -q -p no:cacheprovider

# Papermill runs: exercises fail only in their stubs; chapters run with another SEED
# and their smallest settings. Also two chapters on a simulated Colab (tests/test_colab.py),
# which needs the Colab image.
notebooks: $(STAMP) colab-image
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests -m "slow and not browser" -n 2 -q

build-check: $(STAMP)
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, _build/pdf/book.pdf (copied into _build/html/, which links it):
# Debian's Chromium prints the single-page build (tools/book_pdf.py). Run it after
# `make book` or `make build-check`. CHROMIUM names another Chromium-based browser.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
pdf: $(STAMP) web-assets
	@test -x $(CHROMIUM) || { echo "make pdf: $(CHROMIUM) is missing; apt-get install -y chromium" >&2; exit 1; }
	$(VENV)/bin/jupyter-book build . --builder singlehtml --keep-going
	$(VPY) tools/book_pdf.py

# The built book in Debian's Chromium (needs `make build-check` and `make pdf` first): every
# page of the TOC loads without console errors or failed requests, its math renders, its
# images have alt text, its links and anchors resolve, and axe finds nothing serious in the
# light and dark themes; at 390 and 1366 px its sidebar buttons work, nothing runs off the
# edge, its figures are sharp, and no maintainer's marker shows; the PDF has its pages,
# outline and fonts. Screenshots go to _build/screenshots/.
browser: $(STAMP) web-assets
	@test -f _build/html/index.html || { echo "make browser: _build/html is missing; run make build-check first" >&2; exit 1; }
	@test -f _build/pdf/book.pdf || { echo "make browser: _build/pdf/book.pdf is missing; run make pdf first" >&2; exit 1; }
	@test -x $(CHROMIUM) || { echo "make browser: $(CHROMIUM) is missing; apt-get install -y chromium" >&2; exit 1; }
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests/test_book.py -m browser -n 2 -q -p no:cacheprovider
	@# The launch links of _build/html open the Jupyter edition; the edition in a real
	@# JupyterLab (tests/test_jupyterlab.py: one server, one browser, so no xdist).
	OMP_NUM_THREADS=1 $(VPY) -m pytest tests/test_launch_links.py tests/test_jupyterlab.py \
	  -m browser -p no:xdist -q -p no:cacheprovider

# Local copies of the scripts the pages load from CDNs (MathJax, require.js, the widget
# manager), from their npm packages, for the browser tests. Needs npm.
web-assets: $(STAMP)
	$(VPY) tools/web_assets.py

# An nbgrader course directory for instructors: _build/nbgrader (book/instructor_guide.md).
nbgrader: $(STAMP)
	$(VPY) tools/nbgrader_course.py

# The book without solutions/, for students: _build/student/html.
book-student: $(STAMP)
	$(VPY) tools/student_edition.py

# Refresh the committed outputs of chapters and solutions, one after another.
execute: $(STAMP)
	@for nb in $(NOTEBOOKS) $(SOLUTIONS); do \
	  t0=$$(date +%s); \
	  OMP_NUM_THREADS=1 $(VENV)/bin/papermill --no-progress-bar -k python3 --cwd $$(dirname $$nb) $$nb $$nb; \
	  echo "executed $$nb in $$(( $$(date +%s) - t0 )) s"; \
	done
	$(VPY) tools/nbtools.py tidy $(NOTEBOOKS) $(SOLUTIONS)
	$(VPY) tools/nbtools.py exercises

exercises: $(STAMP)
	$(VPY) tools/nbtools.py exercises

# The Jupyter and Colab edition: the notebooks with their MyST turned into plain Markdown,
# as any Jupyter front end renders them (tools/jupyter_edition.py).
jupyter: $(STAMP)
	$(VPY) tools/jupyter_edition.py

# The tree of the branch that the book's Colab and Binder links open (_config.yml's
# launch_buttons.branch): the edition, binder/ and the helper package. The Pages workflow
# publishes it (tools/edition_branch.py publish).
jupyter-branch: jupyter
	$(VPY) tools/edition_branch.py build --edition _build/jupyter

# The "Colab image" for tests/test_colab.py, once, in .colab/ (tools/colab_image.py):
# Python 3.12 with Colab's preinstalled packages (torch's CUDA build from PyPI: about
# 3.5 GB to download) and the wheels that the notebooks' first cell installs.
colab-image: $(STAMP)
	$(VPY) tools/colab_image.py

# JupyterLab on the edition, with the interactive widgets switched on.
lab: jupyter
	cd _build/jupyter && MLPBOOK_STATIC=0 JUPYTER_CONFIG_PATH=$(CURDIR)/tools/learner-jupyter \
	  $(CURDIR)/$(VENV)/bin/jupyter lab

# Not a test: run every chapter at full settings (Part II with two more seeds) and time
# the from-scratch code against PyTorch. Writes bench/results.json and book/results.md;
# targets are in bench/targets.yaml. One thread, as the committed outputs: the book's
# seed then gives the book's numbers, and each chapter's time holds on one core.
bench: $(STAMP)
	OMP_NUM_THREADS=1 $(VPY) -m bench

clean:
	rm -rf _build
