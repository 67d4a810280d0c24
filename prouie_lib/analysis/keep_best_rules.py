"""Replay keep-best selection rules offline on a stage's recorded checks.

Every ``trainer.keep_best: dev`` check keeps its predictions (``<stage>/keep_best_predictions/step-<k>.jsonl``, on
the first ``keep_best_limit`` dev records per dataset). :func:`replay_keep_best` re-scores them under another rule —
a smaller dev head (the first ``head`` records of each dataset), a margin, a per-dataset floor — and scores every
check on the dev records that head did not select on (``assess_after``), so whether a rule keeps the checkpoint
that generalizes is measured on data that did not choose it, without training again. Greedy batched generation
can differ in rare tokens with the batch's padding, so a head smaller than the recorded one is a close replay of a
run with that ``keep_best_limit``, not an exact one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prouie_lib import rundir
from prouie_lib.config import load_config
from prouie_lib.data.io import read_json_objects
from prouie_lib.schema import Record


def check_predictions_file(stage_dir: Path, check: dict[str, Any]) -> Path:
    """The predictions behind ``check``: its own file, or, for a step-0 check reused from another arm
    (``"reused_from"``), the file of the check it reused (followed through that arm's own reuse)."""
    from prouie_lib.stages.keep_best import check_predictions_path, source_input_check

    source = check.get("reused_from")
    if source is None:
        return check_predictions_path(stage_dir, check["step"])
    source_dir = Path(stage_dir).parent / source
    path = source_dir / rundir.KEEP_BEST
    kept = json.loads(path.read_text()) if path.exists() else {}
    found = source_input_check(kept, Path(stage_dir).name)
    if found is None:
        raise FileNotFoundError(f"{path}: no check of {source} for {Path(stage_dir).name}'s reused step 0")
    return check_predictions_file(source_dir, found)


def replay_keep_best(stage_dir: str | Path, *, head: int | None = None, margin: float = 0.0,
                     max_drop: float | None = None, assess_after: int | None = None) -> dict[str, Any]:
    """Which check the rule (``head`` records per dataset, ``margin``, ``max_drop``; see
    :func:`prouie_lib.stages.keep_best.choose_best`) keeps among a stage's recorded checks, and every check's
    headline F1 on the records after the first ``assess_after`` per dataset (default: ``head``).

    Returns ``{"head", "margin", "max_drop", "assess_after", "held_out_records", "recorded_step", "chosen_step",
    "checks": [{"step", "dev_f1", "per_dataset", "held_out_f1", "held_out_per_dataset"}]}``; ``held_out_f1`` is
    None when no record lies after ``assess_after`` (``recorded_step``: the step the run itself kept).
    """
    from prouie_lib.stages.keep_best import choose_best, dev_head
    from prouie_lib.stages.stage_data import split_head

    stage_dir = Path(stage_dir)
    path = stage_dir / rundir.KEEP_BEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no keep-best checks (the stage ran without trainer.keep_best: dev)")
    recorded = json.loads(path.read_text())
    config = load_config(stage_dir / rundir.CONFIG)
    limit = recorded["limit"]
    head = limit if head is None else head
    if not 0 < head <= limit:
        raise ValueError(f"--head: must be between 1 and the recorded keep_best_limit {limit}, got {head}")
    assess_after = head if assess_after is None else assess_after
    records = dev_head(config, limit)
    selection = split_head(records, head)[0]
    assessed = split_head(records, assess_after)[1]
    checks = []
    for check in recorded["checks"]:
        source = check_predictions_file(stage_dir, check)
        if not source.is_file():
            raise FileNotFoundError(f"{source}: the check at step {check['step']} kept no predictions (a run from "
                                    "before checks kept them cannot be replayed)")
        lines = read_json_objects(source)
        macro, per_dataset = _scores(selection, lines, config.eval.protocol)
        held_macro, held_per_dataset = _scores(assessed, lines, config.eval.protocol) if assessed else (None, {})
        checks.append({"step": check["step"], "dev_f1": macro, "per_dataset": per_dataset,
                       "held_out_f1": held_macro, "held_out_per_dataset": held_per_dataset})
    chosen = choose_best(checks, margin, max_drop)
    return {"head": head, "margin": margin, "max_drop": max_drop, "assess_after": assess_after,
            "held_out_records": len(assessed), "recorded_step": recorded.get("chosen_step"),
            "chosen_step": chosen["step"] if chosen else None, "checks": checks}


def _scores(records: list[Record], lines: list[dict[str, Any]], protocol: str) -> tuple[float, dict[str, float]]:
    from prouie_lib.stages.keep_best import dev_scores

    ids = {str(r["id"]) for r in records}
    return dev_scores(records, [line for line in lines if str(line.get("id")) in ids], protocol)


def format_replay(result: dict[str, Any]) -> str:
    """A readable table of :func:`replay_keep_best`: one row per check, the kept one marked."""
    names = sorted({name for c in result["checks"] for name in c["per_dataset"]})
    rule = (f"head {result['head']} per dataset, margin {result['margin']}, max_drop {result['max_drop']}; "
            f"held out: the {result['held_out_records']} records after the first {result['assess_after']} "
            "per dataset")
    header = f"{'step':>6}  {'head':>6}  " + "  ".join(f"{n[:10]:>10}" for n in names) + \
             f"  | {'held out':>8}  " + "  ".join(f"{n[:10]:>10}" for n in names)
    rows = [rule, header]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for c in result["checks"]:
        mark = "*" if c["step"] == result["chosen_step"] else " "
        rows.append(f"{c['step']:>5}{mark}  {c['dev_f1']:6.1f}  "
                    + "  ".join(f"{c['per_dataset'].get(n, 0.0):10.1f}" for n in names)
                    + f"  | {cell(c['held_out_f1']):>8}  "
                    + "  ".join(f"{cell(c['held_out_per_dataset'].get(n)):>10}" for n in names))
    recorded = result["recorded_step"]
    run_kept = "the run has not chosen yet: its stage is unfinished" if recorded is None else \
        f"the run kept step {recorded}"
    rows.append(f"* kept by this rule: step {result['chosen_step']} ({run_kept})")
    return "\n".join(rows)
