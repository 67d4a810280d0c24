"""Backbones: the offline default converts, caches and answers; tiny-random runs; chains merge adapters."""

from __future__ import annotations

import torch

from prouie_lib.models import (
    cache_dir,
    chat_prompt,
    ensure_offline_smollm2,
    gguf_path,
    load_backbone,
    read_model_chain,
    write_model_chain,
)


def _greedy(model, tokenizer, question: str, max_new_tokens: int = 20) -> str:
    prompt = chat_prompt(tokenizer, [{"role": "user", "content": question}])
    batch = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, batch["input_ids"].shape[1]:], skip_special_tokens=True)


def test_gguf_file_is_found_in_the_wheel():
    path = gguf_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_offline_backbone_converts_caches_and_answers_paris():
    folder = ensure_offline_smollm2()
    assert folder.parent == cache_dir()
    assert (folder / "model.safetensors").exists() and (folder / "config.json").exists()
    model, tokenizer = load_backbone("smollm2-135m-offline")
    assert model.dtype == torch.float32 and tokenizer.pad_token is not None and tokenizer.chat_template
    answer = _greedy(model, tokenizer, "What is the capital of France? Answer in one word.")
    assert "Paris" in answer
    # reloading uses the cache (same folder, no re-conversion)
    assert ensure_offline_smollm2() == folder


def test_tiny_random_forward_and_generate():
    model, tokenizer = load_backbone("tiny-random")
    n_params = sum(p.numel() for p in model.parameters())
    assert 1_000_000 < n_params < 10_000_000
    batch = tokenizer(["hello world"], return_tensors="pt")
    logits = model(**batch).logits
    assert logits.shape == (1, batch["input_ids"].shape[1], len(tokenizer))
    out = model.generate(**batch, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 5
    # deterministic: a second load gives the same weights
    again, _ = load_backbone("tiny-random")
    assert torch.equal(next(model.parameters()), next(again.parameters()))


def test_model_chain_merges_a_lora_adapter(tmp_path):
    from peft import LoraConfig, get_peft_model

    base, tokenizer = load_backbone("tiny-random")
    peft_model = get_peft_model(base, LoraConfig(r=2, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    batch = tokenizer(["a chain test"], return_tensors="pt")
    expected = peft_model(**batch).logits
    write_model_chain(tmp_path / "stage", "tiny-random", [str(tmp_path / "adapter")])
    assert read_model_chain(tmp_path / "stage")["adapters"] == [str((tmp_path / "adapter").resolve())]
    merged, _ = load_backbone(tmp_path / "stage")
    assert torch.allclose(merged(**batch).logits, expected, atol=1e-4)
    plain, _ = load_backbone("tiny-random")
    assert not torch.allclose(plain(**batch).logits, expected, atol=1e-4)
