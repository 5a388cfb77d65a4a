"""The bad-input catalogue: every kind of messy file a clinician's folder may hold, made on the
spot by the tests (NumPy + soundfile, raw bytes for the broken ones); nothing binary is committed.

Each :class:`Case` writes its file (or folder) under a given folder and says what the engine must
do with it: refuse it with a one-line reason containing ``reason``, or label it (``reason`` None):
with an emotion, or "no speech" where the analysis has that answer (``speech`` False).
The same cases go through ``load_audio``, ``ser predict`` (a real process) and the window's queue.
"""

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str          # what the issue calls it
    name: str          # file name (unicode and spaces are a case of their own)
    make: object       # make(path) writes the file
    reason: str = None  # substring of the one-line refusal; None: it must be labelled
    speech: bool = True  # False: a recording without speech (the timeline's answer is "no speech")

    @property
    def refused(self):
        return self.reason is not None

    def build(self, folder):
        path = Path(folder) / self.name
        self.make(path)
        return path


def voice_like(seconds=2.0, sr=SR, *, amplitude=0.3, seed=0):
    """A harmonic tone in syllables (3 a second, with quiet gaps between them) over a little
    noise: speech to both speech detectors, cheap to make, deterministic. The gaps matter: the
    long-recording detector calls a steady sound without dips (a hum) "no speech"."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.sqrt(np.clip(np.sin(2 * np.pi * 3 * t), 0.0, None))
    y = amplitude * y / np.abs(y).max() * env + 0.003 * rng.standard_normal(len(t))
    return y.astype(np.float64)


def _write(y, sr=SR, subtype=None, fmt=None):
    def make(path):
        sf.write(path, y, sr, subtype=subtype, format=fmt)
    return make


def _bytes(data):
    def make(path):
        path.write_bytes(data)
    return make


def _header_only(path):
    sf.write(path, np.zeros(0), SR, subtype="PCM_16")


def _truncated_header(path):
    sf.write(path, voice_like(1.0), SR, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:30])  # cut inside the 44-byte header


def _truncated_data(path):
    # The header promises 2 s; the data stops after ~1 s (a recorder that lost power).
    sf.write(path, voice_like(2.0), SR, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:44 + SR * 2])


def _with(value, at=100, subtype="FLOAT"):
    def make(path):
        y = voice_like(1.0)
        y[at] = value
        sf.write(path, y, SR, subtype=subtype)
    return make


def _png(path):
    # A real (tiny) PNG signature and IHDR chunk, then zeros: what an image looks like to a reader.
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
                     + bytes(200))


def _clipped(path):
    y = np.clip(voice_like(2.0, amplitude=1.0) * 8.0, -1.0, 1.0)  # hard full-scale clipping
    sf.write(path, y, SR, subtype="PCM_16")


def _noise(path):
    sf.write(path, 0.3 * np.random.default_rng(7).standard_normal(3 * SR).clip(-3, 3) / 3, SR, subtype="PCM_16")


def _six_channels(path):
    y = voice_like(2.0, 44100)
    sf.write(path, np.stack([y * (0.5 + 0.1 * c) for c in range(6)], axis=1), 44100, subtype="PCM_16")


def _mkdir(path):
    path.mkdir()


def write_long_flac(path, hours=2.0, *, sr=SR, block_s=60):
    """A long 16 kHz int16 FLAC written block by block (bounded memory): silence with one
    second of voice-like sound at the start of every minute (compresses to a few MB)."""
    voice = (voice_like(1.0, sr) * 32767).astype(np.int16)
    block = np.zeros(block_s * sr, np.int16)
    block[:len(voice)] = voice
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16", format="FLAC") as f:
        for _ in range(int(round(hours * 3600 / block_s))):
            f.write(block)
    return path


#: Files refused with a reason, and files labelled; the order is the order of a mixed run.
CASES = (
    Case("zero-length file", "empty.wav", _bytes(b""), "empty file (0 bytes)"),
    Case("header with no samples", "header only.wav", _header_only, "holds no audio samples"),
    Case("truncated WAV (header cut)", "truncated-header.wav", _truncated_header, "not a readable audio file"),
    Case("truncated WAV (data cut)", "truncated-data.wav", _truncated_data),
    Case("text file named .wav", "notes.wav", _bytes(b"Patient 12, session 3: remember to bring the forms.\n"),
         "not a readable audio file"),
    Case("PNG named .flac", "picture.flac", _png, "not a readable audio file"),
    Case("8-bit WAV", "pcm_u8.wav", _write(voice_like(), subtype="PCM_U8")),
    Case("24-bit WAV", "pcm_24.wav", _write(voice_like(), subtype="PCM_24")),
    Case("32-bit integer WAV", "pcm_32.wav", _write(voice_like(), subtype="PCM_32")),
    Case("32-bit float WAV", "float32.wav", _write(voice_like(), subtype="FLOAT")),
    Case("64-bit float WAV", "float64.wav", _write(voice_like(), subtype="DOUBLE")),
    Case("float samples with NaN", "nan.wav", _with(np.nan), "non-finite samples"),
    Case("float samples with +Inf", "plus-inf.wav", _with(np.inf, subtype="DOUBLE"), "non-finite samples"),
    Case("float samples with -Inf", "minus-inf.wav", _with(-np.inf, at=15000), "non-finite samples"),
    Case("full-scale clipping", "clipped.wav", _clipped),
    Case("pure silence", "silence.wav", _write(np.zeros(3 * SR), subtype="PCM_16"), speech=False),
    Case("pure noise", "noise.wav", _noise, speech=False),
    Case("0.05 s clip", "blip.wav", _write(voice_like(0.05)), "too short"),
    Case("8 kHz", "rate-8k.wav", _write(voice_like(2.0, 8000), 8000)),
    Case("11.025 kHz", "rate-11k.wav", _write(voice_like(2.0, 11025), 11025)),
    Case("192 kHz", "rate-192k.wav", _write(voice_like(2.0, 192000), 192000, subtype="PCM_24")),
    Case("6 channels", "six channels.wav", _six_channels),
    Case("unicode and spaces in the path", "séance 2 – Zoë 録音.flac", _write(voice_like(), fmt="FLAC")),
    Case("directory named x.wav", "x.wav", _mkdir, "is a folder"),
)

#: The cases that are files (the one directory named like a file is left out of per-file checks).
FILE_CASES = tuple(c for c in CASES if c.kind != "directory named x.wav")

#: Kinds covered elsewhere than in CASES: the 2-hour file (its own test, being slow) and a
#: read-only folder for outputs (an export, not an input file).
OTHER_KINDS = ("2-hour file", "read-only folder for outputs")


def build_all(folder, cases=CASES):
    """Write every case under ``folder``; returns ``{case.name: path}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {c.name: c.build(folder) for c in cases}
