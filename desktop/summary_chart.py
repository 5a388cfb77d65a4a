"""A small bar chart: each emotion's share of a recording's speech time.

Painted by hand (a dozen rectangles and texts): cheaper and crisper at this size than a plot
widget. Shows the corrected tier when the clinician changed labels (with the model's share
beside it), so the summary a clinician reads is the one they agree with. Each bar carries its
emotion's pattern over its colour (as in the timeline and the report), and rows, names and
numbers are sized from the widget's font (the system's, as the user set it).
"""

import logging

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .colours import emotion_colour, emotion_pattern, text_colour_on
from .timefmt import clock

logger = logging.getLogger(__name__)

#: The least row height, name width and value width (pixels) at a small font; a larger font makes them larger.
ROW_HEIGHT = 17
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
NAME_WIDTH = 68
VALUE_WIDTH = 40
#: The pattern's ink alpha over the bar's colour.
PATTERN_ALPHA = 120


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

    def patterns(self):
        """``{label: Qt brush style}`` drawn over each bar."""
        return {lab: emotion_pattern(lab) for lab, _, _ in self._rows}

    def row_height(self):
        return max(ROW_HEIGHT, self.fontMetrics().height() + 3)

    def _name_width(self):
        return max(NAME_WIDTH, self.fontMetrics().horizontalAdvance("surprised") + 6)

    def _value_width(self):
        return max(VALUE_WIDTH, self.fontMetrics().horizontalAdvance("100%") + 6)

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
        return QSize(220, self.row_height() * (len(self._rows) + lines) + 4)

    def minimumSizeHint(self):
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, _event):
        if not self._rows:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        width = self.width()
        row, name_w, value_w = self.row_height(), self._name_width(), self._value_width()
        bar_w = max(width - name_w - value_w - 8, 20)
        for i, (lab, share, model) in enumerate(self._rows):
            y = i * row
            p.setPen(QColor("#333333"))
            p.drawText(QRectF(0, y, name_w - 4, row), _RIGHT, lab)
            p.fillRect(QRectF(name_w, y + 3, bar_w, row - 6), QColor("#f1f1f1"))
            if share > 0:
                colour = emotion_colour(lab)
                bar = QRectF(name_w, y + 3, max(bar_w * share, 1.5), row - 6)
                p.fillRect(bar, colour)
                pattern = emotion_pattern(lab)
                if pattern != Qt.BrushStyle.NoBrush:
                    ink = QColor(text_colour_on(colour))
                    ink.setAlpha(PATTERN_ALPHA)
                    p.fillRect(bar, QBrush(ink, pattern))
            if model is not None:  # the model's share, as a tick
                x = name_w + bar_w * model
                p.setPen(QPen(QColor("#111111"), 2))
                p.drawLine(int(x), y + 1, int(x), y + row - 1)
            p.setPen(QColor("#333333"))
            p.drawText(QRectF(name_w + bar_w + 4, y, value_w, row), _LEFT, f"{share:.0%}")
        p.setPen(QColor("#666666"))
        y = len(self._rows) * row
        for k, line in enumerate(self._footer.split("\n")):
            p.drawText(QRectF(0, y + k * row, width, row), _LEFT, line)
        p.end()
