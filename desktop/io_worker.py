"""The second worker: audio for the views (waveform, spectrogram in dB), durations, exports,
clearing the cache.

It never touches the model, so selecting a file shows its signal at once even while a long
batch is being analysed by :class:`~desktop.analysis_worker.AnalysisWorker`.

Recordings up to :data:`LONG_VIEW_SECONDS` are loaded whole (every sample, every frame).
Longer ones are never held whole: one streaming read gives a decimated *overview* (the
waveform's min/max per 16 ms from :class:`ser_engine.stream.OverviewBuilder` and a
spectrogram of one frame every :data:`OVERVIEW_FRAME_SECONDS`, reduced to at most
:data:`MAX_SPECTROGRAM_COLUMNS` columns), and when the user zooms in to
:data:`SLICE_MAX_SECONDS` or less, :meth:`IOWorker.load_slice` reads just the visible
stretch (:func:`ser_engine.stream.read_slice`) at full resolution.
"""

import csv
import io
import logging
import math

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)

#: The spectrogram is reduced (max over neighbouring frames) to at most this many columns.
MAX_SPECTROGRAM_COLUMNS = 4000
#: Frames of the power spectrum computed at a time: bounded memory for long recordings.
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


class IOWorker(QObject):
    """Lives in its own QThread. Only NumPy, soundfile and the engine's light functions."""

    view_ready = Signal(str, object)    # path, dict (see :meth:`load_view`)
    view_failed = Signal(str, str)      # path, reason
    durations_ready = Signal(object)    # {path: seconds}
    export_finished = Signal(str, str)  # path, error ("" on success)
    slice_ready = Signal(str, object)   # path, dict (see :meth:`load_slice`)
    cache_cleared = Signal(object, object)  # bytes freed (int), entries kept (list of str)

    def __init__(self):
        super().__init__()
        self._wanted = None
        self._wanted_slice = None

    def want(self, path):
        """The view the window currently waits for; older requests are skipped (any thread)."""
        self._wanted = path

    def want_slice(self, key):
        """The slice the window currently waits for (``(path, t0, t1)``); others are skipped."""
        self._wanted_slice = key

    @Slot(str)
    def load_view(self, path):
        """Waveform and spectrogram of ``path`` for the signal view.

        Emits ``view_ready(path, data)`` with ``data``: ``sample_rate``, ``duration`` (s),
        ``t`` and ``y`` (waveform points, float32), ``db`` (float32 [shape=(257, columns)],
        dBFS, row-major: frequency rows), ``column_seconds`` (width of a column) and
        ``max_frequency`` (Hz).
        """
        if path != self._wanted:
            return
        from ser_engine.audio import load_audio
        from ser_engine.errors import SerError
        from ser_engine.features import FeatureConfig

        from ser_engine.stream import audio_info

        config = FeatureConfig()
        try:
            if audio_info(path).duration > LONG_VIEW_SECONDS:
                data = _overview_data(path, config, still_wanted=lambda: path == self._wanted)
                if data is None:
                    return  # another file was selected meanwhile
            else:
                y = load_audio(path, sr=config.sample_rate)
                data = _view_data(y, config)
        except SerError as exc:
            self.view_failed.emit(path, getattr(exc, "reason", None) or str(exc))
            return
        except Exception as exc:
            logger.exception("unexpected error reading %s for display", path)
            self.view_failed.emit(path, f"internal error ({type(exc).__name__}); see the log")
            return
        self.view_ready.emit(path, data)

    @Slot(str, float, float)
    def load_slice(self, path, t0, t1):
        """Samples and spectrogram of ``[t0, t1]`` seconds of a long recording.

        Emits ``slice_ready(path, data)`` with ``data``: ``t0``, ``t1``, ``t`` and ``y`` (every
        sample), ``db`` (float32 [shape=(257, frames)], dBFS), ``column_seconds``,
        ``max_frequency``. A failure is logged only: the overview stays on screen.
        """
        if (path, t0, t1) != self._wanted_slice:
            return
        from ser_engine.errors import SerError
        from ser_engine.features import FeatureConfig
        from ser_engine.stream import read_slice

        config = FeatureConfig()
        try:
            y = read_slice(path, t0, t1, sr=config.sample_rate)
        except SerError as exc:
            logger.warning("slice %.1f-%.1f s of %s not shown: %s", t0, t1, path, exc)
            return
        if len(y) < config.n_fft:
            return
        data = _view_data(y, config)
        data["t"] = data["t"] + t0
        data.update(t0=t0, t1=t0 + len(y) / config.sample_rate)
        self.slice_ready.emit(path, data)

    @Slot(object)
    def probe_durations(self, paths):
        """Durations from the file headers (cheap), so the queue shows them before analysis."""
        import soundfile as sf

        out = {}
        for path in paths:
            try:
                info = sf.info(path)
                if info.samplerate > 0 and info.frames > 0:
                    out[path] = info.frames / info.samplerate
            except Exception:  # unreadable: the analysis will say why
                continue
        if out:
            self.durations_ready.emit(out)

    @Slot(str, object, object)
    def export_csv(self, target, header, rows):
        from ser_engine.atomic import atomic_write_text

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        try:
            atomic_write_text(target, buf.getvalue())
        except OSError as exc:
            self.export_finished.emit(target, f"{exc.strerror or exc} ({target})")
            return
        self.export_finished.emit(target, "")


    @Slot(object)
    def export(self, job):
        """Run an :class:`desktop.export_dialog.ExportJob`; emits ``export_finished``."""
        try:
            job.run()
        except Exception as exc:  # ExportError and OSError name the file; anything else is a bug
            from ser_engine.errors import SerError

            if not isinstance(exc, (SerError, OSError)):
                logger.exception("export to %s failed", job.dest)
            self.export_finished.emit(str(job.dest), _one_line(exc))
            return
        self.export_finished.emit(str(job.dest), "")

    @Slot()
    def clear_cache(self):
        """Delete the cache folder's contents (:func:`ser_engine.housekeeping.clear_cache`)."""
        from ser_engine.housekeeping import clear_cache

        try:
            freed, failed = clear_cache()
        except OSError as exc:
            freed, failed = 0, [_one_line(exc)]
        self.cache_cleared.emit(freed, failed)


