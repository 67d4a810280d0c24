"""Prefix KV-cache reuse in evaluation generation gives the same greedy tokens as plain left-padded generation."""

from __future__ import annotations

import pytest

from prouie_lib.data import load_examples
from prouie_lib.evaluation.predict import generate, plain_batch, record_prompt
from prouie_lib.evaluation.prefix_cache import PrefixCaches, common_prefix_length, generate_batch
from prouie_lib.models import load_backbone


@pytest.fixture(scope="module")
def tiny():
    return load_backbone("tiny-random")


@pytest.fixture(scope="module")
def sharp(tiny):
    """A tiny random Llama with larger weights than the ``tiny-random`` backbone, whose greedy continuations
    depend on the context (the backbone's mostly repeat one token), so equal outputs mean something."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    _, tokenizer = tiny
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         tie_word_embeddings=True, initializer_range=0.2, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval(), tokenizer


def _left_padded(model, tokenizer, token_lists, max_new_tokens):
    import torch

    width = max(map(len, token_lists))
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(t)) + list(t) for t in token_lists])
    mask = torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in token_lists])
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=pad)
    return out[:, width:]


def test_common_prefix_length():
    assert common_prefix_length([]) == 0
    assert common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_length([[1, 2], [1, 2]]) == 2
    assert common_prefix_length([[5], [1]]) == 0


@pytest.mark.parametrize("which", ["tiny", "sharp"])
def test_prefix_reuse_matches_left_padding_on_token_ids(which, request):
    import torch

    model, tokenizer = request.getfixturevalue(which)
    gen = torch.Generator().manual_seed(1)
    prefix = torch.randint(10, 5000, (30,), generator=gen).tolist()
    # suffixes of different lengths (1 to 11 tokens), one row identical to another, one a prefix of another
    suffixes = [torch.randint(10, 5000, (n,), generator=gen).tolist() for n in (1, 4, 7, 11, 3)]
    suffixes.append(list(suffixes[2]))
    suffixes.append(suffixes[3][:6])
    token_lists = [prefix + s for s in suffixes]
    caches = PrefixCaches()
    with torch.inference_mode():
        reused = generate_batch(model, tokenizer, token_lists, max_new_tokens=10, caches=caches)
    plain = _left_padded(model, tokenizer, token_lists, 10)
    assert reused is not None and caches.prefills == 1
    assert torch.equal(reused, plain)
    if which == "sharp":
        assert len({tuple(row) for row in plain.tolist()}) >= 5  # the continuations differ between rows
    # the memoized prefix cache was not grown by generation; a second batch reuses it
    (keys, values), *_ = caches.get(model, prefix)
    assert keys.shape[0] == 1 and keys.shape[-2] == len(prefix) == values.shape[-2]
    with torch.inference_mode():
        again = generate_batch(model, tokenizer, token_lists[2:], max_new_tokens=10, caches=caches)
    assert caches.prefills == 1 and torch.equal(again, plain[2:, :again.shape[1]])


def test_prefix_reuse_generate_matches_plain_on_prompts(sharp):
    model, tokenizer = sharp
    records = load_examples("sample", "test")[::7][:7]
    prompts = [record_prompt(tokenizer, r, "streamlined") for r in records]
    ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    assert common_prefix_length(ids) >= 16 and len({len(t) for t in ids}) > 1
    tokenizer.padding_side = "right"
    caches = PrefixCaches()
    plain = generate(model, tokenizer, prompts, batch_size=3, max_new_tokens=8, progress=False)
    reused = generate(model, tokenizer, prompts, batch_size=3, max_new_tokens=8, progress=False,
                      reuse_prefix=True, prefix_caches=caches)
    assert reused == plain
    assert len(set(plain)) > 1  # not one degenerate answer for all
    assert caches.prefills >= 1  # the shared prefix was actually reused (three batches)
    assert tokenizer.padding_side == "right"


def test_prefix_reuse_falls_back_without_a_long_enough_shared_prefix(sharp):
    import torch

    model, tokenizer = sharp
    caches = PrefixCaches()
    token_lists = [[11, 12, 13, 14], [11, 12, 20]]
    with torch.inference_mode():
        assert generate_batch(model, tokenizer, token_lists, max_new_tokens=3, caches=caches) is None
        # a prompt that is entirely the shared prefix keeps one token as its suffix
        same = [[7] * 20, [7] * 20]
        out = generate_batch(model, tokenizer, same, max_new_tokens=3, caches=caches, min_prefix_tokens=8)
    assert caches.prefills == 1 and torch.equal(out, _left_padded(model, tokenizer, same, 3))
    prompts = ["Hello there, how are you?", "Completely different text"]
    tokenizer.padding_side = "left"
    with torch.inference_mode():
        expected = tokenizer.batch_decode(plain_batch(model, tokenizer, prompts, max_new_tokens=4),
                                          skip_special_tokens=True)
    got = generate(model, tokenizer, prompts, batch_size=2, max_new_tokens=4, progress=False, reuse_prefix=True)
    assert got == [t.strip() for t in expected]
