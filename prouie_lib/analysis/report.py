"""The run report: ablation table (base, each stage, the plain-SFT control), timings, figures, every metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.rundir import STAGE_LABELS
from prouie_lib.schema import HEADLINE_METRIC


def load_stage_scores(run_dir: Path, stages: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for stage in stages:
        path = Path(run_dir) / stage / "scores.json"
        if path.exists():
            out[stage] = json.loads(path.read_text())
    return out


def _timing(run_dir: Path, stage: str) -> dict[str, float]:
    path = Path(run_dir) / stage / "timing.json"
    return json.loads(path.read_text()) if path.exists() else {}


def ablation_table(run_dir: Path, stages: list[str]) -> str:
    """Markdown table: one row per stage; headline F1 per dataset, macro F1, parse-error and hallucination rates."""
    scores = load_stage_scores(run_dir, stages)
    if not scores:
        return "(no stage has scores yet)"
    datasets = sorted({name for s in scores.values() for name in s["datasets"]})
    header = ["stage"]
    for name in datasets:
        task = next(s["datasets"][name]["task"] for s in scores.values() if name in s["datasets"])
        header.append(f"{name} {HEADLINE_METRIC[task]}")
    header += ["macro F1", "parse err %", "halluc %", "stage time (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for stage, s in scores.items():
        row = [STAGE_LABELS.get(stage, stage)]
        f1s, parse, halluc, sizes = [], [], [], []
        for name in datasets:
            entry = s["datasets"].get(name)
            if entry is None:
                row.append("–")
                continue
            f1 = entry["metrics"][HEADLINE_METRIC[entry["task"]]]["f1"]
            f1s.append(f1)
            row.append(f"{f1:.1f}")
            parse.append(entry["parse_error_rate"])
            halluc.append(entry["hallucination_rate"])
            sizes.append(entry["n"])
        row.append(f"{sum(f1s) / len(f1s):.1f}" if f1s else "–")
        total = sum(sizes) or 1
        row.append(f"{sum(p * n for p, n in zip(parse, sizes, strict=True)) / total:.1f}")
        row.append(f"{sum(h * n for h, n in zip(halluc, sizes, strict=True)) / total:.1f}")
        timing = _timing(run_dir, stage)
        row.append(f"{timing.get('total_seconds', 0):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def detail_table(run_dir: Path, stages: list[str]) -> str:
    """Markdown table of every metric (P/R/F1) per dataset and stage."""
    scores = load_stage_scores(run_dir, stages)
    lines = ["| stage | dataset | metric | P | R | F1 |", "|---|---|---|---|---|---|"]
    for stage, s in scores.items():
        for name, entry in sorted(s["datasets"].items()):
            for metric, v in entry["metrics"].items():
                lines.append(f"| {STAGE_LABELS.get(stage, stage)} | {name} | {metric} | {v['p']:.1f} | "
                             f"{v['r']:.1f} | {v['f1']:.1f} |")
    return "\n".join(lines)


def _figures(config: RunConfig) -> list[tuple[str, str]]:
    """Render the report's figures with the analysis module; returns (caption, relative path) pairs."""
    try:
        from prouie_lib.analysis import plots
        from prouie_lib.analysis.loaders import load_run
    except ImportError:
        return []
    import matplotlib

    matplotlib.use("Agg")
    run = load_run(config.run_dir)
    fig_dir = config.run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    made = []
    for caption, name, build in (
        ("Training loss per stage (phase boundaries dashed)", "loss.png",
         lambda: plots.plot_loss(run.log_history, run.phases)),
        ("DE reward per component (mean, min–max band)", "rewards.png",
         lambda: plots.plot_reward_components(run.traces)),
        ("F1 per dataset per stage", "ablation.png", lambda: plots.plot_f1_by_stage(run.scores)),
    ):
        if name == "rewards.png" and run.traces.empty:
            continue
        fig = build()
        fig.savefig(fig_dir / name, dpi=100, bbox_inches="tight")
        made.append((caption, f"figures/{name}"))
    return made


def write_report(config: RunConfig) -> Path:
    run_dir = config.run_dir
    stages = list(config.stages)
    parts = [f"# ProUIE run `{config.name}`", "",
             f"Backbone `{config.model.backbone}`, datasets {config.data.datasets}, eval split "
             f"`{config.eval.split}` (protocol `{config.eval.protocol}`).", "",
             "## Ablation", "", ablation_table(run_dir, stages), "",
             "Headline metric per task: " + ", ".join(f"{t} {m}" for t, m in HEADLINE_METRIC.items()) +
             " (F1, %). Rates are over all evaluated records.", ""]
    timings = {stage: _timing(run_dir, stage) for stage in stages}
    parts += ["## Timings (s)", "", "| stage | train | total |", "|---|---|---|"]
    for stage, t in timings.items():
        parts.append(f"| {stage} | {t.get('train_seconds', 0):.0f} | {t.get('total_seconds', 0):.0f} |")
    parts += [""]
    figures = _figures(config)
    if figures:
        parts += ["## Figures", ""] + [f"![{c}]({p})\n\n*{c}*\n" for c, p in figures]
    parts += ["## All metrics", "", detail_table(run_dir, stages), ""]
    path = run_dir / "report.md"
    path.write_text("\n".join(parts))
    return path
