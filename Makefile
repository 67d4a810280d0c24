# The two commands of the README. Both create/reuse .venv via scripts/setup_env.sh.
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo lab test test-all lint clean browser-check

setup:
	@bash scripts/setup_env.sh

demo: setup
	$(PY) -m prouie_lib.cli pipeline --config configs/demo.yaml

# JupyterLab from .venv on the notebooks (open 00_quickstart.ipynb first; it reads runs/demo after `make demo`).
# Bound to 127.0.0.1 with a fresh random token, printed in the URL.
LAB_PORT ?= 8888
lab: setup
	@token=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))'); \
	echo "JupyterLab: http://127.0.0.1:$(LAB_PORT)/lab/tree/00_quickstart.ipynb?token=$$token  (Ctrl-C stops it)"; \
	$(PY) -m jupyterlab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) --notebook-dir=notebooks \
		--IdentityProvider.token=$$token $(if $(filter 0,$(shell id -u)),--allow-root,)

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
