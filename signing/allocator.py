"""Keep freed asset-sized buffers in the heap instead of handing them back to the kernel.

Signing or verifying a 50 MB video makes c2pa-rs and the Python streams around it
allocate a few buffers the size of the asset. glibc serves any allocation above its
mmap threshold (which its own dynamic rule never lifts past 32 MB) with fresh pages
and unmaps them on free, so every request faults in and zeroes ~150 MB again: on a
50 MB MP4 that was half the signing time and a third of verifying
(`python bench/sign_verify.py --default-allocator` against the default run).

Raising the mmap and trim thresholds lets the next request reuse those pages, and one
arena makes worker threads share them (glibc's per-thread arenas can hold at most
64 MB, so a thread's 50 MB buffer would be mmap'd regardless). The price is that the
process keeps its high-water heap (up to `trim_threshold` of free memory) instead of
shrinking after each large request — the right trade for a long-running service.
Allocations above `mmap_threshold` still come from and go back to the kernel.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt(3) parameters, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def keep_freed_memory(mmap_threshold: int = 256 << 20, trim_threshold: int = 512 << 20) -> bool:
    """Apply the settings to this process; False where the C library is not glibc."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version"):  # musl, macOS: their allocators differ
        return False
    settings = {
        M_MMAP_THRESHOLD: mmap_threshold,
        M_TRIM_THRESHOLD: trim_threshold,
        M_ARENA_MAX: 1,
    }
    applied = all(libc.mallopt(param, value) == 1 for param, value in settings.items())
    if not applied:
        log.warning("glibc refused the allocator settings; large buffers stay mmap'd")
    return applied
