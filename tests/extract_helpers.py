"""Helpers of the extraction and export tests: a small run directory, and a backend that answers from a script.

``make_lora_run(root)`` (made in seconds, nothing is trained) writes ``root/<name>/`` with a run config and stage folders whose models are model chains:
``tiny-random`` plus one LoRA adapter initialised with random (non-zero) weights, so the merged model differs
from the backbone and its greedy completions are not empty. Each stage gets a ``scores.json`` with the given
macro F1 (one NER dataset), in the stage's evaluation format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

SYSTEM = "You extract information and answer exactly in the requested format."


def write_scores(stage_dir: Path, f1: float, fmt: str = "streamlined") -> None:
    scores = {"protocol": "prouie", "format": fmt, "macro": {"ner": f1},
              "datasets": {"Sample-NER": {"task": "NER", "n": 3, "missing": 0,
                                          "metrics": {"ner": {"p": f1, "r": f1, "f1": f1, "source": "kit"}},
                                          "parse_error_rate": 0.0, "hallucination_rate": 0.0,
                                          "off_schema_rate": 0.0}}}
    (stage_dir / "scores.json").write_text(json.dumps(scores))


def make_lora_run(root: Path, *, name: str = "lora", stages: dict[str, float] | None = None, split: str = "test",
                  seed: int = 1) -> Path:
    """A run folder with one finished stage per ``stages`` item (stage → its macro F1); returns the run folder."""
    import torch
    from peft import LoraConfig, get_peft_model

    from prouie_lib.models import load_backbone, write_model_chain

    stages = stages or {"sa": 40.0}
    run = Path(root) / name
    config = {"name": name, "model": {"backbone": "tiny-random"},
              "data": {"system_prompt": SYSTEM, "max_prompt_tokens": 160},
              "eval": {"split": split, "max_new_tokens": {"complete-present": 20, "streamlined": 12}}}
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    for n, (stage, f1) in enumerate(stages.items()):
        model, _ = load_backbone("tiny-random", device="cpu")
        torch.manual_seed(seed + n)
        lora = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                                init_lora_weights=False))
        stage_dir = run / stage
        adapter = stage_dir / "model" / "adapter"
        lora.save_pretrained(str(adapter))
        write_model_chain(stage_dir / "model", "tiny-random", [str(adapter)])
        (stage_dir / "config.yaml").write_text(yaml.safe_dump(config))
        write_scores(stage_dir, f1, "complete-present" if stage == "cm" else "streamlined")
    return run


class ScriptedBackend:
    """A generation backend answering each prompt with ``answer(the prompt's text)``; records the calls."""

    name = "scripted"

    def __init__(self, answer) -> None:
        from prouie_lib.models import load_tokenizer

        self.tokenizer, self.answer, self.calls = load_tokenizer("tiny-random"), answer, []

    def complete(self, prompts, groups, *, batch_size, max_new_tokens, progress):
        self.calls.append((list(prompts), list(groups)))
        return [self.answer(re.search(r"Text: (.*?)<\|im_end\|>", p, re.S).group(1)) for p in prompts]


def scripted_extractor(answer, **settings):
    """An :class:`~prouie_lib.extraction.Extractor` over a :class:`ScriptedBackend` (``settings``: PromptSettings)."""
    from prouie_lib.extraction import Extractor
    from prouie_lib.extraction.settings import PromptSettings

    return Extractor(ScriptedBackend(answer), PromptSettings(**settings), model="scripted")
