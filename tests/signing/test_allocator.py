import ctypes
import subprocess
import sys

import pytest

# Allocates and frees a 64 MB buffer, then prints how much of it stayed resident.
PROBE = """
import os, sys
from signing.allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
buf = bytearray(64 << 20)
buf[::4096] = b"x" * len(buf[::4096])  # touch every page
del buf
print((rss() - before) >> 20)
"""


def retained_mb(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout)


@pytest.mark.skipif(
    not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"), reason="glibc's allocator settings"
)
def test_freed_asset_sized_buffer_stays_in_the_heap_for_the_next_request():
    assert retained_mb("default") < 8  # glibc unmaps a 64 MB block on free
    assert retained_mb("tuned") >= 60  # kept, so the next sign reuses the pages
