"""SFT throughput on CPU: trl's SFTTrainer (stage settings) vs a bare PyTorch loop on the same batches; padding.

Usage::

    python benchmarks/sft_throughput.py [--steps 10] [--batch-size 8] [--rows 256] [--short-steps 4]
                                        [--packed-steps 3] [--packed-batch-size 4]

Setup, as the stages do it (``prouie_lib.stages``): SmolLM2-135M (offline), LoRA from ``lora_config`` attached
with ``attach_lora``, ``SFTConfig`` from ``sft_config`` (float32, no gradient checkpointing, completion-only
loss), conversational prompt–completion rows from ``sft_rows`` on CoNLL04 train in the *complete* format.

1. **Trainer**: ``--steps`` optimizer steps of SFTTrainer; a subclass records every batch ``training_step``
   receives (the dataloader's tensors) and a callback times each step (end of step k-1 → end of step k).
2. **Bare loops** over exactly those recorded batches, on a fresh model with the same seed and LoRA setup,
   fused AdamW (the trainer's default), same LR schedule, grad-norm clipping 1.0, three losses:
   ``fused`` — trl's fused LM head (``add_fused_lm_head``), the math SFTTrainer 1.16 does;
   ``standard`` — the textbook ``model(**batch, labels=labels).loss`` (full logits at every position);
   ``compact`` — the LM head only at completion positions. ``fused`` runs all batches (its first-step loss
   must equal the trainer's: same tensors, same initial weights), the others the first ``--short-steps``.
   The overhead ratio is trainer / ``fused`` time per token (median step; the first step of every run is a
   warm-up and left out).
3. **Padding**: pad positions / all positions over one epoch of ``--rows`` rows, for the trainer's batches
   without packing, with length-grouped sampling, and with ``packing=True`` for ``packing_strategy`` "bfd"
   (padding-free: one flattened row per batch, documents separated by ``position_ids``) and "wrapped".
   Whether bfd keeps documents apart without flash attention is checked directly (packed forward vs each
   document alone, tiny random Llama, sdpa); ``--packed-steps`` bfd steps on SmolLM2 give its tokens/s
   (``--packed-batch-size`` packed rows per step: about the real tokens of an unpacked batch of 8).

Writes ``benchmarks/results/sft_throughput.json``. Takes ~8 minutes on 2 CPU cores (``--short-steps 0
--packed-steps 0``: ~6).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import RESULTS, command_line, machine_info, now_utc, write_json  # noqa: E402

NEEDS_MODEL = True  # run_all.py --quick skips this script
BACKBONE = "smollm2-135m-offline"
TINY = "tiny-random"


# ---------------------------------------------------------------- data and trainers


def build_rows(n_rows: int, seed: int, config) -> list[dict[str, Any]]:
    """``n_rows`` seeded CoNLL04 train rows, complete format, as the CM stage builds them."""
    from prouie_lib.data import load_examples
    from prouie_lib.stages.stage_data import sft_rows

    records = list(load_examples("CoNLL04", "train"))
    records = random.Random(seed).sample(records, min(n_rows, len(records)))
    return [{"prompt": r["prompt"], "completion": r["completion"]} for r in sft_rows(records, "complete", config)]


def make_trainer(model, tokenizer, rows, output_dir: Path, *, steps: int, batch_size: int, seed: int,
                 callbacks=(), record: bool = False, **overrides):
    """An SFTTrainer configured like the stages (``sft_config``), without checkpoint saving."""
    from datasets import Dataset
    from trl import SFTTrainer

    from prouie_lib.config import TrainerConfig
    from prouie_lib.stages.training_args import sft_config

    cfg = TrainerConfig(max_steps=steps, per_device_train_batch_size=batch_size, logging_steps=1)
    args = sft_config(cfg, output_dir, seed, save_strategy="no", **overrides)

    class RecordingSFTTrainer(SFTTrainer):
        """Keeps a copy of every batch the training loop feeds to ``training_step``."""

        recorded: list[dict[str, Any]] = []

        def training_step(self, model, inputs, *args, **kwargs):
            if record:
                self.recorded.append({k: v.detach().clone() for k, v in inputs.items() if hasattr(v, "detach")})
            return super().training_step(model, inputs, *args, **kwargs)

    trainer = RecordingSFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                  processing_class=tokenizer, callbacks=list(callbacks))
    trainer.recorded = []
    return trainer


def fresh_lora_model(spec: str, config, seed: int):
    from prouie_lib.models import load_backbone
    from prouie_lib.stages.sft_phase import attach_lora
    from prouie_lib.stages.skeleton import seed_everything

    model, tokenizer = load_backbone(spec)
    seed_everything(seed)
    return attach_lora(model, config), tokenizer


# ---------------------------------------------------------------- batch statistics


def batch_stats(batch: dict[str, Any]) -> dict[str, int]:
    """Real tokens, positions (incl. padding), completion tokens and attention-score elements of one batch.

    Padded batches carry an ``attention_mask``; padding-free (packed bfd) batches are one flattened row with
    ``position_ids`` (no padding: ``pad_to_multiple_of`` is None on CPU). Attention elements count the
    ``L x L`` score matrix each row needs with sdpa (a packed row is masked block-diagonally, not split).
    """
    ids = batch["input_ids"]
    rows, length = ids.shape
    real = int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
    return {"real_tokens": real, "positions": ids.numel(), "rows": rows, "max_len": length,
            "completion_tokens": int((batch["labels"] != -100).sum()), "attention_elements": rows * length * length}


def summarize_batches(batches: list[dict[str, Any]]) -> dict[str, Any]:
    stats = [batch_stats(b) for b in batches]
    real = sum(s["real_tokens"] for s in stats)
    positions = sum(s["positions"] for s in stats)
    return {"batches": len(stats), "real_tokens": real, "positions": positions,
            "padding_fraction": round(1 - real / positions, 4) if positions else None,
            "completion_tokens": sum(s["completion_tokens"] for s in stats),
            "mean_real_tokens_per_batch": round(real / len(stats), 1) if stats else None,
            "mean_attention_elements_per_batch": round(statistics.fmean(s["attention_elements"] for s in stats))
            if stats else None}


def epoch_batches(trainer, limit: int | None = None) -> list[dict[str, Any]]:
    out = []
    for batch in trainer.get_train_dataloader():
        out.append(batch)
        if limit is not None and len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------- timing


def step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall time of each optimizer step: from the end of the previous one (or train start) to its end."""

        def __init__(self) -> None:
            self.marks: list[float] = []

        def on_train_begin(self, args, state, control, **kwargs):
            self.marks = [time.perf_counter()]

        def on_step_end(self, args, state, control, **kwargs):
            self.marks.append(time.perf_counter())

        @property
        def step_seconds(self) -> list[float]:
            return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]

    return StepTimer()


