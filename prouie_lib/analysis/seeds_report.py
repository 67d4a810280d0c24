"""The aggregate of a run over several seeds: per stage and dataset the mean headline F1 over seeds, every seed's
F1, a 95% hierarchical-bootstrap interval (seeds, then records), and paired tests that pair seed and record —
consecutive stages and the final stage against the control — each with a verdict (helps / hurts / cannot tell).

Everything is re-scored from the seeds' raw ``predictions.jsonl`` against their gold files, so the report can be
checked by re-scoring the completions independently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prouie_lib import rundir
from prouie_lib.analysis.report import (
    StageScores,
    comparisons,
    headline_metric,
    load_stage_scores,
    protocol_rule,
    stage_timing,
)
from prouie_lib.rundir import stage_label


def seed_scores(run_dir: Path, stages: list[str], protocol: str = "prouie") -> dict[int, dict[str, StageScores]]:
    """Each seed's re-scored stages (seeds without any predictions are left out)."""
    out = {}
    for seed, folder in rundir.seed_dirs(run_dir).items():
        loaded = load_stage_scores(folder, stages, protocol)
        if loaded:
            out[seed] = loaded
    return out


def compared_stages(by_seed: dict[int, dict[str, StageScores]],
                    stages: list[str]) -> tuple[list[str], dict[int, list[str]]]:
    """The stages the aggregate compares and the seeds it leaves out, each with its missing stages.

    Every stage that some seed has finished is compared over the seeds that have finished all of them; a seed
    still running (say a new seed whose control is not done yet) is left out and named rather than dropping a
    stage, such as the control, from the whole report. When no seed has finished them all, the stages every seed
    has finished are compared over all seeds."""
    finished = [s for s in stages if any(s in loaded for loaded in by_seed.values())]
    complete = [k for k, loaded in by_seed.items() if all(s in loaded for s in finished)]
    if complete:
        return finished, {k: [s for s in finished if s not in loaded]
                          for k, loaded in by_seed.items() if k not in complete}
    return [s for s in stages if by_seed and all(s in loaded for loaded in by_seed.values())], {}


def aggregate(run_dir: Path, stages: list[str], protocol: str = "prouie", *, resamples: int = 1000) -> dict[str, Any]:
    """The numbers of the aggregate report (written to ``seeds.json``)."""
    from prouie_lib.evaluation.seed_bootstrap import (
        hierarchical_interval,
        hierarchical_paired,
        seed_mean,
        verdict,
    )

    by_seed = seed_scores(run_dir, stages, protocol)
    rule = protocol_rule(protocol)
    present, left_out = compared_stages(by_seed, stages)
    by_seed = {k: v for k, v in by_seed.items() if k not in left_out}
    seeds = sorted(by_seed)
    result: dict[str, Any] = {"protocol": protocol, "seeds": seeds, "stages": present, "resamples": resamples,
                              "method": "hierarchical percentile bootstrap (seeds, then records within each seed)",
                              "left_out": {str(k): v for k, v in left_out.items()}, "scores": {}, "tests": []}
    if not seeds:
        return result
    datasets = sorted({name for loaded in by_seed.values() for s in present for name in loaded[s].scores["datasets"]})

    def units(stage: str, name: str, metric: str) -> list[list]:
        return [by_seed[k][stage].units[name][metric] for k in seeds]

    for stage in present:
        for name in datasets:
            entries = [by_seed[k][stage].scores["datasets"].get(name) for k in seeds]
            if any(e is None for e in entries):
                continue
            metric = headline_metric(entries[0])
            low, high = hierarchical_interval(units(stage, name, metric), rule, resamples=resamples)
            result["scores"].setdefault(stage, {})[name] = {
                "metric": metric, "n": entries[0]["n"], "mean": round(seed_mean(units(stage, name, metric), rule), 2),
                "per_seed": {str(k): e["metrics"][metric]["f1"] for k, e in zip(seeds, entries, strict=True)},
                "ci": [low, high], "half_width": round((high - low) / 2, 2)}
    for a, b in comparisons(present):
        for name in datasets:
            if name not in result["scores"].get(a, {}) or name not in result["scores"].get(b, {}):
                continue
            metric = result["scores"][b][name]["metric"]
            test = hierarchical_paired(units(a, name, metric), units(b, name, metric), rule, resamples=resamples)
            result["tests"].append({"a": a, "b": b, "dataset": name, "metric": metric, **test,
                                    "verdict": verdict(test)})
    return result


