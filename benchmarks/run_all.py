"""Run every benchmark script in ``benchmarks/`` and record how each went.

Usage::

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--timeout SECONDS] [--out PATH]

Every ``benchmarks/*.py`` except this file and helpers whose name starts with ``_`` is a benchmark; each runs
with its default arguments as a subprocess (same interpreter, repository root as working directory) and
writes its own ``benchmarks/results/*.json``. A script that loads a language model declares
``NEEDS_MODEL = True`` at module level (read from its source, the script is not imported); ``--quick`` skips
those. Writes ``benchmarks/results/run_all.json``: machine (CPU, CPU count, platform, Python, torch/trl/
transformers versions, date) and per script its exit status, wall time, the result files it wrote and the
tail of its output. Exits non-zero when any script failed. On the shared 2-core machine run it under
``flock /tmp/prouie-cpu.lock``; the full run takes about 15 minutes there.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, RESULTS, machine_info, now_utc, write_json  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
TAIL_CHARS = 3000


def discover(folder: Path = BENCH_DIR) -> list[Path]:
    """Benchmark scripts in ``folder``: ``*.py`` except ``run_all.py`` and ``_``-prefixed helpers, sorted."""
    return sorted(p for p in folder.glob("*.py") if p.name != "run_all.py" and not p.name.startswith("_"))


def needs_model(script: Path) -> bool:
    """True when the script's source assigns ``NEEDS_MODEL = True`` at module level."""
    tree = ast.parse(script.read_text(), filename=str(script))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "NEEDS_MODEL"
                                                for t in node.targets):
            return isinstance(node.value, ast.Constant) and node.value.value is True
    return False


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for package in ("torch", "transformers", "trl", "peft", "datasets"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def snapshot(folder: Path) -> dict[str, float]:
    """Modification times of the files directly in ``folder`` (benchmarks write their results there; reports
    that others copy into sub-folders are not attributed to a benchmark)."""
    return {str(p.relative_to(REPO)): p.stat().st_mtime for p in folder.glob("*") if p.is_file()}


def run_script(script: Path, timeout: float | None) -> dict[str, Any]:
    """Run one benchmark; its status, wall seconds, result files written and output tail."""
    before = snapshot(RESULTS) if RESULTS.exists() else {}
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "MPLBACKEND": "Agg"})
        status, output = proc.returncode, proc.stdout + proc.stderr
        timed_out = False
    except subprocess.TimeoutExpired as err:
        status, timed_out = None, True
        output = "".join(x.decode() if isinstance(x, bytes) else (x or "") for x in (err.stdout, err.stderr))
    seconds = time.perf_counter() - start
    after = snapshot(RESULTS) if RESULTS.exists() else {}
    written = sorted(path for path, mtime in after.items() if before.get(path) != mtime)
    return {"script": str(script.relative_to(REPO)), "exit_status": status, "ok": status == 0,
            "timed_out": timed_out, "wall_seconds": round(seconds, 1), "results_written": written,
            "output_tail": output[-TAIL_CHARS:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip scripts that load a model (NEEDS_MODEL)")
    parser.add_argument("--only", nargs="*", default=None, help="script names (without .py) to run")
    parser.add_argument("--timeout", type=float, default=1800, help="per-script limit in seconds")
    parser.add_argument("--out", default=str(RESULTS / "run_all.json"))
    args = parser.parse_args(argv)

    scripts = discover()
    if args.only:
        unknown = sorted(set(args.only) - {s.stem for s in scripts})
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; known: {[s.stem for s in scripts]}")
        scripts = [s for s in scripts if s.stem in args.only]
    report: dict[str, Any] = {
        "benchmark": "run_all", "date": now_utc(), "quick": args.quick,
        "command": " ".join(["python", "benchmarks/run_all.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {**machine_info(with_torch=False), "versions": versions()},
        "scripts": {}, "skipped": {},
    }
    start = time.perf_counter()
    for script in scripts:
        if args.quick and needs_model(script):
            report["skipped"][script.stem] = "loads a model (NEEDS_MODEL = True); --quick"
            print(f"skip {script.stem} (model)", flush=True)
            continue
        print(f"run  {script.stem} ...", flush=True)
        entry = run_script(script, args.timeout)
        report["scripts"][script.stem] = entry
        print(f"     {script.stem}: exit {entry['exit_status']} in {entry['wall_seconds']} s", flush=True)
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    report["all_ok"] = all(e["ok"] for e in report["scripts"].values())
    write_json(args.out, report)
    print(f"wrote {args.out}: {sum(e['ok'] for e in report['scripts'].values())}/{len(report['scripts'])} ok, "
          f"{len(report['skipped'])} skipped")
    return 0 if report["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
