"""Replay logged GRPO completions (``reward_traces.jsonl``) under another reward — no training.

A trace line (written by the DE stage)::

    {"step": 3, "prompt_id": "CoNLL04/train/12", "group": 0, "task": "RE", "dataset": "CoNLL04",
     "format": "streamlined", "completion": "...", "reward": 0.7, "reward_name": "sfr",
     "components": {...}, "advantage": 0.4, "gold": {<unified record>}}

:func:`replay_traces` returns each line with ``new_reward``, ``new_components`` and
``new_reward_name`` added; :func:`summarize_replay` compares old and new rewards, in particular how
often the best completion of a GRPO group (same ``step`` and ``prompt_id``) changes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prouie_lib.rewards.base import Reward
from prouie_lib.rewards.registry import get_reward
from prouie_lib.rewards.steps import prepare_gold
from prouie_lib.schema import RecordError

TRACE_FIELDS: tuple[str, ...] = ("completion", "format", "gold")


def read_traces(path_or_lines: str | Path | Iterable[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Trace lines from a JSONL file, or from an iterable of JSON strings / dicts; blank lines skipped."""
    return [line for _, line in _numbered_traces(path_or_lines)]


def _numbered_traces(path_or_lines: str | Path | Iterable[str | Mapping[str, Any]]
                     ) -> list[tuple[int, dict[str, Any]]]:
    source = str(path_or_lines) if isinstance(path_or_lines, str | Path) else "<traces>"
    if isinstance(path_or_lines, str | Path):
        with open(path_or_lines, encoding="utf-8") as handle:
            items: Iterable[Any] = list(handle)
    else:
        items = path_or_lines
    lines = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                item = json.loads(item)
            except json.JSONDecodeError as err:
                raise RecordError(f"not valid JSON ({err})", file=source, record=f"line {number}") from err
        if not isinstance(item, Mapping):
            raise RecordError(f"expected an object, got {type(item).__name__}", file=source,
                              record=f"line {number}")
        for key in TRACE_FIELDS:
            if key not in item:
                raise RecordError("missing", file=source, record=f"line {number}", field=key)
        lines.append((number, dict(item)))
    return lines


def replay_traces(path_or_lines: str | Path | Iterable[str | Mapping[str, Any]],
                  reward: str | Reward | Any, **options: Any) -> list[dict[str, Any]]:
    """Re-score every logged completion with ``reward`` (name, Reward or function; options configure it)."""
    scorer = get_reward(reward, **options)
    source = str(path_or_lines) if isinstance(path_or_lines, str | Path) else "<traces>"
    golds: dict[str, Any] = {}
    out = []
    for number, line in _numbered_traces(path_or_lines):
        gold = line["gold"]
        try:
            if isinstance(gold, str):  # tolerate a gold stored as the dataset's JSON string
                if gold not in golds:
                    golds[gold] = json.loads(gold)
                gold = golds[gold]
            prepared = prepare_gold(gold)
        except (RecordError, json.JSONDecodeError) as err:
            raise RecordError(f"gold: {err}", file=source, record=f"line {number}", field="gold") from err
        result = scorer.score(line["completion"], prepared, line["format"])
        out.append({**line, "new_reward": result.total, "new_components": dict(result.components),
                    "new_reward_name": scorer.name})
    return out


def summarize_replay(replayed: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean old/new reward, mean |change|, and how often a group's argmax set changes.

    A group is the completions of one prompt at one step (``(step, prompt_id)``); its *argmax set*
    is the positions of the completions with the top reward. Groups of one completion are not counted.
    """
    if not replayed:
        return {"n": 0, "groups": 0, "mean_old": None, "mean_new": None, "mean_abs_change": None,
                "argmax_changed": 0, "argmax_changed_frac": None, "reward_name_new": None}
    old = [float(x["reward"]) if x.get("reward") is not None else None for x in replayed]
    new = [float(x["new_reward"]) for x in replayed]
    paired = [(o, n) for o, n in zip(old, new, strict=True) if o is not None]
    groups: dict[tuple[Any, Any], list[int]] = defaultdict(list)
    for i, line in enumerate(replayed):
        groups[(line.get("step"), line.get("prompt_id"))].append(i)
    changed = counted = 0
    for members in groups.values():
        if len(members) < 2 or any(old[i] is None for i in members):
            continue
        counted += 1
        changed += _argmax_set(members, old) != _argmax_set(members, new)
    return {
        "n": len(replayed),
        "groups": counted,
        "reward_name_old": replayed[0].get("reward_name"),
        "reward_name_new": replayed[0].get("new_reward_name"),
        "mean_old": sum(o for o, _ in paired) / len(paired) if paired else None,
        "mean_new": sum(new) / len(new),
        "mean_abs_change": sum(abs(o - n) for o, n in paired) / len(paired) if paired else None,
        "argmax_changed": changed,
        "argmax_changed_frac": changed / counted if counted else None,
    }


def _argmax_set(members: list[int], rewards: list[Any]) -> frozenset[int]:
    best = max(rewards[i] for i in members)
    return frozenset(pos for pos, i in enumerate(members) if rewards[i] == best)