def seeds_report_markdown(summary: dict[str, Any], name: str) -> str:
    """The aggregate report as Markdown."""
    seeds = summary["seeds"]
    lines = [f"# {name}: {len(seeds)} seed{'' if len(seeds) == 1 else 's'} ({', '.join(map(str, seeds))})", "",
             f"Protocol `{summary['protocol']}`; F1 in %. Mean over seeds of each seed's F1; 95% interval from a "
             f"{summary['method']}, {summary['resamples']} resamples; ± is the interval's half-width.", ""]
    for seed, missing in summary.get("left_out", {}).items():
        lines += [f"Seed {seed} is left out until it finishes {', '.join(stage_label(s) for s in missing)}.", ""]
    if not summary["scores"]:
        return "\n".join(lines + ["(no seed has finished a stage yet)"]) + "\n"
    datasets = sorted({d for per in summary["scores"].values() for d in per})
    lines += ["| stage | " + " | ".join(f"{d} (mean [95% CI] ±; per seed)" for d in datasets) + " |",
              "|---|" + "---|" * len(datasets)]
    for stage, per in summary["scores"].items():
        cells = []
        for d in datasets:
            e = per.get(d)
            cells.append("–" if e is None else
                         f"{e['mean']:.1f} [{e['ci'][0]:.1f}, {e['ci'][1]:.1f}] ±{e['half_width']:.1f}; "
                         + " / ".join(f"{v:.1f}" for v in e["per_seed"].values()))
        lines.append(f"| {stage_label(stage)} | " + " | ".join(cells) + " |")
    lines += ["", "## Paired tests (seed and record paired)", "",
              "| A → B | dataset | metric | Δ mean (B − A) | 95% CI of Δ | p | verdict for B |",
              "|---|---|---|---|---|---|---|"]
    for t in summary["tests"]:
        lines.append(f"| {stage_label(t['a'])} → {stage_label(t['b'])} | {t['dataset']} | {t['metric']} | "
                     f"{t['delta']:+.1f} | [{t['ci'][0]:+.1f}, {t['ci'][1]:+.1f}] | {t['p']:.3f} | {t['verdict']} |")
    return "\n".join(lines) + "\n"


def verdict_lines(summary: dict[str, Any]) -> list[str]:
    """Each paired test as a sentence (stage, dataset, verdict and its evidence), the final stage against the
    control first: what a reader takes away, stated at this budget."""
    tests = sorted(summary["tests"], key=lambda t: (t["a"] != "sft", t["dataset"]))
    n = len(summary["seeds"])
    lines = []
    for t in tests:
        what = ("the final stage against the control" if t["a"] == "sft"
                else f"{stage_label(t['b'])} after {stage_label(t['a'])}")
        lines.append(f"{t['dataset']} {t['metric']}, {what}: **{t['verdict']}** (Δ {t['delta']:+.1f} F1, 95% CI "
                     f"[{t['ci'][0]:+.1f}, {t['ci'][1]:+.1f}], p = {t['p']:.3f}, {n} seed{'' if n == 1 else 's'}).")
    return lines


