"""Evaluation generation with and without reusing the shared prompt prefix's KV cache, side by side in one run.

Usage::

    python benchmarks/prefix_reuse.py [--backbone smollm2-135m-offline] [--records 48] [--batch-size 16]
                                      [--new-tokens 64 96] [--bound-new-tokens 32] [--quick] [--out PATH]

Prompts of one dataset share their chat template, instruction and label schema; only the sentence differs. The
kit's evaluation (``prouie_lib.evaluation.predict.generate``) can run that shared prefix once per batch and reuse
its KV cache (``reuse_prefix=True``, :mod:`prouie_lib.evaluation.prefix_cache`) instead of prefilling it in every
row. For the evaluated (streamlined) prompts of CoNLL04 and PHEE test, in one process, this script measures:

- the shared prefix: the longest token prefix common to all prompts of the dataset, as a share of prompt tokens;
- per ``--new-tokens`` cap (the evaluation's greedy settings, stopping at end of sequence as evaluation does):
  the plain path (sorted, left-padded batches) and the prefix-reuse path on the same batches, timed batch by
  batch with the two paths alternating which runs first; ``speedup`` = plain seconds / reuse seconds (the reuse
  time includes running each distinct prefix, memo starting empty); how many completions are identical, as
  token ids and as decoded text (the reuse path is only worth switching on where all are);
- the upper bound measured before the implementation existed: the prefill share of a ``--bound-new-tokens``
  generation (``min_new_tokens`` forced) times the shared share, ``full / (full − prefill × shared share)``.

Writes ``benchmarks/results/prefix_reuse.json``. ``--quick`` (6 prompts, batch 3, 8 new tokens) only checks that
it runs. About 10 minutes on 2 quiet CPU cores with the defaults.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, command_line, machine_info, now_utc, write_json  # noqa: E402

NEEDS_MODEL = True
DATASETS = ("CoNLL04", "PHEE")


def batches(prompts: list[str], batch_size: int) -> list[list[int]]:
    """Indices of the batches ``generate`` makes: longest prompts first, ``batch_size`` at a time."""
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _rows(new_ids, pad_id: int) -> list[list[int]]:
    """Generated token ids per row, the padding after an early end of sequence dropped."""
    rows = []
    for row in new_ids.tolist():
        while row and row[-1] == pad_id:
            row.pop()
        rows.append(row)
    return rows


def compare(model, tokenizer, prompts: list[str], batch_size: int, new_tokens: int) -> dict[str, Any]:
    """Plain vs prefix-reuse generation on the same batches, alternating order batch by batch."""
    import torch

    from prouie_lib.evaluation.predict import plain_batch
    from prouie_lib.evaluation.prefix_cache import PrefixCaches, generate_batch

    caches = PrefixCaches()
    seconds = {"plain": 0.0, "reuse": 0.0}
    rows: dict[str, dict[int, list[int]]] = {"plain": {}, "reuse": {}}
    fallbacks = 0
    tokenizer.padding_side = "left"
    for n, idx in enumerate(batches(prompts, batch_size)):
        texts = [prompts[i] for i in idx]
        for path in (("plain", "reuse") if n % 2 == 0 else ("reuse", "plain")):
            start = time.perf_counter()
            with torch.inference_mode():
                if path == "plain":
                    out = plain_batch(model, tokenizer, texts, max_new_tokens=new_tokens)
                else:
                    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
                    out = generate_batch(model, tokenizer, ids, max_new_tokens=new_tokens, caches=caches)
                    if out is None:
                        fallbacks += 1
                        out = plain_batch(model, tokenizer, texts, max_new_tokens=new_tokens)
            seconds[path] += time.perf_counter() - start
            rows[path].update(zip(idx, _rows(out, tokenizer.pad_token_id), strict=True))
    same_ids = {i for i in range(len(prompts)) if rows["plain"][i] == rows["reuse"][i]}
    decode = lambda r: tokenizer.decode(r, skip_special_tokens=True).strip()  # noqa: E731
    same_text = sum(decode(rows["plain"][i]) == decode(rows["reuse"][i]) for i in range(len(prompts)))
    return {"max_new_tokens": new_tokens, "plain_seconds": round(seconds["plain"], 2),
            "reuse_seconds": round(seconds["reuse"], 2),
            "speedup": round(seconds["plain"] / seconds["reuse"], 3) if seconds["reuse"] else None,
            "identical_token_completions": len(same_ids), "identical_text_completions": same_text,
            "differing_prompts": [i for i in range(len(prompts)) if i not in same_ids],
            "mean_generated_tokens": round(sum(map(len, rows["plain"].values())) / len(prompts), 1),
            "prefix_prefills": caches.prefills, "batches_without_reuse": fallbacks}


def timed_generate(model, tokenizer, prompts: list[str], batch_size: int, new_tokens: int) -> float:
    """Seconds for the plain path with exactly ``new_tokens`` decoded per batch (for the upper bound)."""
    import torch

    from prouie_lib.evaluation.predict import plain_batch

    tokenizer.padding_side = "left"
    start = time.perf_counter()
    for idx in batches(prompts, batch_size):
        with torch.inference_mode():
            plain_batch(model, tokenizer, [prompts[i] for i in idx], max_new_tokens=new_tokens,
                        generate_kwargs={"min_new_tokens": new_tokens})
    return time.perf_counter() - start


def measure(name: str, model, tokenizer, args) -> dict[str, Any]:
    from prouie_lib.data import load_examples
    from prouie_lib.evaluation.predict import record_prompt
    from prouie_lib.evaluation.prefix_cache import common_prefix_length

    prompts = [record_prompt(tokenizer, r, "streamlined") for r in load_examples(name, "test")[:args.records]]
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    prefix = common_prefix_length(ids)
    share = prefix * len(ids) / sum(len(t) for t in ids)
    timed_generate(model, tokenizer, prompts[:args.batch_size], args.batch_size, 2)  # warm-up
    runs = [compare(model, tokenizer, prompts, args.batch_size, n) for n in args.new_tokens]
    row: dict[str, Any] = {
        "dataset": name, "records": len(prompts), "batch_size": args.batch_size,
        "mean_prompt_tokens": round(sum(map(len, ids)) / len(ids), 1), "shared_prefix_tokens": prefix,
        "shared_share_of_prompt_tokens": round(share, 3), "runs": runs}
    if args.bound_new_tokens:
        prefill = timed_generate(model, tokenizer, prompts, args.batch_size, 1)
        full = timed_generate(model, tokenizer, prompts, args.batch_size, args.bound_new_tokens)
        row["bound"] = {"new_tokens": args.bound_new_tokens, "prefill_seconds": round(prefill, 2),
                        "generate_seconds": round(full, 2), "prefill_share_of_generation": round(prefill / full, 3),
                        "best_possible_speedup": round(full / (full - prefill * share), 3)}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="smollm2-135m-offline")
    parser.add_argument("--records", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, nargs="+", default=[64, 96],
                        help="generation caps to compare the two paths at (96: the evaluation's streamlined cap)")
    parser.add_argument("--bound-new-tokens", type=int, default=32, help="0 skips the upper-bound measurement")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--quick", action="store_true", help="6 prompts, batch 3, 8 new tokens: a smoke run")
    parser.add_argument("--out", default=str(RESULTS / "prefix_reuse.json"))
    args = parser.parse_args()
    if args.quick:
        args.records, args.batch_size, args.new_tokens, args.bound_new_tokens = 6, 3, [8], 4
    from prouie_lib.models import load_backbone

    model, tokenizer = load_backbone(args.backbone)
    model.eval()
    rows = [measure(name, model, tokenizer, args) for name in args.datasets]
    for row in rows:
        print({k: v for k, v in row.items() if k != "runs"}, flush=True)
        for run in row["runs"]:
            print("   ", run, flush=True)
    write_json(Path(args.out), {
        "benchmark": "prefix_reuse", "date": now_utc(), "command": command_line(), "machine": machine_info(),
        "threads": os.environ.get("OMP_NUM_THREADS"), "backbone": args.backbone, "quick": args.quick,
        "datasets": rows,
        "notes": "speedup = plain / prefix-reuse seconds for the same greedy batches in one process (reuse time "
                 "includes running each distinct prefix once); identical_*_completions counts prompts whose "
                 "completion is the same on both paths. bound.best_possible_speedup: the earlier upper bound "
                 "(prefill share of a forced-length generation × shared share of prompt tokens)"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
