#!/usr/bin/env bash
# Install what the browser check (tests/test_browser.py, scripts/browser_check.py) needs, when it can:
# Debian chromium (/usr/bin/chromium, by apt-get: needs root) and the playwright package in .venv (PyPI; its
# driver ships in the wheel, no `playwright install` browser download). Never fails: when something cannot be
# installed it says so in one line and the browser test skips with its reason. PROUIE_BROWSER_DEPS=0 skips it.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${PROUIE_VENV:-.venv}
PLAYWRIGHT_SPEC="playwright>=1.40"   # as the `browser` extra in pyproject.toml
CHROMIUM=/usr/bin/chromium
if [ "${PROUIE_BROWSER_DEPS:-1}" = "0" ]; then
  echo "browser-deps: skipped (PROUIE_BROWSER_DEPS=0); the browser test will skip" >&2
  exit 0
fi
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps: no $CHROMIUM and no way to install it here (needs root and apt-get); the browser test will skip" >&2
    exit 0
  fi
  start=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  # the package lists may be missing (fresh container): update only when the first try fails
  if ! timeout 600 apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/tmp/prouie-apt-chromium.log 2>&1; then
    timeout 300 apt-get update -qq >>/tmp/prouie-apt-chromium.log 2>&1
    timeout 600 apt-get install -y -qq --no-install-recommends chromium fonts-liberation >>/tmp/prouie-apt-chromium.log 2>&1
  fi
  if [ -x "$CHROMIUM" ]; then
    echo "browser-deps: installed Debian chromium in $(( $(date +%s) - start )) s" >&2
  else
    echo "browser-deps: apt-get install chromium failed (see /tmp/prouie-apt-chromium.log); the browser test will skip" >&2
    exit 0
  fi
fi
if ! "$VENV/bin/python" -c "import playwright" >/dev/null 2>&1; then
  start=$(date +%s)
  if timeout 600 "$VENV/bin/python" -m pip install -q "$PLAYWRIGHT_SPEC" 2> >(grep -v "^WARNING: Location" >&2); then
    echo "browser-deps: installed playwright in .venv in $(( $(date +%s) - start )) s" >&2
  else
    echo "browser-deps: pip install $PLAYWRIGHT_SPEC failed; the browser test will skip" >&2
  fi
fi
exit 0
