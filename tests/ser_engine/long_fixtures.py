"""Synthetic long recordings for the long-recording tests: RAVDESS clips (trimmed to their
speech) joined by pauses of low noise, with the true speech boundaries and labels."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from ser_engine.audio import load_audio
from ser_engine.bundle import load_bundle
from ser_engine.paths import shipped_model_dir
from ser_engine.predictor import Predictor
from ser_engine.vad import speech_mask
from tests.conftest import SPEECH_16K

#: Clips the shipped model labels right on their own (file level, confidence >= 0.95).
CLEAR_CLIPS = [
    ("Actor_02/03-01-05-02-01-01-02.flac", "angry"),
    ("Actor_02/03-01-02-02-01-01-02.flac", "calm"),
    ("Actor_02/03-01-03-02-01-01-02.flac", "happy"),
    ("Actor_02/03-01-08-02-01-01-02.flac", "surprised"),
]
SR = 16000


@dataclasses.dataclass
class LongRecording:
    path: object
    speech: list  # [(start, end, label)] in seconds
    duration: float


def build_long_recording(dest, *, clips=CLEAR_CLIPS, pause=2.0, lead=1.5, noise_db=-65.0, seed=0, predictor=None):
    """Write ``dest`` (16-bit WAV) and return its truth. Each clip is cut to its speech
    (the engine's speech detector) so the truth boundaries are the clip boundaries."""
    rng = np.random.default_rng(seed)
    amp = 10 ** (noise_db / 20)
    pieces = [amp * rng.standard_normal(int(lead * SR)).astype(np.float32)]
    speech, t = [], lead
    for rel, label in clips:
        y = load_audio(SPEECH_16K / rel)
        idx = np.flatnonzero(speech_mask(y))
        y = y[idx[0] * 160:(idx[-1] + 1) * 160]
        pieces.append(y)
        speech.append((t, t + len(y) / SR, label))
        t += len(y) / SR
        pieces.append(amp * rng.standard_normal(int(pause * SR)).astype(np.float32))
        t += pause
    y = np.concatenate(pieces)
    sf.write(dest, y, SR, subtype="PCM_16")
    return LongRecording(dest, speech, len(y) / SR)


@pytest.fixture(scope="module")
def shipped_predictor():
    return Predictor(load_bundle(shipped_model_dir()))


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory, shipped_predictor):
    return build_long_recording(tmp_path_factory.mktemp("long") / "session.wav", predictor=shipped_predictor)
