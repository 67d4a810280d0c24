"""Checkpoints of a trainer loop: which one a stage resumes from (complete ones only), and its step."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

CHECKPOINT_PREFIX = "checkpoint-"  # transformers' checkpoint folder names
TRAINER_STATE = "trainer_state.json"  # written last into a checkpoint folder by transformers
_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
                 "pytorch_model.bin", "pytorch_model.bin.index.json")


def checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint folder cannot be resumed from (None: complete).

    transformers writes the weights, optimizer, scheduler and RNG state first and ``trainer_state.json`` last, so a
    folder cut by a kill during the write lacks it (or holds a torn copy).
    """
    folder = Path(folder)
    state_file = folder / TRAINER_STATE
    if not state_file.is_file():
        return f"no {TRAINER_STATE} (the save was interrupted)"
    try:
        state = json.loads(state_file.read_text())
    except (ValueError, UnicodeDecodeError):
        return f"{TRAINER_STATE} is not valid JSON (the save was interrupted)"
    step = folder.name[len(CHECKPOINT_PREFIX):]
    if not isinstance(state, dict) or str(state.get("global_step")) != step:
        return f"{TRAINER_STATE} does not describe step {step}"
    if not any((folder / name).is_file() and (folder / name).stat().st_size > 0 for name in _WEIGHT_FILES):
        return "no model weights"
    return None


def last_checkpoint(output_dir: Path, *, warn: bool = True) -> str | None:
    """The newest *complete* checkpoint in ``output_dir``; incomplete newer ones are removed with a warning."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    folders = [p for p in output_dir.iterdir() if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX)
               and p.name[len(CHECKPOINT_PREFIX):].isdigit()]
    for folder in sorted(folders, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]), reverse=True):
        problem = checkpoint_problem(folder)
        if problem is None:
            return str(folder)
        if warn:
            print(f"prouie: warning: {folder} is incomplete ({problem}); removed, resuming from the previous "
                  "complete checkpoint", file=sys.stderr, flush=True)
            shutil.rmtree(folder, ignore_errors=True)
    return None


def has_checkpoint(stage_dir: Path) -> bool:
    """Whether any ``checkpoint-*`` folder is left under a ``checkpoints/`` folder of ``stage_dir`` (any phase)."""
    from prouie_lib.rundir import CHECKPOINTS

    return any(p.name.startswith(CHECKPOINT_PREFIX) for folder in Path(stage_dir).rglob(CHECKPOINTS)
               if folder.is_dir() for p in folder.iterdir())


def announce_resume(stage: str, checkpoint: str | None) -> None:
    """Say on stderr (the main process only) which checkpoint a resumed stage continues from."""
    from prouie_lib.distributed import is_main

    if is_main():
        print(f"prouie: {stage}: resuming from {checkpoint or 'the start (no complete checkpoint)'}",
              file=sys.stderr, flush=True)


def checkpoint_step(checkpoint: str | Path | None) -> int:
    return int(Path(checkpoint).name[len(CHECKPOINT_PREFIX):]) if checkpoint else 0


class _TiedLmHeadFilter(logging.Filter):
    """Drops transformers' resume warning about ``lm_head.weight`` when the model ties it to the embeddings.

    A tied model saves the shared matrix once (safetensors de-duplicates it under ``embed_tokens``), so the key is
    "missing" from every checkpoint; loading the embeddings fills the tied head too (tests/test_interrupts.py).
    """

    MESSAGE = "There were missing keys in the checkpoint model loaded: ['lm_head.weight']."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


def ties_lm_head(model) -> bool:
    """Whether the model's LM head is the input embedding matrix (one tensor)."""
    try:
        head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        return False
    return head is not None and embed is not None and head.weight is embed.weight


@contextlib.contextmanager
def quiet_tied_lm_head(model) -> Iterator[None]:
    """Silence exactly the harmless ``lm_head.weight`` resume warning, and only for a model with a tied head."""
    if not ties_lm_head(model):
        yield
        return
    logger, filt = logging.getLogger("transformers.trainer"), _TiedLmHeadFilter()
    logger.addFilter(filt)
    try:
        yield
    finally:
        logger.removeFilter(filt)
