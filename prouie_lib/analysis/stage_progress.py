"""What a stage changed while it trained: CM's per-phase dev F1 (forgetting) and DE's greedy-output probe.

- ``cm/phase_scores.json``: after each curriculum phase, the headline F1 of every task seen so far on the dev
  head → :func:`load_phase_scores`, :func:`plot_phase_f1`;
- ``de/probe.jsonl``: the share of a fixed probe set whose greedy output differs from step 0 →
  :func:`load_probe`, :func:`plot_probe`;
- ``<stage>/keep_best.json`` (``trainer.keep_best: dev``): the dev score of each check → :func:`load_dev_checks`,
  and beside the probe, :func:`plot_dev_checks` (what DE's ``beta`` and learning rate are chosen by on dev).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from prouie_lib import rundir
from prouie_lib.analysis.plots import empty_figure, finish_de_step_axes

PHASE_SCORE_COLUMNS = ("phase", "step", "dataset", "task", "metric", "f1", "n")
PROBE_COLUMNS = ("step", "n", "changed_vs_start", "changed_vs_previous")


def load_phase_scores(run_dir: str | Path, stage: str = "cm") -> pd.DataFrame:
    """One row per (phase, dataset): the headline F1 on the dev head after that phase."""
    path = Path(run_dir) / stage / rundir.PHASE_SCORES
    rows = []
    if path.exists():
        for entry in json.loads(path.read_text()):
            for name, d in entry["datasets"].items():
                rows.append({"phase": entry["phase"], "step": entry["step"], "dataset": name, "task": d["task"],
                             "metric": d["metric"], "f1": d["f1"], "n": d["n"]})
    return pd.DataFrame(rows, columns=list(PHASE_SCORE_COLUMNS))


def load_probe(run_dir: str | Path, stage: str = "de") -> pd.DataFrame:
    path = Path(run_dir) / stage / rundir.PROBE
    rows = [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []
    return pd.DataFrame([{k: r[k] for k in PROBE_COLUMNS} for r in rows], columns=list(PROBE_COLUMNS))


def plot_phase_f1(phase_scores: pd.DataFrame) -> Figure:
    """Dev F1 of each dataset after each CM phase: a line that drops after a later phase is forgetting."""
    if phase_scores.empty:
        return empty_figure("no per-phase scores (cm/phase_scores.json)")
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.add_subplot()
    order = list(dict.fromkeys(phase_scores.sort_values("step")["phase"]))
    for i, (name, rows) in enumerate(phase_scores.groupby("dataset", sort=False)):
        rows = rows.set_index("phase").reindex(order)
        metric = rows["metric"].dropna().iloc[0]
        ax.plot(range(len(order)), rows["f1"], marker="o", color=f"C{i}", label=f"{name} ({metric})")
    ax.set_xticks(range(len(order)), [f"after {p}" for p in order])
    ax.set_ylim(0, 100)
    ax.set_ylabel("dev F1 (%)")
    ax.set_title("CM: dev F1 of the tasks seen so far, after each curriculum phase")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def plot_probe(probe: pd.DataFrame) -> Figure:
    """Share of the probe's greedy outputs that differ from step 0 (and from the previous probe)."""
    if probe.empty:
        return empty_figure("no probe (de/probe.jsonl)")
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(probe["step"], 100 * probe["changed_vs_start"], marker="o", label="differs from step 0")
    ax.plot(probe["step"], 100 * probe["changed_vs_previous"], marker=".", linestyle="--",
            label="differs from the previous probe")
    ax.set_ylim(-3, 103)
    finish_de_step_axes(ax, ylabel=f"% of {int(probe['n'].iloc[0])} probe outputs",
                        title="DE: did GRPO move the greedy outputs?")
    return fig


def load_dev_checks(run_dir: str | Path, stage: str = "de") -> pd.DataFrame:
    """One row per keep-best check of a stage: ``step``, ``dev_f1`` (macro headline F1 on the dev head), ``chosen``."""
    path = Path(run_dir) / stage / rundir.KEEP_BEST
    kept = json.loads(path.read_text()) if path.exists() else {"checks": []}
    chosen = kept.get("chosen_step", kept.get("best_step"))
    rows = [{"step": c["step"], "dev_f1": c["dev_f1"], "chosen": c["step"] == chosen} for c in kept["checks"]]
    return pd.DataFrame(rows, columns=["step", "dev_f1", "chosen"])


def plot_dev_checks(checks: pd.DataFrame, probe: pd.DataFrame) -> Figure:
    """DE's dev macro F1 at each keep-best check (the chosen one ringed) and the probe's share of changed outputs."""
    if checks.empty and probe.empty:
        return empty_figure("no dev checks (de.trainer.keep_best: dev) and no probe")
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.add_subplot()
    if not checks.empty:
        ax.plot(checks["step"], checks["dev_f1"], marker="o", color="C0", label="dev macro F1 (keep-best check)")
        best = checks[checks["chosen"]]
        ax.scatter(best["step"], best["dev_f1"], s=120, facecolors="none", edgecolors="C3", label="kept")
    if not probe.empty:
        share = ax.twinx()
        share.plot(probe["step"], 100 * probe["changed_vs_start"], marker=".", linestyle="--", color="C1",
                   label="probe outputs changed (%)")
        share.set_ylim(-3, 103)
        share.set_ylabel("% of probe outputs changed")
        share.legend(fontsize=8, loc="lower right")
    finish_de_step_axes(ax, ylabel="dev F1 (%)", title="DE on dev: score per check, probe movement",
                        legend=not checks.empty)
    return fig
