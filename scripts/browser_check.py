"""Check notebooks 00 and 05 in a real browser: headless JupyterLab + Debian Chromium driven by Playwright.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, settings and workspaces in a temporary folder),
opens copies of the notebooks there (the committed ones are never touched; ``configs/`` is linked in, so
``runs/`` of notebook 00 lands in the temporary folder), runs all cells of each from the Run menu and checks
that no cell failed, then:

- ``00_quickstart.ipynb`` in its smoke mode (``SMOKE = True``: trains every stage of ``configs/tiny.yaml``):
  the ablation table renders as a table, the F1 figure as a loaded image (not the text ``<Figure size ...>``),
  the per-stage example tables show the gold units and one row per stage, and the try-it form at the end shows
  its example's result; a new text typed into it and the Extract button give that text's result;
- ``05_reward_analysis.ipynb`` (``RUN_DIR`` made absolute): the widgets render, dragging the trace viewer's
  step slider to its minimum moves the viewer, and the reward playground prints its summary.

Screenshots ``00_*.png`` and ``05_*.png`` go to ``--out``; ``<notebook>_failure.png`` when a wait failed.
Everything it started is stopped at the end.

    python scripts/browser_check.py [--out docs/screenshots] [--chromium /usr/bin/chromium] [--only 00]
    python scripts/browser_check.py --only 00 --full    # after `make demo`: notebook 00 on runs/demo

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
NOTEBOOKS = {"00": REPO / "notebooks" / "00_quickstart.ipynb",
             "05": REPO / "notebooks" / "05_reward_analysis.ipynb"}
# Playwright starts Chromium headless with a new empty profile; these keep it off the (closed) network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# JupyterLab settings for the check: no news/update toasts over the screenshots.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}}
VIEWPORT = {"width": 1400, "height": 1000}


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


def copy_notebook(root: Path, notebook: Path, smoke: bool = True) -> Path:
    """Copy ``notebook`` under ``root/notebooks/`` in smoke mode (``SMOKE = True``; ``smoke=False``: the real
    mode), with ``RUN_DIR`` absolute."""
    book = json.loads(notebook.read_text())
    for cell in book["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = re.sub(r"^SMOKE\s*=\s*\w+", f"SMOKE = {smoke}", "".join(cell["source"]), flags=re.M)
            match = re.search(r'RUN_DIR\s*=\s*"([^"]*)"', source)
            if match:
                run_dir = (notebook.parent / match.group(1)).resolve()
                source = source.replace(match.group(0), f"RUN_DIR = {json.dumps(str(run_dir))}")
            cell["source"] = source
    target = root / "notebooks" / notebook.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(book))
    return target


def prepare_root(root: Path, notebooks: list[Path], smoke: bool = True) -> list[Path]:
    """The Lab root: the notebooks' copies, ``configs/`` linked from the repository (and ``runs/`` in the real
    mode, so notebook 00 reads the run ``make demo`` wrote), Lab settings."""
    copies = [copy_notebook(root, notebook, smoke) for notebook in notebooks]
    (root / "configs").symlink_to(REPO / "configs", target_is_directory=True)
    if not smoke:
        (REPO / "runs").mkdir(exist_ok=True)
        (root / "runs").symlink_to(REPO / "runs", target_is_directory=True)
    for name, values in LAB_SETTINGS.items():
        path = root / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return copies


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


def shutdown_kernels(base: str, token: str) -> None:
    """Shut down every kernel of the Lab server (kernels run in their own process groups)."""
    try:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()
    except OSError:
        pass


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# ---------------------------------------------------------------- one notebook in Lab


def open_and_run_all(page, base: str, token: str, notebook: Path, args: argparse.Namespace) -> dict:
    """Open ``notebook`` in its own Lab workspace, run all cells from the Run menu, wait until every code cell
    ran or one failed, and return the cell count, the seconds it took and the error outputs."""
    wait_ms = args.timeout * 1000
    workspace = re.sub(r"\W", "-", notebook.stem)
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/notebooks/{notebook.name}?reset&token={token}",
              timeout=wait_ms)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=wait_ms)
    page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=wait_ms)
    page.locator(".jp-Notebook").first.click()  # focus the notebook (command mode), then
    page.keyboard.press("Escape")
    if page.locator(".jp-FileBrowser:visible").count():
        page.keyboard.press("Control+b")  # hide the file browser: more room for the outputs
    # From the file, not the page: right after loading, Lab may not have rendered every cell yet, and a short
    # count then never matches the run's prompts (CI 2026-12-04: notebook 05 ran all 14 cells and still "stalled").
    n_code = sum(cell["cell_type"] == "code" for cell in json.loads(notebook.read_text())["cells"])
    started = time.time()
    retries, prompts = run_all_cells(page, n_code, args)
    seconds = round(time.time() - started, 1)
    errors = page.locator(STDERR_OUTPUTS)
    tracebacks = [t[-2000:] for t in errors.all_text_contents() if "Traceback" in t or re.search(r"^\w+Error\b", t, re.M)]
    not_run = sum(not _ran(p) for p in prompts)
    return {"code_cells": n_code, "cells_not_run": not_run, "run_seconds": seconds, "cell_errors": tracebacks,
            "run_all_retries": retries}


STDERR_OUTPUTS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
# What the page shows of a run-all: each code cell's prompt ("[3]", "[*]" or blank), a traceback in any output,
# the kernel's status from the status bar, and the text of any open dialog (e.g. "Kernel Restarting").
RUN_STATE_JS = f"""() => {{
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
    const failed = [...document.querySelectorAll("{STDERR_OUTPUTS}")].some(o => o.textContent.includes('Traceback'));
    const dialog = document.querySelector('.jp-Dialog');
    return {{prompts, failed, idle: document.body.innerText.includes('| Idle'),
            dialog: dialog ? dialog.innerText.trim().slice(0, 500) : null}};
}}"""


class RunAllStalled(TimeoutError):
    """A notebook's run-all did not finish; the message says where it stood."""


