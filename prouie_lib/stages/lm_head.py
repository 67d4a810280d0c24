"""Completion-only LM head for trl's SFT and GRPO losses on every device, CPU included.

trl 1.16 patches the model with ``add_fused_lm_head``: the loss forward runs the backbone, then projects through
the 49,152-word LM head in vocabulary chunks. On CUDA/XPU with Triton it projects only the positions whose
next-token label is not -100 (the completion); everywhere else it projects *every* position, prompt and padding
included, because fixed tile shapes avoid recompilation on devices such as Neuron. A CPU has no such concern, so
the kit asks trl's own code to take its compact path there too: the same kernel and the same math on fewer rows
(identical loss and gradients, tested in tests/test_lm_head.py; about 2x faster per SFT step on SmolLM2-135M, see
benchmarks/lm_head.py). trl has no option for this, so the switch replaces the one predicate trl consults
(``trl.trainer.utils._use_triton``, looked up at call time) and can be turned off again.
"""

from __future__ import annotations

_ORIGINAL = None


def use_compact_lm_head(enabled: bool = True) -> None:
    """Project only labelled positions through the LM head in trl's fused loss (``False`` restores trl's rule)."""
    global _ORIGINAL
    import trl.trainer.utils as trl_utils

    if _ORIGINAL is None:
        _ORIGINAL = trl_utils._use_triton
    original = _ORIGINAL
    if not enabled:
        trl_utils._use_triton = original
        return

    def compact_on_cpu_too(device) -> bool:
        return device.type == "cpu" or original(device)

    trl_utils._use_triton = compact_on_cpu_too


def compact_lm_head_enabled() -> bool:
    import torch
    import trl.trainer.utils as trl_utils

    return bool(trl_utils._use_triton(torch.device("cpu")))
