"""Waveform above spectrogram above the emotion strip, one linked time axis and a playhead."""

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal

from .emotion_strip import EmotionStrip

logger = logging.getLogger(__name__)

DEFAULT_LEVELS = (-120.0, -30.0)  # dBFS shown from dark to bright; fixed, so files compare
DEFAULT_COLOUR_MAP = "inferno"
AXIS_WIDTH = 62  # the same left-axis width for every row keeps the time axes aligned
WAVE_PEN = "#2b5d9b"
PLAYHEAD_PEN = pg.mkPen("#00b3ff", width=2)


class SignalView(pg.GraphicsLayoutWidget):
    """Draws what :class:`~desktop.io_worker.IOWorker` computed; does no signal processing.

    Mouse: drag or wheel zooms and pans along time (the three rows move together);
    a click seeks the playhead; a click on the emotion strip also picks that segment.
    """

    seek_requested = Signal(float)    # seconds
    segment_clicked = Signal(int)     # index into the strip's segments

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setAcceptDrops(False)  # drops go to the window
        self.ci.setSpacing(4)
        self._duration = 0.0
        self._levels = DEFAULT_LEVELS

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

        self.spec_plot = self.addPlot(row=1, col=0)
        self.spec_plot.setLabel("left", "Frequency", units="Hz")
        self.spec_plot.getAxis("bottom").setStyle(showValues=False)
        self.spec_plot.setMouseEnabled(x=True, y=True)
        self.spec_plot.setMenuEnabled(False)
        self.spec_plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.spec_plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=self._levels, colorMap=DEFAULT_COLOUR_MAP, label="dBFS",
                                          interactive=True, width=14, colorMapMenu=False)
        self.colour_bar.setImageItem(self.image)
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
        self.ci.layout.setRowMaximumHeight(2, 74)
        self.ci.layout.setRowMinimumHeight(2, 74)

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
        self._duration = 0.0
        self.wave_curve.setData([], [])
        self.image.clear()
        self.strip.set_segments([])
        self.set_playhead(0.0)
        self.wave_plot.setXRange(0, 1, padding=0)
        self.wave_plot.setYRange(-1, 1, padding=0)
        self.spec_plot.setYRange(0, 8000, padding=0)
        self.show_message(message)

    def show_message(self, message):
        self._message.setText(message)
        x0, x1 = self.wave_plot.getViewBox().viewRange()[0]
        self._message.setPos((x0 + x1) / 2, 0)
        self._message.setVisible(bool(message))

    def set_view_data(self, data):
        """Show the waveform and spectrogram of :meth:`IOWorker.load_view`'s ``data``."""
        self.show_message("")
        duration = data["duration"]
        self._duration = duration
        self.wave_curve.setData(data["t"], data["y"])
        peak = max(float(data.get("peak", 0.0)), 1e-4)
        self.wave_plot.setYRange(-peak * 1.05, peak * 1.05, padding=0)
        db = data["db"]
        self.image.setImage(db, autoLevels=False, levels=self.colour_bar.levels())
        dt = data["column_seconds"]
        bins = db.shape[0]
        df = data["max_frequency"] / (bins - 1)
        self.image.setRect(QRectF(-dt / 2, -df / 2, dt * db.shape[1], df * bins))
        limit = dict(xMin=0, xMax=max(duration, 0.01), minXRange=0.01)
        for plot in (self.wave_plot, self.spec_plot, self.strip):
            plot.setLimits(**limit)
        self.spec_plot.setLimits(yMin=0, yMax=data["max_frequency"], minYRange=200)
        self.spec_plot.setYRange(0, data["max_frequency"], padding=0)
        self.wave_plot.setXRange(0, duration, padding=0)

    def set_segments(self, segments):
        self.strip.set_segments(segments)

    def duration(self):
        return self._duration

    def reset_zoom(self):
        if self._duration:
            self.wave_plot.setXRange(0, self._duration, padding=0)
            self.spec_plot.setYRange(0, self.spec_plot.getViewBox().state["limits"]["yLimits"][1] or 8000,
                                     padding=0)

    # -- playhead -----------------------------------------------------------------------
    def set_playhead(self, seconds):
        for line in self._playheads:
            line.setValue(seconds)

    def playhead(self):
        return self._playheads[0].value()

    def _on_scene_clicked(self, event):
        if event.button() != Qt.LeftButton or not self._duration:
            return
        pos = event.scenePos()
        for plot in (self.wave_plot, self.spec_plot, self.strip):
            if plot.getViewBox().sceneBoundingRect().contains(pos):
                seconds = float(np.clip(plot.getViewBox().mapSceneToView(pos).x(), 0.0, self._duration))
                self.seek_requested.emit(seconds)
                if plot is self.strip:
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
