"""Would reusing the shared instruction + schema prefix's KV cache speed up evaluation on CPU? An upper bound.

Usage::

    python benchmarks/prefix_reuse.py [--backbone smollm2-135m-offline] [--records 48] [--batch-size 16]
                                      [--new-tokens 32]

Prompts of one dataset share their instruction and label schema; only the sentence differs. Reusing the KV cache
of that shared prefix can only save *prefill* work on the shared tokens. This script measures, for the evaluated
(streamlined) prompts of CoNLL04 and PHEE test, with the kit's batched greedy generation:

- the shared prefix: the longest token prefix common to all prompts of the dataset, as a share of prompt tokens;
- the prefill time (``max_new_tokens=1``) and the full generation time (``--new-tokens`` tokens, forced with
  ``min_new_tokens`` so every batch decodes the same number of steps, about a real CoNLL04 answer);
- the best speed-up prefix reuse could give: ``full / (full − prefill × shared share)`` (decoding attends to the
  prefix either way, so only that part of the prefill can be saved).

Writes ``benchmarks/results/prefix_reuse.json``. About 3 minutes on 2 CPU cores.
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


def shared_prefix(token_lists: list[list[int]]) -> int:
    """Length of the longest prefix common to every token list."""
    first = token_lists[0]
    n = min(len(t) for t in token_lists)
    for i in range(n):
        if any(t[i] != first[i] for t in token_lists):
            return i
    return n


def timed_generate(model, tokenizer, prompts: list[str], batch_size: int, new_tokens: int) -> float:
    import torch

    tokenizer.padding_side = "left"
    start = time.perf_counter()
    for i in range(0, len(prompts), batch_size):
        enc = tokenizer(prompts[i: i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            model.generate(**enc, do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                           pad_token_id=tokenizer.pad_token_id)
    return time.perf_counter() - start


def measure(name: str, model, tokenizer, records: int, batch_size: int, new_tokens: int) -> dict[str, Any]:
    from prouie_lib.data import load_examples
    from prouie_lib.evaluation.predict import record_prompt

    prompts = [record_prompt(tokenizer, r, "streamlined") for r in load_examples(name, "test")[:records]]
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    prefix = shared_prefix(ids)
    share = prefix * len(ids) / sum(len(t) for t in ids)
    timed_generate(model, tokenizer, prompts[:batch_size], batch_size, 2)  # warm-up
    prefill = timed_generate(model, tokenizer, prompts, batch_size, 1)
    full = timed_generate(model, tokenizer, prompts, batch_size, new_tokens)
    bound = full / (full - prefill * share)
    return {"dataset": name, "records": len(prompts), "mean_prompt_tokens": round(sum(map(len, ids)) / len(ids), 1),
            "shared_prefix_tokens": prefix, "shared_share_of_prompt_tokens": round(share, 3),
            "prefill_seconds": round(prefill, 2), "generate_seconds": round(full, 2),
            "prefill_share_of_generation": round(prefill / full, 3), "best_possible_speedup": round(bound, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="smollm2-135m-offline")
    parser.add_argument("--records", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--out", default=str(RESULTS / "prefix_reuse.json"))
    args = parser.parse_args()
    from prouie_lib.models import load_backbone

    model, tokenizer = load_backbone(args.backbone)
    model.eval()
    rows = [measure(name, model, tokenizer, args.records, args.batch_size, args.new_tokens)
            for name in ("CoNLL04", "PHEE")]
    for row in rows:
        print(row, flush=True)
    write_json(Path(args.out), {
        "benchmark": "prefix_reuse", "date": now_utc(), "command": command_line(), "machine": machine_info(),
        "threads": os.environ.get("OMP_NUM_THREADS"), "backbone": args.backbone, "new_tokens": args.new_tokens,
        "datasets": rows,
        "notes": "best_possible_speedup bounds what reusing the shared prefix's KV cache could save: only the "
                 "prefill of the shared tokens; decoding still attends to them"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
