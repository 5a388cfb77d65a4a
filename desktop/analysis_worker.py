"""The worker that owns the Predictor: loads the model and labels files off the GUI thread."""

import logging

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)


class AnalysisWorker(QObject):
    """Lives in a QThread. Heavy imports (Keras, librosa) happen here, after the window is shown."""

    model_ready = Signal(str, str)     # model id, warning ("" if none)
    model_failed = Signal(str)         # reason
    result_ready = Signal(object)      # ser_engine.results.Result or Failure

    def __init__(self, model_path=None):
        super().__init__()
        self._model_path = model_path
        self._predictor = None

    @Slot()
    def load_model(self):
        from ser_engine.errors import SerError
        from ser_engine.predictor import Predictor
        from ser_engine.runtime import quiet_tensorflow

        quiet_tensorflow()
        try:
            self._predictor, warning = Predictor.from_path(self._model_path)
            self._predictor.warm_up()
        except SerError as exc:
            self.model_failed.emit(str(exc))
            return
        self.model_ready.emit(self._predictor.bundle.model_id, warning or "")

    @Slot(str)
    def analyse(self, path):
        from ser_engine.errors import SerError
        from ser_engine.results import Failure

        try:
            result = self._predictor.predict_file(path)
        except SerError as exc:
            result = Failure(path, getattr(exc, "reason", str(exc)))
        except Exception as exc:  # a bug, not bad input: log it, keep the batch going
            logger.exception("unexpected error analysing %s", path)
            result = Failure(path, f"internal error ({type(exc).__name__}); see the log")
        self.result_ready.emit(result)
