"""``--screenshot PNG`` and ``--quit-when-idle``: a script's hold on the running app (start-up
benchmarks, documentation pictures, the exit-code tests), kept out of the app's own start-up.

Once the queue is analysed, the first file is selected and, when its signal is drawn (or after
:data:`VIEW_TIMEOUT_MS`), the window is saved as a PNG; then the app exits (code 1 if the PNG
could not be written, 2 if the analysis never settled within :data:`HEADLESS_TIMEOUT_S`).
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QObject, QTimer

#: The harness gives up (exit 2) if the window never settles within this many seconds.
HEADLESS_TIMEOUT_S = 600
#: After selecting the first file, how long to wait for its waveform before saving anyway.
VIEW_TIMEOUT_MS = 20000


def mark(event: str) -> None:
    """With SER_STUDIO_TIMING set, print when ``event`` happened (bench/bench_packaging.py reads it)."""
    if os.environ.get("SER_STUDIO_TIMING"):
        print(f"SER_TIMING {event} {time.time():.4f}", file=sys.stderr, flush=True)


class IdleHarness(QObject):
    """Saves a screenshot and/or quits once ``window`` is idle."""

    def __init__(self, app, window, *, screenshot: str | None = None, quit_when_idle: bool = False):
        super().__init__(window)
        self._app = app
        self._window = window
        self._screenshot = screenshot
        self._quit = quit_when_idle
        self._done = False
        window.idle.connect(self._on_idle)
        QTimer.singleShot(HEADLESS_TIMEOUT_S * 1000, self._on_timeout)

    def _on_idle(self) -> None:
        w = self._window
        if self._done or not w.is_idle():
            return
        queued = w.table.visible_paths()
        if not (self._screenshot and queued):
            self._save_and_quit()
            return
        first = queued[0]
        w.views.view_shown.connect(lambda path: path == first and QTimer.singleShot(50, self._save_and_quit))
        QTimer.singleShot(VIEW_TIMEOUT_MS, self._save_and_quit)
        if w.selected_path() != first:
            w.select_path(first)
        elif w.shown_view_path() == first:
            QTimer.singleShot(50, self._save_and_quit)

    def _save_and_quit(self) -> None:
        if self._done:
            return
        self._done = True
        mark("idle")
        if self._screenshot:
            self._app.processEvents()
            if not self._window.grab().save(self._screenshot):
                print(f"ser-studio: could not save {self._screenshot}", file=sys.stderr)
                self._app.exit(1)
                return
        if self._quit:
            self._app.exit(0)

    def _on_timeout(self) -> None:
        if not self._done:
            print("ser-studio: gave up waiting for the analysis to finish", file=sys.stderr)
            self._app.exit(2)
