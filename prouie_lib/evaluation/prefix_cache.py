"""Greedy generation that runs a batch's shared prompt prefix once and reuses its KV cache.

Prompts of one dataset share their chat template, instruction and label schema; only the sentence (and what
follows it) differs. :func:`generate_batch` finds the longest token prefix common to every prompt of a batch, runs
it once at batch size 1 (its cache is kept in a :class:`PrefixCaches` memo, so every batch of a dataset reuses
it), expands that cache to the batch and lets ``model.generate`` prefill only the suffixes.

Rows are laid out ``prefix + pads + suffix`` (the pads masked out), not left-padded: the cached prefix has to sit
at the same positions in every row. ``generate`` derives position ids from the attention mask (cumulative sum of
the mask, minus one), so each real token gets the position it has in the left-padded layout of the plain path
and attends to the same tokens; the completions are the same up to floating-point summation order (checked by
tests/test_prefix_cache.py on the tiny model and by benchmarks/prefix_reuse.py on SmolLM2).

The split is made on token ids of the full prompts, each tokenized as a whole, so ``prefix + suffix`` is exactly
the prompt's own tokenization whatever happens at the boundary. Models whose cache is not made of plain
full-attention layers (sliding-window, linear-attention or indexed layers) and batches whose shared prefix is
shorter than ``min_prefix_tokens`` return ``None``: the caller falls back to plain generation.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MIN_PREFIX_TOKENS = 16


def common_prefix_length(token_lists: Sequence[Sequence[int]]) -> int:
    """Length of the longest prefix common to every token list (0 for no lists)."""
    if not token_lists:
        return 0
    first = token_lists[0]
    n = min(len(t) for t in token_lists)
    for i in range(n):
        token = first[i]
        if any(t[i] != token for t in token_lists):
            return i
    return n


def cache_argument(model) -> str:
    """The keyword ``forward``/``generate`` take the KV cache under: ``cache`` (transformers ≥ 5.2x) or the older
    ``past_key_values``."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _output_cache(outputs):
    cache = getattr(outputs, "cache", None)
    return cache if cache is not None else outputs.past_key_values


class PrefixCaches:
    """KV caches (batch size 1) of prompt prefixes, keyed by their token ids; keeps the ``size`` latest."""

    def __init__(self, size: int = 4):
        self.size = size
        self._caches: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()
        self.prefills = 0  # prefixes actually run (memo misses)

    def get(self, model, prefix: Sequence[int]) -> list[tuple[Any, Any]] | None:
        """Per-layer ``(keys, values)`` of ``prefix`` (shape ``[1, heads, len, dim]``), or ``None`` when the model's
        cache has layers other than plain full attention."""
        key = tuple(prefix)
        if key in self._caches:
            self._caches.move_to_end(key)
            return self._caches[key]
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        cache = DynamicCache(config=model.config)
        if any(type(layer) is not DynamicLayer for layer in cache.layers):
            return None
        ids = torch.tensor([list(prefix)], dtype=torch.long, device=model.device)
        outputs = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True,
                        **{cache_argument(model): cache})
        cache = _output_cache(outputs)
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        if any(k is None or k.shape[-2] != len(prefix) for k, _ in layers):
            return None
        self.prefills += 1
        self._caches[key] = layers
        while len(self._caches) > self.size:
            self._caches.popitem(last=False)
        return layers


def generate_batch(model, tokenizer, token_lists: Sequence[Sequence[int]], *, max_new_tokens: int,
                   caches: PrefixCaches, min_prefix_tokens: int = MIN_PREFIX_TOKENS,
                   generate_kwargs: dict[str, Any] | None = None):
    """Greedy new token ids (a ``[batch, ≤ max_new_tokens]`` tensor, rows that ended early padded with the pad id,
    as ``model.generate`` returns them) for one batch of tokenized prompts, reusing the KV cache of their shared
    prefix; ``None`` when there is nothing worth reusing (the caller generates the plain way)."""
    import torch
    from transformers import DynamicCache

    # At least one suffix token per row: the first forward needs an input to produce the next-token logits.
    prefix_len = min(common_prefix_length(token_lists), min(len(t) for t in token_lists) - 1)
    if prefix_len < max(1, min_prefix_tokens):
        return None
    prefix = token_lists[0][:prefix_len]
    layers = caches.get(model, prefix)
    if layers is None:
        return None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    suffixes = [list(t[prefix_len:]) for t in token_lists]
    width = max(len(s) for s in suffixes)
    rows, masks = [], []
    for suffix in suffixes:
        gap = width - len(suffix)
        rows.append(list(prefix) + [pad_id] * gap + suffix)
        masks.append([1] * prefix_len + [0] * gap + [1] * len(suffix))
    input_ids = torch.tensor(rows, dtype=torch.long, device=model.device)
    attention_mask = torch.tensor(masks, dtype=torch.long, device=model.device)
    n = len(rows)
    # expand() makes views; the cache grows by concatenation, so the memoized prefix tensors are never written.
    cache = DynamicCache(ddp_cache_data=[(k.expand(n, -1, -1, -1), v.expand(n, -1, -1, -1)) for k, v in layers],
                         config=model.config)
    out = model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
                         do_sample=False, pad_token_id=tokenizer.pad_token_id, **(generate_kwargs or {}),
                         **{cache_argument(model): cache})
    return out[:, input_ids.shape[1]:]