def rate(step_seconds: list[float], batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Tokens/s of a run: overall, and over the steady steps (the first step is a warm-up and left out) as
    total tokens / total time (mean), median of the per-step rates, and the best step (least disturbed by other
    processes on a shared machine)."""
    tokens = [batch_stats(b)["real_tokens"] for b in batches][: len(step_seconds)]
    steady = [(tok, sec) for tok, sec in zip(tokens[1:], step_seconds[1:], strict=True)] or list(
        zip(tokens, step_seconds, strict=True))
    per_step = [tok / sec for tok, sec in steady]
    return {"steps": len(step_seconds), "seconds": round(sum(step_seconds), 2),
            "step_seconds": [round(x, 3) for x in step_seconds], "step_tokens": tokens,
            "tokens_per_s": round(sum(tokens) / sum(step_seconds), 1),
            "steady_tokens_per_s": round(sum(t for t, _ in steady) / sum(x for _, x in steady), 1),
            "median_step_tokens_per_s": round(statistics.median(per_step), 1),
            "best_step_tokens_per_s": round(max(per_step), 1)}


def ratios(trainer: dict[str, Any], bare: dict[str, Any]) -> dict[str, float]:
    """Trainer time per token / bare-loop time per token (> 1: the trainer is slower), three estimators."""
    return {"best_step": round(bare["best_step_tokens_per_s"] / trainer["best_step_tokens_per_s"], 3),
            "median_step": round(bare["median_step_tokens_per_s"] / trainer["median_step_tokens_per_s"], 3),
            "mean": round(bare["steady_tokens_per_s"] / trainer["steady_tokens_per_s"], 3)}


def _loss_fused(model, batch):
    """trl's fused LM head (what SFTTrainer 1.16 calls): on CPU it scores every position in vocabulary chunks."""
    out = model(**{k: v for k, v in batch.items() if k != "labels"}, labels=batch["labels"], fused_lm_head=True,
                use_cache=False)
    return -out.log_probs.sum() / out.label_mask.sum().clamp(min=1)


def _loss_standard(model, batch):
    """The textbook loss: full (batch, seq, vocab) logits, cross-entropy over the labelled positions."""
    return model(**{k: v for k, v in batch.items() if k != "labels"}, labels=batch["labels"],
                 use_cache=False).loss


def _loss_compact(model, batch):
    """Backbone once, LM head only on the positions whose next token is labelled (the completion)."""
    import torch.nn.functional as F

    causal_lm = model.get_base_model()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = causal_lm.model(**inputs, use_cache=False).last_hidden_state[:, :-1]
    labels = batch["labels"][:, 1:]
    mask = labels != -100
    return F.cross_entropy(causal_lm.lm_head(hidden[mask]), labels[mask])


LOSSES = {"fused": _loss_fused, "standard": _loss_standard, "compact": _loss_compact}


def bare_loop(model, batches: list[dict[str, Any]], *, lr: float, warmup: int, loss: str) -> dict[str, Any]:
    """forward → backward → clip → AdamW step → schedule over ``batches``; returns timing and losses."""
    import torch
    from transformers import get_scheduler

    loss_fn = LOSSES[loss]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, fused=True)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=warmup, num_training_steps=len(batches))
    model.train()
    seconds, losses = [], []
    for batch in batches:
        start = time.perf_counter()
        value = loss_fn(model, batch)
        value.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(value.item())
        seconds.append(time.perf_counter() - start)
    return {**rate(seconds, batches), "losses": [round(x, 4) for x in losses]}


