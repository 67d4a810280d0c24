"""The run report: the ablation (base, each stage, the plain-SFT control) with 95% bootstrap intervals, paired
bootstrap tests between the rows a claim rests on, CM's per-phase dev scores, DE's probe, timings and figures.

Every stage's ``predictions.jsonl`` is re-scored here against the run's gold file with the current scorer and the
run's protocol, so the report never mixes scoring rules (``scores.json`` is the snapshot taken when the stage
finished). Intervals and tests resample the evaluation records (:mod:`prouie_lib.evaluation.bootstrap`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prouie_lib import rundir
from prouie_lib.config import RunConfig
from prouie_lib.rundir import stage_label
from prouie_lib.schema import HEADLINE_METRIC

METHOD_STAGES = ("cm", "sa", "de")


@dataclass
class StageScores:
    """One stage's re-scored result and the per-record unit counts behind it."""

    scores: dict[str, Any]
    units: dict[str, dict[str, list]]


def load_stage_scores(run_dir: Path, stages: list[str], protocol: str = "prouie",
                      split: str | None = None) -> dict[str, StageScores]:
    """Re-score each stage's predictions against the run's gold (stages without predictions are left out)."""
    from prouie_lib.analysis.loaders import gold_path, load_gold
    from prouie_lib.data.io import iter_json_objects
    from prouie_lib.evaluation.score import score_with_units

    run_dir = Path(run_dir)
    if not any((run_dir / stage / rundir.PREDICTIONS).exists() for stage in stages):
        return {}
    gold = list(load_gold(run_dir, split).values())
    source = str(gold_path(run_dir, split))
    out = {}
    for stage in stages:
        path = run_dir / stage / rundir.PREDICTIONS
        if path.exists():
            lines = [line for _, line in iter_json_objects(path)]
            scores, units = score_with_units(gold, lines, protocol, gold_source=source, pred_source=str(path))
            out[stage] = StageScores(scores, units)
    return out


def protocol_rule(protocol: str):
    from prouie_lib.evaluation.protocols import get_protocol

    return get_protocol(protocol).scores


def stage_timing(run_dir: Path, stage: str) -> dict[str, float]:
    path = Path(run_dir) / stage / rundir.TIMING
    return json.loads(path.read_text()) if path.exists() else {}


def headline_metric(entry: dict[str, Any]) -> str:
    return HEADLINE_METRIC[entry["task"]]


