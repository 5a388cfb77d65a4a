"""The Train tab's link to its training child process and its folder scans.

Training runs in a child process (:class:`training.job.TrainingProcess`; why: see that module
and docs/DESIGN.md); here a QTimer polls its event queue on the GUI thread, which only costs
a non-blocking read every :data:`POLL_MS`. The folder scan (names and audio headers) runs in
a short-lived Python thread and answers by a queued signal.
"""

import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

logger = logging.getLogger(__name__)

POLL_MS = 100
#: A finished child may take a moment to exit (TensorFlow's teardown); it is reaped from a timer
#: instead of being waited for on the GUI thread, and terminated if it lingers this long.
REAP_MS, REAP_TRIES = 500, 20


class TrainingRunner(QObject):
    """Starts, watches and cancels one training run at a time."""

    progress = Signal(object)   # a progress dict from the child (see training.pipeline / training.job)
    finished = Signal(object)   # the final dict: status "ok" | "cancelled" | "failed", message, paths

    def __init__(self, parent=None):
        super().__init__(parent)
        self._job = None
        self._exiting = []  # finished children not yet gone
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def is_running(self):
        return self._job is not None

    def start(self, params):
        from training.job import TrainingProcess

        if self._job is not None:
            raise RuntimeError("a training run is already in progress")
        self._job = TrainingProcess(params)
        self._job.start()
        self._timer.start()

    def cancel(self):
        """Ask the run to stop; it is terminated if it has not stopped within the grace period."""
        if self._job is not None:
            self._job.cancel()

    def shutdown(self):
        """End a run now (the window is closing): nothing it was writing is left half-written."""
        self._timer.stop()
        for job in self._exiting + ([self._job] if self._job is not None else []):
            job.close()
        self._exiting, self._job = [], None

    def _poll(self):
        job = self._job
        if job is None:
            return
        events = job.poll()
        # Feature progress arrives per file: only the latest of a batch is worth drawing.
        last_features = max((i for i, e in enumerate(events) if e.get("phase") == "features"), default=-1)
        for i, e in enumerate(events):
            if e.get("phase") == "features" and i != last_features:
                continue
            if e.get("phase") == "finished":
                self._timer.stop()
                self._job = None
                self._exiting.append(job)
                QTimer.singleShot(REAP_MS, self, lambda: self._reap(job, 1))
                if e.get("details"):
                    logger.error("training failed:\n%s", e["details"])
                self.finished.emit(e)
                return
            self.progress.emit(e)


    def _reap(self, job, tries):
        if job not in self._exiting:
            return  # already closed by shutdown()
        if job.is_alive() and tries < REAP_TRIES:
            QTimer.singleShot(REAP_MS, self, lambda: self._reap(job, tries + 1))
            return
        self._exiting.remove(job)
        job.close()


class FolderScanner(QObject):
    """Reads a training folder's names and headers off the GUI thread."""

    scanned = Signal(str, object, str)  # folder, summary dict (or None), error message ("" if fine)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._threads = []

    def scan(self, folder):
        thread = threading.Thread(target=self._run, args=(str(folder),), name="train-scan", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _run(self, folder):
        from ser_engine.errors import SerError
        from training.dataset import inspect_folder

        try:
            _, summary = inspect_folder(folder)
        except SerError as exc:
            self.scanned.emit(folder, None, str(exc))
        except Exception as exc:  # a bug: say so, keep the window
            logger.exception("scanning %s failed", folder)
            self.scanned.emit(folder, None, f"{folder}: could not be scanned ({type(exc).__name__}: {exc})")
        else:
            self.scanned.emit(folder, summary, "")

    def wait(self, timeout=10.0):
        for t in self._threads:
            t.join(timeout)
