"""Report notes on how a run's settings and checkpoints were chosen: the dev runs behind a test run's settings,
SA's hand-over from CM, and each arm's keep-best-on-dev choice (DE's fallback to its input included)."""

from __future__ import annotations

import json
from pathlib import Path

from prouie_lib import rundir
from prouie_lib.config import RunConfig


def dev_choice_note(config: RunConfig) -> str:
    """Which dev runs chose this run's settings (``chosen_on_dev``); a test run without any says so."""
    if config.eval.split == "dev":
        return "This is an exploration run: it is evaluated on the dev split."
    if config.chosen_on_dev:
        return (f"Settings fixed on dev before this `{config.eval.split}` evaluation, by: "
                + ", ".join(f"`{name}`" for name in config.chosen_on_dev) + ".")
    return (f"This run is evaluated on `{config.eval.split}` and names no dev runs behind its settings "
            "(`chosen_on_dev` is empty).")


def handover_note(run_dir: Path) -> str:
    """SA's hand-over rule and the learning rate and warm-up it used."""
    path = Path(run_dir) / "sa" / rundir.PHASES
    if not path.exists():
        return ""
    handover = json.loads(path.read_text()).get("handover")
    if not handover:
        return ""
    how = ("continues CM: no warm-up" if handover["rule"] == "continue"
           else "restarts: its own trainer settings")
    return (f"SA hand-over `{handover['rule']}` ({how}): learning rate {handover['learning_rate']:g}, warm-up "
            f"{handover['warmup_steps']:g}.")


def keep_best_notes(run_dir: Path, stages: list[str]) -> list[str]:
    """One line per arm that kept its best checkpoint on dev: the checks, the chosen step, any fallback."""
    lines = []
    for stage in stages:
        path = Path(run_dir) / stage / rundir.KEEP_BEST
        if not path.exists():
            continue
        kept = json.loads(path.read_text())
        checks = ", ".join(f"{c['step']}: {c['dev_f1']:.1f}" for c in kept["checks"])
        chosen = kept.get("chosen_step", kept.get("best_step"))
        line = (f"`{stage}` kept step {chosen} of {kept.get('final_step', '?')} (dev macro F1 per checked step: "
                f"{checks}; {kept['records']} dev records, {kept['check_seconds']:.0f} s of checks)")
        rules = []
        if kept.get("margin"):
            unit = "point" if kept["margin"] == 1 else "points"
            rules.append(f"beat the best so far by more than {kept['margin']:g} {unit}")
        if kept.get("max_drop") is not None:
            rules.append(f"keep every dataset within {kept['max_drop']:g} points of the input")
        if rules:
            line += "; a check had to " + " and ".join(rules)
        if kept.get("fell_back_to_input"):
            line += (f"; no trained step beat its input on dev, so `{stage}` is its input model"
                     + (" (SA's)" if stage == "de" else ""))
        lines.append(line + ".")
    return lines
