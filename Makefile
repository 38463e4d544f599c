# Two commands for a fresh machine:  make run   and   make test
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
QA := $(VENV)/bin/qa
CORPUS ?= seeds
INDEX ?= index
TORCH := torch==2.13.0

.PHONY: run test unit fuzz install install-test install-torch index clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# answering and indexing run on ONNX Runtime: no torch
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

# the tests also check the ONNX files against the torch weights and train a reader: torch first, pinned
# (an unpinned torch would pull a multi-GB CUDA build)
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e '.[test]'
	touch $@

# training (qa train-reader) and exporting (qa export-onnx) need the torch extra
install-torch: $(VENV)/.installed
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e '.[torch]'

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Incremental: does nothing (and loads no model) when the index is current.
index: install
	$(QA) index $(CORPUS) --index $(INDEX)

run: index
	$(QA) serve --index $(INDEX) --docs $(CORPUS)

test: install-test
	$(PY) -m pytest -q

# the fast tier: no model, a few seconds
unit: install-test
	$(PY) -m pytest -q -m unit

# the loader fuzzers' long run (not in CI's time budget): FUZZ_EXAMPLES fresh inputs per loader (the real-OCR
# loader 1% of them), the tally in FUZZ_REPORT (docs/BENCHMARKS.md, Fuzzing the loaders); FUZZ_ARGS="-k pdf"
# runs some loaders only (two halves in two shells use both cores)
FUZZ_EXAMPLES ?= 10000
FUZZ_REPORT ?= tests/artifacts/fuzz.json
FUZZ_ARGS ?=
fuzz: install-test
	QA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) QA_FUZZ_REPORT=$(FUZZ_REPORT) $(PY) -m pytest -q tests/test_fuzz_loaders.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) $(INDEX)/CURRENT $(INDEX)/gen-* $(INDEX)/tmp-* $(INDEX)/.lock
