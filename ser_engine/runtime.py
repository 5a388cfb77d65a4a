"""Process-wide settings: TensorFlow's start-up chatter, and the C allocator for the speech
encoder's large buffers."""

import ctypes
import functools
import os
import sys

#: glibc's ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Buffers up to this size come from the heap, not from a fresh ``mmap`` of their own. The
#: speech encoder's buffers are megabytes a chunk (its attention scores alone 6 MB: 6 heads x
#: 500 x 500 floats, 48 MB in a batch of 8, above glibc's largest automatic threshold of 32 MB);
#: with glibc's own thresholds every batch mapped or trimmed them, faulted them in and gave them
#: back, and a quarter of the encoder's time was the kernel's (BENCHMARKS.md "The speech encoder").
MMAP_THRESHOLD_BYTES = 64 << 20
#: Free memory at the top of the heap handed back to the system only beyond this much, so the
#: next batch's buffers do not fault their pages in again. The cost: a process keeps up to this
#: much freed memory.
TRIM_THRESHOLD_BYTES = 128 << 20
#: The environment variables by which a user (or Dask's nanny) sets glibc's thresholds; when
#: either is set, their choice stands.
MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def quiet_tensorflow():
    """Keep TensorFlow's C++ start-up chatter (CPU flags, missing CUDA) off the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@functools.cache
def keep_large_buffers():
    """Let this process reuse its large freed buffers instead of unmapping and mapping them
    again (:data:`MMAP_THRESHOLD_BYTES`, :data:`TRIM_THRESHOLD_BYTES`). Once per process;
    glibc only (elsewhere, or when :data:`MALLOC_ENV` is set, nothing changes).

    Returns
    -------
    bool
        Whether the allocator's thresholds were set.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in MALLOC_ENV):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD,
                                                                                    TRIM_THRESHOLD_BYTES))
