# Two commands for users:  make lab   (set up, then open JupyterLab)
#                          make test  (set up, then run the whole test suite)
# Both create ./.venv on first use and reuse it afterwards (reinstalling only when pyproject.toml or
# constraints.txt changes), with the exact versions pinned in constraints.txt (made with Python 3.11).
# Options: CONSTRAINTS= (empty: newest versions within pyproject.toml's ranges, e.g. on another Python);
#          TORCH_INDEX=https://download.pytorch.org/whl/cpu (Linux without a GPU: the CPU-only PyTorch, 2.14.1+cpu
#          beats 2.14.1 from PyPI; its other packages still come from PyPI,
#          about 200 MB instead of several GB of CUDA libraries).

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
NB          ?= notebooks/[0-9]*.ipynb
CONSTRAINTS ?= constraints.txt
TORCH_INDEX ?=
PIP_C       := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: lab test test-fast notebooks data student grade gradescope setup constraints clean-venv site slides check-site

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install $(PIP_C) --extra-index-url $(TORCH_INDEX) torch torchvision)
	$(BIN)/python -m pip install $(PIP_C) -e '.[test,lab,site]'
	@touch $(STAMP)

# Re-pin constraints.txt to what .venv holds (after `make setup CONSTRAINTS=` has installed newer versions).
# The CUDA packages that PyTorch pulls only on Linux get a marker, so macOS/Windows ignore their pins.
# jsonschema stays at 4.24.1 (pin it back after an upgrade): 4.25+ imports rfc3987-syntax, which
# builds ~35 parsers on import, 0.9 s in every process that imports nbformat (jsonschema#1428).
constraints:
	{ echo "# Exact versions for make lab/test, CI and environment.yml: made by make constraints from a .venv of"; \
	  echo "# $$($(BIN)/python -c 'import platform; print("Python", platform.python_version(), "on", platform.system())')"; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed -E \
		's/^((nvidia|cuda|triton)[^=]*==.*)$$/\1 ; platform_system == "Linux"/'; } > constraints.txt

# As root (a Docker container, a lab VM) Jupyter refuses to start unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

# The whole suite, in parallel on every core (pytest-xdist: one worker runs all cells of a notebook,
# see conftest.py). One file: `make test PYTEST_ARGS=tests/test_lint.py`; one process: TEST_JOBS=0.
TEST_JOBS ?= auto
test: $(STAMP)
	HELPERS_SMOKE=1 $(BIN)/python -m pytest -n $(TEST_JOBS) --maxprocesses=8 $(PYTEST_ARGS)

# The edit-test loop: tests/ without the tests marked slow (no notebook, kernel, browser, sandbox or
# script run); conftest.py fails a test that starts one of those without the mark. Two workers, tests
# handed out one by one (--dist load: they are short); faster on 2 cores than one process
# (FAST_JOBS=0): the measured durations are in the README's maintainer section.
FAST_JOBS ?= 2
test-fast: $(STAMP)
	HELPERS_SMOKE=1 $(BIN)/python -m pytest -m "not slow" -n $(FAST_JOBS) --dist load tests $(PYTEST_ARGS)

