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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_mmap_threshold_follows_the_environment(monkeypatch):
    from prouie_lib.resources import DEFAULT_MMAP_THRESHOLD, mmap_large_allocations

    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("PROUIE_MMAP_THRESHOLD", raising=False)
    assert mmap_large_allocations() == DEFAULT_MMAP_THRESHOLD
    monkeypatch.setenv("PROUIE_MMAP_THRESHOLD", "0")
    assert mmap_large_allocations() is None
    monkeypatch.setenv("PROUIE_MMAP_THRESHOLD", str(1 << 20))
    assert mmap_large_allocations() == 1 << 20
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")  # glibc's own setting wins
    assert mmap_large_allocations() is None
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.delenv("PROUIE_MMAP_THRESHOLD")
    assert mmap_large_allocations() == DEFAULT_MMAP_THRESHOLD
