"""The timeline's view box: a drag pans and zooms time as everywhere, a Shift+drag marks a
stretch of the recording instead (for "Use the marked stretch as the neutral reference")."""

import logging

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

logger = logging.getLogger(__name__)


class StretchViewBox(pg.ViewBox):
    """Emits ``stretch_dragged(t0, t1, finished)`` in seconds while the user Shift+drags."""

    stretch_dragged = Signal(float, float, bool)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph's name)
        if ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            t0 = self.mapSceneToView(ev.buttonDownScenePos()).x()
            t1 = self.mapSceneToView(ev.scenePos()).x()
            self.stretch_dragged.emit(float(t0), float(t1), bool(ev.isFinish()))
            return
        super().mouseDragEvent(ev, axis)
