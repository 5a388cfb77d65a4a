"""The second worker: audio for the views (:mod:`ser_engine.display`), durations, exports,
session reports, clearing the cache.

It never touches the model, so selecting a file shows its signal at once even while a long
batch is being analysed by :class:`~desktop.analysis_worker.AnalysisWorker`. What is drawn is
computed by the engine beside the features (:mod:`ser_engine.display`): a clip whole, a long
recording as an overview from one streaming read, and the visible stretch at full resolution
when the user zooms in.
"""

import logging

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)


class IOWorker(QObject):
    """Lives in its own QThread. Only NumPy, soundfile and the engine's light functions."""

    view_ready = Signal(str, object)    # path, ser_engine.display.ViewData
    view_failed = Signal(str, str)      # path, reason
    durations_ready = Signal(object)    # {path: seconds}
    export_finished = Signal(str, str)  # path, error ("" on success)
    report_finished = Signal(str, str)  # path, error ("" on success)
    slice_ready = Signal(str, object)   # path, ser_engine.display.ViewData of the stretch
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
        """Emits ``view_ready(path, ViewData)`` (or ``view_failed(path, reason)``)."""
        if path != self._wanted:
            return
        from ser_engine.audio import load_audio
        from ser_engine.display import LONG_VIEW_SECONDS, clip_view, overview_view
        from ser_engine.errors import SerError
        from ser_engine.features import FeatureConfig
        from ser_engine.stream import audio_info

        config = FeatureConfig()
        try:
            if audio_info(path).duration > LONG_VIEW_SECONDS:
                data = overview_view(path, config=config, still_wanted=lambda: path == self._wanted)
                if data is None:
                    return  # another file was selected meanwhile
            else:
                data = clip_view(load_audio(path, sr=config.sample_rate), config=config)
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
        """Emits ``slice_ready(path, ViewData)`` of ``[t0, t1]`` seconds of a long recording.
        A failure is logged only: the overview stays on screen."""
        if (path, t0, t1) != self._wanted_slice:
            return
        from ser_engine.display import slice_view
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
        self.slice_ready.emit(path, slice_view(y, t0, config=config))

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

    @Slot(object)
    def report(self, job):
        """Write a session report (:class:`desktop.review_tools_controller.ReportJob`); emits
        ``report_finished``."""
        try:
            job.run()
        except Exception as exc:  # ExportError names the file; anything else is a bug
            from ser_engine.errors import SerError

            if not isinstance(exc, (SerError, OSError)):
                logger.exception("report to %s failed", job.dest)
            self.report_finished.emit(str(job.dest), _one_line(exc))
            return
        self.report_finished.emit(str(job.dest), "")

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