# ---------------------------------------------------------------- packing checks


def packed_isolation(tokenizer, rows, seed: int, workdir: Path) -> dict[str, Any]:
    """Does a bfd-packed (padding-free) row give each document the logits it gets alone? (tiny model, sdpa)"""
    import torch

    from prouie_lib.models import load_backbone

    model, _ = load_backbone(TINY)
    trainer = make_trainer(model, tokenizer, rows[:32], workdir / "iso", steps=1, batch_size=4, seed=seed,
                           packing=True, packing_strategy="bfd")
    batch = epoch_batches(trainer, 1)[0]
    model.eval()
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0]
        starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [batch["input_ids"].shape[1]]
        diffs = []
        for a, b in zip(starts, starts[1:], strict=False):
            alone = model(input_ids=batch["input_ids"][:, a:b]).logits[0]
            diffs.append(float((packed[a:b] - alone).abs().max()))
    return {"attn_implementation": model.config._attn_implementation, "documents_in_row": len(diffs),
            "max_abs_logit_diff": max(diffs), "isolated": max(diffs) < 1e-4}


def padding_options(tokenizer, rows, batch_size: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Padding over one epoch for each batching option (the dataloaders do not depend on the model)."""
    from prouie_lib.models import load_backbone

    options = {
        "no_packing": {},
        "group_by_length": {"train_sampling_strategy": "group_by_length"},
        "packing_bfd": {"packing": True, "packing_strategy": "bfd"},
        "packing_wrapped": {"packing": True, "packing_strategy": "wrapped"},
    }
    out: dict[str, Any] = {}
    for name, overrides in options.items():
        model, _ = load_backbone(TINY)
        try:
            trainer = make_trainer(model, tokenizer, rows, workdir / name, steps=1, batch_size=batch_size,
                                   seed=seed, **overrides)
            out[name] = {"settings": overrides, "padding_free": bool(getattr(trainer, "padding_free", False)),
                         **summarize_batches(epoch_batches(trainer))}
        except Exception as err:  # noqa: BLE001 - an option that does not work on CPU is a result, not a crash
            out[name] = {"settings": overrides, "error": f"{type(err).__name__}: {err}"}
    return out


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rows", type=int, default=256, help="CoNLL04 train rows (seeded sample)")
    parser.add_argument("--short-steps", type=int, default=4,
                        help="batches for the 'standard' and 'compact' bare loops (0: skip them)")
    parser.add_argument("--packed-steps", type=int, default=3, help="timed bfd-packed SFT steps (0: skip)")
    parser.add_argument("--packed-batch-size", type=int, default=4,
                        help="packed rows of max_length tokens per step for the timed bfd run")
    parser.add_argument("--model", default=BACKBONE)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(RESULTS / "sft_throughput.json"))
    args = parser.parse_args(argv)

    import torch
    from trl.trainer.utils import add_fused_lm_head

    from prouie_lib.config import RunConfig

    config = RunConfig(seed=args.seed)
    config.model.backbone = args.model
    rows = build_rows(args.rows, args.seed, config)
    t_start = time.perf_counter()
    result: dict[str, Any] = {
        "benchmark": "sft_throughput", "date": now_utc(), "command": command_line(), "machine": machine_info(),
        "model": args.model, "dataset": "CoNLL04 train", "format": "complete", "rows": len(rows),
        "lora": {"r": config.model.lora_r, "alpha": config.model.lora_alpha, "dropout": config.model.lora_dropout,
                 "target_modules": config.model.lora_target_modules},
        "batch_size": args.batch_size, "steps": args.steps,
    }
    with tempfile.TemporaryDirectory(prefix="prouie-sft-bench-") as tmp:
        workdir = Path(tmp)
        # 1. the trainer, recording its batches
        model, tokenizer = fresh_lora_model(args.model, config, args.seed)
        timer = step_timer()
        trainer = make_trainer(model, tokenizer, rows, workdir / "trainer", steps=args.steps,
                               batch_size=args.batch_size, seed=args.seed, callbacks=[timer], record=True)
        t0 = time.perf_counter()
        trainer.train()
        train_wall = time.perf_counter() - t0
        batches = trainer.recorded
        sft_args = trainer.args
        result["trainer"] = {
            **rate(timer.step_seconds, batches), "train_call_seconds": round(train_wall, 2),
            "losses": [round(e["loss"], 4) for e in trainer.state.log_history if "loss" in e],
            "optimizer": type(trainer.optimizer).__name__, "optim": str(sft_args.optim),
            "batch_keys": sorted(batches[0]) if batches else [],
        }
        result["trainer_batches"] = summarize_batches(batches)
        print("trainer", result["trainer"]["median_step_tokens_per_s"], "tokens/s", flush=True)
        lr, warmup = sft_args.learning_rate, sft_args.get_warmup_steps(args.steps)
        del trainer, model
        gc.collect()

        # 2. bare loops over the same tensors, fresh model with the same seed and LoRA setup
        model, _ = fresh_lora_model(args.model, config, args.seed)
        add_fused_lm_head(model.get_base_model(), outputs=("log_probs",))
        bare = {"fused": bare_loop(model, batches, lr=lr, warmup=warmup, loss="fused")}
        print("bare fused", bare["fused"]["median_step_tokens_per_s"], "tokens/s", flush=True)
        for name in ("standard", "compact") if args.short_steps > 0 else ():
            bare[name] = bare_loop(model, batches[: args.short_steps], lr=lr, warmup=warmup, loss=name)
            print(f"bare {name}", bare[name]["median_step_tokens_per_s"], "tokens/s", flush=True)
        del model
        gc.collect()
        result["bare"] = bare
        steps = timer.step_seconds
        result["trainer_vs_bare"] = {name: ratios(rate(steps[: run["steps"]], batches[: run["steps"]]), run)
                                     for name, run in bare.items()}
        result["overhead_ratio"] = result["trainer_vs_bare"]["fused"]["median_step"]
        result["goal_overhead_ratio"] = 1.15
        result["first_step_loss_diff"] = round(abs(result["trainer"]["losses"][0] - bare["fused"]["losses"][0]), 4)

        # 3. padding with and without packing; does bfd keep documents apart without flash attention?
        result["padding"] = padding_options(tokenizer, rows, args.batch_size, args.seed, workdir)
        result["packed_isolation_check"] = packed_isolation(tokenizer, rows, args.seed, workdir)
        if args.packed_steps > 0:
            model, _ = fresh_lora_model(args.model, config, args.seed)
            timer = step_timer()
            trainer = make_trainer(model, tokenizer, rows, workdir / "packed", steps=args.packed_steps,
                                   batch_size=args.packed_batch_size, seed=args.seed, callbacks=[timer],
                                   record=True, packing=True, packing_strategy="bfd")
            trainer.train()
            result["trainer_packed_bfd"] = {"batch_size": args.packed_batch_size,
                                            **rate(timer.step_seconds, trainer.recorded),
                                            **summarize_batches(trainer.recorded)}
            print("packed bfd", result["trainer_packed_bfd"]["median_step_tokens_per_s"], "tokens/s", flush=True)
            del trainer, model
            gc.collect()
    pads = {k: v.get("padding_fraction") for k, v in result["padding"].items()}
    usable = {k: v for k, v in pads.items() if v is not None}
    best = min(usable, key=usable.get) if usable else None
    result["summary"] = {
        "tokens_per_s_median_step": {"trainer": result["trainer"]["median_step_tokens_per_s"],
                                     **{f"bare_{k}": v["median_step_tokens_per_s"] for k, v in bare.items()},
                                     "trainer_packed_bfd": result.get("trainer_packed_bfd", {}).get(
                                         "median_step_tokens_per_s")},
        "overhead_ratio": result["overhead_ratio"], "overhead_goal_met": result["overhead_ratio"] <= 1.15,
        "trainer_vs_bare_median_step": {k: v["median_step"] for k, v in result["trainer_vs_bare"].items()},
        "padding_fraction": pads, "best_padding_option": best,
        "padding_goal_met": bool(best and usable[best] <= 0.10),
        "packed_bfd_isolated_on_sdpa": result["packed_isolation_check"]["isolated"],
    }
    result["notes"] = [
        "tokens = real (non-pad) tokens; every run's first step is a warm-up and left out; per-step rates are "
        "tokens/s of one step; median_step is the headline, best_step the least disturbed step (shared machine)",
        "overhead_ratio = trainer / bare 'fused' loop, time per token, median step, identical recorded batches "
        "and identical math (trl's fused LM head); the trainer also computes entropy and top-1 accuracy "
        "metrics and logs every step (stage settings)",
        "bare 'standard': model(**batch, labels=...).loss with full (batch, seq, 49152) logits; bare 'compact': "
        "LM head only on labelled (completion) positions; both over the first --short-steps batches and "
        "compared with the trainer's steps on the same batches",
        "trl 1.16's fused LM head scores only labelled positions on CUDA/XPU (Triton); on CPU it scores every "
        "position (prompt and padding too) in vocabulary chunks and recomputes them in backward",
        "padding_fraction = pad positions / all positions over one epoch of the rows; packing_bfd is "
        "padding-free (one flattened row per batch, position_ids restart per document), so without flash "
        "attention sdpa runs over the whole row with a block-diagonal mask (mean_attention_elements_per_batch); "
        "packing_wrapped cuts examples mid-sequence and lets documents attend to each other",
    ]
    result["torch_threads"] = torch.get_num_threads()
    result["seconds_total"] = round(time.perf_counter() - t_start, 1)
    write_json(args.out, result)
    print(result["summary"])
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
