"""Notebooks 00 and 05 in a real browser: JupyterLab + headless Debian Chromium (scripts/browser_check.py).

Part of `make test`: its `browser-deps` step installs Debian chromium and playwright when it can (root, apt-get);
without them this test skips with the reason."""

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
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                       "(apt-get install chromium; `make test` does it when run as root)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="needs the playwright package (pip install playwright; no browser download)"),
    pytest.mark.skipif(shutil.which("jupyter") is None and not (REPO / ".venv/bin/jupyter").exists(),
                       reason="needs jupyter lab"),
]


def test_notebooks_00_and_05_in_chromium(tmp_path: Path):
    out = tmp_path / "screenshots"
    check = subprocess.Popen([sys.executable, str(REPO / "scripts" / "browser_check.py"), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        stdout, stderr = check.communicate(timeout=1500)
    except subprocess.TimeoutExpired:
        check.terminate()  # SIGTERM: the script stops JupyterLab, its kernels and Chromium
        stdout, stderr = check.communicate(timeout=60)
    assert stdout.lstrip().startswith("{"), stdout[-3000:] + stderr[-3000:]
    checks = json.loads(stdout)
    quick, widgets = checks["00"], checks["05"]
    assert check.returncode == 0 and checks["passed"], json.dumps(checks, indent=1)[-4000:]

    # 00, smoke mode: every stage ran, no cell failed, figures are images, the per-stage examples are there
    assert not quick["cell_errors"] and not quick["cells_not_run"]
    assert any(line.startswith("de: macro F1") for line in quick["stage_lines"]), quick["stage_lines"]
    assert not quick["figure_as_text"] and quick["images"]
    assert quick["ablation_header"][0] == "stage" and "macro F1" in quick["ablation_header"]
    assert quick["ablation_stages"][:4] == ["base", "+CM", "+SA", "+DE"], quick["ablation_stages"]
    assert quick["example_tables"] >= 1 and quick["example_rows"][0] == "gold" and len(quick["example_rows"]) >= 4
    # 00's try-it form: the notebook's example result, then a typed text's result after pressing Extract
    assert quick["form_text_before"] == "Tim Cook met Angela Merkel in Berlin on Monday."
    assert quick["form_text_after"] == "Ada Lovelace wrote to Charles Babbage from London."
    assert "model stage de of" in quick["form_status_after"] and "span(s)" in quick["form_status_after"]

    # 05: the widgets respond
    assert not widgets["cell_errors"] and not widgets["cells_not_run"]
    low, high = (float(x) for x in widgets["slider_bounds"])
    assert float(widgets["slider_before"]) == high and float(widgets["slider_after"]) == low < high  # dragged to the first DE step
    assert float(widgets["group_step_after"]) == low and widgets["curves_changed"]
    assert "best completion changed in" in widgets["playground_summary"]

    for name in ("00_notebook_top.png", "00_ablation_and_figure.png", "00_stage_examples.png", "00_try_it_form.png",
                 "05_notebook_top.png", "05_trace_viewer_before.png", "05_trace_viewer_after.png",
                 "05_reward_playground.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000
