"""Child process of ``bench/bench_startup.py``: runs the real app with timing hooks.

    SER_BENCH_LAUNCH=<time.time() of the launch> [SER_BENCH_DROPS=a.flac:b.flac] \\
        python bench/_startup_driver.py FIRST.flac

Runs ``desktop.app.main`` unchanged (argument parsing, logging, crash handler, QApplication,
window, files given on the command line), with ``desktop.main_window.MainWindow`` replaced by a
subclass that only *listens*: it records when the window is shown (the first pass of the event
loop after ``show()``, so the first paint has been processed), when the first file given on the
command line gets its label, and then, once the window is idle and its view drawn, drops each
file of ``SER_BENCH_DROPS`` on the window (a real ``QDropEvent``) and times it to its label.
Prints one line ``BENCH_JSON {...}`` (seconds since the launch, measured with ``time.time()``
against the parent's launch time, so interpreter start-up counts) and exits through the app's
own shutdown path.
"""

import json
import os
import sys
import time
import warnings
from pathlib import Path

LAUNCH = float(os.environ["SER_BENCH_LAUNCH"])
DROPS = [p for p in os.environ.get("SER_BENCH_DROPS", "").split(os.pathsep) if p]
#: The window must be idle (and its first view drawn, or this long passed) before each drop.
VIEW_WAIT_S = 30.0
#: Pause after the window settles before a drop, so a drop meets a quiet app.
SETTLE_MS = 300
#: Give up (exit 3) after this long; what was measured is still printed.
TIMEOUT_S = 600

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

times = {"driver_started": time.time() - LAUNCH}
windows = []


def _debug(*args):
    if os.environ.get("SER_BENCH_DEBUG"):
        print(f"[bench {time.time() - LAUNCH:7.3f}]", *args, file=sys.stderr, flush=True)


def since_launch():
    return time.time() - LAUNCH


def _install():
    from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from desktop import main_window

    base = main_window.MainWindow

    class TimedWindow(base):
        """The real window; it only adds listeners."""

        def __init__(self, *args, **kwargs):
            times["window_init"] = since_launch()
            super().__init__(*args, **kwargs)
            times["window_built"] = since_launch()
            windows.append(self)
            self._bench_done = {}          # path -> seconds since launch of its label
            self._bench_labels = {}
            self._bench_shown = False
            self._bench_views = set()   # paths whose waveform/spectrogram was drawn
            self._bench_idle = False
            self._bench_first = None
            self._bench_drop_at = None     # (path, time.time()) of the pending drop
            self._bench_drops = list(DROPS)
            self._bench_latencies = []
            self._bench_phase = "first"
            self.table.model().dataChanged.connect(self._bench_on_changed)
            self.idle.connect(self._bench_on_idle)
            self.view_shown.connect(self._bench_on_view)
            worker = getattr(self, "_worker", None)   # optional: launch -> model loaded
            if worker is not None and hasattr(worker, "model_ready"):
                worker.model_ready.connect(self._bench_on_model_ready)
            QTimer.singleShot(TIMEOUT_S * 1000, self._bench_timeout)

        def showEvent(self, event):
            super().showEvent(event)
            if not self._bench_shown:
                self._bench_shown = True
                times["show_called"] = since_launch()
                # Posted events (layout, expose, the first paint) run before timers.
                QTimer.singleShot(0, self._bench_on_shown)

        def _bench_on_shown(self):
            times["window_shown"] = since_launch()
            times["window_visible"] = bool(self.isVisible())

        def _bench_on_model_ready(self, *_):
            times.setdefault("model_ready", since_launch())

        def _bench_on_view(self, path):
            _debug("view", path)
            self._bench_views.add(path)
            self._bench_maybe_drop()

        def _bench_on_changed(self, *_):
            for path in self.queued_paths():
                if path in self._bench_done:
                    continue
                status = self.status_of(path)
                if status not in ("done", "error"):
                    continue
                now = time.time()
                self._bench_done[path] = now - LAUNCH
                result = self.result_of(path)
                self._bench_labels[path] = getattr(result, "label", None) if result is not None \
                    else f"error: {self.error_of(path)}"
                if self._bench_first is None:
                    self._bench_first = path
                    times["first_label"] = now - LAUNCH
                    times["first_label_value"] = self._bench_labels[path]
                    times["first_path"] = path
                elif self._bench_drop_at is not None and path == self._bench_drop_at[0]:
                    self._bench_latencies.append({"path": path, "seconds": now - self._bench_drop_at[1],
                                                  "label": self._bench_labels[path]})
                    self._bench_drop_at = None

        def _bench_on_idle(self):
            _debug("idle", self._bench_first)
            self._bench_on_changed()  # in case a label landed without a dataChanged we saw
            self._bench_idle = True
            if self._bench_first is not None and self._bench_phase == "first":
                self._bench_phase = "drops"
                self._bench_waited_since = time.time()
                QTimer.singleShot(int(VIEW_WAIT_S * 1000), self._bench_maybe_drop)
            self._bench_maybe_drop()

        def _bench_maybe_drop(self):
            _debug("maybe_drop", self._bench_phase, self._bench_drop_at, self.is_idle())
            if self._bench_phase != "drops" or self._bench_drop_at is not None or not self.is_idle():
                return
            view_drawn = self._bench_first in self._bench_views
            if not view_drawn and time.time() - self._bench_waited_since < VIEW_WAIT_S:
                return
            if not self._bench_drops:
                self._bench_phase = "exit"
                times["view_drawn_before_drops"] = view_drawn
                QTimer.singleShot(0, lambda: QApplication.instance().exit(0))
                return
            self._bench_phase = "settling"
            QTimer.singleShot(SETTLE_MS, self._bench_drop_next)

        def _bench_drop_next(self):
            path = str(Path(self._bench_drops.pop(0)).resolve())
            before = len(self.queued_paths())
            mime = QMimeData()
            mime.setUrls([QUrl.fromLocalFile(path)])
            centre = QPointF(self.width() / 2, self.height() / 2)
            self._bench_phase = "drops"
            self._bench_drop_at = (path, time.time())
            # What a drag from a file manager delivers: Qt only lets a Drop through to a widget
            # that accepted the DragEnter before it.
            with warnings.catch_warnings():  # PySide6 marks these QPoint constructors deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                for kind in (QDragEnterEvent, QDragMoveEvent):
                    QApplication.sendEvent(self, kind(centre.toPoint(), Qt.CopyAction, mime, Qt.LeftButton,
                                                      Qt.NoModifier))
            QApplication.sendEvent(self, QDropEvent(centre, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
            queued = self.queued_paths()
            if len(queued) == before:  # the drop did not reach add_paths: say so, use it directly
                times["drop_fallback"] = True
                self.add_paths([path])
                queued = self.queued_paths()
            if queued[-1] != path:      # the queue spells the path its own way: follow it
                self._bench_drop_at = (queued[-1], self._bench_drop_at[1])
            self._bench_on_changed()

        def _bench_timeout(self):
            times["timed_out"] = True
            QApplication.instance().exit(3)

        def bench_report(self):
            times["drops"] = self._bench_latencies
            times["labels"] = self._bench_labels

    main_window.MainWindow = TimedWindow
    return TimedWindow


def main():
    _install()
    from desktop import app

    code = app.main(sys.argv[1:])
    for w in windows:
        w.bench_report()
    times["exit_code"] = code
    times["heavy_modules"] = sorted(m for m in ("tensorflow", "keras", "librosa") if m in sys.modules)
    print("BENCH_JSON " + json.dumps(times), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
