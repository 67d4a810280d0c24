"""Check the analysis widgets in a real browser: headless JupyterLab + Debian Chromium driven by Playwright.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, settings and workspaces in a temporary folder),
opens a copy of ``notebooks/05_reward_analysis.ipynb`` (its ``RUN_DIR`` made absolute, so the committed
notebook is never touched), runs all cells, checks that the widgets rendered and that no cell failed, drags
the step slider of the reward trace viewer to its minimum and checks that the viewer followed, and saves
screenshots. Everything it started is stopped at the end.

    python scripts/browser_check.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Needs the ``playwright`` package (PyPI; its driver ships in the wheel, no browser download) and a Chromium
binary (``apt-get install chromium``). Prints a JSON summary; exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "05_reward_analysis.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# JupyterLab settings for the check: no news/update toasts over the screenshots.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jupyter_command(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    local = REPO / ".venv" / "bin" / "jupyter"
    if local.exists():
        return [str(local)]
    found = shutil.which("jupyter")
    return [found] if found else [sys.executable, "-m", "jupyter"]


def prepare_root(root: Path, notebook: Path) -> Path:
    """Copy the notebook under ``root/notebooks/`` with an absolute RUN_DIR; write Lab settings."""
    book = json.loads(notebook.read_text())
    for cell in book["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"])
            match = re.search(r'RUN_DIR\s*=\s*"([^"]*)"', source)
            if match:
                run_dir = (notebook.parent / match.group(1)).resolve()
                source = source.replace(match.group(0), f"RUN_DIR = {json.dumps(str(run_dir))}")
            cell["source"] = source
    target = root / "notebooks" / notebook.name
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(book))
    for name, values in LAB_SETTINGS.items():
        path = root / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return target


def start_lab(jupyter: list[str], root: Path, port: int, token: str, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"), "MPLBACKEND": "Agg"}
    command = [*jupyter, "lab", "--no-browser", f"--port={port}", f"--ServerApp.token={token}",
               "--ServerApp.ip=127.0.0.1", "--allow-root", f"--ServerApp.root_dir={root}",
               "--ServerApp.port_retries=0"]
    log = log_path.open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def wait_for_server(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def slider_state(page, label: str) -> dict:
    """Value, bounds and geometry of the first ipywidgets slider whose description is ``label``."""
    return page.evaluate("""(label) => {
        const sliders = [...document.querySelectorAll('.widget-hslider')];
        const box = sliders.find(s => s.querySelector('.widget-label')?.textContent.trim() === label);
        if (!box) return null;
        const handle = box.querySelector('.noUi-handle');
        const track = box.querySelector('.noUi-base');
        const h = handle.getBoundingClientRect(), t = track.getBoundingClientRect();
        return {value: box.querySelector('.widget-readout')?.textContent.trim(),
                min: handle.getAttribute('aria-valuemin'), max: handle.getAttribute('aria-valuemax'),
                handle: [h.x + h.width / 2, h.y + h.height / 2], track: [t.x, t.x + t.width]};
    }""", label)


def viewer_state(page) -> dict:
    """The trace viewer's curves image source and the step named in its group table."""
    return page.evaluate("""() => {
        const group = [...document.querySelectorAll('.widget-html-content')]
            .find(el => el.querySelector('table.prouie-group'));
        const box = group?.closest('.widget-vbox');
        const img = box?.querySelector('img');
        const step = group?.textContent.match(/step (\\d+)/);
        return {image: img ? img.src : null, image_height: img ? img.naturalHeight : 0,
                group_step: step ? step[1] : null};
    }""")


