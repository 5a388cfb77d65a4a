"""The worker that owns the Predictor: loads the model and labels files off the GUI thread.

Every file goes through :func:`ser_engine.segments.analyse_recording`, the streaming
analysis the CLI and the batch runner use (a speaker group through
:meth:`~ser_engine.predictor.Predictor.analyse_group`, the same labelling core): a 3-second
clip gets its recording-level label and a timeline of a few segments, an hour-long session is
read block by block with bounded memory. After every block the worker polls the cancel flag,
so Cancel stops a long file within one block; at most 20 times a second it emits
:attr:`AnalysisWorker.block_ready` (the window fills the timeline and the progress bar from
it). The model still runs only through :func:`ser_engine.inference.run_model` in this thread
(see docs/DESIGN.md, "Threads"). A neutral reference's baseline is built here too, once per
model.
"""

import dataclasses
import logging
import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)

BLOCK_EMIT_SECONDS = 0.05  # the window hears of a file's blocks at most 20 times a second


class BlockBatcher:
    """Passes a recording's block updates on at most every :data:`BLOCK_EMIT_SECONDS`, each
    holding the segments of the updates it stands for. A 3-second clip is four blocks in a few
    tens of milliseconds: one update per block made a batch of clips a stream of GUI events
    that the window handled in bursts. The update carrying the overview is passed on at once
    (the views draw the recording from it), and :meth:`flush` passes the last one on."""

    def __init__(self, emit, clock=time.monotonic):
        self._emit, self._clock = emit, clock
        self._pending = None
        self._last = -float("inf")

    def add(self, update) -> None:
        if self._pending is not None:
            # never one with the overview: that one is passed on at once
            update = dataclasses.replace(update, new_segments=self._pending.new_segments + update.new_segments)
        self._pending = update
        if update.overview is not None or self._clock() - self._last >= BLOCK_EMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._pending is not None:
            self._emit(self._pending)
            self._pending, self._last = None, self._clock()


