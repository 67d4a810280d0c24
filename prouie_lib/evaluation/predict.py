"""Batched greedy generation: records → prompts → completions → prediction lines.

Prompts are sorted by length and left-padded so each batch wastes little compute; results come back in the
input order. Every completion is parsed; a broken one becomes an empty, not-well-formed prediction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from prouie_lib.formats.prompts import build_messages
from prouie_lib.models import chat_prompt


def generate(model, tokenizer, prompts: Sequence[str], *, batch_size: int = 16, max_new_tokens: int = 128,
             progress: bool = True, desc: str = "generate") -> list[str]:
    """Greedy completions for prompt strings (already chat-templated), in input order."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    was_training = model.training
    model.eval()
    try:
        bar = tqdm(total=len(prompts), desc=desc, disable=not progress, unit="ex")
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start:start + batch_size]
            batch = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True,
                              add_special_tokens=False).to(model.device)
            with torch.inference_mode():
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
            for i, text in zip(idx, texts, strict=True):
                outputs[i] = text.strip()
            bar.update(len(idx))
        bar.close()
    finally:
        tokenizer.padding_side = old_side
        model.train(was_training)
    return outputs


def record_prompt(tokenizer, record: dict[str, Any], fmt: str, system: str | None = None) -> str:
    kwargs = {} if system is None else {"system": system}
    return chat_prompt(tokenizer, build_messages(record, fmt=fmt, **kwargs))


def predict_records(model, tokenizer, records: Sequence[dict[str, Any]], fmt: str, *, batch_size: int = 16,
                    max_new_tokens: int = 128, system: str | None = None, progress: bool = True) -> list[dict]:
    """Prediction lines ``{"id", "completion", "format", "well_formed", "entities", "relations", "events"}``."""
    from prouie_lib.evaluation.score import prediction_line

    prompts = [record_prompt(tokenizer, r, fmt, system) for r in records]
    completions = generate(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                           progress=progress, desc=f"predict ({fmt})")
    return [prediction_line(r, c, fmt) for r, c in zip(records, completions, strict=True)]


def write_predictions(lines: Sequence[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def predict_to_file(model: str, data: str, split: str, fmt: str, out: str | Path, *, limit: int | None = None,
                    batch_size: int = 16, max_new_tokens: int = 128) -> Path:
    """The ``prouie predict`` command: load a backbone/stage output, predict a dataset split, write JSONL."""
    from prouie_lib.data import load_examples
    from prouie_lib.models import load_backbone

    records = load_examples(data, split, limit=limit)
    lm, tokenizer = load_backbone(model)
    lines = predict_records(lm, tokenizer, records, fmt, batch_size=batch_size, max_new_tokens=max_new_tokens)
    return write_predictions(lines, out)
