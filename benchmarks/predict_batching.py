"""Batched vs one-by-one greedy generation with the offline SmolLM2 on CPU (goal: batched >= 4x faster).

Usage::

    python benchmarks/predict_batching.py [--n 64] [--batch-size 16] [--max-new-tokens 64]

Takes the first ``--n`` CoNLL04 test records, builds streamlined-format prompts with
``prouie_lib.evaluation.predict.record_prompt`` and times ``prouie_lib.evaluation.predict.generate`` twice on
the same model: ``batch_size=1`` (one by one) and ``batch_size=--batch-size`` (length-sorted batches, left
padding). Both use greedy decoding, so their completions should be the same; the JSON counts those that
differ (padding changes the float32 summation order, which can flip a near-tie between two tokens).
Writes ``benchmarks/results/predict_batching.json`` and the bar figure ``predict_batching.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import RESULTS, command_line, machine_info, now_utc, write_json  # noqa: E402

NEEDS_MODEL = True  # run_all.py --quick skips this script


def timed_generate(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int
                   ) -> tuple[list[str], float]:
    from prouie_lib.evaluation.predict import generate

    start = time.perf_counter()
    completions = generate(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                           progress=False)
    return completions, time.perf_counter() - start


def mode_summary(seconds: float, completions: list[str], tokenizer, batch_size: int) -> dict[str, Any]:
    new_tokens = sum(len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in completions)
    return {"batch_size": batch_size, "seconds": round(seconds, 2),
            "prompts_per_s": round(len(completions) / seconds, 3),
            "completion_tokens": new_tokens, "completion_tokens_per_s": round(new_tokens / seconds, 1)}


def plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seq, bat = result["sequential"], result["batched"]
    labels = ["one by one\n(batch 1)", f"batched\n(batch {bat['batch_size']}, sorted, left pad)"]
    values = [seq["prompts_per_s"], bat["prompts_per_s"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    bars = ax.bar(labels, values, color=["#999999", "#2b7bba"])
    for bar, mode in zip(bars, (seq, bat), strict=True):
        ax.annotate(f"{mode['prompts_per_s']:.2f}/s\n{mode['seconds']:.0f} s", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("prompts / s")
    ax.set_ylim(0, max(values) * 1.3)
    ax.set_title(f"Greedy generation, {result['n_prompts']} {result['dataset']} prompts, "
                 f"{result['max_new_tokens']} new tokens\nspeed-up {result['speedup']:.1f}x "
                 f"({result['model']}, CPU)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="number of test prompts (the first N)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--dataset", default="CoNLL04")
    parser.add_argument("--split", default="test")
    parser.add_argument("--format", default="streamlined")
    parser.add_argument("--model", default="smollm2-135m-offline")
    parser.add_argument("--out", default=str(RESULTS / "predict_batching.json"))
    parser.add_argument("--figure", default=str(RESULTS / "predict_batching.png"))
    args = parser.parse_args(argv)

    from prouie_lib.data import load_examples
    from prouie_lib.evaluation.predict import record_prompt
    from prouie_lib.models import load_backbone

    records = list(load_examples(args.dataset, args.split))[: args.n]
    if len(records) < args.n:
        raise SystemExit(f"{args.dataset}/{args.split} has only {len(records)} records; asked for {args.n}")
    model, tokenizer = load_backbone(args.model)
    prompts = [record_prompt(tokenizer, r, args.format) for r in records]
    prompt_tokens = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    timed_generate(model, tokenizer, prompts[:2], 2, 4)  # warm-up: first-call allocations and kernels

    seq_out, seq_s = timed_generate(model, tokenizer, prompts, 1, args.max_new_tokens)
    print(f"one by one: {seq_s:.1f} s", flush=True)
    bat_out, bat_s = timed_generate(model, tokenizer, prompts, args.batch_size, args.max_new_tokens)
    print(f"batched:    {bat_s:.1f} s", flush=True)

    differ = [i for i, (a, b) in enumerate(zip(seq_out, bat_out, strict=True)) if a != b]
    result: dict[str, Any] = {
        "benchmark": "predict_batching", "date": now_utc(), "command": command_line(),
        "machine": machine_info(), "model": args.model, "dataset": args.dataset, "split": args.split,
        "format": args.format, "n_prompts": len(prompts), "max_new_tokens": args.max_new_tokens,
        "prompt_tokens": {"mean": round(sum(prompt_tokens) / len(prompt_tokens), 1),
                          "min": min(prompt_tokens), "max": max(prompt_tokens)},
        "sequential": mode_summary(seq_s, seq_out, tokenizer, 1),
        "batched": mode_summary(bat_s, bat_out, tokenizer, args.batch_size),
        "speedup": round(seq_s / bat_s, 2), "goal_speedup": 4.0,
        "completions_identical": not differ, "completions_differing": len(differ),
        "differing_examples": [{"index": i, "id": records[i]["id"], "sequential": seq_out[i],
                                "batched": bat_out[i]} for i in differ[:5]],
        "first_completions": [{"id": records[i]["id"], "completion": seq_out[i]} for i in range(3)],
    }
    result["goal_met"] = result["speedup"] >= result["goal_speedup"]
    write_json(args.out, result)
    plot(result, Path(args.figure))
    print(f"speed-up {result['speedup']}x; completions differing: {len(differ)}/{len(prompts)}")
    print(f"wrote {args.out} and {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
