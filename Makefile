# Two entry points (see README): `make demo` runs the main job, `make test` the tests.
# Both set up a virtual environment in .venv first (Python 3.11, from PyPI only).
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup system demo test bench notebook clean

# Debian packages the tests need: Chromium for the browser tests, WordNet for the spinner.
# Installed when missing and we are root (as on CI and the developer machines).
DEBS := chromium wordnet-base

$(BIN)/.installed: pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (set PY=...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

system:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/wordnet ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS); \
	  else echo "please install the Debian packages: $(DEBS)"; fi; fi

PORT ?= 8000

demo: setup
	$(BIN)/farmscore demo --port $(PORT)

test: setup system
	$(BIN)/python -m pytest -q

# The benchmark suite (bench/suite.py): installs the `bench` extra (datatrove, spaCy) into
# .venv first; the tests never need it. Writes its table into docs/benchmarks.md.
bench: setup
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.suite --write-readme

# Re-execute the evaluation notebook in place (figures inline), to commit it with its outputs.
notebook: setup
	$(BIN)/jupyter-execute --inplace --timeout=900 --NotebookClient.record_timing=False \
	  notebooks/evaluation.ipynb

clean:
	rm -rf $(VENV) *.egg-info
