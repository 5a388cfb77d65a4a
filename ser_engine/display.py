"""What the window draws of a recording: its waveform and its spectrogram in dBFS.

Display is signal processing like the features, so it lives beside them and shares their
framing and analysis window (:func:`ser_engine.features.power_spectrum`, one periodic Hann
window of ``win_length`` centred in ``n_fft``): a spectrogram column is the power spectrum
of the very frame the model was fed at that instant.

Recordings up to :data:`LONG_VIEW_SECONDS` are shown whole (:func:`clip_view`: every sample,
every frame, reduced to at most :data:`MAX_SPECTROGRAM_COLUMNS` columns). Longer ones are never
held whole: one streaming read gives an *overview* (:func:`overview_view`: the waveform's
min/max per 16 ms and one frame every :data:`OVERVIEW_FRAME_SECONDS`), and a stretch of at
most :data:`SLICE_MAX_SECONDS` is read at full resolution when the user zooms in
(:func:`slice_view`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .features import FeatureConfig, _analysis_window, n_frames, power_spectrum, scipy_fft

#: The spectrogram is reduced (max over neighbouring frames) to at most this many columns.
MAX_SPECTROGRAM_COLUMNS = 4000
#: Frames of the power spectrum computed at a time: bounded memory for long clips.
BLOCK_FRAMES = 8192
#: 10·log10 of the power a full-scale sine gives in its peak bin (Hann window, 400 samples):
#: subtracting it puts the spectrogram in dB relative to full scale (dBFS).
FULL_SCALE_DB = 40.0
#: Longer than this the waveform is sent as a min/max envelope instead of every sample.
MAX_WAVEFORM_SAMPLES = 16000 * 600
ENVELOPE_POINTS = 200_000
#: Longer recordings are shown from an overview plus the visible slice.
LONG_VIEW_SECONDS = 120.0
#: One spectrogram frame every this many seconds in a long recording's overview.
OVERVIEW_FRAME_SECONDS = 0.1
#: A slice at full resolution is read when the visible span is at most this long.
SLICE_MAX_SECONDS = 60.0
#: Samples read per streaming block for an overview.
OVERVIEW_BLOCK_SECONDS = 60.0


@dataclasses.dataclass
class ViewData:
    """A recording (or a stretch of one) ready to draw.

    Attributes
    ----------
    sample_rate : int
    duration : float
        Seconds of the whole recording (an overview, a clip) or of the stretch (a slice).
    t, y : np.ndarray [shape=(points,)]
        Waveform points: times in seconds (float64) and values (float32); every sample, or a
        min/max envelope (interleaved) for an overview or a very long clip.
    db : np.ndarray [shape=(1 + n_fft // 2, columns), dtype=float32]
        Power in dBFS, row-major: frequency rows, time columns.
    column_seconds : float
        Width of one spectrogram column.
    max_frequency : float
        Hz of the top row (the Nyquist frequency).
    peak : float
        The largest absolute sample value.
    overview : bool
        Decimated for display (a long recording's overview).
    t0, t1 : float
        The stretch shown, in seconds of the recording (0 and ``duration`` but for a slice).
    """

    sample_rate: int
    duration: float
    t: np.ndarray
    y: np.ndarray
    db: np.ndarray
    column_seconds: float
    max_frequency: float
    peak: float
    overview: bool = False
    t0: float = 0.0
    t1: float = 0.0


def to_dbfs(power: np.ndarray) -> np.ndarray:
    """``power`` (frames × bins) as float32 dBFS, transposed to frequency rows (row-major)."""
    return (10.0 * np.log10(power + 1e-12) - FULL_SCALE_DB).astype(np.float32).T.copy()


def _max_columns(S: np.ndarray, per: int) -> list[np.ndarray]:
    """The loudest of each ``per`` neighbouring frames of ``S`` (the last group may be shorter)."""
    m = len(S) // per
    cols = [S[:m * per].reshape(m, per, S.shape[1]).max(axis=1)] if m else []
    if len(S) > m * per:
        cols.append(S[m * per:].max(axis=0, keepdims=True))
    return cols


def clip_view(y: np.ndarray, *, config: FeatureConfig | None = None) -> ViewData:
    """Every sample and every feature frame of ``y`` (mono float32 at ``config.sample_rate``)."""
    config = config or FeatureConfig()
    sr = config.sample_rate
    total = n_frames(len(y), config=config)
    step = max(1, math.ceil(total / MAX_SPECTROGRAM_COLUMNS))
    block = max(step, (BLOCK_FRAMES // step) * step)
    columns: list[np.ndarray] = []
    for start in range(0, total, block):
        S = power_spectrum(y, config=config, start_frame=start, stop_frame=min(start + block, total))
        columns += _max_columns(S, step)
    t, wave = _waveform(y, sr)
    duration = len(y) / sr
    return ViewData(sample_rate=sr, duration=duration, t=t, y=wave, db=to_dbfs(np.concatenate(columns)),
                    column_seconds=step * config.hop_length / sr, max_frequency=sr / 2,
                    peak=float(np.abs(y).max()) if len(y) else 0.0, t1=duration)


def _waveform(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Every sample, or for a very long signal a min/max envelope (interleaved)."""
    if len(y) <= MAX_WAVEFORM_SAMPLES:
        return np.arange(len(y), dtype=np.float64) / sr, np.ascontiguousarray(y, np.float32)
    per = math.ceil(len(y) / (ENVELOPE_POINTS // 2))
    m = len(y) // per
    blocks = y[:m * per].reshape(m, per)
    wave = np.empty(2 * m, np.float32)
    wave[0::2], wave[1::2] = blocks.min(axis=1), blocks.max(axis=1)
    return np.repeat(np.arange(m) * per + per / 2, 2) / sr, wave


def slice_view(y: np.ndarray, t0: float, *, config: FeatureConfig | None = None) -> ViewData:
    """:func:`clip_view` of a stretch ``y`` that starts ``t0`` seconds into its recording."""
    config = config or FeatureConfig()
    view = clip_view(y, config=config)
    view.t = view.t + t0
    view.t0, view.t1 = float(t0), float(t0) + len(y) / config.sample_rate
    return view


def _frame_power(frames: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Power spectra of ``frames`` (n × n_fft) with the features' analysis window."""
    spec = scipy_fft().rfft(frames * _analysis_window(config), axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def overview_view(path: str | Path, *, config: FeatureConfig | None = None,
                  still_wanted: Callable[[], bool] = lambda: True) -> ViewData | None:
    """The overview of a long recording from one streaming read.

    The waveform is the min/max per :data:`ser_engine.stream.OVERVIEW_BUCKET` samples,
    interleaved; the spectrogram takes the feature frame centred every
    :data:`OVERVIEW_FRAME_SECONDS` and the loudest of neighbouring frames per column.
    Returns None when ``still_wanted()`` turns False (checked once per block): the user
    selected another file meanwhile.

    Raises
    ------
    AudioLoadError
        The file cannot be read (its name and the reason).
    """
    from .stream import OverviewBuilder, iter_blocks

    config = config or FeatureConfig()
    sr, n_fft = config.sample_rate, config.n_fft
    step = int(round(OVERVIEW_FRAME_SECONDS * sr))
    half = n_fft // 2
    builder = OverviewBuilder(sr=sr)
    tail = np.zeros(half, np.float32)   # the samples before the block (zeros before the start)
    tail0 = -half                       # the sample index of tail[0]
    next_centre = 0
    end = 0
    spectra: list[np.ndarray] = []
    peak = 0.0
    for block in iter_blocks(path, sr=sr, block_seconds=OVERVIEW_BLOCK_SECONDS):
        if not still_wanted():
            return None
        builder.add_samples(block)
        peak = max(peak, float(np.abs(block).max()) if len(block) else 0.0)
        buf = np.concatenate([tail, block])
        end = tail0 + len(buf)
        last = (end - half - 1 - next_centre) // step  # frames whose window lies inside buf
        if last >= 0:
            centres = next_centre + step * np.arange(last + 1)
            frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[centres - half - tail0]
            spectra.append(_frame_power(frames, config))
            next_centre = int(centres[-1]) + step
        keep = next_centre - half
        tail, tail0 = buf[keep - tail0:], keep
    if len(tail) > 0 and next_centre < end:  # the last frames, zero-padded past the end
        buf = np.concatenate([tail, np.zeros(n_fft, np.float32)])
        centres = np.arange(next_centre, end, step)
        frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[centres - half - tail0]
        spectra.append(_frame_power(frames, config))
    overview = builder.build()
    S = np.concatenate(spectra) if spectra else np.zeros((1, n_fft // 2 + 1), np.float32)
    per = max(1, math.ceil(len(S) / MAX_SPECTROGRAM_COLUMNS))
    n = len(overview.mins)
    wave = np.empty(2 * n, np.float32)
    wave[0::2], wave[1::2] = overview.mins, overview.maxs
    return ViewData(sample_rate=sr, duration=overview.duration,
                    t=np.repeat((np.arange(n) + 0.5) * overview.bucket_seconds, 2), y=wave,
                    db=to_dbfs(np.concatenate(_max_columns(S, per))), column_seconds=per * step / sr,
                    max_frequency=sr / 2, peak=peak, overview=True, t1=overview.duration)


__all__ = ["FULL_SCALE_DB", "LONG_VIEW_SECONDS", "MAX_SPECTROGRAM_COLUMNS", "OVERVIEW_FRAME_SECONDS",
           "SLICE_MAX_SECONDS", "ViewData", "clip_view", "overview_view", "slice_view", "to_dbfs"]
