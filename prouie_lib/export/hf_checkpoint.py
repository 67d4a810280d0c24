"""A stage's model as one standard Hugging Face checkpoint folder, loadable without the kit.

A stage folder's model is a *model chain* (a base spec plus LoRA adapters to merge, ``model_chain.json``) that
only the kit can load. :func:`export_checkpoint` loads it exactly as the kit does (:func:`prouie_lib.models.load_backbone`
on CPU, float32), and writes:

- ``model.safetensors`` + ``config.json``: the merged weights, in bfloat16 when every weight is exactly a bfloat16
  number (a stage saved with ``model.save_dtype: bfloat16``; half the size, same values), else float32
  (``dtype="float32"``/``"bfloat16"`` forces one; bfloat16 rounding may change completions);
- the tokenizer with its chat template; ``generation_config.json`` set to greedy decoding with the model's cap;
- ``prouie_extract.json``: the prompt settings the stage was evaluated with (:mod:`prouie_lib.extraction.settings`),
  so that ``prouie predict/extract --model DIR`` prompt it as the stage;
- ``README.md``: the model card (:mod:`prouie_lib.export.model_card`).

Given a run folder, the stage is chosen by :func:`prouie_lib.extraction.stage_choice.choose_stage`. The folder is
written beside the target and renamed into place at the end (an interrupted export leaves no half checkpoint).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from prouie_lib.export.model_card import CardFacts, model_card
from prouie_lib.extraction.settings import SETTINGS_FILE, PromptSettings, settings_for, stage_folder
from prouie_lib.extraction.stage_choice import StageChoice, resolve_model

DTYPES = ("auto", "float32", "bfloat16")


@dataclass
class ExportResult:
    out: Path
    source: str  # the loadable spec exported (a stage folder when a run folder was given)
    choice: StageChoice | None
    dtype: str
    settings: PromptSettings


def lossless_dtype(model) -> str:
    """``bfloat16`` when every floating-point weight survives a round trip through bfloat16, else ``float32``."""
    import torch

    for tensor in model.state_dict().values():
        if tensor.is_floating_point() and not torch.equal(tensor.to(torch.bfloat16).to(tensor.dtype), tensor):
            return "float32"
    return "bfloat16"


def greedy_generation_config(model, tokenizer, max_new_tokens: int) -> None:
    """Greedy decoding with the model's cap as the checkpoint's default (sampling fields back to neutral)."""
    config = model.generation_config
    config.do_sample = False
    config.temperature, config.top_p, config.top_k = 1.0, 1.0, 50
    config.max_new_tokens = max_new_tokens
    if config.pad_token_id is None:
        config.pad_token_id = tokenizer.pad_token_id


def _check_target(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: a file, not a folder to export into")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"{out}: folder exists and is not empty; choose another --out or pass --force to replace it")


def export_checkpoint(model: str | Path, out: str | Path, *, dtype: str = "auto", force: bool = False) -> ExportResult:
    """Export ``model`` (a stage folder, a run folder, an exported folder or any backbone spec) to ``out``."""
    from prouie_lib.extraction.backends import load_model
    from prouie_lib.models import check_backbone, read_model_chain

    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    out = Path(out).expanduser()
    _check_target(out, force)
    spec, choice = resolve_model(model)
    check_backbone(spec, field="--model")
    settings = settings_for(spec)
    lm, tokenizer = load_model(spec, device="cpu")  # float32 on CPU: the merge the kit evaluates on CPU
    save_dtype = lossless_dtype(lm) if dtype == "auto" else dtype
    if save_dtype == "bfloat16":
        import torch

        lm.to(torch.bfloat16)
    greedy_generation_config(lm, tokenizer, settings.max_new_tokens)
    folder = stage_folder(spec)
    backbone = settings.extra.get("backbone") or read_model_chain(spec)["base"]
    settings.extra.update(exported_from=str(Path(spec).resolve()) if Path(spec).exists() else spec)
    tmp = out.with_name(out.name + ".export-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    lm.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    (tmp / SETTINGS_FILE).write_text(json.dumps(settings.to_json(), indent=2, ensure_ascii=False) + "\n")
    facts = CardFacts(out=out, source=str(model), settings=settings, choice=choice, backbone=str(backbone),
                      dtype=save_dtype, run_dir=folder.parent if folder else None,
                      stage=folder.name if folder else None)
    (tmp / "README.md").write_text(model_card(facts))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return ExportResult(out, spec, choice, save_dtype, settings)
