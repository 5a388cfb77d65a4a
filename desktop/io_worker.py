"""The second worker: audio for the views (waveform, spectrogram in dB), durations, exports.

It never touches the model, so selecting a file shows its signal at once even while a long
batch is being analysed by :class:`~desktop.analysis_worker.AnalysisWorker`.
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


class IOWorker(QObject):
    """Lives in its own QThread. Only NumPy, soundfile and the engine's light functions."""

    view_ready = Signal(str, object)    # path, dict (see :meth:`load_view`)
    view_failed = Signal(str, str)      # path, reason
    durations_ready = Signal(object)    # {path: seconds}
    export_finished = Signal(str, str)  # path, error ("" on success)

    def __init__(self):
        super().__init__()
        self._wanted = None

    def want(self, path):
        """The view the window currently waits for; older requests are skipped (any thread)."""
        self._wanted = path

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

        config = FeatureConfig()
        try:
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
