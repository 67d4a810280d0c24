"""Completion-only LM head (``prouie_lib/stages/lm_head.py``) against trl's default on CPU, and GRPO generation
against a bare ``model.generate``.

Usage::

    python benchmarks/lm_head.py [--backbone smollm2-135m-offline] [--steps 6] [--rows 64] [--grpo-steps 3]

1. **SFT**: trl's ``SFTTrainer`` as the stages build it (full fine-tuning, float32, batch 8, CoNLL04 train rows
   in the streamlined and in the complete format), ``--steps`` optimizer steps from the same initial weights and
   seed (so identical batches), once with trl's rule (on CPU the fused LM head scores every position) and once
   with the completion-only head. Each arm runs in its own subprocess, so its peak RSS is its own. Reports the
   per-step losses (must agree to 1e-5), the median step time without the first step, their ratio, peak RSS.
2. **GRPO**: the DE stage's ``GRPOTrainer`` subclass for ``--grpo-steps`` steps; its generation seconds (trl's
   ``_generate_and_score_completions`` minus reward time) against a bare sampled ``model.generate`` of the same
   prompts, batch, temperature and ``max_new_tokens`` in the same process, per generated token.

Writes ``benchmarks/results/lm_head.json``. About 6 minutes on 2 CPU cores with SmolLM2-135M.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, command_line, machine_info, now_utc, write_json  # noqa: E402

NEEDS_MODEL = True


def _config(backbone: str):
    from prouie_lib.config import config_from_dict

    return config_from_dict({"model": {"backbone": backbone, "lora": False}, "data": {"datasets": ["CoNLL04"]}})


def sft_arm(backbone: str, fmt: str, compact: bool, steps: int, rows: int) -> dict[str, Any]:
    """One SFT arm in this process: per-step loss and time, peak RSS."""
    import random

    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTTrainer

    from prouie_lib.config import TrainerConfig
    from prouie_lib.data import load_examples
    from prouie_lib.models import load_backbone
    from prouie_lib.stages.lm_head import use_compact_lm_head
    from prouie_lib.stages.skeleton import seed_everything
    from prouie_lib.stages.stage_data import sft_rows
    from prouie_lib.stages.training_args import sft_config

    config = _config(backbone)
    seed_everything(0)
    records = random.Random(0).sample(load_examples("CoNLL04", "train"), rows)
    data = [{"prompt": r["prompt"], "completion": r["completion"]} for r in sft_rows(records, fmt, config)]
    model, tokenizer = load_backbone(backbone)
    use_compact_lm_head(compact)
    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            times.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out:
        trainer_cfg = TrainerConfig(learning_rate=1e-4, max_steps=steps, per_device_train_batch_size=8,
                                    save_steps=10_000, logging_steps=1)
        trainer = SFTTrainer(model=model, args=sft_config(trainer_cfg, Path(out), 0, disable_tqdm=True),
                             train_dataset=Dataset.from_list(data), processing_class=tokenizer, callbacks=[Timer()])
        trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {"format": fmt, "compact": compact, "losses": losses, "step_seconds": [round(t, 3) for t in times],
            "median_step_seconds": round(statistics.median(times[1:]), 3),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)}


def grpo_arm(backbone: str, steps: int) -> dict[str, Any]:
    """DE's GRPO trainer for a few steps; generation time against bare generate of the same shape."""
    import torch

    from prouie_lib.config import config_from_dict
    from prouie_lib.stages.de import TimedReward, TracingGRPOTrainer, grpo_config, grpo_rows, select_prompts
    from prouie_lib.stages.lm_head import use_compact_lm_head

    config = config_from_dict({
        "model": {"backbone": backbone, "lora": False}, "data": {"datasets": ["CoNLL04"]},
        "de": {"train_limit": 8 * steps, "num_generations": 4, "max_completion_length": 64, "temperature": 1.0,
               "probe_size": 0, "trainer": {"learning_rate": 1e-6, "max_steps": steps,
                                            "per_device_train_batch_size": 8, "save_steps": 10_000}}})
    from datasets import Dataset

    from prouie_lib.models import load_backbone
    from prouie_lib.rewards import make_trl_reward_funcs
    from prouie_lib.stages.skeleton import seed_everything
    from prouie_lib.stages.stage_data import load_split

    seed_everything(0)
    use_compact_lm_head(True)
    model, tokenizer = load_backbone(backbone)
    records = select_prompts(load_split(config, "train"), config)
    rows = grpo_rows(records, config)
    funcs = [TimedReward(f) for f in make_trl_reward_funcs("sfr")]
    with tempfile.TemporaryDirectory() as out:
        trainer = TracingGRPOTrainer(model=model, reward_funcs=funcs, args=grpo_config(config, Path(out)),
                                     train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                                     trace_path=Path(out) / "traces.jsonl", reward_name="sfr")
        start = time.perf_counter()
        trainer.train()
        loop = time.perf_counter() - start
        traces = [json.loads(line) for line in (Path(out) / "traces.jsonl").read_text().splitlines()]
    reward_seconds = sum(f.seconds for f in funcs)
    generation = trainer.generate_and_score_seconds - reward_seconds
    trainer_tokens = sum(len(tokenizer(t["completion"], add_special_tokens=False)["input_ids"]) for t in traces)
    # bare sampled generate: the same prompts (2 per step × 4 generations), same settings
    model = trainer.model.eval()
    tokenizer.padding_side = "left"
    bare_seconds, bare_tokens = 0.0, 0
    for step in range(steps):
        batch = rows[2 * step: 2 * step + 2]
        texts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
                 for r in batch for _ in range(4)]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**enc, do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=64,
                                 pad_token_id=tokenizer.pad_token_id)
        bare_seconds += time.perf_counter() - start
        new = out[:, enc["input_ids"].shape[1]:]
        bare_tokens += int((new != tokenizer.pad_token_id).sum())
    return {"steps": steps, "loop_seconds": round(loop, 2), "generation_seconds": round(generation, 2),
            "reward_seconds": round(reward_seconds, 4), "update_seconds": round(loop - trainer.generate_and_score_seconds, 2),
            "trainer_generated_tokens": trainer_tokens, "bare_generate_seconds": round(bare_seconds, 2),
            "bare_generated_tokens": bare_tokens,
            "generation_vs_bare_per_token": round((generation / max(trainer_tokens, 1))
                                                  / (bare_seconds / max(bare_tokens, 1)), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="smollm2-135m-offline")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--grpo-steps", type=int, default=3)
    parser.add_argument("--arm", help=argparse.SUPPRESS)  # internal: FORMAT:compact|full
    parser.add_argument("--out", default=str(RESULTS / "lm_head.json"))
    args = parser.parse_args()
    if args.arm:
        fmt, mode = args.arm.split(":")
        print(json.dumps(sft_arm(args.backbone, fmt, mode == "compact", args.steps, args.rows)))
        return 0
    result: dict[str, Any] = {"benchmark": "lm_head", "date": now_utc(), "command": command_line(),
                              "machine": machine_info(), "backbone": args.backbone, "sft": {}}
    for fmt in ("streamlined", "complete"):
        arms = {}
        for mode in ("full", "compact"):
            proc = subprocess.run([sys.executable, __file__, "--backbone", args.backbone, "--steps", str(args.steps),
                                   "--rows", str(args.rows), "--arm", f"{fmt}:{mode}"],
                                  capture_output=True, text=True, check=True)
            arms[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        diff = max(abs(a - b) for a, b in zip(arms["full"]["losses"], arms["compact"]["losses"], strict=True))
        result["sft"][fmt] = {**arms, "max_loss_difference": diff, "losses_equal_1e-5": diff <= 1e-5,
                              "speedup": round(arms["full"]["median_step_seconds"]
                                               / arms["compact"]["median_step_seconds"], 3)}
        print(fmt, "speedup", result["sft"][fmt]["speedup"], "max loss diff", diff, flush=True)
    if args.grpo_steps > 0:
        result["grpo"] = grpo_arm(args.backbone, args.grpo_steps)
        print("grpo", result["grpo"], flush=True)
    result["notes"] = ("speedup = trl-default median step / completion-only median step (first step excluded), "
                       "identical batches and initial weights; peak_rss_gb is the arm's own process; "
                       "generation_vs_bare_per_token = trainer generation seconds per generated token / bare "
                       "model.generate seconds per generated token, same prompts and settings, one process")
    write_json(Path(args.out), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
