"""Export DE prompts + gold for verl, and an SFR ``compute_score`` verl can call as a custom reward.

verl reads parquet rows ``{"data_source", "prompt": [chat messages], "ability", "reward_model":
{"style": "rule", "ground_truth": str}, "extra_info": {...}}`` and calls
``compute_score(data_source, solution_str, ground_truth, extra_info)`` for each rollout. Point verl at it with
``custom_reward_function.path=<this file> custom_reward_function.name=compute_score``; the reward and its options
travel in ``extra_info`` (``reward``, ``reward_params``, ``format``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prouie_lib.schema import Record


def verl_rows(records: Sequence[Record], messages_for, *, fmt: str = "streamlined", reward: str = "sfr",
              reward_params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One verl row per record; ``messages_for(record)`` builds the chat prompt (the DE stage's prompt)."""
    return [{
        "data_source": f"prouie/{r['dataset']}",
        "prompt": messages_for(r),
        "ability": f"ie/{r['task']}",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(r, ensure_ascii=False)},
        "extra_info": {"id": r["id"], "task": r["task"], "format": fmt, "reward": reward,
                       "reward_params": json.dumps(reward_params or {})},
    } for r in records]


def export_verl(records: Sequence[Record], path: str | Path, messages_for, **kwargs: Any) -> Path:
    """Write verl's parquet for ``records`` (pyarrow comes with ``datasets``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(verl_rows(records, messages_for, **kwargs)), path)
    return path


def compute_score(data_source: str, solution_str: str, ground_truth: str,
                  extra_info: dict[str, Any] | None = None) -> float:
    """verl's custom-reward entry point: the configured kit reward of one rollout (SFR by default)."""
    from prouie_lib.rewards import get_reward

    info = extra_info or {}
    params = info.get("reward_params") or "{}"
    reward = get_reward(info.get("reward", "sfr"), **(json.loads(params) if isinstance(params, str) else params))
    gold = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    return float(reward(solution_str, gold, info.get("format", "streamlined")).total)
