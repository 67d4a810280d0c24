"""Score a file of completions (or structured predictions) against gold records with a reward — no training.

A completions line is ``{"id", "completion", "format"}`` (the text a model wrote; ``format`` may come from
the caller instead) or ``{"id", "entities", "relations", "events"}`` (a structure, scored as well-formed).
:func:`score_completions` returns ``{"reward", "mean", "items": [{"id", "total", "components"}], "missing"}``;
``prouie reward score`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prouie_lib.rewards.base import Reward, RewardResult
from prouie_lib.rewards.registry import get_reward
from prouie_lib.schema import STRUCTURE_FIELDS, Record, RecordError, index_by_id


def score_line(reward: Reward, line: Mapping[str, Any], record: Record, *, fmt: str | None = None,
               source: str | None = None) -> RewardResult:
    """Score one completions line against its gold ``record``; errors name ``source``, the line and the field."""
    where = {"file": source, "record": line.get("id")}
    if "completion" in line:
        text = line["completion"]
        if not isinstance(text, str):
            raise RecordError("expected a string", field="completion", **where)
        line_fmt = line.get("format") or fmt
        if not line_fmt:
            raise RecordError("missing (or pass --format)", field="format", **where)
        return reward.score(text, record, line_fmt)
    if not any(key in line for key in STRUCTURE_FIELDS):
        raise RecordError("needs 'completion' or structure fields (entities/relations/events)",
                          field="completion", **where)
    structure = {key: line.get(key) or [] for key in STRUCTURE_FIELDS}
    for key, value in structure.items():
        if not isinstance(value, list):
            raise RecordError(f"expected a list, got {type(value).__name__}", field=key, **where)
    try:
        return reward.score_structure(structure, record, fmt=line.get("format") or fmt)
    except RecordError as err:
        raise RecordError(err.reason, field=err.field, **where) from err


def score_completions(gold: Iterable[Record], lines: Iterable[Mapping[str, Any]], reward: str | Reward | Any,
                      *, fmt: str | None = None, options: Mapping[str, Any] | None = None,
                      gold_source: str | None = None, source: str | None = None) -> dict[str, Any]:
    """Score every line against the gold record with its id (``missing``: gold records without a line)."""
    scorer = get_reward(reward, **(options or {}))
    by_id = index_by_id(gold, file=gold_source, kind="gold")
    items, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if "id" not in line:
            raise RecordError("missing", file=source, record=f"line {number}", field="id")
        key = str(line["id"])
        if key not in by_id:
            raise RecordError(f"no gold record with this id in {gold_source}", file=source, record=line["id"],
                              field="id")
        seen.add(key)
        result = score_line(scorer, line, by_id[key], fmt=fmt, source=source)
        items.append({"id": line["id"], "total": result.total, "components": dict(result.components)})
    mean = sum(i["total"] for i in items) / len(items) if items else None
    return {"reward": scorer.name, "mean": mean, "items": items, "missing": len(set(by_id) - seen)}


def score_file(gold_path: str | Path, completions_path: str | Path, reward: str | Reward | Any, *,
               fmt: str | None = None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:func:`score_completions` of a unified gold JSONL file and a completions JSONL file."""
    from prouie_lib.data.io import read_json_objects, read_jsonl

    return score_completions(read_jsonl(gold_path), read_json_objects(completions_path), reward, fmt=fmt, options=options,
                             gold_source=str(gold_path), source=str(completions_path))


def component_means(items: list[dict[str, Any]]) -> dict[str, tuple[float, int]]:
    """Each component's mean over the items that have it, and how many do (e.g. ``f1_pair``: RE items only).

    >>> component_means([{"components": {"format": 1.0, "f1_pair": 0.5}}, {"components": {"format": 0.0}}])
    {'format': (0.5, 2), 'f1_pair': (0.5, 1)}
    """
    keys: list[str] = []
    for item in items:
        keys.extend(k for k in item["components"] if k not in keys)
    out = {}
    for key in keys:
        values = [i["components"][key] for i in items if key in i["components"]]
        out[key] = (sum(values) / len(values), len(values))
    return out
