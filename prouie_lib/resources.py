"""Process memory: the peak resident set size of a stage, and handing freed memory back to the system.

glibc serves a freed-and-reallocated tensor of up to 32 MB from its heap, which fragments over training steps
and is rarely returned: measured on the demo's CM stage (full fine-tuning of SmolLM2-135M on 2 CPU cores), the
peak RSS was 3.15 GiB with glibc's default, 2.83 GiB when allocations of 8 MiB and more are mmapped (same time,
same scores) and 1.90 GiB at 256 KiB (same scores, but 35% slower). :func:`mmap_large_allocations` sets that
threshold at the start of every stage: ``PROUIE_MMAP_THRESHOLD`` bytes (default 8 MiB; 0 keeps glibc's
behaviour; glibc's own ``MALLOC_MMAP_THRESHOLD_``, when set, wins).

A pipeline runs its stages one after another in one process. Between stages :func:`release_memory` collects the
finished stage's objects and asks glibc to return free heap pages (``malloc_trim``), and :func:`reset_peak_rss`
restarts the kernel's high-water mark, so :func:`peak_rss_mb` after a stage is *that stage's* peak (written to
its ``timing.json`` as ``peak_rss_mb``). Where the kernel or the C library lacks these (not Linux, not glibc),
the functions degrade: the peak is then the process's peak so far, and nothing is trimmed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import resource
import sys
from pathlib import Path

DEFAULT_MMAP_THRESHOLD = 8 << 20  # bytes
_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_rss_mb() -> float:
    """Peak resident set size of this process since start or the last :func:`reset_peak_rss`, in MiB."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def reset_peak_rss() -> bool:
    """Restart the peak RSS count at the current RSS (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _glibc_function(name: str):
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c")), name)
    except (OSError, AttributeError, TypeError):
        return None


def release_memory() -> bool:
    """Collect garbage and return free heap pages to the system (glibc ``malloc_trim``); False if not glibc."""
    gc.collect()
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True


def mmap_large_allocations(threshold: int | None = None) -> int | None:
    """Serve allocations of ``threshold`` bytes or more with mmap, so freed tensors go back to the system.

    ``None``: ``PROUIE_MMAP_THRESHOLD`` or :data:`DEFAULT_MMAP_THRESHOLD`. Returns the threshold set, or None when
    nothing was set (0, glibc's ``MALLOC_MMAP_THRESHOLD_`` in the environment, or not glibc)."""
    if threshold is None:
        threshold = int(os.environ.get("PROUIE_MMAP_THRESHOLD", DEFAULT_MMAP_THRESHOLD))
    mallopt = _glibc_function("mallopt")
    if threshold <= 0 or "MALLOC_MMAP_THRESHOLD_" in os.environ or mallopt is None:
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return threshold if mallopt(_M_MMAP_THRESHOLD, threshold) == 1 else None
