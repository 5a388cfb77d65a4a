"""The emotion strip: the per-window labels of a recording, in their colours, along time."""

import logging

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from .colours import emotion_colour, text_colour_on

logger = logging.getLogger(__name__)

#: A segment narrower than this share of the visible range gets no text label.
MIN_LABEL_FRACTION = 0.06


class EmotionStrip(pg.PlotItem):
    """A PlotItem (so it shares the signal view's layout and linked time axis) that draws
    one coloured block per segment; clicking a block emits its index."""

    segment_clicked = Signal(int)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.setMouseEnabled(x=True, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0)
        self.getAxis("left").setTicks([[(0.5, "emotion")]])
        self.getAxis("left").setStyle(tickLength=0)
        self.setLabel("bottom", "Time", units="s")
        self._segments = []
        self._items = []
        self._selected = -1
        self.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)

    def segments(self):
        """The segments shown (ser_engine.results.Segment), in time order."""
        return list(self._segments)

    def block_colours(self):
        """The fill colour of each drawn block, as ``#rrggbb``."""
        return [item.brush().color().name() for item, _ in self._items]

    def set_segments(self, segments):
        for rect, text in self._items:
            self.removeItem(rect)
            self.removeItem(text)
        self._items = []
        self._segments = list(segments)
        self._selected = -1
        for seg in self._segments:
            colour = emotion_colour(seg.label)
            rect = QGraphicsRectItem(QRectF(seg.start, 0.04, max(seg.end - seg.start, 1e-3), 0.92))
            rect.setBrush(QBrush(colour))
            rect.setPen(QPen(QColor("#ffffff"), 0))
            rect.setToolTip(f"{seg.label}, {seg.confidence:.0%}\n{seg.start:.2f}–{seg.end:.2f} s")
            text = pg.TextItem(seg.label, color=text_colour_on(colour), anchor=(0.5, 0.5))
            text.setPos((seg.start + seg.end) / 2, 0.5)
            self.addItem(rect)
            self.addItem(text)
            self._items.append((rect, text))
        self._on_x_range_changed()

    def segment_at(self, seconds):
        for i, seg in enumerate(self._segments):
            if seg.start <= seconds < seg.end:
                return i
        return -1

    def select(self, index):
        """Outline segment ``index`` (-1: none)."""
        self._selected = index
        for i, (rect, _) in enumerate(self._items):
            pen = QPen(QColor("#111111" if i == index else "#ffffff"), 3 if i == index else 1)
            pen.setCosmetic(True)
            rect.setPen(pen)

    def _on_x_range_changed(self, *_):
        x0, x1 = self.getViewBox().viewRange()[0]
        span = max(x1 - x0, 1e-9)
        for seg, (_, text) in zip(self._segments, self._items):
            text.setVisible((seg.end - seg.start) / span >= MIN_LABEL_FRACTION)
