"""Extraction throughput: ``prouie extract``'s batched generation with prefix reuse against transformers'
one-text-at-a-time ``generate``, on the same prompts, with identical completions required.

Usage::

    python benchmarks/extract_throughput.py [--model runs/demo] [--texts 120] [--batch-size 16]
                                            [--max-new-tokens N] [--quick] [--out PATH]

The texts are CoNLL04 test sentences (read through the kit's registry: ``$PROUIE_DATA_ROOT``, default
``../shared/datasets``), the schema is CoNLL04's (``prouie extract --like CoNLL04``), the model is a run folder
(its stage chosen as ``prouie extract`` chooses it: the demo's final stage for ``runs/demo``), a stage folder,
an exported folder or a backbone spec. In one process, after a warm-up of each path:

- ``batched``: :meth:`prouie_lib.extraction.Extractor.extract` — prompts grouped by schema, sorted by length,
  left-padded batches whose shared instruction and schema prefix runs once (its KV cache reused), greedy;
- ``one_at_a_time``: for each prompt string, ``model.generate(**tokenizer(prompt), do_sample=False,
  max_new_tokens=N)`` with no padding, the way a user of plain transformers would loop over texts.

``sentences_per_second`` = texts / seconds for each path; ``speedup`` = one-at-a-time seconds / batched seconds
(the issue's target: at least 5). Completions must be identical (token for token, decoded): the script exits 1,
after writing its results, when any differs. No text is split into windows at the default prompt budget
(checked: the one-at-a-time path uses the very prompts the batched path sent). Writes
``benchmarks/results/extract_throughput.json``. ``--quick`` (8 texts, batch 4, 8 new tokens on ``tiny-random``)
only checks that it runs; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, RESULTS, command_line, machine_info, now_utc, write_json  # noqa: E402

NEEDS_MODEL = True
DATASET = "CoNLL04"


def one_at_a_time(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """transformers' ``generate`` on one unpadded prompt after the other (greedy), decoded as the kit decodes."""
    import torch

    out = []
    for prompt in prompts:
        batch = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            ids = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        out.append(tokenizer.decode(ids[0, batch["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from prouie_lib.data import load_examples
    from prouie_lib.extraction import Extractor, dataset_schema

    texts = [r["text"] for r in load_examples(DATASET, "test", limit=args.texts)]
    schema = dataset_schema(DATASET)
    extractor = Extractor.load(args.model, max_new_tokens=args.max_new_tokens)
    cap = extractor.settings.max_new_tokens
    model, tokenizer = extractor.backend.model, extractor.backend.tokenizer
    model.eval()
    warm = texts[:min(len(texts), args.batch_size)]
    extractor.extract(warm, schema, batch_size=args.batch_size, progress=False)
    one_at_a_time(model, tokenizer, [extractor.prompt(t, schema) for t in warm[:2]], cap)

    start = time.perf_counter()
    records = extractor.extract(texts, schema, batch_size=args.batch_size, progress=False)
    batched_seconds = time.perf_counter() - start
    split = [r["id"] for r in records if len(r["windows"]) != 1]
    if split:
        raise SystemExit(f"texts {split} were split into windows: raise --max-prompt-tokens for a like-for-like run")
    prompts = [extractor.prompt(t, schema) for t in texts]
    start = time.perf_counter()
    single = one_at_a_time(model, tokenizer, prompts, cap)
    single_seconds = time.perf_counter() - start

    batched = [r["completion"] for r in records]
    differing = [i for i, (a, b) in enumerate(zip(batched, single, strict=True)) if a != b]
    tokens = [len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in single]
    prompt_tokens = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    stage = extractor.stage
    return {
        "model": args.model, "loaded": extractor.model, "stage": stage.stage if stage else None,
        "stage_reason": stage.reason if stage else None, "format": extractor.settings.format,
        "dataset": DATASET, "split": "test", "texts": len(texts), "batch_size": args.batch_size,
        "max_new_tokens": cap, "mean_prompt_tokens": round(sum(prompt_tokens) / len(prompts), 1),
        "mean_completion_tokens": round(sum(tokens) / len(tokens), 1),
        "batched": {"seconds": round(batched_seconds, 2),
                    "sentences_per_second": round(len(texts) / batched_seconds, 3)},
        "one_at_a_time": {"seconds": round(single_seconds, 2),
                          "sentences_per_second": round(len(texts) / single_seconds, 3)},
        "speedup": round(single_seconds / batched_seconds, 3),
        "identical_completions": len(texts) - len(differing), "differing_texts": differing,
        "well_formed": sum(r["well_formed"] for r in records),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="runs/demo", help="run folder, stage folder, export or backbone spec")
    parser.add_argument("--texts", type=int, default=120, help="CoNLL04 test sentences (first N)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: the model's evaluation cap")
    parser.add_argument("--quick", action="store_true", help="8 texts, batch 4, 8 new tokens, tiny-random: a smoke run")
    parser.add_argument("--out", default=str(RESULTS / "extract_throughput.json"))
    args = parser.parse_args()
    if args.quick:
        args.model, args.texts, args.batch_size, args.max_new_tokens = "tiny-random", 8, 4, 8
    if args.model == "runs/demo" and not (REPO / "runs" / "demo").is_dir():
        print("no runs/demo here: run `make demo` first, or pass --model", file=sys.stderr)
        return 2
    if not Path(args.model).is_absolute() and (REPO / args.model).exists():
        args.model = str(REPO / args.model)
    row = measure(args)
    print({k: v for k, v in row.items() if k != "differing_texts"}, flush=True)
    write_json(Path(args.out), {
        "benchmark": "extract_throughput", "date": now_utc(), "command": command_line(), "machine": machine_info(),
        "quick": args.quick, **row,
        "notes": "sentences_per_second = texts / seconds of each path in one process after a warm-up; speedup = "
                 "one-at-a-time seconds / batched seconds; identical_completions counts texts whose completion is the "
                 "same string on both paths (the script fails when any differs)"})
    if row["differing_texts"]:
        print(f"completions differ for texts {row['differing_texts']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
