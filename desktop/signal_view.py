"""Waveform above spectrogram above the timeline (model and clinician tiers, and a speaker tier
when the recording's speakers were found), one linked time axis and a playhead.

Draws :class:`ser_engine.display.ViewData` (computed in the I/O worker). Long recordings
arrive as an overview; when the user zooms in to :data:`~ser_engine.display.SLICE_MAX_SECONDS`
or less, the view asks (debounced, so a drag or a wheel spin asks once) for the visible
stretch at full resolution and draws it over the overview. The mouse zooms and pans time only
(the frequency axis stays 0–8 kHz: a wheel over the spectrogram once zoomed both). A click in
the waveform, the spectrogram or the timeline moves the cursor (the playhead) there; a click on
a segment also selects it, a click on one of the clinician's labels marks its stretch. ←/→
(when the view has focus) step through the segments; the window's Analyse tab owns the other keys.
"""

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QTextOption

from ser_engine.display import SLICE_MAX_SECONDS, ViewData

from .emotion_strip import EmotionStrip

_CENTRED = QTextOption(Qt.AlignmentFlag.AlignCenter)

logger = logging.getLogger(__name__)

DEFAULT_LEVELS = (-120.0, -30.0)  # dBFS shown from dark to bright; fixed, so files compare
DEFAULT_COLOUR_MAP = "inferno"
AXIS_WIDTH = 62  # the same left-axis width for every row keeps the time axes aligned
WAVE_PEN = "#2b5d9b"
PLAYHEAD_PEN = pg.mkPen("#00b3ff", width=2)
#: Quiet time after the last zoom/scroll step before the visible slice is asked for (ms).
SLICE_DEBOUNCE_MS = 150
#: The timeline row's height in pixels for each number of tiers (model and clinician; and speaker),
#: at the usual font size; a larger system font makes it taller (:data:`TIER_LINES` lines a tier).
STRIP_HEIGHT = {2: 104, 3: 146}
TIER_LINES = 2.4


