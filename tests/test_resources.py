"""Per-stage peak memory: the high-water mark rises with an allocation and restarts on reset."""

from __future__ import annotations

import sys

import pytest

from prouie_lib.resources import peak_rss_mb, release_memory, reset_peak_rss


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="clear_refs is Linux only")
def test_peak_rises_with_an_allocation_and_restarts_after_reset():
    release_memory()
    assert reset_peak_rss()
    before = peak_rss_mb()
    block = bytearray(300 * 1024 * 1024)  # zero-filled pages are touched by the copy below
    block[::4096] = b"x" * len(block[::4096])
    assert peak_rss_mb() > before + 250
    del block
    release_memory()
    assert reset_peak_rss()
    assert peak_rss_mb() < before + 100