def ablation_table(run_dir: Path, stages: list[str], protocol: str = "prouie", *,
                   loaded: dict[str, StageScores] | None = None, resamples: int = 1000) -> str:
    """Markdown table: one row per stage; headline F1 per dataset with its 95% bootstrap interval, macro F1,
    parse-error, hallucination and off-schema rates, stage time."""
    from prouie_lib.evaluation.bootstrap import interval

    loaded = load_stage_scores(run_dir, stages, protocol) if loaded is None else loaded
    if not loaded:
        return "(no stage has predictions yet)"
    rule = protocol_rule(protocol)
    datasets = sorted({name for s in loaded.values() for name in s.scores["datasets"]})
    header = ["stage"]
    for name in datasets:
        entry = next(s.scores["datasets"][name] for s in loaded.values() if name in s.scores["datasets"])
        header.append(f"{name} {headline_metric(entry)} [95% CI]")
    header += ["macro F1", "parse err %", "halluc %", "off-schema %", "stage time (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for stage, result in loaded.items():
        row = [stage_label(stage)]
        f1s, parse, halluc, off, sizes = [], [], [], [], []
        for name in datasets:
            entry = result.scores["datasets"].get(name)
            if entry is None:
                row.append("–")
                continue
            metric = headline_metric(entry)
            f1 = entry["metrics"][metric]["f1"]
            low, high = interval(result.units[name][metric], rule, resamples=resamples)
            f1s.append(f1)
            row.append(f"{f1:.1f} [{low:.1f}, {high:.1f}]")
            parse.append(entry["parse_error_rate"])
            halluc.append(entry["hallucination_rate"])
            off.append(entry.get("off_schema_rate", 0.0))
            sizes.append(entry["n"])
        row.append(f"{sum(f1s) / len(f1s):.1f}" if f1s else "–")
        total = sum(sizes) or 1
        for rates in (parse, halluc, off):
            row.append(f"{sum(r * n for r, n in zip(rates, sizes, strict=True)) / total:.1f}")
        row.append(f"{stage_timing(run_dir, stage).get('total_seconds', 0):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def comparisons(stages: list[str]) -> list[tuple[str, str]]:
    """The pairs a claim rests on: each consecutive pair of base → CM → SA → DE, and the last method stage
    against the plain-SFT control."""
    chain = [s for s in ("base", *METHOD_STAGES) if s in stages]
    pairs = list(zip(chain, chain[1:], strict=False))
    final = next((s for s in reversed(METHOD_STAGES) if s in stages), None)
    if final and "sft" in stages:
        pairs.append(("sft", final))
    return pairs


def paired_tests_table(loaded: dict[str, StageScores], stages: list[str], protocol: str = "prouie", *,
                       resamples: int = 1000) -> str:
    """ΔF1 (B − A) of each compared pair per dataset (headline metric) with the paired bootstrap p-value."""
    from prouie_lib.evaluation.bootstrap import paired_p_value

    rule = protocol_rule(protocol)
    lines = ["| A → B | dataset | metric | F1 A | F1 B | Δ (B − A) | p (paired bootstrap) |",
             "|---|---|---|---|---|---|---|"]
    for a, b in comparisons([s for s in stages if s in loaded]):
        for name, entry in sorted(loaded[b].scores["datasets"].items()):
            if name not in loaded[a].scores["datasets"]:
                continue
            metric = headline_metric(entry)
            f1_a = loaded[a].scores["datasets"][name]["metrics"][metric]["f1"]
            f1_b = entry["metrics"][metric]["f1"]
            p = paired_p_value(loaded[a].units[name][metric], loaded[b].units[name][metric], rule,
                               resamples=resamples)
            lines.append(f"| {stage_label(a)} → {stage_label(b)} | {name} | {metric} | {f1_a:.1f} | {f1_b:.1f} | "
                         f"{f1_b - f1_a:+.1f} | {p:.3f} |")
    return "\n".join(lines) if len(lines) > 2 else "(fewer than two comparable stages)"


def detail_table(loaded: dict[str, StageScores], protocol: str = "prouie", *, resamples: int = 1000) -> str:
    """Markdown table of every metric (P/R/F1 and the F1 interval) per dataset and stage."""
    from prouie_lib.evaluation.bootstrap import interval

    rule = protocol_rule(protocol)
    lines = ["| stage | dataset | metric | P | R | F1 | 95% CI | source |", "|---|---|---|---|---|---|---|---|"]
    for stage, result in loaded.items():
        for name, entry in sorted(result.scores["datasets"].items()):
            for metric, v in entry["metrics"].items():
                low, high = interval(result.units[name][metric], rule, resamples=resamples)
                lines.append(f"| {stage_label(stage)} | {name} | {metric} | {v['p']:.1f} | {v['r']:.1f} | "
                             f"{v['f1']:.1f} | [{low:.1f}, {high:.1f}] | {v.get('source', '')} |")
    return "\n".join(lines)


def budget_note(run_dir: Path) -> str:
    """The control's optimizer-step budget and where it came from."""
    path = Path(run_dir) / "sft" / rundir.PHASES
    if not path.exists():
        return ""
    phases = json.loads(path.read_text())
    budget = phases.get("budget", {})
    return (f"The control (`plain SFT (same budget)`) trained the backbone for {phases['phases'][0]['end_step']} "
            f"optimizer steps in the `{phases.get('format')}` format on the same {phases.get('train_examples')} "
            f"training examples as CM; budget = {budget.get('source', '?')}.")


def phase_table(run_dir: Path) -> str:
    from prouie_lib.analysis.stage_progress import load_phase_scores

    table = load_phase_scores(run_dir)
    if table.empty:
        return ""
    pivot = table.pivot_table(index="dataset", columns="phase", values="f1", aggfunc="first")
    order = list(dict.fromkeys(table.sort_values("step")["phase"]))
    pivot = pivot[order]
    lines = ["| dataset (dev head) | " + " | ".join(f"after {p}" for p in order) + " |",
             "|" + "---|" * (len(order) + 1)]
    for name, row in pivot.iterrows():
        lines.append(f"| {name} | " + " | ".join("–" if v != v else f"{v:.1f}" for v in row) + " |")
    return "\n".join(lines)


def probe_note(run_dir: Path) -> str:
    from prouie_lib.analysis.stage_progress import load_probe

    probe = load_probe(run_dir)
    if probe.empty:
        return ""
    last = probe.iloc[-1]
    return (f"DE probe: after step {int(last['step'])}, {100 * last['changed_vs_start']:.0f}% of the "
            f"{int(last['n'])} probe prompts (dev) get a different greedy output than before DE.")


def _figures(config: RunConfig) -> list[tuple[str, str]]:
    """Render the report's figures; returns (caption, relative path) pairs."""
    try:
        from prouie_lib.analysis import plots, stage_progress
        from prouie_lib.analysis.loaders import load_run
    except ImportError:
        return []
    import matplotlib

    matplotlib.use("Agg")
    run = load_run(config.run_dir)
    fig_dir = config.run_dir / rundir.FIGURES
    fig_dir.mkdir(exist_ok=True)
    made = []
    for caption, name, build, present in (
        ("Training loss per stage (phase boundaries dashed)", "loss.png",
         lambda: plots.plot_loss(run.log_history, run.phases), not run.log_history.empty),
        ("CM: dev F1 of the tasks seen so far after each curriculum phase", "cm_phases.png",
         lambda: stage_progress.plot_phase_f1(stage_progress.load_phase_scores(config.run_dir)),
         (config.run_dir / "cm" / rundir.PHASE_SCORES).exists()),
        ("DE reward per trainer step: total and chosen components", "rewards.png",
         lambda: plots.plot_reward_panels(run.traces), not run.traces.empty),
        ("DE probe: share of greedy outputs changed", "probe.png",
         lambda: stage_progress.plot_probe(stage_progress.load_probe(config.run_dir)),
         (config.run_dir / "de" / rundir.PROBE).exists()),
        ("F1 per dataset per stage", "ablation.png", lambda: plots.plot_f1_by_stage(run.scores),
         not run.scores.empty),
    ):
        if not present:
            continue
        fig = build()
        fig.savefig(fig_dir / name, dpi=100, bbox_inches="tight")
        made.append((caption, f"{rundir.FIGURES}/{name}"))
    return made


def write_report(config: RunConfig) -> Path:
    run_dir = config.run_dir
    stages = list(config.stages)
    protocol = config.eval.protocol
    loaded = load_stage_scores(run_dir, stages, protocol, config.eval.split)
    parts = [f"# ProUIE run `{config.name}`", "",
             f"Backbone `{config.model.backbone}`, datasets {config.data.datasets}, eval split "
             f"`{config.eval.split}` (protocol `{protocol}`). Every stage's predictions are re-scored here; "
             "intervals are 95% percentile bootstrap intervals over the evaluated records (1,000 resamples, "
             "seed 0).", "",
             "## Ablation", "", ablation_table(run_dir, stages, protocol, loaded=loaded), "",
             "Headline metric per task: " + ", ".join(f"{t} {m}" for t, m in HEADLINE_METRIC.items()) +
             " (F1, %). Rates are over all evaluated records.", ""]
    from prouie_lib.analysis.selection_notes import dev_choice_note, handover_note, keep_best_notes

    notes = [budget_note(run_dir), handover_note(run_dir), dev_choice_note(config)]
    parts += [line for note in notes if note for line in (note, "")]
    kept = keep_best_notes(run_dir, stages)
    if kept:
        parts += ["## Checkpoints kept on dev", "", *[f"- {line}" for line in kept], ""]
    parts += ["## Paired tests", "",
              "Each pair is scored on the same records; p is the two-sided paired bootstrap p-value of the "
              "difference (1,000 resamples).", "", paired_tests_table(loaded, stages, protocol), ""]
    phases = phase_table(run_dir)
    if phases:
        parts += ["## CM per phase (dev)", "", phases, ""]
    probe = probe_note(run_dir)
    if probe:
        parts += ["## DE probe", "", probe, ""]
    parts += ["## Timings (s)", "", "| stage | train | total | GRPO generation | GRPO reward | GRPO update |",
              "|---|---|---|---|---|---|"]
    for stage in stages:
        t = stage_timing(run_dir, stage)
        if t:
            parts.append(f"| {stage} | {t.get('train_seconds', 0):.0f} | {t.get('total_seconds', 0):.0f} | "
                         + " | ".join(f"{t[k]:.0f}" if k in t else "–" for k in (
                             "grpo_generation_seconds", "grpo_reward_seconds", "grpo_update_seconds")) + " |")
    parts += [""]
    figures = _figures(config)
    if figures:
        parts += ["## Figures", ""] + [f"![{c}]({p})\n\n*{c}*\n" for c, p in figures]
    parts += ["## All metrics", "", detail_table(loaded, protocol), ""]
    path = run_dir / rundir.REPORT
    path.write_text("\n".join(parts))
    return path
