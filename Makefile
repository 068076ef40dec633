# Developer tasks. PYTHON defaults to the active interpreter; override with
#   make test PYTHON=/path/to/venv/bin/python
PYTHON ?= python
SPHINXOPTS ?= -W --keep-going -q

.PHONY: help install test test-fast lint format typecheck docs docs-clean examples bench demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

install:  ## editable install with every extra (tests, docs, lint)
	$(PYTHON) -m pip install -e ".[dev]"

test:  ## the whole test suite (2 workers), as CI runs it
	$(PYTHON) -m pytest -n 2 -q

test-fast:  ## the suite without slow and browser tests
	$(PYTHON) -m pytest -n 2 -q -m "not slow and not browser"

lint:  ## ruff
	$(PYTHON) -m ruff check src tests benchmarks examples docs/conf.py

format:  ## ruff autofix
	$(PYTHON) -m ruff check --fix src tests benchmarks examples docs/conf.py

typecheck:  ## mypy (configured in pyproject.toml)
	$(PYTHON) -m mypy

docs:  ## build the documentation (executes the notebook pages; warnings are errors)
	$(PYTHON) -m sphinx $(SPHINXOPTS) -b html docs docs/_build/html

docs-clean:  ## remove the built documentation
	rm -rf docs/_build

examples:  ## run every example script
	$(PYTHON) -m pytest -q tests/report/test_examples.py

bench:  ## every benchmark, one table each
	$(PYTHON) benchmarks/run_all.py

demo:  ## the whole pipeline on the demo survey
	$(PYTHON) -m driverkit.report.cli demo -o driverkit-demo

clean: docs-clean  ## remove build artefacts
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache driverkit-demo driverkit_output
