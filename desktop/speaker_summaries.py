"""Each speaker's share of their speech time per emotion: one titled
:class:`~desktop.summary_chart.SummaryChart` per speaker, the patient first.

A view of :func:`desktop.readout.speaker_views`: the title of each chart is that speaker's
answer ("Patient (S2) · patient: sad 40% · 3:12 speaking, 14 turns"), so a clinician reads
the patient's profile apart from the clinician's calm questions.
"""

import logging

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .summary_chart import SummaryChart

logger = logging.getLogger(__name__)


class SpeakerSummaries(QWidget):
    """``set_views([SpeakerView, ...])``; empty: nothing shown."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._titles: list[QLabel] = []
        self._charts: list[SummaryChart] = []

    # -- what is shown (tests read these) ---------------------------------------------------
    def titles(self):
        return [t.text() for t in self._titles]

    def shares(self):
        """``[{label: share}, ...]`` per speaker, as drawn."""
        return [c.shares() for c in self._charts]

    def footers(self):
        return [c.footer() for c in self._charts]

    # -- content ------------------------------------------------------------------------------
    def set_views(self, views):
        while len(self._charts) > len(views):
            self._titles.pop().deleteLater()
            self._charts.pop().deleteLater()
        while len(self._charts) < len(views):
            title = QLabel(self)
            title.setWordWrap(True)
            chart = SummaryChart(self)
            self._layout.addWidget(title)
            self._layout.addWidget(chart)
            self._titles.append(title)
            self._charts.append(chart)
        for view, title, chart in zip(views, self._titles, self._charts, strict=True):
            title.setText(view.title())
            title.setStyleSheet("font-weight: 700; color: #222; padding-top: 4px;" if view.patient
                                else "font-weight: 600; color: #333; padding-top: 4px;")
            chart.set_summary(view.summary, view.corrected, footer="")
        self.setVisible(bool(views))
