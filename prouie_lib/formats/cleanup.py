"""Trimming model text before parsing: surrounding whitespace, end-of-sequence markers, markdown code fences."""

from __future__ import annotations

import re

# End-of-sequence / chat-turn markers a decoder may leave in its text (SmolLM2, Llama, Qwen, T5 styles).
_EOS_TAIL = re.compile(r"(?:\s*(?:<\|[A-Za-z0-9_]+\|>|</s>|<eos>|<pad>|<end_of_turn>))+\s*$")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?[ \t]*```$", re.DOTALL)
_OPEN_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?")


def strip_eos(text: str) -> str:
    """``text`` without surrounding whitespace and trailing end-of-sequence markers."""
    if "<" not in text:  # every marker starts with "<": skip the regex scan (a hot path in reward scoring)
        return text.strip()
    return _EOS_TAIL.sub("", text).strip()


def strip_fence(text: str) -> str:
    """Remove a markdown code fence (```json ... ```) around ``text``; an unclosed opening fence too."""
    match = _FENCE.match(text)
    if match:
        return match.group(1).strip()
    return _OPEN_FENCE.sub("", text, count=1).strip() if text.startswith("```") else text
