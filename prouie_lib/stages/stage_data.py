"""Training data for the stages: records of a split per dataset, subsamples, and trl's prompt–completion rows."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.schema import TASK_DIFFICULTY, Record


def load_split(config: RunConfig, split: str, *, limit_per_dataset: int | dict[str, int] | None = None,
               head: bool = False) -> list[Record]:
    """Records of every configured dataset for one split.

    A limit keeps at most N records of each dataset (records carry their dataset name): a seeded random
    subsample, or the first N with ``head`` (evaluation). A dict limit maps registry names to N.
    """
    from prouie_lib.data import load_examples

    records: list[Record] = []
    for name in config.data.datasets:
        loaded = load_examples(name, split, data_root=config.data.data_root)
        limit = limit_per_dataset.get(name) if isinstance(limit_per_dataset, dict) else limit_per_dataset
        if limit is not None:
            loaded = (first_per_dataset(loaded, limit) if head
                      else subsample_per_dataset(loaded, limit, seed=config.seed))
        records.extend(loaded)
    return records


def first_per_dataset(records: Sequence[Record], k: int) -> list[Record]:
    """The first ``k`` records of each dataset, order kept."""
    return split_head(records, k)[0]


def split_head(records: Sequence[Record], k: int) -> tuple[list[Record], list[Record]]:
    """The first ``k`` records of each dataset (a keep-best dev head) and the others (held out from it), order
    kept."""
    seen: dict[str, int] = {}
    head: list[Record] = []
    rest: list[Record] = []
    for r in records:
        seen[r["dataset"]] = seen.get(r["dataset"], 0) + 1
        (head if seen[r["dataset"]] <= k else rest).append(r)
    return head, rest


def subsample_per_dataset(records: Sequence[Record], k: int, *, seed: int) -> list[Record]:
    """At most ``k`` records of each dataset (records carry their dataset name), seeded, order kept."""
    by_dataset: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_dataset.setdefault(r["dataset"], []).append(i)
    rng = random.Random(seed)
    keep: set[int] = set()
    for indices in by_dataset.values():
        keep.update(indices if len(indices) <= k else rng.sample(indices, k))
    return [r for i, r in enumerate(records) if i in keep]


def by_difficulty(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by task, in curriculum order NER → RE → EE (tasks without records left out)."""
    groups: dict[str, list[Record]] = {}
    for task in sorted(TASK_DIFFICULTY, key=TASK_DIFFICULTY.get):
        chosen = [r for r in records if r["task"] == task]
        if chosen:
            groups[task] = chosen
    return groups


def prompt_messages(record: Record, fmt: str, config: RunConfig) -> list[dict[str, str]]:
    from prouie_lib.formats.prompts import build_messages

    kwargs = {} if config.data.system_prompt is None else {"system": config.data.system_prompt}
    return build_messages(record, fmt=fmt, **kwargs)


def sft_rows(records: Sequence[Record], fmt: str, config: RunConfig) -> list[dict[str, Any]]:
    """Conversational prompt–completion rows (trl masks the loss to the completion)."""
    from prouie_lib.formats import get_format

    target = get_format(fmt)
    return [
        {"prompt": prompt_messages(r, fmt, config),
         "completion": [{"role": "assistant", "content": target.render(r)}],
         "id": r["id"], "task": r["task"], "dataset": r["dataset"]}
        for r in records
    ]


def filter_long_prompts(rows: list[dict[str, Any]], tokenizer, max_tokens: int) -> tuple[list[dict], int]:
    """Drop rows whose templated prompt exceeds ``max_tokens`` (trl 1.x has no max_prompt_length)."""
    kept = []
    for row in rows:
        text = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_tokens:
            kept.append(row)
    return kept, len(rows) - len(kept)
