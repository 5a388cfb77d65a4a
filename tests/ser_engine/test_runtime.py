"""The process-wide allocator setting the speech encoder relies on (ser_engine.runtime)."""

import subprocess
import sys

import pytest

from ser_engine import runtime

# A 48 MB buffer (the encoder's attention scores in a batch of 8) made and freed; prints, from
# glibc's own accounting (mallinfo2), the megabytes in mappings of their own while it lives, and
# the freed megabytes the heap keeps for the next one. Page-fault counts were the first measure
# tried, but they depend on the kernel (transparent huge pages make a fresh mapping cost a few
# faults instead of thousands), so the test reads the allocator's decision itself.
BUFFERS = r"""
import ctypes, sys
import numpy as np
sys.path.insert(0, {root!r})
if {tune}:
    from ser_engine.runtime import keep_large_buffers
    assert keep_large_buffers()
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
scores = np.ones(12 << 20, np.float32)
mapped = mallinfo2().hblkhd
del scores
print(mapped >> 20, mallinfo2().fordblks >> 20)
"""


def _buffers(tune):
    import os
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    environ = {k: v for k, v in os.environ.items() if k not in runtime.MALLOC_ENV}
    out = subprocess.run([sys.executable, "-c", BUFFERS.format(root=root, tune=tune)], capture_output=True, text=True,
                         env=environ, timeout=120, check=True)
    mapped, kept = out.stdout.split()[-2:]
    return int(mapped), int(kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_large_buffers_come_from_the_heap_and_stay_there_when_freed():
    # as glibc sets itself: a mapping of its own, handed back on free (to be faulted in again next batch)
    assert _buffers(False) == (48, 0)
    mapped, kept = _buffers(True)
    assert mapped == 0 and kept >= 48


def test_a_users_own_allocator_setting_stands(monkeypatch):
    runtime.keep_large_buffers.cache_clear()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as Dask's nanny sets it in `dask worker`
    try:
        assert runtime.keep_large_buffers() is False
    finally:
        runtime.keep_large_buffers.cache_clear()


def test_the_speech_encoder_sets_the_allocator_up(monkeypatch):
    calls = []
    monkeypatch.setattr("ser_engine.encoder.keep_large_buffers", lambda: calls.append(1))
    from ser_engine.encoder import SpeechEncoder

    SpeechEncoder()
    assert calls == [1]
