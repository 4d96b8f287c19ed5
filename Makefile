# Two entry points (see README): `make demo` runs the main job, `make test` the tests.
# Both set up a virtual environment in .venv first (Python 3.11, from PyPI only).
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (set PY=...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/farmscore score --format table seeds/0*.txt

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/bench_inpage.py

clean:
	rm -rf $(VENV) *.egg-info
