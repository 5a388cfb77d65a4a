"""The process-wide allocator setting the speech encoder relies on (ser_engine.runtime)."""

import subprocess
import sys

import pytest

from ser_engine import runtime

# Buffers of 48, 12 and 24 MB made and freed in turn 50 times, as the encoder's are every batch;
# prints the minor page faults that cost.
FAULTS = r"""
import resource, sys
import numpy as np
sys.path.insert(0, {root!r})
if {tune}:
    from ser_engine.runtime import keep_large_buffers
    assert keep_large_buffers()
np.ones(12 << 20, np.float32)  # the first one faults its pages in whatever the setting
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    a = np.ones(12 << 20, np.float32)
    b = np.ones(3 << 20, np.float32)
    del a
    c = np.ones(6 << 20, np.float32)
    del b, c
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(tune):
    import os
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    environ = {k: v for k, v in os.environ.items() if k not in runtime.MALLOC_ENV}
    out = subprocess.run([sys.executable, "-c", FAULTS.format(root=root, tune=tune)], capture_output=True, text=True,
                         env=environ, timeout=120, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_large_buffers_are_reused_instead_of_faulted_in_again():
    # measured here: 28,869 faults as glibc sets itself, 517 kept
    untuned, tuned = _faults(False), _faults(True)
    assert untuned > 10_000
    assert tuned < untuned / 10


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
