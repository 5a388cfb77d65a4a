"""The status bar's progress bar for the batch, redrawn at most every :data:`REDRAW_MS`.

A QProgressBar repaints synchronously whenever a new value changes its text, and the worker
answers in bursts: 30 clips queued ~120 block events, which the GUI thread handles in passes of
its event loop, one synchronous repaint each (0.6 ms here). The bar is shown or hidden at once;
between those, the latest progress is drawn on a timer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QWidget

from .session import BatchProgress

REDRAW_MS = 50  # 20 redraws a second: smooth to the eye, a bounded cost per second


class BatchProgressBar(QProgressBar):
    """Follows ``progress()`` (None when nothing is pending): call :meth:`follow` after each change."""

    def __init__(self, progress: Callable[[], BatchProgress | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._progress = progress
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(lambda: self._draw(self._progress()))
        self.setTextVisible(True)
        self.hide()

    def follow(self) -> None:
        """The progress changed: shown or hidden now, redrawn now or within :data:`REDRAW_MS`."""
        progress = self._progress()
        if progress is None or self.isHidden():
            self._draw(progress)
        elif not self._timer.isActive():
            self._timer.start()

    def dismiss(self) -> None:
        """Hidden until the next :meth:`follow`, a redraw still due dropped (it would show the bar again)."""
        self._timer.stop()
        self.hide()

    def _draw(self, progress: BatchProgress | None) -> None:
        self._timer.stop()
        if progress is None:
            self.hide()
            return
        self.setRange(0, progress.maximum)
        self.setValue(progress.value)
        self.setFormat(progress.text)
        self.show()