def _ran(prompt: str) -> bool:
    """Whether a code cell's prompt shows an execution count (``[3]:``)."""
    return re.search(r"\[\d+\]", prompt) is not None


def run_all_cells(page, n_code: int, args: argparse.Namespace) -> tuple[int, list[str]]:
    """Run all cells from the Run menu and wait until every code cell ran (or one failed) and the kernel is idle.

    Polls the page instead of one long wait, so that a failure says where the run stood (the cells' prompts, the
    kernel status, a dialog) instead of only "timeout". A kernel dialog (one that died and restarts) fails at
    once. When no cell has started ``--start-timeout`` seconds after the menu click, the click did not reach the
    notebook (a frontend race: nothing ran yet, so nothing is hidden by trying again): it is made once more, and
    the retry is counted in the result. Returns the number of retries and the cells' final prompts."""
    retries = 0
    clicked = time.time()
    deadline = clicked + args.run_timeout
    click_run_all(page)
    while True:
        page.wait_for_timeout(500)
        state = page.evaluate(RUN_STATE_JS)
        ran = len(state["prompts"]) == n_code and all(_ran(p) for p in state["prompts"])
        if (ran or state["failed"]) and state["idle"]:
            return retries, state["prompts"]
        if state["dialog"]:
            raise RunAllStalled(f"a dialog opened during run-all: {state['dialog']!r}; prompts {state['prompts']}")
        started = any(p not in ("", "[ ]:", "[ ]") for p in state["prompts"])
        if not started and time.time() - clicked > args.start_timeout and retries == 0:
            retries += 1
            clicked = time.time()
            click_run_all(page)
        elif time.time() > deadline:
            raise RunAllStalled(f"run-all unfinished after {args.run_timeout:.0f} s: prompts {state['prompts']}, "
                                f"kernel idle {state['idle']}, retries {retries}")


def click_run_all(page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).first.click()


def scroll_to(page, locator) -> None:
    locator.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)


