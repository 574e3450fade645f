# `make lab` opens the course, `make test` runs every test. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: lab test release hub-setup clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements-dev.txt -e .
	touch $@

# Self-study: JupyterLab at the repository root (lessons and assignments), with only the nbgrader
# tabs that work here (course_lib/classroom/lab.py says which, and why, when it starts).
lab: $(BIN)/.installed
	$(BIN)/python -m course_lib.classroom.lab $(LAB_ARGS)

# Two test workers share the cores; one BLAS/OpenMP thread each keeps them from oversubscribing.
test: $(BIN)/.installed
	$(BIN)/ruff check --output-format concise .
	$(BIN)/ruff format --check .
	PATH="$(abspath $(BIN)):$$PATH" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/python -m pytest -n 2 --dist loadfile

release: $(BIN)/.installed
	$(BIN)/course release

# The class hub's shared course environment (/opt/<course_id>-hub/venv, from /usr/bin/python3), as root:
# `sudo make hub-setup` once, then `sudo .venv/bin/course hub --roster ...` (README: A class on JupyterHub).
hub-setup: $(BIN)/.installed
	$(BIN)/course hub --setup

clean:
	rm -rf $(VENV)
