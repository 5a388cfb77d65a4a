"""Reading long recordings block by block: 16 kHz mono blocks, frame energies, exact features
of chosen regions, a decimated overview for display and random-access slices.

A 60-minute file is never held whole: :func:`iter_blocks` decodes and resamples
``block_seconds`` at a time (soundfile + a streaming soxr resampler, as
:func:`~ser_engine.audio.load_audio` does). :class:`FrameScan` gives every frame's energy
(for voice activity) and a sparse log-mel (for display) from those blocks;
:func:`iter_ranges` then reads just the speech regions, and :func:`region_features` computes
their feature frames exactly as :func:`~ser_engine.features.compute_features` does over the
whole signal (each region with a few frames of context on both sides, so the spectra and
the MFCC deltas at its edges see the true neighbours).
"""

import dataclasses
from pathlib import Path

import numpy as np

from .audio import MIN_DURATION, SAMPLE_RATE, check_audio_path, decoded_blocks, sndfile_reason
from .errors import AudioLoadError
from .features import compute_features, scipy_fft

#: Frames of context computed on each side of a block: the delta regression reaches
#: 4 frames, and a frame's 40 ms pitch window reaches 2 hops beyond its centre.
_CONTEXT = 8
#: Samples over all channels decoded at a time, at most (4 MiB of float32).
_MAX_BLOCK_SAMPLES = 1 << 20
#: Samples of 16 kHz audio per overview bucket (16 ms): 225,000 buckets for an hour.
OVERVIEW_BUCKET = 256


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    """What a file is, before decoding it: native rate, channels and duration in seconds."""

    path: str
    samplerate: int
    channels: int
    frames: int

    @property
    def duration(self):
        return self.frames / self.samplerate


def audio_info(path):
    """The :class:`AudioInfo` of ``path``; :class:`AudioLoadError` names the file and the reason."""
    import soundfile as sf

    path = Path(path)
    check_audio_path(path)
    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise AudioLoadError(path, f"not a readable audio file ({sndfile_reason(exc, path)})") from None
    if info.samplerate <= 0:
        raise AudioLoadError(path, f"invalid sample rate {info.samplerate}")
    return AudioInfo(str(path), int(info.samplerate), int(info.channels), int(info.frames))


