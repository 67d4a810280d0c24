"""Process memory: the peak resident set size of a stage, and handing freed memory back to the system.

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
import resource
import sys
from pathlib import Path

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


def release_memory() -> bool:
    """Collect garbage and return free heap pages to the system (glibc ``malloc_trim``); False if not glibc."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True