class AnalysisWorker(QObject):
    """Lives in a QThread. Model loading happens here, after the window is shown (with LiteRT
    and the bundle's stored filter banks; Keras and librosa only for a bundle without them).

    The window sends one job (:class:`~desktop.session.Job`) at a time: a single file or the
    files of one folder (speaker baseline), numbered by :meth:`next_job`. :meth:`cancel` may be called
    from any thread and cancels every job numbered so far, including one still waiting in
    this thread's queue behind a model switch (a flag cleared at the start of each job lost
    such a cancel: the job then ran in full).
    """

    model_ready = Signal(object)       # desktop.session.ModelInfo
    model_failed = Signal(str)         # reason
    result_ready = Signal(object)      # ser_engine.results.Timeline or Failure
    block_ready = Signal(str, object)  # path, ser_engine.segments.BlockUpdate (progress, new segments)
    group_progress = Signal(int, int)  # files of the current speaker group done, of
    count_used = Signal(str, object)   # path, the number of speakers it is analysed with (int or "estimate")
    reference_checked = Signal(object, str)  # desktop.session.Reference, "" or why it cannot be used
    job_finished = Signal(object)      # the paths of the job; the paths never answered were cancelled

    def __init__(self, model_path=None):
        super().__init__()
        self._model_path = model_path
        self._predictor: Any = None  # ser_engine.predictor.Predictor once loaded
        self._lock = threading.Lock()
        self._numbered = 0        # the last job number handed out
        self._cancelled_upto = 0  # jobs numbered up to this one are cancelled
        self._current = 0         # the job being analysed
        self._baselines: dict = {}  # (reference path, span) -> Baseline, for the model loaded
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
        self._baselines.clear()  # a reference's baseline depends on the model's statistics
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

    @Slot(object, int)
    def analyse(self, job, number=0):
        """Do a :class:`~desktop.session.Job`: its recordings one by one (each with its number
        of speakers and its neutral reference, if any), or as one speaker group when
        ``job.speaker_baseline`` (:meth:`ser_engine.predictor.Predictor.analyse_group`: the
        clips share their baseline; a long recording in the folder is its own, analysed
        alone). ``number``: from :meth:`next_job` (0: a new one)."""
        self._current = number or self.next_job()
        paths = list(job.paths)
        if job.speaker_baseline:
            self._analyse_group(paths, job.default_speakers)
        else:
            for path in paths:
                if self._stopped():
                    break
                result = self._analyse_one(path, job.speakers.get(path), job.default_speakers,
                                           job.references.get(path))
                if result is not None:
                    self.result_ready.emit(result)
        self.job_finished.emit(paths)

    @Slot(object)
    def check_reference(self, ref):
        """Build the speaker baseline of a neutral reference (:class:`desktop.session.Reference`)
        and keep it for the jobs that use it; ``reference_checked(ref, "")``, or the engine's
        one-line reason it cannot be used (too little speech, an unreadable file)."""
        from ser_engine.errors import SerError

        try:
            self._baseline(ref)
            error = ""
        except SerError as exc:
            error = str(exc)
        except Exception as exc:  # a bug, not a bad reference
            logger.exception("unexpected error reading the reference %s", ref.path)
            error = f"internal error ({type(exc).__name__}); see the log"
        self.reference_checked.emit(ref, error)

    def _baseline(self, ref):
        """The reference's :class:`~ser_engine.baseline.Baseline` (built once per model)."""
        if self._predictor is None:
            from ser_engine.errors import SerError

            raise SerError("no model is loaded")
        key = (ref.path, ref.span)
        if key not in self._baselines:
            self._baselines[key] = self._predictor.reference_baseline(ref.path, span=ref.span)
        return self._baselines[key]

    def _config(self, count):
        """The SegmentConfig for ``count`` speakers (a number, or "estimate")."""
        from ser_engine.segments import SegmentConfig

        from .session import ESTIMATE

        return dataclasses.replace(self.segment_config or SegmentConfig(),
                                   speakers=None if count == ESTIMATE else int(count))

    def _analyse_one(self, path, chosen, default, reference):
        """The Timeline of ``path``, a Failure, or None when cancelled."""
        from ser_engine.baseline import BaselineError
        from ser_engine.errors import SerError
        from ser_engine.results import Failure
        from ser_engine.segments import AnalysisCancelled

        blocks = BlockBatcher(lambda update: self.block_ready.emit(path, update))
        count = default if chosen is None else chosen
        self.count_used.emit(path, count)
        try:
            baseline = None if reference is None else self._baseline(reference)
            result = self._predictor.analyse_recording(path, on_block=blocks.add, should_stop=self._stopped,
                                                       config=self._config(count), baseline=baseline)
            blocks.flush()
            return result
        except AnalysisCancelled:
            return None
        except BaselineError as exc:  # the reference cannot be read now: never labelled without it
            return Failure(path, f"the neutral reference cannot be used: {exc}")
        except SerError as exc:
            return Failure(path, getattr(exc, "reason", None) or str(exc))
        except Exception as exc:  # a bug, not bad input: log it, keep the batch going
            logger.exception("unexpected error analysing %s", path)
            return Failure(path, f"internal error ({type(exc).__name__}); see the log")

    def _analyse_group(self, paths, count):
        from ser_engine.results import Failure
        from ser_engine.segments import AnalysisCancelled

        for path in paths:
            self.count_used.emit(path, count)
        try:
            results = self._predictor.analyse_group(paths, config=self._config(count), should_stop=self._stopped,
                                                    on_file=self.group_progress.emit)
        except AnalysisCancelled:
            return
        except Exception as exc:
            logger.exception("unexpected error analysing the group of %s", paths[0] if paths else "?")
            results = [Failure(p, f"internal error ({type(exc).__name__}); see the log") for p in paths]
        for result in results:
            self.result_ready.emit(result)
