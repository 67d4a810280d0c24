"""The completion-only LM head gives trl's loss and gradients on CPU, and can be switched off again."""

from __future__ import annotations

import pytest
import torch

from prouie_lib.models import load_backbone
from prouie_lib.stages.lm_head import compact_lm_head_enabled, use_compact_lm_head


@pytest.fixture(autouse=True)
def restore_trl_rule():
    yield
    use_compact_lm_head(False)


def _loss_and_grads(model, batch):
    model.zero_grad()
    out = model(**batch, fused_lm_head=True)
    loss = -out.log_probs.sum() / out.label_mask.sum()
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("lora", [False, True])
def test_compact_head_matches_trl_default_loss_and_gradients(lora):
    from trl.trainer.utils import add_fused_lm_head

    torch.manual_seed(0)
    model, _ = load_backbone("tiny-random")
    add_fused_lm_head(model)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM"))
    ids = torch.randint(0, model.config.vocab_size, (3, 40))
    labels = ids.clone()
    labels[:, :25] = -100  # prompt
    labels[1, 35:] = -100  # padding at the end of a shorter row
    attention = torch.ones_like(ids)
    attention[1, 35:] = 0
    batch = {"input_ids": ids, "attention_mask": attention, "labels": labels}
    use_compact_lm_head(False)
    assert not compact_lm_head_enabled()
    full_loss, full_grads = _loss_and_grads(model, batch)
    use_compact_lm_head(True)
    assert compact_lm_head_enabled()
    compact_loss, compact_grads = _loss_and_grads(model, batch)
    assert compact_loss == pytest.approx(full_loss, abs=1e-5)
    assert full_grads.keys() == compact_grads.keys() and full_grads
    for name, grad in full_grads.items():
        assert torch.allclose(grad, compact_grads[name], atol=1e-6), name