def check_00(page, base: str, token: str, notebook: Path, out: Path, args: argparse.Namespace) -> dict:
    """Notebook 00 (smoke mode, or ``--full`` on runs/demo): the stages ran or were read, the ablation table, the F1 figure as an image, and the
    per-stage example tables."""
    checks = open_and_run_all(page, base, token, notebook, args)
    prefix = "00_demo" if args.full else "00"  # the real mode reads runs/demo: its screenshots are named apart
    page.locator(".jp-Cell").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    page.screenshot(path=str(out / f"{prefix}_notebook_top.png"))
    texts = page.locator(".jp-OutputArea-output").all_text_contents()
    checks["stage_lines"] = [line for t in texts for line in t.splitlines()
                            if ": macro F1" in line or line.startswith("Reading the run in")]
    checks["figure_as_text"] = [t for t in texts if "<Figure size" in t]
    checks["images"] = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output img')]
        .map(img => [img.naturalWidth, img.naturalHeight])""")
    # (an output's own element carries jp-RenderedMarkdown / jp-RenderedHTMLCommon)
    ablation = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown table").first
    found = ablation.count() > 0
    checks["ablation_header"] = [c.strip() for c in ablation.locator("thead th").all_text_contents()] if found else []
    checks["ablation_stages"] = [c.strip() for c in ablation.locator("tbody tr td:first-child").all_text_contents()] \
        if found else []
    checks["ablation_rows"] = len(checks["ablation_stages"])
    # the per-stage examples: one table per test sentence whose first row is the gold units, then one row per stage
    examples = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output.jp-RenderedHTMLCommon table')]
        .map(t => [...t.querySelectorAll('tr')].map(r => r.querySelector('td')?.textContent.trim()))
        .filter(rows => rows[0] === 'gold')""")
    checks["example_tables"] = len(examples)
    checks["example_rows"] = examples[0] if examples else []
    if checks["ablation_rows"]:
        scroll_to(page, page.locator(".jp-Cell").filter(has=ablation).first)
        page.screenshot(path=str(out / f"{prefix}_ablation_and_figure.png"))
    if examples:
        heading = page.locator(".jp-MarkdownCell").filter(has_text="What each stage changed").first
        scroll_to(page, heading)
        page.screenshot(path=str(out / f"{prefix}_stage_examples.png"))
    checks.update(check_extract_form(page, out, prefix))
    stages = len(checks["example_rows"]) - 1
    checks["passed"] = bool(
        not checks["cell_errors"] and not checks["cells_not_run"] and checks["stage_lines"]
        and not checks["figure_as_text"] and checks["images"] and all(w > 100 and h > 100 for w, h in checks["images"])
        and checks["ablation_header"][:1] == ["stage"] and checks["ablation_rows"] >= 2 and checks["example_tables"] >= 1 and stages >= 2
        and checks["form_passed"])
    return checks


FORM_TEXT = "Ada Lovelace wrote to Charles Babbage from London."


def form_state(page) -> dict:
    """What the try-it form (notebook 00's last cell) shows: its status line, the text of its result, the marks."""
    return page.evaluate("""() => {
        const status = document.querySelector('.prouie-extract-status');
        const result = document.querySelector('.prouie-extract-result');
        return {status: status ? status.textContent.trim() : null,
                text: result ? result.querySelector('.prouie-text')?.textContent : null,
                marks: result ? [...result.querySelectorAll('mark')].map(m => m.textContent) : [],
                unit_rows: result ? result.querySelectorAll('table.prouie-units tbody tr').length : 0};
    }""")


def check_extract_form(page, out: Path, prefix: str) -> dict:
    """The try-it form: its first result (the example run by the notebook), then a new text typed in and Extract
    pressed: the result shows the new text (marks and offsets of whatever units the model found)."""
    form = page.locator(".widget-vbox").filter(has=page.locator(".prouie-extract-status")).last
    if not form.count():
        return {"form_passed": False, "form_error": "no try-it form in the outputs"}
    scroll_to(page, form)
    before = form_state(page)
    form.locator("textarea").first.fill(FORM_TEXT)
    form.get_by_role("button", name="Extract").click()
    page.wait_for_function(
        "(text) => document.querySelector('.prouie-extract-result .prouie-text')?.textContent === text",
        arg=FORM_TEXT, timeout=120_000)
    page.wait_for_timeout(500)
    after = form_state(page)
    page.screenshot(path=str(out / f"{prefix}_try_it_form.png"))
    return {"form_text_before": before["text"], "form_status_before": before["status"],
            "form_text_after": after["text"], "form_status_after": after["status"], "form_marks": after["marks"],
            "form_unit_rows": after["unit_rows"],
            "form_passed": bool(before["text"] and after["text"] == FORM_TEXT and "span(s)" in (after["status"] or ""))}


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


