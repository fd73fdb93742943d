# Two commands for users:  make lab   (set up, then open JupyterLab)
#                          make test  (set up, then run the whole test suite)
# Both create ./.venv on first use and reuse it afterwards (reinstalling only when pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB     ?= notebooks/[0-9]*.ipynb

.PHONY: lab test notebooks data student setup clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	@touch $(STAMP)

# As root (a Docker container, a lab VM) Jupyter refuses to start unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

test: $(STAMP)
	HELPERS_SMOKE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-execute notebooks in place in full mode: this is how their stored outputs are made.
# MNIST/SVHN are read from $HELPERS_DATA (default data/), e.g. `HELPERS_DATA=/srv/course-data make notebooks`.
# One notebook: `make notebooks NB=notebooks/01_2d_classifier.ipynb`.
# Cells tagged "requires-official-data" (notebook 04) need the official SVHN files: without them (checked by
# checksum) they are skipped and stored without outputs, so no result from other data is stored as SVHN's.
# `make data` downloads MNIST and SVHN first.
notebooks: $(STAMP)
	@skip=""; $(BIN)/python -m helpers.data check svhn || \
		skip="--ExecutePreprocessor.skip_cells_with_tag=requires-official-data"; \
	echo HELPERS_SMOKE=0 jupyter nbconvert --execute $$skip $(NB); \
	HELPERS_SMOKE=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=3600 $$skip $(NB)

# Download MNIST and SVHN (train and test, about 250 MB) into the data root, checksums verified.
data: $(STAMP)
	$(BIN)/python -m helpers.data download all

# Student copies: student/NN_*.ipynb from notebooks/, solutions replaced by stubs, outputs cleared.
student: $(STAMP)
	$(BIN)/python scripts/coursework.py student

clean-venv:
	rm -rf $(VENV)