def _one_line(exc):
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        text = f"{text} ({exc.filename})"
    return text.strip().splitlines()[0]


def _overview_data(path, config, *, still_wanted=lambda: True):
    """The view of a long recording from one streaming read (see the module docstring).

    The waveform is the min/max per :data:`ser_engine.stream.OVERVIEW_BUCKET` samples,
    interleaved; the spectrogram takes one frame every :data:`OVERVIEW_FRAME_SECONDS`
    (windowed as the features' frames) and the loudest of neighbouring frames per column.
    Returns None when ``still_wanted()`` turns False (checked once per block).
    """
    from ser_engine.features import scipy_fft
    from ser_engine.stream import OverviewBuilder, iter_blocks

    sr, n_fft = config.sample_rate, config.n_fft
    step = int(round(OVERVIEW_FRAME_SECONDS * sr))
    half = n_fft // 2
    window = np.zeros(n_fft, np.float32)
    a = (n_fft - config.win_length) // 2
    window[a:a + config.win_length] = np.hanning(config.win_length + 1)[:-1]
    builder = OverviewBuilder(sr=sr)
    tail = np.zeros(half, np.float32)   # the samples before the block (zeros before the start)
    tail0 = -half                       # the sample index of tail[0]
    next_centre = 0
    spectra = []
    peak = 0.0
    for block in iter_blocks(path, sr=sr, block_seconds=60.0):
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
            spec = scipy_fft().rfft(frames * window, axis=1)
            spectra.append((spec.real ** 2 + spec.imag ** 2).astype(np.float32))
            next_centre = int(centres[-1]) + step
        keep = next_centre - half
        tail, tail0 = buf[keep - tail0:], keep
    if len(tail) > 0 and next_centre < end:  # the last frames, zero-padded past the end
        buf = np.concatenate([tail, np.zeros(n_fft, np.float32)])
        centres = np.arange(next_centre, end, step)
        frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[centres - half - tail0]
        spec = scipy_fft().rfft(frames * window, axis=1)
        spectra.append((spec.real ** 2 + spec.imag ** 2).astype(np.float32))
    overview = builder.build()
    S = np.concatenate(spectra) if spectra else np.zeros((1, n_fft // 2 + 1), np.float32)
    per = max(1, math.ceil(len(S) / MAX_SPECTROGRAM_COLUMNS))
    m = len(S) // per
    cols = [S[:m * per].reshape(m, per, S.shape[1]).max(axis=1)] if m else []
    if len(S) > m * per:
        cols.append(S[m * per:].max(axis=0, keepdims=True))
    S = np.concatenate(cols)
    db = (10.0 * np.log10(S + 1e-12) - FULL_SCALE_DB).astype(np.float32).T.copy()
    n = len(overview.mins)
    wave = np.empty(2 * n, np.float32)
    wave[0::2], wave[1::2] = overview.mins, overview.maxs
    t = np.repeat((np.arange(n) + 0.5) * overview.bucket_seconds, 2)
    return {
        "sample_rate": sr,
        "duration": overview.duration,
        "t": t,
        "y": wave,
        "db": db,
        "column_seconds": per * step / sr,
        "max_frequency": sr / 2,
        "peak": peak,
        "overview": True,
    }


def _view_data(y, config):
    from ser_engine.features import n_frames, power_spectrum

    sr = config.sample_rate
    total = n_frames(len(y), config=config)
    step = max(1, math.ceil(total / MAX_SPECTROGRAM_COLUMNS))
    columns = []
    block = max(step, (BLOCK_FRAMES // step) * step)
    for start in range(0, total, block):
        S = power_spectrum(y, config=config, start_frame=start, stop_frame=min(start + block, total))
        n = len(S) // step * step
        if n:
            columns.append(S[:n].reshape(-1, step, S.shape[1]).max(axis=1))
        if len(S) > n:
            columns.append(S[n:].max(axis=0, keepdims=True))
    S = np.concatenate(columns)
    db = (10.0 * np.log10(S + 1e-12) - FULL_SCALE_DB).astype(np.float32).T.copy()  # (freq, time)

    if len(y) <= MAX_WAVEFORM_SAMPLES:
        t = np.arange(len(y), dtype=np.float64) / sr
        wave = y
    else:  # an envelope: min and max of each stretch, interleaved
        per = math.ceil(len(y) / (ENVELOPE_POINTS // 2))
        m = len(y) // per
        blocks = y[:m * per].reshape(m, per)
        wave = np.empty(2 * m, np.float32)
        wave[0::2], wave[1::2] = blocks.min(axis=1), blocks.max(axis=1)
        t = np.repeat(np.arange(m) * per + per / 2, 2) / sr
    return {
        "sample_rate": sr,
        "duration": len(y) / sr,
        "t": t,
        "y": np.ascontiguousarray(wave, np.float32),
        "db": db,
        "column_seconds": step * config.hop_length / sr,
        "max_frequency": sr / 2,
        "peak": float(np.abs(y).max()) if len(y) else 0.0,
    }
