"""The widgets render and respond in a real browser: JupyterLab + headless Chromium (scripts/browser_check.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                       "(apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="needs the playwright package (pip install playwright; no browser download)"),
    pytest.mark.skipif(shutil.which("jupyter") is None and not (REPO / ".venv/bin/jupyter").exists(),
                       reason="needs jupyter lab"),
]


def test_notebook_05_widgets_in_chromium(tmp_path: Path):
    out = tmp_path / "screenshots"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "browser_check.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    checks = json.loads(done.stdout[done.stdout.index("{"):])
    assert checks["passed"] and not checks["cell_errors"]
    low, high = (float(x) for x in checks["slider_bounds"])
    assert float(checks["slider_before"]) == high and float(checks["slider_after"]) == low < high  # dragged to 0
    assert float(checks["group_step_after"]) == low and checks["curves_changed"]
    assert "best completion changed in" in checks["playground_summary"]
    for name in ("05_notebook_top.png", "05_trace_viewer_before.png", "05_trace_viewer_after.png",
                 "05_reward_playground.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000
