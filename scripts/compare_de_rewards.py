"""SFR vs strict-F1 as DE's reward, from the same SA start: F1 with intervals and paired bootstrap tests.

Usage::

    python scripts/compare_de_rewards.py RUN_A RUN_B [--sa RUN_WITH_SA] [--out DIR]

``RUN_A`` and ``RUN_B`` are run directories whose ``de/`` stages started from the same SA model and were
evaluated on the same gold (e.g. ``runs/cpu-conll04-de-sfr-lr3e-5`` and ``runs/cpu-conll04-de-strictf1-lr3e-5``,
made by ``prouie pipeline --config configs/cpu-conll04.yaml --set name=... --set de.reward=...`` over a copy of
the main run's ``base``, ``cm`` and ``sa``). Writes ``report.md`` and each run's ``de`` scores, predictions,
probe and timing to ``--out`` (default ``benchmarks/results/cpu-conll04-de-rewards``). Needs no model: it
re-scores the committed predictions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prouie_lib import rundir  # noqa: E402
from prouie_lib.analysis.report import load_stage_scores  # noqa: E402
from prouie_lib.evaluation.bootstrap import interval, paired_p_value  # noqa: E402
from prouie_lib.evaluation.protocols import get_protocol  # noqa: E402
from prouie_lib.schema import HEADLINE_METRIC  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a")
    parser.add_argument("run_b")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cpu-conll04-de-rewards"))
    args = parser.parse_args()
    runs = [Path(args.run_a), Path(args.run_b)]
    rule = get_protocol("prouie").scores
    loaded = [load_stage_scores(run, ["sa", "de"]) for run in runs]
    names = [json.loads((run / "de" / rundir.PHASES).read_text())["reward"] for run in runs]
    out = Path(args.out)
    lines = [f"# DE reward comparison: `{names[0]}` vs `{names[1]}` from the same SA start", "",
             f"Runs: `{runs[0]}` and `{runs[1]}` (same SA model, same gold, same DE settings but the reward).", "",
             "| dataset | metric | SA | DE " + names[0] + " | DE " + names[1] + " | p (DE a vs DE b) | p (SA vs DE a) | "
             "p (SA vs DE b) |", "|---|---|---|---|---|---|---|---|"]
    sa = loaded[0]["sa"]
    for name, entry in sorted(sa.scores["datasets"].items()):
        metric = HEADLINE_METRIC[entry["task"]]
        cells = []
        for result in (sa, loaded[0]["de"], loaded[1]["de"]):
            f1 = result.scores["datasets"][name]["metrics"][metric]["f1"]
            low, high = interval(result.units[name][metric], rule)
            cells.append(f"{f1:.1f} [{low:.1f}, {high:.1f}]")
        units = [r.units[name][metric] for r in (sa, loaded[0]["de"], loaded[1]["de"])]
        tests = [paired_p_value(units[1], units[2], rule), paired_p_value(units[0], units[1], rule),
                 paired_p_value(units[0], units[2], rule)]
        lines.append(f"| {name} | {metric} | " + " | ".join(cells) + " | " + " | ".join(f"{p:.3f}" for p in tests)
                     + " |")
    for run, name in zip(runs, names, strict=True):
        probe = [json.loads(x) for x in (run / "de" / rundir.PROBE).read_text().splitlines()]
        lines.append("")
        lines.append(f"- `{name}`: probe outputs changed vs step 0 by step: "
                     + ", ".join(f"{p['step']}: {100 * p['changed_vs_start']:.0f}%" for p in probe))
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        for file in (rundir.SCORES, rundir.PREDICTIONS, rundir.PROBE, rundir.TIMING, rundir.PHASES, rundir.CONFIG,
                     rundir.LOG_HISTORY):
            if (run / "de" / file).exists():
                shutil.copy(run / "de" / file, target / file)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