def iter_blocks(path, *, sr=SAMPLE_RATE, block_seconds=60.0, min_duration=MIN_DURATION):
    """Yield the recording as consecutive mono float32 blocks at ``sr`` Hz.

    Every block but the last has ``round(block_seconds * sr)`` samples; concatenated they
    equal :func:`~ser_engine.audio.load_audio` of the same file, and the same files are
    refused for the same reasons.

    Raises
    ------
    AudioLoadError
        Missing, unreadable or undecodable file, non-finite or absurd samples, no samples or
        too short (the length checks happen before the first block, from the header).
    """
    import soundfile as sf

    path = Path(path)
    info = audio_info(path)
    if info.frames == 0:
        raise AudioLoadError(path, "holds no audio samples")
    if 0 < info.duration < min_duration:
        raise AudioLoadError(path, f"too short ({info.duration:.3f} s; at least {min_duration:.2f} s needed)")
    size = int(round(block_seconds * sr))
    # a header may claim hundreds of channels: keep one block's memory bounded anyway
    native_block = max(min(int(round(block_seconds * info.samplerate)), _MAX_BLOCK_SAMPLES // max(info.channels, 1)),
                       1 << 12)
    pending = []
    n_pending = 0
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:
        raise AudioLoadError(path, f"audio data could not be decoded ({_first_line(exc)})") from None
    with f:
        for _, out in decoded_blocks(f, path, sr=sr, block_frames=native_block):
            if len(out):
                pending.append(out)
                n_pending += len(out)
            while n_pending >= size:
                joined = np.concatenate(pending)
                yield joined[:size]
                rest = joined[size:]
                pending, n_pending = ([rest] if len(rest) else []), len(rest)
    if n_pending:
        yield np.concatenate(pending)


class FrameScan:
    """The log-energy of every feature frame and a log-mel column every ``mel_step`` frames,
    from blocks of samples: the cheap first look at a long recording (voice activity and
    the display spectrogram), without the full features.

    Frame ``t`` is the ``n_fft`` samples centred on sample ``t * hop_length``, zero-padded
    beyond the signal, windowed as in :mod:`ser_engine.features`; its energy is the sum of
    its one-sided power spectrum, computed in the time domain (Parseval: the full spectrum's
    sum is ``n_fft`` times the windowed frame's sum of squares; the one-sided sum adds the DC
    and Nyquist bins once more and halves), equal to the features' ``log_energy`` column.
    """

    def __init__(self, *, config, mel_bank=None, mel_step=10):
        self.config = config
        self.hop, self.n_fft = config.hop_length, config.n_fft
        half = self.n_fft // 2
        w = np.zeros(self.n_fft, np.float32)
        a = (self.n_fft - config.win_length) // 2
        w[a:a + config.win_length] = np.hanning(config.win_length + 1)[:-1]
        self.window = w
        # the window, its square and its alternating-sign version, zero-padded to J hops and
        # cut into J pieces of one hop each (see _frame_power)
        self._J = -(-self.n_fft // self.hop)
        padded = np.zeros(self._J * self.hop, np.float64)
        padded[:self.n_fft] = w
        alt = padded * np.where(np.arange(len(padded)) % 2, -1.0, 1.0)
        self._coef_sq = (padded ** 2).reshape(self._J, self.hop).T
        self._coef_lin = np.concatenate([padded.reshape(self._J, self.hop).T, alt.reshape(self._J, self.hop).T], axis=1)
        self.mel_bank = mel_bank
        self.mel_step = mel_step
        self._buf = np.zeros(half, np.float32)  # the leading zero padding (``center=True``)
        self._buf0 = -half
        self.next_frame = 0
        self._energy, self._mel = [], []
        self.n_samples = 0

    def feed(self, block):
        self.n_samples += len(block)
        self._buf = np.concatenate([self._buf, np.asarray(block, np.float32)])
        end = self._buf0 + len(self._buf)
        self._emit((end - self.n_fft // 2) // self.hop + 1)

    def finish(self):
        """Process the last frames; returns ``(energy [frames], mel [columns, n_mels] or None)``."""
        self._buf = np.concatenate([self._buf, np.zeros(self.n_fft, np.float32)])
        self._emit(1 + self.n_samples // self.hop)
        energy = np.concatenate(self._energy) if self._energy else np.zeros(0, np.float32)
        mel = None
        if self.mel_bank is not None:
            mel = np.concatenate(self._mel) if self._mel else np.zeros((0, len(self.mel_bank)), np.float32)
        return energy, mel

    def _emit(self, stop):
        k = stop - self.next_frame
        if k <= 0:
            return
        first = self.next_frame * self.hop - self.n_fft // 2 - self._buf0
        power = self._frame_power(self._buf[first:], k)
        self._energy.append((10.0 * np.log10(np.maximum(power, 1e-10))).astype(np.float32))
        if self.mel_bank is not None:
            t = np.arange(self.next_frame, stop)
            pick = np.flatnonzero(t % self.mel_step == 0)
            if len(pick):
                frames = np.lib.stride_tricks.sliding_window_view(self._buf[first:], self.n_fft)[::self.hop]
                spec = scipy_fft().rfft(frames[pick] * self.window, axis=1)
                p = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
                self._mel.append(10.0 * np.log10(np.maximum(p @ self.mel_bank.T, 1e-10)).astype(np.float32))
        self.next_frame = stop
        keep = self.next_frame * self.hop - self.n_fft // 2
        self._buf = self._buf[keep - self._buf0:]
        self._buf0 = keep

    def _frame_power(self, y, k):
        """One-sided power-spectrum sums of the ``k`` frames starting at ``y[0]``, every hop.

        Each frame's three sums (of ``(w x)^2``, ``w x`` and ``(-1)^n w x``) are dot products
        of its samples with fixed vectors. Cut into hop-sized pieces, a frame is ``J`` whole
        rows of the signal reshaped to ``(rows, hop)``, so one small matrix product per
        quantity gives them all: each sample is touched ``J`` times in a BLAS product
        instead of ``n_fft / hop`` times in strided copies (the reading stage of an hour
        of audio is dominated by this otherwise).
        """
        hop, J = self.hop, self._J
        rows = k + J - 1
        seg = np.zeros(rows * hop, np.float64)
        n = min(len(y), len(seg))
        seg[:n] = y[:n]
        R = seg.reshape(rows, hop)
        M2 = (R * R) @ self._coef_sq          # (rows, J)
        M1 = R @ self._coef_lin               # (rows, 2J): window, then alternating window
        full = sum(M2[j:j + k, j] for j in range(J)) * self.n_fft
        dc = sum(M1[j:j + k, j] for j in range(J))
        nyq = sum(M1[j:j + k, J + j] for j in range(J))
        return (full + dc * dc + nyq * nyq) / 2


def iter_ranges(path, ranges, *, sr=SAMPLE_RATE, block_seconds=60.0):
    """Yield ``(index, samples)`` for sample ranges ``[(a, b), ...]`` of a file, in one streaming read.

    ``ranges`` must be sorted by start (they may overlap); each is clipped to the signal.
    Only the samples from the earliest pending range on are held.
    """
    ranges = [(max(int(a), 0), int(b)) for a, b in ranges]
    buf, buf0, i = np.zeros(0, np.float32), 0, 0
    for block in iter_blocks(path, sr=sr, block_seconds=block_seconds):
        buf = np.concatenate([buf, block])
        end = buf0 + len(buf)
        while i < len(ranges) and ranges[i][1] <= end:
            a, b = ranges[i]
            yield i, buf[a - buf0:b - buf0].copy()
            i += 1
        keep = min(ranges[i][0], end) if i < len(ranges) else end
        buf, buf0 = buf[keep - buf0:], keep
    while i < len(ranges):
        a, b = ranges[i]
        yield i, buf[max(a - buf0, 0):max(b - buf0, 0)].copy()
        i += 1


#: Containers whose samples a seek reaches exactly as a read from the start does: PCM frames
#: and FLAC's sample-accurate seek table. Compressed formats decoded in frames with priming
#: (MP3, Ogg, Opus) are read from the start only.
EXACT_SEEK_FORMATS = frozenset({"WAV", "WAVEX", "W64", "RF64", "AIFF", "AU", "CAF", "FLAC"})


def ranges_read_alone(path, *, sr=SAMPLE_RATE):
    """Whether a range of ``path`` can be read by itself (:class:`FileRange`) with exactly the
    samples :func:`iter_ranges` gives: a container :data:`EXACT_SEEK_FORMATS` holds at ``sr`` Hz
    (a resampled range depends on the resampler's state from the start of the file)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return False
    return info.samplerate == sr and info.format in EXACT_SEEK_FORMATS


@dataclasses.dataclass(frozen=True)
class FileRange:
    """Samples ``[a, b)`` of a file (one :func:`ranges_read_alone` allows), read where they are
    used: a cluster worker reads a long recording's speech itself instead of receiving it."""

    path: str
    a: int
    b: int

    def __len__(self):
        return self.b - self.a

    def read(self):
        """The range's mono float32 samples, decoded as :func:`iter_ranges` decodes them."""
        import soundfile as sf

        if not len(self):
            return np.zeros(0, np.float32)
        try:
            f = sf.SoundFile(self.path)
        except Exception as exc:
            reason = sndfile_reason(exc, self.path)
            raise AudioLoadError(self.path, f"audio data could not be decoded ({reason})") from None
        with f:
            f.seek(self.a)
            blocks = decoded_blocks(f, self.path, sr=f.samplerate, block_frames=len(self))
            try:
                _, y = next(blocks, (0, np.zeros(0, np.float32)))
            finally:
                blocks.close()
        if len(y) != len(self):
            raise AudioLoadError(self.path, f"ended at sample {self.a + len(y)}, before {self.b} (changed while read?)")
        return y


def file_ranges(path, ranges, *, n_samples):
    """Yield ``(index, FileRange)`` for the sample ranges of :func:`iter_ranges`, clipped the same way."""
    for i, (a, b) in enumerate(ranges):
        a = max(int(a), 0)
        yield i, FileRange(str(path), a, max(min(int(b), n_samples), a))


def samples_of(y):
    """The samples of ``y``: an array as it is, a :class:`FileRange` read."""
    return y.read() if isinstance(y, FileRange) else y


def region_sample_range(lo, hi, *, config, n_samples):
    """The samples needed to compute frames ``[lo, hi)`` exactly as one pass over the whole signal.

    The range starts on a frame centre and, unless it reaches the end of the signal, lasts a
    whole number of hops, so that ranges can be laid end to end (:func:`regions_features`).
    """
    hop = config.hop_length
    s0 = max(lo - _CONTEXT, 0) * hop
    s1 = s0 + -(-((hi + _CONTEXT) * hop + config.n_fft - s0) // hop) * hop
    return s0, min(s1, n_samples)


def regions_features(pieces, *, config, banks=None):
    """Feature frames of several regions in one :func:`~ser_engine.features.compute_features` call.

    Parameters
    ----------
    pieces : list of ``(y, s0, lo, hi)``
        The samples ``y`` of :func:`region_sample_range` for frames ``[lo, hi)``, starting at
        sample ``s0``. Laid end to end: every piece but the last lasts a whole number of
        hops, so frames stay on their grid, and each piece's frames of context on both sides
        absorb the seams (spectra and deltas of ``[lo, hi)`` never reach across one).

    Returns
    -------
    list of np.ndarray [shape=(hi - lo, n_features)], equal to the frames of one pass over the
    whole signal. One call per many regions keeps the per-call costs (BLAS thread wake-ups,
    array set-up) from dominating when a recording has many short stretches of speech.
    """
    hop = config.hop_length
    if any(len(y) % hop for y, *_ in pieces[:-1]):
        raise ValueError("only the last piece may end off the frame grid")
    X = compute_features(np.concatenate([y for y, *_ in pieces]), config=config, banks=banks)
    out, offset = [], 0
    for y, s0, lo, hi in pieces:
        first = offset // hop + lo - s0 // hop
        out.append(X[first:first + (hi - lo)])
        offset += len(y)
    return out


def region_features(y, s0, lo, hi, *, config, banks=None):
    """Feature frames ``[lo, hi)`` of a signal, from its samples ``y`` starting at sample ``s0``
    (as :func:`region_sample_range` gives them): equal to those of one pass over the whole.
    """
    return regions_features([(y, s0, lo, hi)], config=config, banks=banks)[0]


@dataclasses.dataclass
class Overview:
    """A decimated waveform (min/max per :data:`OVERVIEW_BUCKET` samples) and log-mel image
    (the log-mel spectrum of one feature frame every ``mel_seconds``) of a whole recording,
    for display.

    Attributes
    ----------
    mins, maxs : np.ndarray [shape=(n_buckets,), dtype=float32]
    bucket_seconds : float
    mel : np.ndarray [shape=(n_columns, n_mels), dtype=float32] or None
        Log-mel in dB, one column per ``mel_seconds``.
    mel_seconds : float
    duration : float
    """

    mins: np.ndarray
    maxs: np.ndarray
    bucket_seconds: float
    duration: float
    mel: np.ndarray | None = None
    mel_seconds: float = 0.1

    def envelope(self, t0, t1, n_pixels):
        """Min/max of the signal in ``n_pixels`` equal buckets of ``[t0, t1]`` seconds.

        When a pixel spans less than one overview bucket, read the slice instead
        (:func:`read_slice`); here each pixel then repeats its bucket.

        Returns
        -------
        times, mins, maxs : np.ndarray [shape=(n_pixels,)]
            Pixel centre times (s) and the signal's min and max in each pixel.
        """
        n_pixels = max(int(n_pixels), 1)
        edges = np.linspace(t0, t1, n_pixels + 1)
        times = (edges[:-1] + edges[1:]) / 2
        n = len(self.mins)
        if n == 0:
            return times, np.zeros(n_pixels, np.float32), np.zeros(n_pixels, np.float32)
        idx = np.clip(np.floor(edges / self.bucket_seconds).astype(np.int64), 0, n - 1)
        lo = idx[:-1]
        end = max(int(idx[-1]) + 1, int(lo[-1]) + 1)
        # reduceat reduces lo[i]:lo[i+1] (one bucket where they are equal), the last to ``end``
        mins = np.minimum.reduceat(self.mins[:end], lo)
        maxs = np.maximum.reduceat(self.maxs[:end], lo)
        return times, mins.astype(np.float32), maxs.astype(np.float32)

    def mel_image(self, t0, t1):
        """The mel columns between ``t0`` and ``t1`` seconds: (image [columns, n_mels], first column time)."""
        if self.mel is None:
            return np.zeros((0, 0), np.float32), t0
        a = int(max(t0, 0) / self.mel_seconds)
        b = int(np.ceil(min(t1, self.duration) / self.mel_seconds))
        return self.mel[a:max(b, a)], a * self.mel_seconds


class OverviewBuilder:
    """Accumulates the waveform part of an :class:`Overview` block by block."""

    def __init__(self, *, sr=SAMPLE_RATE):
        self.sr = sr
        self._tail = np.zeros(0, np.float32)
        self._mins, self._maxs = [], []
        self._n = 0

    def add_samples(self, block):
        self._n += len(block)
        y = np.concatenate([self._tail, block]) if len(self._tail) else block
        k = len(y) // OVERVIEW_BUCKET
        if k:
            b = y[:k * OVERVIEW_BUCKET].reshape(k, OVERVIEW_BUCKET)
            self._mins.append(b.min(axis=1))
            self._maxs.append(b.max(axis=1))
        self._tail = y[k * OVERVIEW_BUCKET:].copy()

    def build(self, *, mel=None, mel_seconds=0.1):
        mins, maxs = list(self._mins), list(self._maxs)
        if len(self._tail):
            mins.append(self._tail.min(keepdims=True))
            maxs.append(self._tail.max(keepdims=True))
        def cat(xs):
            return np.concatenate(xs).astype(np.float32) if xs else np.zeros(0, np.float32)
        return Overview(cat(mins), cat(maxs), OVERVIEW_BUCKET / self.sr, self._n / self.sr, mel, mel_seconds)


def compute_overview(path, *, sr=SAMPLE_RATE, block_seconds=60.0):
    """The waveform :class:`Overview` of a file alone (no features; one streaming read)."""
    builder = OverviewBuilder(sr=sr)
    for block in iter_blocks(path, sr=sr, block_seconds=block_seconds):
        builder.add_samples(block)
    return builder.build()


def read_slice(path, t0, t1, *, sr=SAMPLE_RATE):
    """Samples of ``[t0, t1]`` seconds as mono float32 at ``sr`` Hz (for the visible region).

    Seeks in the file and decodes only the slice (plus a little resampler context), so the
    cost depends on the slice, not on the recording's length.
    """
    import soundfile as sf
    import soxr

    info = audio_info(path)
    t0 = max(float(t0), 0.0)
    t1 = min(float(t1), info.duration)
    if t1 <= t0:
        return np.zeros(0, np.float32)
    pad = 0.05 if info.samplerate != sr else 0.0  # resampler filter context, trimmed below
    a = max(int((t0 - pad) * info.samplerate), 0)
    b = min(int(np.ceil((t1 + pad) * info.samplerate)), info.frames)
    try:
        with sf.SoundFile(str(path)) as f:
            f.seek(a)
            block = f.read(b - a, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioLoadError(path, f"audio data could not be decoded ({_first_line(exc)})") from None
    y = block.mean(axis=1, dtype=np.float32)
    if info.samplerate == sr:
        return y
    y = soxr.resample(y, info.samplerate, sr, quality="HQ").astype(np.float32)
    skip = int(round((t0 - a / info.samplerate) * sr))
    return y[skip:skip + int(round((t1 - t0) * sr))]


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
