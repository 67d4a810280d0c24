"""Generation backends: prompt strings in, greedy completions out (input order).

- :class:`TransformersBackend` (default): the kit's own batched greedy generation
  (:func:`prouie_lib.evaluation.predict.generate`) with prefix reuse: prompts of one group (one schema) run
  their shared instruction and schema prefix once and reuse its KV cache.
- :class:`VLLMBackend`: vLLM's offline engine (greedy, its automatic prefix caching), when ``vllm`` is installed
  and the model is a standard checkpoint folder or hub id (``prouie export`` makes one from a stage). Written
  against vLLM's documented ``LLM``/``SamplingParams`` API; it has not been run in this repository (no GPU here).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Hashable, Sequence
from typing import Protocol

BACKENDS: tuple[str, ...] = ("transformers", "vllm")


class Backend(Protocol):
    name: str
    tokenizer: object

    def complete(self, prompts: Sequence[str], groups: Sequence[Hashable], *, batch_size: int,
                 max_new_tokens: int, progress: bool) -> list[str]:
        """Greedy completions of chat-templated prompts, in input order."""


def load_model(spec: str, *, device: str | None = None):
    """``(model, tokenizer)`` as :func:`prouie_lib.models.load_backbone` loads them."""
    from prouie_lib.models import load_backbone

    return load_backbone(spec, device=device)


class TransformersBackend:
    name = "transformers"

    def __init__(self, model, tokenizer) -> None:
        self.model, self.tokenizer = model, tokenizer

    @classmethod
    def load(cls, spec: str, *, device: str | None = None) -> TransformersBackend:
        return cls(*load_model(spec, device=device))

    def complete(self, prompts: Sequence[str], groups: Sequence[Hashable], *, batch_size: int,
                 max_new_tokens: int, progress: bool) -> list[str]:
        from prouie_lib.evaluation.predict import generate

        return generate(self.model, self.tokenizer, list(prompts), batch_size=batch_size,
                        max_new_tokens=max_new_tokens, progress=progress, desc="extract", reuse_prefix=True,
                        groups=list(groups))


class VLLMBackend:
    name = "vllm"

    def __init__(self, spec: str) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise ValueError("the vllm backend needs the vllm package (pip install vllm, on a GPU machine)")
        from vllm import LLM

        from prouie_lib.models import load_tokenizer

        self.tokenizer = load_tokenizer(spec)
        self.llm = LLM(model=str(spec), enable_prefix_caching=True)

    def complete(self, prompts: Sequence[str], groups: Sequence[Hashable], *, batch_size: int,
                 max_new_tokens: int, progress: bool) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
        outputs = self.llm.generate(list(prompts), params, use_tqdm=progress)
        return [out.outputs[0].text.strip() for out in outputs]


def load_backend(name: str, spec: str, *, device: str | None = None) -> Backend:
    """The backend ``name`` serving the model ``spec`` (a loadable spec: not a run folder)."""
    if name == "transformers":
        return TransformersBackend.load(spec, device=device)
    if name == "vllm":
        from prouie_lib.models import OFFLINE_SPECS, read_model_chain

        chain = read_model_chain(spec)  # a full-fine-tuning stage is a plain checkpoint folder: serve that
        if chain["adapters"] or str(chain["base"]) in OFFLINE_SPECS:
            raise ValueError(f"{spec}: vLLM needs a standard checkpoint folder or hub id; export it first "
                             f"(prouie export --model {spec} --out DIR) and pass --model DIR")
        return VLLMBackend(str(chain["base"]))
    raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