# Re-execute notebooks in place in full mode: this is how their stored outputs are made. A false claim
# stops the run here (HELPERS_STRICT=1): a notebook is never stored with a contradicted conclusion.
# MNIST/SVHN are read from $HELPERS_DATA (default data/), e.g. `HELPERS_DATA=/srv/course-data make notebooks`.
# One notebook: `make notebooks NB=notebooks/01_2d_classifier.ipynb`.
# Notebook 04 needs SVHN. Without the official files in the data root (checked by checksum) it runs on the
# SVHN-format files in $(SVHN_SAMPLE) when that folder exists (the course's sample of real SVHN digits: every
# result it stores then says "SVHN sample"), else it downloads the official files.
# `make data` downloads MNIST and SVHN first. HELPERS_WIDGETS=0: no widgets (notebook 01's playground) are stored,
# even when this runs from inside a Jupyter session, where the kernels would otherwise inherit its session name.
# Widget state an earlier run left in a notebook's metadata would survive --inplace, so it is dropped first.
SVHN_SAMPLE ?= ../shared/data/svhn-sample
notebooks: $(STAMP)
	@svhn=""; if ! $(BIN)/python -m helpers.data check svhn >/dev/null 2>&1 && [ -d "$(SVHN_SAMPLE)" ]; then \
		svhn="HELPERS_SVHN=$(abspath $(SVHN_SAMPLE))"; \
		echo "official SVHN not in the data root: notebook 04 runs on the SVHN sample in $(SVHN_SAMPLE)"; fi; \
	$(BIN)/python -c 'import sys, nbformat; [nbformat.write(nb, p) for p in sys.argv[1:] for nb in \
		[nbformat.read(p, as_version=4)] if nb.metadata.pop("widgets", None) is not None]' $(NB); \
	echo $$svhn HELPERS_SMOKE=0 jupyter nbconvert --execute --inplace $(NB); \
	env $$svhn HELPERS_SMOKE=0 HELPERS_STRICT=1 HELPERS_WIDGETS=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=3600 $(NB)

# Download MNIST and SVHN (train and test, about 250 MB) into the data root, checksums verified.
data: $(STAMP)
	$(BIN)/python -m helpers.data download all

# Student copies: student/NN_*.ipynb from notebooks/, solutions replaced by stubs, outputs cleared.
student: $(STAMP)
	$(BIN)/python scripts/coursework.py student

# Grade a folder of submitted notebooks (only read): grades.csv, results.csv and feedback/ in $(GRADES)
# (default: the folder's name + "-grades", next to it), each kernel in a bubblewrap sandbox where there is one.
# ROSTER=class.csv adds the Canvas, Moodle and Gradescope import files. See helpers/coursework/ and the README.
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=path/to/folder [GRADES=path/to/output]"; exit 2; }
	$(BIN)/python -m helpers.coursework grade "$(SUBMISSIONS)" $(if $(GRADES),--out "$(GRADES)") \
		$(if $(ROSTER),--roster "$(ROSTER)") $(GRADE_ARGS)

# A Gradescope autograder per notebook: build/gradescope/NN_name.zip (setup.sh, run_autograder, the course
# package, the instructor notebook), graded with the same code as `make grade`. One: `make gradescope NB=01_2d_classifier`.
gradescope: $(STAMP)
	$(BIN)/python -m helpers.coursework gradescope build $(if $(filter-out notebooks/[0-9]*.ipynb,$(NB)),$(basename $(notdir $(NB))))

# The course as a website in build/site: Sphinx + myst-nb over the stored notebooks (nothing is executed), a home
# page with the table of notebooks, the student copies as downloads, MathJax copied in (no CDN); then the built
# HTML is checked offline (links, images). SOLUTIONS=1: an instructor's site that shows the solutions.
site: $(STAMP)
	$(BIN)/python scripts/build_site.py $(if $(SOLUTIONS),--solutions)

# Lecture slides: build/slides/NN_name.html, one reveal.js deck per notebook from its cells' slideshow metadata;
# reveal.js is fetched once from the npm registry (`npm pack`, checksum checked) into build/vendor.
slides: $(STAMP)
	$(BIN)/python scripts/build_slides.py

# Load every page of build/site and build/slides in headless Chromium (the system /usr/bin/chromium, driven by
# Playwright from the browser extra, installed here on first use): no console error, failed or outside request,
# broken image or link. Run `make site slides` first.
check-site: $(STAMP)
	@$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m pip install $(PIP_C) -e '.[browser]'
	$(BIN)/python scripts/check_site.py build/site --browser
	$(BIN)/python scripts/check_site.py build/slides --browser

clean-venv:
	rm -rf $(VENV)
