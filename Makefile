# The two commands of the README. Both create/reuse .venv via scripts/setup_env.sh.
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo lab test test-all lint clean browser-check browser-deps

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

# The suite includes the browser check (tests/test_browser.py); browser-deps installs what it needs when it can.
test: setup browser-deps
	$(PY) -m ruff check prouie_lib tests benchmarks data scripts
	$(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf runs .pytest_cache .ruff_cache

# Debian chromium (apt-get, as root) and playwright in .venv (PyPI, no browser download) for the browser check,
# when they can be installed; otherwise one line, and tests/test_browser.py skips. Never fails.
browser-deps: setup
	@bash scripts/browser_deps.sh

# JupyterLab + headless Chromium check of notebooks 00 (smoke mode) and 05 (widgets); screenshots land in
# docs/screenshots/. The same check runs in `make test` (tests/test_browser.py, screenshots in a temp folder).
browser-check: browser-deps
	$(PY) scripts/browser_check.py --out docs/screenshots