def check_05(page, base: str, token: str, notebook: Path, out: Path, args: argparse.Namespace) -> dict:
    """Notebook 05: the widgets render, the trace viewer follows its step slider, the playground's summary."""
    checks = open_and_run_all(page, base, token, notebook, args)
    page.wait_for_selector(".widget-hslider .noUi-handle", timeout=args.timeout * 1000)
    checks["widget_views"] = page.locator(".jupyter-widgets.widget-vbox").count()
    page.locator(".jp-Cell").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    page.screenshot(path=str(out / "05_notebook_top.png"))

    viewer = page.locator(".jp-OutputArea-output").filter(has=page.locator("table.prouie-group")).first
    slider = viewer.locator(".widget-hslider").first
    scroll_to(page, slider)
    before_slider, before_view = slider_state(page, "DE step"), viewer_state(page)
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
    after_slider, after_view = slider_state(page, "DE step"), viewer_state(page)
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
    checks["playground_summary"] = summary.inner_text()
    checks["passed"] = bool(
        not checks["cell_errors"] and not checks["cells_not_run"] and checks["widget_views"]
        and _number(checks["slider_after"]) == _number(checks["slider_bounds"][0]) != _number(checks["slider_before"])
        and _number(checks["group_step_after"]) == _number(checks["slider_after"]) and checks["curves_changed"]
        and checks["curves_height"])
    return checks


CHECKS = {"00": check_00, "05": check_05}


def run_check(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}
    root = Path(tempfile.mkdtemp(prefix="prouie-browser-"))
    port, token = free_port(), secrets.token_hex(16)
    copies = prepare_root(root, [NOTEBOOKS[key] for key in args.only], smoke=not args.full)
    lab = start_lab(jupyter_command(args.jupyter), root, port, token, root / "lab.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", lab, args.timeout)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                for key, notebook in zip(args.only, copies, strict=True):
                    page = browser.new_page(viewport=VIEWPORT)
                    try:
                        results[key] = CHECKS[key](page, base, token, notebook, out, args)
                    except Exception as error:  # a wait failed: what the page showed, then the next notebook
                        page.screenshot(path=str(out / f"{key}_failure.png"))
                        results[key] = {"passed": False, "error": f"{type(error).__name__}: {error}"[:2000],
                                        "status_bar": _status_bar(page)}
                    finally:
                        page.close()
                        shutdown_kernels(base, token)
            finally:
                browser.close()
    finally:
        shutdown_kernels(base, token)
        stop(lab)
        log = (root / "lab.log").read_text(errors="replace") if (root / "lab.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
    results["passed"] = all(results[key]["passed"] for key in args.only)
    results["lab_log_tail"] = log[-3000:] if args.verbose or not results["passed"] else None  # a failure shows it
    results["screenshots"] = sorted(p.name for key in args.only for p in out.glob(f"{key}_*.png"))
    return results


def _status_bar(page) -> str | None:
    try:
        return page.locator("#jp-main-statusbar").inner_text(timeout=5_000)[:300]
    except Exception:  # the page itself is gone
        return None


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(NOTEBOOKS), default=sorted(NOTEBOOKS),
                        help="which notebooks to check (default: all)")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--jupyter", default=None, help="jupyter executable (default: the repo's .venv)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each page wait")
    parser.add_argument("--run-timeout", type=float, default=600.0, help="seconds for a notebook's run-all")
    parser.add_argument("--start-timeout", type=float, default=60.0,
                        help="seconds after Run All Cells by which a first cell must have started (else clicked again)")
    parser.add_argument("--verbose", action="store_true", help="include the end of JupyterLab's log")
    parser.add_argument("--full", action="store_true",
                        help="the notebooks' real mode (SMOKE = False): notebook 00 reads runs/demo after `make demo`")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)  # a SIGTERM (timeout, the test) still stops Lab and its kernels
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    checks = run_check(args)
    print(json.dumps(checks, indent=2))
    return 0 if checks["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
