"""The worker that owns the Predictor: loads the model and labels files off the GUI thread.

Every file goes through :func:`ser_engine.segments.analyse_recording`, the streaming
analysis the CLI and the batch runner use: a 3-second clip gets its recording-level label
and a timeline of a few segments, an hour-long session is read block by block with bounded
memory. After every block the worker emits :attr:`AnalysisWorker.block_ready` (the window
fills the timeline and the progress bar from it) and polls the cancel flag, so Cancel stops
a long file within one block. The model still runs only through
:func:`ser_engine.inference.run_model` in this thread (see docs/DESIGN.md, "Threads").
"""

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)


class _Cancelled(Exception):
    """Raised from the progress callback of ``predict_group`` to stop a speaker group."""


class AnalysisWorker(QObject):
    """Lives in a QThread. Model loading happens here, after the window is shown (with LiteRT
    and the bundle's stored filter banks; Keras and librosa only for a bundle without them).

    The window sends one job at a time: a single file (global normalisation) or the files of
    one folder (speaker baseline), numbered by :meth:`next_job`. :meth:`cancel` may be called
    from any thread and cancels every job numbered so far, including one still waiting in
    this thread's queue behind a model switch (a flag cleared at the start of each job lost
    such a cancel: the job then ran in full).
    """

    model_ready = Signal(object)       # desktop.session.ModelInfo
    model_failed = Signal(str)         # reason
    result_ready = Signal(object)      # ser_engine.results.Timeline (Result for a speaker group) or Failure
    block_ready = Signal(str, object)  # path, ser_engine.segments.BlockUpdate (progress, new segments)
    group_progress = Signal(int, int)  # files of the current speaker group done, of
    job_finished = Signal(object)      # the paths of the job; the paths never answered were cancelled

    def __init__(self, model_path=None):
        super().__init__()
        self._model_path = model_path
        self._predictor: Any = None  # ser_engine.predictor.Predictor once loaded
        self._lock = threading.Lock()
        self._numbered = 0        # the last job number handed out
        self._cancelled_upto = 0  # jobs numbered up to this one are cancelled
        self._current = 0         # the job being analysed
        #: How recordings are cut (ser_engine.segments.SegmentConfig; None: the engine's defaults).
        self.segment_config = None

    def next_job(self):
        """The number of the job about to be sent (thread-safe)."""
        with self._lock:
            self._numbered += 1
            return self._numbered

    def cancel(self):
        """Stop the current job within one block, and any job already sent (thread-safe)."""
        with self._lock:
            self._cancelled_upto = self._numbered

    def _stopped(self):
        return self._current <= self._cancelled_upto

    @Slot()
    def load_model(self):
        from ser_engine.errors import SerError
        from ser_engine.predictor import Predictor
        from ser_engine.runtime import quiet_tensorflow

        quiet_tensorflow()
        try:
            self._predictor, warning = Predictor.from_path(self._model_path)
            self._predictor.warm_up()
            # Run the feature path once now, while the window says "Loading model…": for a
            # bundle without stored filter banks this is librosa's ~2 s import, which holds the
            # GIL in long stretches and would otherwise stall the first batch.
            import numpy as np

            self._predictor.features(np.zeros(self._predictor.config.sample_rate, np.float32))
            # The modules of the long-recording path and of the review, imported here while
            # the window says "Loading model…" rather than at the first result, where an
            # import on either thread would hold up the other (the import lock and the GIL).
            import soxr  # noqa: F401

            import ser_engine.review  # noqa: F401
            import ser_engine.segments  # noqa: F401
            import ser_engine.summary  # noqa: F401
        except SerError as exc:
            self.model_failed.emit(str(exc))
            return
        except Exception as exc:  # a broken install, not a bad bundle: say so, keep the window
            logger.exception("the model could not be loaded")
            self.model_failed.emit(f"internal error ({type(exc).__name__}: {exc}); see the log")
            return
        from .session import ModelInfo

        bundle = self._predictor.bundle
        self.model_ready.emit(ModelInfo(model_id=bundle.model_id, version=str(bundle.version), card=bundle.card or "",
                                        labels=tuple(bundle.labels), uncertain_below=float(bundle.uncertain_below),
                                        source=str(bundle.source), warning=warning or ""))

    @Slot(object)
    def switch_model(self, model_path):
        """Load another bundle (None: the active one) for the files analysed from now on."""
        self._model_path = model_path
        self.load_model()

    @Slot(object, bool, int)
    def analyse(self, paths, speaker_baseline, job=0):
        """Label ``paths``: one by one, or as one speaker group when ``speaker_baseline``.

        In a speaker group, long recordings are analysed on their own: a session is its own
        speaker baseline (and loading an hour whole for the group's statistics would not
        fit in memory); the clips form the group. ``job``: from :meth:`next_job` (0: a new one).
        """
        self._current = job or self.next_job()
        paths = list(paths)
        singles, group = (_split_long(paths) if speaker_baseline else (paths, []))
        if group:
            self._analyse_group(group)
        for path in singles:
            if self._stopped():
                break
            result = self._analyse_one(path)
            if result is not None:
                self.result_ready.emit(result)
        self.job_finished.emit(paths)

    def _analyse_one(self, path):
        """The Timeline of ``path``, a Failure, or None when cancelled."""
        from ser_engine.errors import SerError
        from ser_engine.results import Failure
        from ser_engine.segments import AnalysisCancelled

        def on_block(update):
            self.block_ready.emit(path, update)

        try:
            kwargs = {} if self.segment_config is None else {"config": self.segment_config}
            return self._predictor.analyse_recording(path, on_block=on_block, should_stop=self._stopped,
                                                     **kwargs)
        except AnalysisCancelled:
            return None
        except SerError as exc:
            return Failure(path, getattr(exc, "reason", None) or str(exc))
        except Exception as exc:  # a bug, not bad input: log it, keep the batch going
            logger.exception("unexpected error analysing %s", path)
            return Failure(path, f"internal error ({type(exc).__name__}); see the log")

    def _analyse_group(self, paths):
        from ser_engine.results import Failure

        def progress(done, total):
            self.group_progress.emit(done, total)
            if self._stopped():
                raise _Cancelled

        try:
            results = self._predictor.predict_group(paths, progress=progress)
        except _Cancelled:
            return
        except Exception as exc:
            logger.exception("unexpected error analysing the group of %s", paths[0] if paths else "?")
            results = [Failure(p, f"internal error ({type(exc).__name__}); see the log") for p in paths]
        for result in results:
            _hash(result)
            self.result_ready.emit(result)


def _hash(result):
    """Give a group's Result its content hash here, in the worker: the window keys the
    clinician's review to it and must not read the file on the GUI thread."""
    from ser_engine.segments import file_sha256

    if result.ok and result.sha256 is None:
        try:
            result.sha256 = file_sha256(result.path)
        except OSError as exc:  # the review will say it is unavailable
            logger.warning("could not hash %s: %s", result.path, exc)


def _split_long(paths):
    """``(long recordings, clips)``: the long ones are analysed alone (own baseline)."""
    from ser_engine.errors import SerError
    from ser_engine.stream import audio_info

    from .headline import LONG_RECORDING_S

    long: list[str] = []
    short: list[str] = []
    for p in paths:
        try:
            is_long = audio_info(p).duration > LONG_RECORDING_S
        except SerError:
            is_long = False  # the group reports why it cannot be read
        (long if is_long else short).append(p)
    return long, short