def run_check(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    checks: dict[str, object] = {}
    root = Path(tempfile.mkdtemp(prefix="prouie-browser-"))
    port, token = free_port(), secrets.token_hex(16)
    notebook = prepare_root(root, Path(args.notebook).resolve())
    lab = start_lab(jupyter_command(args.jupyter), root, port, token, root / "lab.log")
    try:
        wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", lab, args.timeout)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                url = f"http://127.0.0.1:{port}/lab/tree/notebooks/{notebook.name}?token={token}"
                page.goto(url, timeout=args.timeout * 1000)
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=args.timeout * 1000)
                page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=args.timeout * 1000)
                checks["kernel_idle"] = True
                page.locator(".jp-Notebook").first.click()  # focus the notebook (command mode), then
                page.keyboard.press("Escape")
                page.keyboard.press("Control+b")  # hide the file browser: more room for the widgets
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).first.click()
                n_code = page.locator(".jp-CodeCell").count()
                page.wait_for_function(
                    """(n) => {
                        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                        return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    }""", arg=n_code, timeout=args.timeout * 1000)
                page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=args.timeout * 1000)
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
                checks["code_cells"] = n_code
                checks["cell_errors"] = tracebacks
                page.wait_for_selector(".widget-hslider .noUi-handle", timeout=args.timeout * 1000)
                checks["widget_views"] = page.locator(".jupyter-widgets.widget-vbox").count()
                page.locator(".jp-Cell").first.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / "05_notebook_top.png"))

                viewer = page.locator(".jp-OutputArea-output").filter(has=page.locator("table.prouie-group")).first
                slider = viewer.locator(".widget-hslider").first
                slider.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(800)
                before_slider, before_view = slider_state(page, "step"), viewer_state(page)
                page.screenshot(path=str(out / "05_trace_viewer_before.png"))
                start_x, start_y = before_slider["handle"]
                page.mouse.move(start_x, start_y)
                page.mouse.down()
                page.mouse.move(before_slider["track"][0] - 20, start_y, steps=12)
                page.mouse.up()
                page.wait_for_function(
                    "(old) => { const g = [...document.querySelectorAll('table.prouie-group')]; "
                    "return g.length && !g[0].closest('.widget-html-content').textContent.includes('step ' + old); }",
                    arg=before_view["group_step"], timeout=30_000)
                page.wait_for_timeout(800)  # the new PNG loads
                after_slider, after_view = slider_state(page, "step"), viewer_state(page)
                page.screenshot(path=str(out / "05_trace_viewer_after.png"))
                checks["slider_before"] = before_slider["value"]
                checks["slider_after"] = after_slider["value"]
                checks["slider_bounds"] = [before_slider["min"], before_slider["max"]]
                checks["group_step_before"] = before_view["group_step"]
                checks["group_step_after"] = after_view["group_step"]
                checks["curves_changed"] = bool(before_view["image"] and after_view["image"] != before_view["image"])
                checks["curves_height"] = after_view["image_height"]

                summary = page.locator(".prouie-summary").first
                summary.evaluate("el => el.closest('.widget-vbox').scrollIntoView({block: 'start'})")
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / "05_reward_playground.png"))
                checks["playground_summary"] = page.locator(".prouie-summary").first.inner_text()
            except Exception:
                page.screenshot(path=str(out / "05_failure.png"))  # what the page showed when a wait failed
                raise
            finally:
                browser.close()
    finally:
        stop(lab)
        log = (root / "lab.log").read_text(errors="replace") if (root / "lab.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
    checks["lab_log_tail"] = log[-1500:] if args.verbose else None
    checks["screenshots"] = sorted(str(p.relative_to(out.parent) if out.parent in p.parents else p)
                                   for p in out.glob("05_*.png"))
    checks["passed"] = bool(
        checks.get("kernel_idle") and not checks["cell_errors"] and checks["widget_views"]
        and _number(checks["slider_after"]) == _number(checks["slider_bounds"][0]) != _number(checks["slider_before"])
        and _number(checks["group_step_after"]) == _number(checks["slider_after"]) and checks["curves_changed"]
        and checks["curves_height"])
    return checks


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", default=str(NOTEBOOK))
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--jupyter", default=None, help="jupyter executable (default: the repo's .venv)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each wait")
    parser.add_argument("--verbose", action="store_true", help="include the end of JupyterLab's log")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    checks = run_check(args)
    print(json.dumps(checks, indent=2))
    return 0 if checks["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
