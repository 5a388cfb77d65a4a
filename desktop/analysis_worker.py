"""The worker that owns the Predictor: loads the model and labels files off the GUI thread."""

import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)


class _Cancelled(Exception):
    """Raised from the progress callback of ``predict_group`` to stop a speaker group."""


class AnalysisWorker(QObject):
    """Lives in a QThread. Model loading happens here, after the window is shown (with LiteRT
    and the bundle's stored filter banks; Keras and librosa only for a bundle without them).

    The window sends one job at a time: a single file (global normalisation) or the files of
    one folder (speaker baseline). :meth:`cancel` may be called from any thread.
    """

    model_ready = Signal(object)       # dict: model_id, version, card, labels, uncertain_below, warning
    model_failed = Signal(str)         # reason
    result_ready = Signal(object)      # ser_engine.results.Result or Failure
    group_progress = Signal(int, int)  # files of the current speaker group done, of
    job_finished = Signal(object)      # the paths of the job; the paths never answered were cancelled

    def __init__(self, model_path=None):
        super().__init__()
        self._model_path = model_path
        self._predictor = None
        self._cancel = threading.Event()

    def cancel(self):
        """Stop the current speaker group as soon as possible (thread-safe)."""
        self._cancel.set()

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
        except SerError as exc:
            self.model_failed.emit(str(exc))
            return
        except Exception as exc:  # a broken install, not a bad bundle: say so, keep the window
            logger.exception("the model could not be loaded")
            self.model_failed.emit(f"internal error ({type(exc).__name__}: {exc}); see the log")
            return
        bundle = self._predictor.bundle
        self.model_ready.emit({
            "model_id": bundle.model_id, "version": str(bundle.version), "card": bundle.card or "",
            "labels": tuple(bundle.labels), "uncertain_below": float(bundle.uncertain_below),
            "source": str(bundle.source), "warning": warning or "",
        })

    @Slot(object, bool)
    def analyse(self, paths, speaker_baseline):
        """Label ``paths``: one by one, or as one speaker group when ``speaker_baseline``."""
        self._cancel.clear()
        if speaker_baseline:
            self._analyse_group(list(paths))
        else:
            for path in paths:
                if self._cancel.is_set():
                    break
                self.result_ready.emit(self._analyse_one(path))
        self.job_finished.emit(list(paths))

    def _analyse_one(self, path):
        from ser_engine.errors import SerError
        from ser_engine.results import Failure

        try:
            return self._predictor.predict_file(path)
        except SerError as exc:
            return Failure(path, getattr(exc, "reason", None) or str(exc))
        except Exception as exc:  # a bug, not bad input: log it, keep the batch going
            logger.exception("unexpected error analysing %s", path)
            return Failure(path, f"internal error ({type(exc).__name__}); see the log")

    def _analyse_group(self, paths):
        from ser_engine.results import Failure

        def progress(done, total):
            self.group_progress.emit(done, total)
            if self._cancel.is_set():
                raise _Cancelled

        try:
            results = self._predictor.predict_group(paths, progress=progress)
        except _Cancelled:
            return
        except Exception as exc:
            logger.exception("unexpected error analysing the group of %s", paths[0] if paths else "?")
            results = [Failure(p, f"internal error ({type(exc).__name__}); see the log") for p in paths]
        for result in results:
            self.result_ready.emit(result)
