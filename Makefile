# The two commands of the README. Both create/reuse .venv via scripts/setup_env.sh.
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test test-all lint clean browser-check

setup:
	@bash scripts/setup_env.sh

demo: setup
	$(PY) -m prouie_lib.cli pipeline --config configs/demo.yaml

test: setup
	$(PY) -m ruff check prouie_lib tests benchmarks data scripts
	$(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf runs .pytest_cache .ruff_cache

# JupyterLab + headless Chromium check of the widgets (notebook 05); screenshots land in docs/screenshots/.
# Needs root for apt (Debian chromium); playwright comes from PyPI with no browser download.
browser-check: setup
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pip install -q "playwright>=1.40"
	$(PY) scripts/browser_check.py --out docs/screenshots
