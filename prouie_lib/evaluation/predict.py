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
             prefix_caches: PrefixCaches | None = None, groups: Sequence[Hashable] | None = None,
             shard: bool = True) -> list[str]:
    """Greedy completions for prompt strings (already chat-templated), in input order.

    ``reuse_prefix``: run each batch's shared token prefix once and generate the suffixes from its KV cache. ``prefix_caches``: a :class:`~prouie_lib.evaluation.prefix_cache.PrefixCaches` to
    share between calls (and to read how many prefixes were run); a fresh one by default. ``groups``: one key per
    prompt (e.g. its dataset); with prefix reuse, batches never mix groups, so each batch shares its group's whole
    instruction and schema rather than only the chat template's head.

    Under a launcher (``shard``, the default) every process must call this with the same prompts: the batches —
    the same batches one process would make — are split between the processes and every process gets all
    completions back (:func:`prouie_lib.distributed.shard_map`), so completions do not depend on the world size.
    ``shard=False`` generates everything in this process (for code that runs on one rank only).
    """
    from prouie_lib import distributed

    batches = _batches(prompts, batch_size, groups if reuse_prefix else None)
    if reuse_prefix and prefix_caches is None:
        from prouie_lib.evaluation.prefix_cache import PrefixCaches

        prefix_caches = PrefixCaches()

    def run(my_batches: list[list[int]]) -> list[list[str]]:
        return _generate_batches(model, tokenizer, prompts, my_batches, max_new_tokens=max_new_tokens,
                                 progress=progress and distributed.env_is_main(), desc=desc,
                                 reuse_prefix=reuse_prefix, prefix_caches=prefix_caches)

    with distributed.full_weights(model):  # ZeRO-3 / FSDP: full weights on every process while generating
        texts = distributed.shard_map(batches, run) if shard else run(batches)
    outputs: list[str] = [""] * len(prompts)
    for idx, batch_texts in zip(batches, texts, strict=True):
        for i, text in zip(idx, batch_texts, strict=True):
            outputs[i] = text
    return outputs


def _generate_batches(model, tokenizer, prompts: Sequence[str], batches: list[list[int]], *, max_new_tokens: int,
                      progress: bool, desc: str, reuse_prefix: bool,
                      prefix_caches: PrefixCaches | None) -> list[list[str]]:
    """The stripped completions of each batch of prompt indices, batch by batch."""
    import torch

    from prouie_lib.evaluation.prefix_cache import generate_batch
    from prouie_lib.models import quiet_library_deprecations

    results: list[list[str]] = []
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    was_training = model.training
    model.eval()
    try:
        bar = tqdm(total=sum(len(b) for b in batches), desc=desc, disable=not progress, unit="ex")
        for idx in batches:
            batch_prompts = [prompts[i] for i in idx]
            with torch.inference_mode(), quiet_library_deprecations():
                new_ids = None
                if reuse_prefix:
                    ids = tokenizer(batch_prompts, add_special_tokens=False)["input_ids"]
                    new_ids = generate_batch(model, tokenizer, ids, max_new_tokens=max_new_tokens,
                                             caches=prefix_caches)
                if new_ids is None:
                    new_ids = plain_batch(model, tokenizer, batch_prompts, max_new_tokens=max_new_tokens)
            results.append([text.strip() for text in tokenizer.batch_decode(new_ids, skip_special_tokens=True)])
            bar.update(len(idx))
        bar.close()
    finally:
        tokenizer.padding_side = old_side
        model.train(was_training)
    return results


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
                    reuse_prefix: bool = False, shard: bool = True) -> list[dict]:
    """Prediction lines ``{"id", "completion", "format", "well_formed", "entities", "relations", "events"}``.

    Under a launcher every process calls this with the same records and gets every line (see :func:`generate`)."""
    from prouie_lib.evaluation.score import prediction_line

    prompts = [record_prompt(tokenizer, r, fmt, system) for r in records]
    completions = generate(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                           progress=progress, desc=f"predict ({fmt})", reuse_prefix=reuse_prefix,
                           groups=[(r.get("dataset"), r.get("task")) for r in records], shard=shard)
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
    """The ``prouie predict`` command: load a backbone/stage output, predict a dataset split, write JSONL.

    Under a launcher the records are shared between the processes and the main process alone writes ``out``."""
    from prouie_lib import distributed
    from prouie_lib.data import load_examples
    from prouie_lib.models import load_backbone

    records = load_examples(data, split, limit=limit)
    lm, tokenizer = load_backbone(model)
    lines = predict_records(lm, tokenizer, records, fmt, batch_size=batch_size, max_new_tokens=max_new_tokens,
                            reuse_prefix=reuse_prefix)
    return distributed.on_main(write_predictions, lines, out)
