"""A small bar chart: each emotion's share of a recording's speech time.

Painted by hand (a dozen rectangles and texts): cheaper and crisper at this size than a plot
widget. Shows the corrected tier when the clinician changed labels (with the model's share
beside it), so the summary a clinician reads is the one they agree with.
"""

import logging

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .colours import emotion_colour
from .timefmt import clock

logger = logging.getLogger(__name__)

ROW_HEIGHT = 17
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
NAME_WIDTH = 68
VALUE_WIDTH = 40


class SummaryChart(QWidget):
    """``set_summary(model, corrected=None)`` with :class:`ser_engine.summary.Summary` objects."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows = []       # (label, share shown, model share or None)
        self._footer = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Share of the speech time labelled with each emotion (silence excluded)")

    def shares(self):
        """``{label: share}`` as drawn (tests read this)."""
        return {lab: share for lab, share, _ in self._rows}

    def footer(self):
        return self._footer

    def clear(self):
        self._rows = []
        self._footer = ""
        self.updateGeometry()
        self.update()

    def set_summary(self, model, corrected=None, *, footer=None):
        """Draw ``model``'s shares (``corrected``'s, with the model's as ticks, when given);
        ``footer``: the line under the bars (default: speech and no-speech time)."""
        shown = corrected or model
        self._rows = [(lab, shown.shares[lab], model.shares.get(lab) if corrected else None)
                      for lab in shown.shares]
        speech, silent = shown.speech_seconds, shown.no_speech_seconds
        self._footer = f"speech {clock(speech)} · no speech {clock(silent)}" if footer is None else footer
        if corrected:
            self._footer = (self._footer + "\n" if self._footer else "") + "with your corrections (| model)"
        self.updateGeometry()
        self.update()

    def sizeHint(self):
        lines = self._footer.count("\n") + 1 if self._rows and self._footer else 0
        return QSize(220, ROW_HEIGHT * (len(self._rows) + lines) + 4)

    def minimumSizeHint(self):
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, _event):
        if not self._rows:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        width = self.width()
        bar_w = max(width - NAME_WIDTH - VALUE_WIDTH - 8, 20)
        for i, (lab, share, model) in enumerate(self._rows):
            y = i * ROW_HEIGHT
            p.setPen(QColor("#333333"))
            p.drawText(QRectF(0, y, NAME_WIDTH - 4, ROW_HEIGHT), _RIGHT, lab)
            p.fillRect(QRectF(NAME_WIDTH, y + 3, bar_w, ROW_HEIGHT - 6), QColor("#f1f1f1"))
            if share > 0:
                p.fillRect(QRectF(NAME_WIDTH, y + 3, max(bar_w * share, 1.5), ROW_HEIGHT - 6), emotion_colour(lab))
            if model is not None:  # the model's share, as a tick
                x = NAME_WIDTH + bar_w * model
                p.setPen(QPen(QColor("#111111"), 2))
                p.drawLine(int(x), y + 1, int(x), y + ROW_HEIGHT - 1)
            p.setPen(QColor("#333333"))
            p.drawText(QRectF(NAME_WIDTH + bar_w + 4, y, VALUE_WIDTH, ROW_HEIGHT), _LEFT,
                       f"{share:.0%}")
        p.setPen(QColor("#666666"))
        y = len(self._rows) * ROW_HEIGHT
        for k, line in enumerate(self._footer.split("\n")):
            p.drawText(QRectF(0, y + k * ROW_HEIGHT, width, ROW_HEIGHT), _LEFT, line)
        p.end()