class SignalView(pg.GraphicsLayoutWidget):
    """Draws what :class:`~desktop.io_worker.IOWorker` computed; does no signal processing.

    Mouse: drag or wheel zooms and pans along time (the three rows move together);
    a click seeks the playhead; a click on the emotion strip also picks that segment.
    """

    seek_requested = Signal(float)    # seconds
    segment_clicked = Signal(int)     # index into the strip's segments
    clinician_clicked = Signal(float)  # seconds: a click on one of the clinician's labels
    slice_requested = Signal(float, float)  # seconds: a long recording's stretch to show in full
    step_requested = Signal(int)      # -1 / +1: previous / next segment

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setAcceptDrops(False)  # drops go to the window
        self.ci.setSpacing(4)
        self._duration = 0.0
        self._levels = DEFAULT_LEVELS
        self._overview = False
        self._slice = None  # (t0, t1) of the slice drawn
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._slice_timer = QTimer(self)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(SLICE_DEBOUNCE_MS)
        self._slice_timer.timeout.connect(self._on_range_settled)

        self.wave_plot = self.addPlot(row=0, col=0)
        self.wave_plot.setLabel("left", "Amplitude")
        self.wave_plot.getAxis("left").enableAutoSIPrefix(False)
        self.wave_plot.getAxis("bottom").setStyle(showValues=False)
        self.wave_plot.setMouseEnabled(x=True, y=False)
        self.wave_plot.setMenuEnabled(False)
        self.wave_plot.hideButtons()
        self.wave_plot.showGrid(x=True, y=False, alpha=0.15)
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen(WAVE_PEN, width=1))
        self.wave_curve.setDownsampling(auto=True, method="peak")
        self.wave_curve.setClipToView(True)
        self.slice_curve = self.wave_plot.plot(pen=pg.mkPen(WAVE_PEN, width=1))
        self.slice_curve.setDownsampling(auto=True, method="peak")
        self.slice_curve.setClipToView(True)
        self.slice_curve.setZValue(5)

        self.spec_plot = self.addPlot(row=1, col=0)
        self.spec_plot.setLabel("left", "Frequency", units="Hz")
        self.spec_plot.getAxis("bottom").setStyle(showValues=False)
        self.spec_plot.setMouseEnabled(x=True, y=False)
        self.spec_plot.setMenuEnabled(False)
        self.spec_plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.spec_plot.addItem(self.image)
        self.slice_image = pg.ImageItem(axisOrder="row-major")
        self.slice_image.setZValue(5)
        self.spec_plot.addItem(self.slice_image)
        self.colour_bar = pg.ColorBarItem(values=self._levels, colorMap=DEFAULT_COLOUR_MAP, label="dBFS",
                                          interactive=True, width=14, colorMapMenu=False)
        self.colour_bar.setImageItem([self.image, self.slice_image])
        self.addItem(self.colour_bar, row=1, col=1)

        self.strip = EmotionStrip()
        self.addItem(self.strip, row=2, col=0)

        for plot in (self.wave_plot, self.spec_plot, self.strip):
            plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.spec_plot.setXLink(self.wave_plot)
        self.strip.setXLink(self.wave_plot)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 5)
        self.ci.layout.setRowStretchFactor(2, 1)
        self._on_tiers_changed(2)
        self.strip.tiers_changed.connect(self._on_tiers_changed)
        self.wave_plot.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)

        self._playheads = []
        for plot in (self.wave_plot, self.spec_plot, self.strip):
            line = pg.InfiniteLine(pos=0, angle=90, movable=False, pen=PLAYHEAD_PEN)
            line.setZValue(100)
            plot.addItem(line, ignoreBounds=True)
            self._playheads.append(line)
        self._message = pg.TextItem("", color="#555555", anchor=(0.5, 0.5))
        self.wave_plot.addItem(self._message, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.show_empty()

    # -- content ------------------------------------------------------------------------
    def show_empty(self, message="Select a recording in the queue"):
        """No signal drawn, ``message`` instead (the timeline is its controller's to fill)."""
        self._duration = 0.0
        self._overview = False
        self._clear_slice()
        self.wave_curve.setData([], [])
        self.image.clear()
        self.set_playhead(0.0)
        self.wave_plot.setXRange(0, 1, padding=0)
        self.wave_plot.setYRange(-1, 1, padding=0)
        self.spec_plot.setYRange(0, 8000, padding=0)
        self.show_message(message)

    def show_message(self, message):
        self._message.setText(message)
        # wrap a long reason (a decoder's message can be a sentence) inside the plot, centred
        self._message.setTextWidth(max(200, int(self.wave_plot.getViewBox().width() * 0.9)))
        self._message.textItem.document().setDefaultTextOption(_CENTRED)
        x0, x1 = self.wave_plot.getViewBox().viewRange()[0]
        self._message.setPos((x0 + x1) / 2, 0)
        self._message.setVisible(bool(message))

    def set_view_data(self, data: ViewData):
        """Show the waveform and spectrogram of a recording."""
        self.show_message("")
        duration = data.duration
        self._duration = duration
        self._overview = data.overview
        self._clear_slice()
        self.wave_curve.setData(data.t, data.y)
        peak = max(data.peak, 1e-4)
        self.wave_plot.setYRange(-peak * 1.05, peak * 1.05, padding=0)
        db = data.db
        self.image.setImage(db, autoLevels=False, levels=self.colour_bar.levels())
        dt = data.column_seconds
        bins = db.shape[0]
        df = data.max_frequency / (bins - 1)
        x0 = 0.0 if self._overview else -dt / 2  # overview columns start at their first frame
        self.image.setRect(QRectF(x0, -df / 2, dt * db.shape[1], df * bins))
        limit = dict(xMin=0, xMax=max(duration, 0.01), minXRange=0.01)
        for plot in (self.wave_plot, self.spec_plot, self.strip):
            plot.setLimits(**limit)
        self.spec_plot.setLimits(yMin=0, yMax=data.max_frequency, minYRange=200)
        self.spec_plot.setYRange(0, data.max_frequency, padding=0)
        self.wave_plot.setXRange(0, duration, padding=0)

    def set_segments(self, segments):
        self.strip.set_segments(segments)

    def _on_tiers_changed(self, tiers):
        from PySide6.QtGui import QFontMetrics
        from PySide6.QtWidgets import QApplication

        line = QFontMetrics(QApplication.font()).height()
        height = max(STRIP_HEIGHT.get(tiers, STRIP_HEIGHT[2]), int(tiers * TIER_LINES * line) + 24)
        self.ci.layout.setRowMaximumHeight(2, height)
        self.ci.layout.setRowMinimumHeight(2, height)

    # -- long recordings: the visible slice ---------------------------------------------
    def is_overview(self):
        """True while a long recording is shown from its overview."""
        return self._overview

    def slice_range(self):
        """``(t0, t1)`` of the full-resolution slice drawn, or None."""
        return self._slice

    def set_slice(self, data: ViewData):
        """Draw a stretch at full resolution over the overview."""
        if not self._overview:
            return
        self.slice_curve.setData(data.t, data.y)
        db = data.db
        self.slice_image.setImage(db, autoLevels=False, levels=self.colour_bar.levels())
        dt = data.column_seconds
        df = data.max_frequency / (db.shape[0] - 1)
        self.slice_image.setRect(QRectF(data.t0 - dt / 2, -df / 2, dt * db.shape[1], df * db.shape[0]))
        self.slice_image.show()
        self.slice_curve.show()
        self._slice = (float(data.t0), float(data.t1))
        self._on_range_settled()  # the view may have moved on while the slice was read

    def _clear_slice(self):
        self._slice = None
        self._slice_timer.stop()
        self.slice_curve.setData([], [])
        self.slice_image.clear()

    def _on_x_range_changed(self, *_):
        if self._overview:
            self._slice_timer.start()

    def _on_range_settled(self):
        """Ask for the visible stretch when zoomed in far enough and it is not drawn yet."""
        if not self._overview:
            return
        x0, x1 = self.wave_plot.getViewBox().viewRange()[0]
        x0, x1 = max(float(x0), 0.0), min(float(x1), self._duration)
        span = x1 - x0
        zoomed_in = bool(0 < span <= SLICE_MAX_SECONDS)
        self.slice_curve.setVisible(zoomed_in)
        self.slice_image.setVisible(zoomed_in)
        if not zoomed_in:
            return
        if self._slice is not None and self._slice[0] <= x0 + 1e-6 and x1 <= self._slice[1] + 1e-6:
            return
        # a margin of half a view on both sides: small pans need no new read
        t0, t1 = max(x0 - span / 2, 0.0), min(x1 + span / 2, self._duration)
        self.slice_requested.emit(round(t0, 3), round(t1, 3))

    # -- keys -----------------------------------------------------------------------------
    def keyPressEvent(self, event):
        key = event.key()
        mods = Qt.KeyboardModifier
        if event.modifiers() & (mods.ControlModifier | mods.AltModifier | mods.MetaModifier):
            return super().keyPressEvent(event)
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step_requested.emit(-1 if key == Qt.Key.Key_Left else 1)
            event.accept()
            return None
        return super().keyPressEvent(event)

    def duration(self):
        return self._duration

    def reset_zoom(self):
        if self._duration:
            self.wave_plot.setXRange(0, self._duration, padding=0)
            self.spec_plot.setYRange(0, self.spec_plot.getViewBox().state["limits"]["yLimits"][1] or 8000,
                                     padding=0)

    def show_time(self, t0, t1):
        """Show ``[t0, t1]`` seconds (all rows)."""
        self.wave_plot.setXRange(t0, t1, padding=0)

    def visible_range(self):
        """``(t0, t1)`` seconds shown."""
        x0, x1 = self.wave_plot.viewRange()[0]
        return float(x0), float(x1)

    # -- playhead -----------------------------------------------------------------------
    def set_playhead(self, seconds):
        for line in self._playheads:
            line.setValue(seconds)

    def playhead(self):
        return self._playheads[0].value()

    def _on_scene_clicked(self, event):
        if event.button() != Qt.MouseButton.LeftButton or not self._duration:
            return
        pos = event.scenePos()
        for plot in (self.wave_plot, self.spec_plot, self.strip):
            if plot.getViewBox().sceneBoundingRect().contains(pos):
                seconds = float(np.clip(plot.getViewBox().mapSceneToView(pos).x(), 0.0, self._duration))
                self.seek_requested.emit(seconds)
                if plot is self.strip:
                    self.setFocus(Qt.FocusReason.MouseFocusReason)  # the keys act on the timeline now
                    y = float(plot.getViewBox().mapSceneToView(pos).y())
                    if self.strip.tier_at(y) == "clinician" and self.strip.clinician_at(seconds) is not None:
                        self.clinician_clicked.emit(seconds)
                        return
                    index = self.strip.segment_at(seconds)
                    if index >= 0:
                        self.segment_clicked.emit(index)
                return

    # -- settings -----------------------------------------------------------------------
    def levels(self):
        return tuple(self.colour_bar.levels())

    def save_state(self, settings):
        settings.setValue("signal/levels", [float(v) for v in self.colour_bar.levels()])

    def restore_state(self, settings):
        levels = settings.value("signal/levels")
        try:
            lo, hi = (float(v) for v in levels)
        except (TypeError, ValueError):
            lo, hi = DEFAULT_LEVELS
        if lo < hi:
            self._levels = (lo, hi)
            self.colour_bar.setLevels(self._levels)
