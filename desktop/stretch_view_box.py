"""The timeline's view box: a drag pans and zooms time as everywhere, except where the timeline
says otherwise: a Shift+drag anywhere, or a drag in the clinician tier, marks a stretch of the
recording (to label it, note it, or use it as the neutral reference); a drag that starts on a
boundary of the clinician's labels moves that boundary (the mouse pointer turns into a
left-right arrow over one).

The view box knows nothing of tiers: its :attr:`StretchViewBox.drag_mode` (set by the
timeline) answers, for a point in view coordinates and the width of a few pixels in seconds,
whether a drag from there marks a stretch, moves a boundary (and which) or pans.
"""

import logging
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

logger = logging.getLogger(__name__)

#: How near (pixels) a boundary the mouse must be to grab it.
GRAB_PIXELS = 5
PAN, STRETCH, BOUNDARY = "pan", "stretch", "boundary"


def _pan(_t: float, _y: float, _tolerance: float) -> tuple[str, float | None]:
    return PAN, None


class StretchViewBox(pg.ViewBox):
    """Emits ``stretch_dragged(t0, t1, finished)`` while the user marks a stretch and
    ``boundary_dragged(boundary, t, finished)`` while they move a boundary (seconds)."""

    stretch_dragged = Signal(float, float, bool)
    boundary_dragged = Signal(float, float, bool)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: ``(t, y, tolerance_s) -> (PAN | STRETCH | BOUNDARY, the boundary's time or None)``.
        self.drag_mode: Callable[[float, float, float], tuple[str, float | None]] = _pan
        self._drag: tuple[str, float | None] = (PAN, None)
        self.setAcceptHoverEvents(True)

    def _tolerance(self):
        return GRAB_PIXELS * abs(self.viewPixelSize()[0])

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._drag = (STRETCH, None)
            else:
                self._drag = self.drag_mode(float(start.x()), float(start.y()), self._tolerance())
        mode, boundary = self._drag
        if mode == PAN:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        t0 = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
        t1 = float(self.mapSceneToView(ev.scenePos()).x())
        if mode == BOUNDARY and boundary is not None:
            self.boundary_dragged.emit(boundary, t1, bool(ev.isFinish()))
        else:
            self.stretch_dragged.emit(t0, t1, bool(ev.isFinish()))
        if ev.isFinish():
            self._drag = (PAN, None)

    def hoverEvent(self, ev):  # noqa: N802 (pyqtgraph's name)
        if ev.isExit():
            self.unsetCursor()
            return
        pos = self.mapSceneToView(ev.scenePos())
        mode, _ = self.drag_mode(float(pos.x()), float(pos.y()), self._tolerance())
        if mode == BOUNDARY:
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            self.unsetCursor()