def run_notes(run_dir: Path, stages: list[str]) -> list[str]:
    """How the settings and checkpoints were chosen: the dev runs (``chosen_on_dev``), SA's hand-over and each
    seed's kept checkpoints; each seed's time."""
    from prouie_lib.analysis.selection_notes import dev_choice_note, handover_note, keep_best_notes

    run_dir = Path(run_dir)
    lines = []
    if (run_dir / rundir.RUN_CONFIG).exists():
        from prouie_lib.config import load_config

        lines.append(dev_choice_note(load_config(run_dir / rundir.RUN_CONFIG)))
    folders = rundir.seed_dirs(run_dir)
    handover = next((note for note in map(handover_note, folders.values()) if note), "")  # one rule for all seeds
    if handover:
        lines.append(handover)
    for seed, folder in folders.items():
        kept = keep_best_notes(folder, stages)
        timings = {stage: stage_timing(folder, stage) for stage in stages}
        minutes = sum(timing.get("total_seconds", 0) for timing in timings.values()) / 60
        resumed = [f"`{stage}`" for stage, timing in timings.items() if timing.get("resumed")]
        partial = (f" ({', '.join(resumed)} continued an interrupted run: {'its' if len(resumed) == 1 else 'their'} "
                   "time counts the part after the resume only)") if resumed else ""
        lines.append(f"Seed {seed}: {minutes:.0f} min over the stages{partial}."
                     + (" Kept on dev: " + " ".join(kept) if kept else ""))
    return lines


def write_seeds_report(run_dir: Path, stages: list[str], name: str, protocol: str = "prouie") -> Path:
    """Write ``report.md`` and ``seeds.json`` at the top of a run over several seeds; return the report's path."""
    from prouie_lib.stages.atomic_io import write_json, write_text_atomic

    summary = aggregate(run_dir, stages, protocol)
    write_json(Path(run_dir) / rundir.SEEDS_SUMMARY, summary)
    path = Path(run_dir) / rundir.REPORT
    text = seeds_report_markdown(summary, name)
    if summary["tests"]:
        text += "\n## Verdicts (helps / hurts / cannot tell at this budget)\n\n" + "".join(
            f"- {line}\n" for line in verdict_lines(summary))
    notes = run_notes(run_dir, stages)
    if notes:
        text += "\n## How the settings and checkpoints were chosen\n\n" + "".join(f"- {line}\n" for line in notes)
    write_text_atomic(path, text)
    return path


def plot_seed_scores(run_dir: Path):
    """One panel per dataset: every seed's headline F1 as dots beside the mean over seeds and its 95%
    hierarchical interval, per stage (from ``seeds.json``); a note for a run without seeds."""
    import json

    import numpy as np
    from matplotlib.figure import Figure

    from prouie_lib.analysis.plots import empty_figure

    path = Path(run_dir) / rundir.SEEDS_SUMMARY
    if not path.exists():
        return empty_figure(f"{Path(run_dir).name}: one seed (no {rundir.SEEDS_SUMMARY}); "
                            "run with seeds: [...] for this figure")
    summary = json.loads(path.read_text())
    stages = [s for s in summary["stages"] if s in summary["scores"]]
    datasets = sorted({d for s in stages for d in summary["scores"][s]})
    if not datasets:
        return empty_figure("no seed has finished a stage yet")
    fig = Figure(figsize=(max(4.5, 3.2 * len(datasets)), 3.4), layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False)[0]
    x = np.arange(len(stages))
    for ax, name in zip(axes, datasets, strict=True):
        for i, stage in enumerate(stages):
            entry = summary["scores"][stage].get(name)
            if entry is None:
                continue
            seeds = list(entry["per_seed"].values())
            ax.scatter(np.full(len(seeds), i - 0.12), seeds, s=14, color="grey", alpha=0.8,
                       label="one seed" if i == 0 else None)
            low, high = entry["ci"]
            ax.errorbar(i + 0.12, entry["mean"], yerr=[[entry["mean"] - low], [high - entry["mean"]]], fmt="o",
                        color="C0", capsize=3, label="mean, 95% CI" if i == 0 else None)
        ax.set_xticks(x, [stage_label(s) for s in stages], rotation=20, fontsize=8)
        ax.set_title(f"{name} ({summary['scores'][stages[0]].get(name, {}).get('metric', '')})", fontsize=9)
        ax.set_ylabel("F1 (%)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{len(summary['seeds'])} seeds: each seed's F1 beside the mean", fontsize=10)
    return fig
