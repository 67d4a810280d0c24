"""Batched greedy generation: records → prompts → completions → prediction lines.

Prompts are sorted by length and left-padded so each batch wastes little compute; results come back in the
input order. With ``reuse_prefix=True`` each batch's shared prompt prefix (chat template, instruction, schema) is
run once and its KV cache reused (:mod:`prouie_lib.evaluation.prefix_cache`); batches with too short a shared
prefix, or models whose cache does not allow it, are generated the plain way. Every completion is parsed; a broken
one becomes an empty, not-well-formed prediction.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from prouie_lib.formats.prompts import build_messages
from prouie_lib.models import chat_prompt

if TYPE_CHECKING:
    from prouie_lib.evaluation.prefix_cache import PrefixCaches


def generate(model, tokenizer, prompts: Sequence[str], *, batch_size: int = 16, max_new_tokens: int = 128,
             progress: bool = True, desc: str = "generate", reuse_prefix: bool = False,
             prefix_caches: PrefixCaches | None = None, groups: Sequence[Hashable] | None = None) -> list[str]:
    """Greedy completions for prompt strings (already chat-templated), in input order.

    ``reuse_prefix``: run each batch's shared token prefix once and generate the suffixes from its KV cache. ``prefix_caches``: a :class:`~prouie_lib.evaluation.prefix_cache.PrefixCaches` to
    share between calls (and to read how many prefixes were run); a fresh one by default. ``groups``: one key per
    prompt (e.g. its dataset); with prefix reuse, batches never mix groups, so each batch shares its group's whole
    instruction and schema rather than only the chat template's head.
    """
    import torch

    from prouie_lib.evaluation.prefix_cache import PrefixCaches, generate_batch

    if reuse_prefix and prefix_caches is None:
        prefix_caches = PrefixCaches()
    outputs: list[str] = [""] * len(prompts)
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    was_training = model.training
    model.eval()
    try:
        bar = tqdm(total=len(prompts), desc=desc, disable=not progress, unit="ex")
        for idx in _batches(prompts, batch_size, groups if reuse_prefix else None):
            batch_prompts = [prompts[i] for i in idx]
            with torch.inference_mode():
                new_ids = None
                if reuse_prefix:
                    ids = tokenizer(batch_prompts, add_special_tokens=False)["input_ids"]
                    new_ids = generate_batch(model, tokenizer, ids, max_new_tokens=max_new_tokens,
                                             caches=prefix_caches)
                if new_ids is None:
                    new_ids = plain_batch(model, tokenizer, batch_prompts, max_new_tokens=max_new_tokens)
            texts = tokenizer.batch_decode(new_ids, skip_special_tokens=True)
            for i, text in zip(idx, texts, strict=True):
                outputs[i] = text.strip()
            bar.update(len(idx))
        bar.close()
    finally:
        tokenizer.padding_side = old_side
        model.train(was_training)
    return outputs


def _batches(prompts: Sequence[str], batch_size: int, groups: Sequence[Hashable] | None) -> list[list[int]]:
    """Prompt indices in batches, longest prompts first (little padding); within each group when ``groups``."""
    keys = list(groups) if groups is not None else [None] * len(prompts)
    if len(keys) != len(prompts):
        raise ValueError(f"{len(keys)} group keys for {len(prompts)} prompts")
    members: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    size = max(1, batch_size)
    batches = []
    for idx in members.values():
        order = sorted(idx, key=lambda i: len(prompts[i]), reverse=True)
        batches += [order[start:start + size] for start in range(0, len(order), size)]
    return batches


def plain_batch(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int,
                generate_kwargs: dict[str, Any] | None = None):
    """Greedy new token ids of one left-padded batch (``tokenizer.padding_side`` must be ``"left"``)."""
    batch = tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id, **(generate_kwargs or {}))
    return out[:, batch["input_ids"].shape[1]:]


def record_prompt(tokenizer, record: dict[str, Any], fmt: str, system: str | None = None) -> str:
    kwargs = {} if system is None else {"system": system}
    return chat_prompt(tokenizer, build_messages(record, fmt=fmt, **kwargs))


def predict_records(model, tokenizer, records: Sequence[dict[str, Any]], fmt: str, *, batch_size: int = 16,
                    max_new_tokens: int = 128, system: str | None = None, progress: bool = True,
                    reuse_prefix: bool = False) -> list[dict]:
    """Prediction lines ``{"id", "completion", "format", "well_formed", "entities", "relations", "events"}``."""
    from prouie_lib.evaluation.score import prediction_line

    prompts = [record_prompt(tokenizer, r, fmt, system) for r in records]
    completions = generate(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                           progress=progress, desc=f"predict ({fmt})", reuse_prefix=reuse_prefix,
                           groups=[(r.get("dataset"), r.get("task")) for r in records])
    return [prediction_line(r, c, fmt) for r, c in zip(records, completions, strict=True)]


def write_predictions(lines: Sequence[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def predict_to_file(model: str, data: str, split: str, fmt: str, out: str | Path, *, limit: int | None = None,
                    batch_size: int = 16, max_new_tokens: int = 128, reuse_prefix: bool = True) -> Path:
    """The ``prouie predict`` command: load a backbone/stage output, predict a dataset split, write JSONL."""
    from prouie_lib.data import load_examples
    from prouie_lib.models import load_backbone

    records = load_examples(data, split, limit=limit)
    lm, tokenizer = load_backbone(model)
    lines = predict_records(lm, tokenizer, records, fmt, batch_size=batch_size, max_new_tokens=max_new_tokens,
                            reuse_prefix=reuse_prefix)
    return write_predictions(lines, out)
