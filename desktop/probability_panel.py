"""The right-hand panel: the label, its confidence and the probabilities of all classes, the
clinician's label of the selected segment, and the recording's summary chart."""

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from .colours import ERROR_FOREGROUND, UNCERTAIN_COLOUR, emotion_colour, text_colour_on
from .headline import headline, is_long
from .summary_chart import SummaryChart

logger = logging.getLogger(__name__)

BAR_STEPS = 1000
DEFAULT_UNCERTAIN_BELOW = 0.4


class ProbabilityPanel(QWidget):
    """Shows one Result (the whole recording) or one of its segments; draws only."""

    card_requested = Signal()
    whole_recording_requested = Signal()
    segment_requested = Signal(int)

    def __init__(self, labels, parent=None):
        super().__init__(parent)
        self.setMinimumWidth(230)
        self.setMaximumWidth(420)
        self._labels = tuple(labels)
        self._shown = []  # (label, probability) in the order shown
        self._uncertain_below = DEFAULT_UNCERTAIN_BELOW
        self._listed = None  # (id, length) of the segment list shown

        self._file = QLabel("No recording selected", self)
        self._file.setWordWrap(True)
        self._file.setStyleSheet("font-weight: 600;")
        self._scope = QLabel("", self)
        self._scope.setStyleSheet("color: #555;")
        self._whole = QPushButton("Show whole recording", self)
        self._whole.setFlat(True)
        self._whole.setCursor(Qt.PointingHandCursor)
        self._whole.setStyleSheet("QPushButton { color: #1f6fd1; text-align: left; padding: 0; }")
        self._whole.clicked.connect(self.whole_recording_requested)
        self._whole.hide()

        self._headline = QLabel("—", self)
        self._headline.setAlignment(Qt.AlignCenter)
        self._headline.setMinimumHeight(44)
        self._confidence = QLabel("", self)
        self._confidence.setAlignment(Qt.AlignCenter)
        self._confidence.setStyleSheet("font-size: 13px;")
        self._uncertain = QLabel("", self)
        self._uncertain.setWordWrap(True)
        self._uncertain.setStyleSheet(f"color: {UNCERTAIN_COLOUR}; font-weight: 600;")
        self._uncertain.hide()
        self._normalisation = QLabel("", self)
        self._normalisation.setStyleSheet("color: #555;")
        self._normalisation.setWordWrap(True)
        self._clinician = QLabel("", self)
        self._clinician.setWordWrap(True)
        self._clinician.setStyleSheet("color: #333;")
        self._clinician.setTextFormat(Qt.RichText)
        self._clinician.hide()
        self._summary_title = QLabel("Share of speech time", self)
        self._summary_title.setStyleSheet("font-weight: 600; color: #333;")
        self.summary_chart = SummaryChart(self)

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(5)
        self._names, self._bars = [], []
        for i in range(len(self._labels)):
            name = QLabel("", self)
            name.setMinimumWidth(70)
            bar = QProgressBar(self)
            bar.setRange(0, BAR_STEPS)
            bar.setTextVisible(True)
            bar.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            bar.setFixedHeight(20)
            bar.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            grid.addWidget(name, i, 0)
            grid.addWidget(bar, i, 1)
            self._names.append(name)
            self._bars.append(bar)

        self._segments_title = QLabel("Segments", self)
        self._segments_title.setStyleSheet("font-weight: 600; color: #333;")
        self._segment_list = QListWidget(self)
        self._segment_list.setMinimumHeight(60)
        self._segment_list.setMaximumHeight(200)
        self._segment_list.setUniformItemSizes(True)
        self._segment_list.itemClicked.connect(self._on_segment_item_clicked)

        line = QFrame(self)
        line.setFrameShape(QFrame.HLine)
        line.setStyleSheet("color: #ccc;")
        self._model = QLabel("Model: loading…", self)
        self._model.setWordWrap(True)
        self._model.setStyleSheet("color: #333;")
        self._card = QPushButton("Model card…", self)
        self._card.setToolTip("What the model was trained on, how it was evaluated, its limits")
        self._card.setEnabled(False)
        self._card.clicked.connect(self.card_requested)
        note = QLabel("Probabilities are the model's calibrated estimates for this recording; "
                      "they are not a diagnosis.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #666; font-size: 11px;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self._file)
        layout.addWidget(self._scope)
        layout.addWidget(self._whole)
        layout.addWidget(self._headline)
        layout.addWidget(self._confidence)
        layout.addWidget(self._uncertain)
        layout.addWidget(self._clinician)
        layout.addSpacing(4)
        layout.addLayout(grid)
        layout.addWidget(self._normalisation)
        layout.addSpacing(6)
        layout.addWidget(self._summary_title)
        layout.addWidget(self.summary_chart)
        layout.addSpacing(4)
        layout.addWidget(self._segments_title)
        layout.addWidget(self._segment_list)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addWidget(line)
        layout.addWidget(self._model)
        layout.addWidget(self._card)
        self.clear()

    # -- what is shown (tests read these) ---------------------------------------------------
    def shown_probabilities(self):
        """``[(label, probability), ...]`` in the order the bars show them."""
        return list(self._shown)

    def bar_values(self):
        """The bars' values as probabilities (0–1), top to bottom."""
        return [bar.value() / BAR_STEPS for bar in self._bars]

    def headline(self):
        return self._headline.text()

    def is_uncertain_shown(self):
        return not self._uncertain.isHidden()

    # -- content ----------------------------------------------------------------------------
    def set_model_info(self, info):
        self._uncertain_below = float(info.get("uncertain_below", DEFAULT_UNCERTAIN_BELOW))
        self._model.setText(f"Model: <b>{info['model_id']}</b>, version {info['version']}")
        self._model.setToolTip(info.get("source", ""))
        self._card.setEnabled(bool(info.get("card")))

    def set_model_failed(self, reason):
        self._model.setText(f"<span style='color:{ERROR_FOREGROUND}'>No model: {reason}</span>")

    def clear(self, title="No recording selected", message=""):
        self._file.setText(title)
        self._scope.setText(message)
        self._whole.hide()
        self._headline.setText("—")
        self._headline.setStyleSheet("font-size: 22px; color: #999; border-radius: 6px;")
        self._confidence.setText("")
        self._uncertain.hide()
        self._normalisation.setText("")
        self._clinician.hide()
        self._segment_list.clear()
        self._listed = None
        self._summary_title.hide()
        self.summary_chart.clear()
        self.summary_chart.hide()
        self._shown = []
        for name, bar in zip(self._names, self._bars):
            name.setText("")
            bar.setValue(0)
            bar.setFormat("")
            bar.setStyleSheet("")
            bar.setEnabled(False)

    def show_pending(self, path, status):
        self.clear(Path(path).name, {"queued": "Waiting in the queue…", "analysing": "Analysing…",
                                     "cancelled": "Cancelled: not analysed"}.get(status, status))

    def show_error(self, path, reason):
        self.clear(Path(path).name, "")
        self._scope.setText(f"<span style='color:{ERROR_FOREGROUND}'>Could not be analysed: {reason}</span>")
        self._scope.setWordWrap(True)

    def clinician_text(self):
        return self._clinician.text() if not self._clinician.isHidden() else ""

    def show_result(self, result, segment=None, *, clinician=None, review_note="", summary=None, corrected=None):
        """The whole recording, or ``segment`` (a Segment of ``result``) when given.

        ``clinician``: the clinician's label of ``segment`` (None: not corrected);
        ``review_note``: why corrections are unavailable, if so; ``summary`` / ``corrected``:
        the model tier's and the corrected tier's Summary for the chart.
        """
        self._file.setText(Path(result.path).name)
        self._file.setToolTip(result.path)
        if segment is None:
            h = headline(result)
            label, probs, uncertain = h.label, result.probabilities, h.uncertain
            if h.kind == "share":
                value = f"dominant: {h.value_text()} time" if h.value is not None else ""
                scope = (f"Whole recording, {_clock(result.duration)}; probabilities pooled over all its speech")
            else:
                value = f"confidence {h.value:.0%}" if h.value is not None else ""
                scope = f"Whole recording, {result.duration:.2f} s"
            self._scope.setText(scope)
            self._whole.hide()
        else:
            label, probs = segment.label, segment.probabilities or {}
            confidence = segment.confidence
            uncertain = confidence is not None and confidence < self._uncertain_below
            value = f"confidence {confidence:.0%}" if confidence is not None else "silence or non-speech"
            self._scope.setText(f"Segment {_clock(segment.start)}–{_clock(segment.end)}")
            self._whole.show()
        colour = emotion_colour(label)
        self._headline.setText(label.capitalize())
        self._headline.setStyleSheet(
            f"font-size: 22px; font-weight: 700; border-radius: 6px; padding: 4px;"
            f"background: {colour.name()}; color: {text_colour_on(colour).name()};")
        self._confidence.setText(value)
        self._show_clinician(segment, clinician, review_note)
        if summary is not None and (is_long(result) or corrected is not None):
            self.summary_chart.set_summary(summary, corrected)
            self._summary_title.show()
            self.summary_chart.show()
        else:
            self._summary_title.hide()
            self.summary_chart.hide()
        if uncertain:
            self._uncertain.setText(f"⚠ Uncertain: confidence below {self._uncertain_below:.0%}. "
                                    "Treat this label with caution.")
        self._uncertain.setVisible(bool(uncertain))
        own = "this recording's own speech" if is_long(result) else "this folder"
        self._normalisation.setText("Normalisation: " + (f"speaker baseline ({own})"
                                                         if result.normalisation == "speaker" else "global"))
        self._fill_segments(result.segments, segment)
        ordered = sorted(probs.items(), key=lambda kv: -kv[1])
        self._shown = [(k, float(v)) for k, v in ordered]
        for name, bar in zip(self._names[len(self._shown):], self._bars[len(self._shown):]):
            name.setText("")
            bar.setValue(0)
            bar.setFormat("")
            bar.setStyleSheet("")
            bar.setEnabled(False)
        for (name_text, p), name, bar in zip(self._shown, self._names, self._bars):
            c = emotion_colour(name_text)
            name.setText(name_text)
            bar.setEnabled(True)
            bar.setValue(round(p * BAR_STEPS))
            bar.setFormat(f"{p:.1%}")
            bar.setStyleSheet(
                "QProgressBar { border: 1px solid #c8c8c8; border-radius: 3px; background: #f4f4f4;"
                " color: #111; padding-right: 4px; }"
                f"QProgressBar::chunk {{ background: {c.name()}; border-radius: 2px; }}")

    def segment_rows(self):
        """The segment list's texts (tests read these)."""
        return [self._segment_list.item(i).text() for i in range(self._segment_list.count())]

    def _show_clinician(self, segment, clinician, note):
        if segment is None:
            self._clinician.hide()
            return
        if note:
            self._clinician.setText(f"<span style='color:{ERROR_FOREGROUND}'>Corrections unavailable: {note}</span>")
        elif clinician:
            c = emotion_colour(clinician)
            self._clinician.setText(f"Your label: <b><span style='background:{c.name()};"
                                    f"color:{text_colour_on(c).name()}'>&nbsp;{clinician}&nbsp;</span></b>"
                                    " &nbsp;(0 clears it)")
        else:
            self._clinician.setText("Your label: none yet — keys 1–8 set it, L loops the segment")
        self._clinician.show()

    def _fill_segments(self, segments, current):
        key = (id(segments), len(segments), id(segments[-1]) if segments else 0)
        self._segment_list.blockSignals(True)
        if key == self._listed:  # the same list (a new selection in it): no refill for 1,000s of rows
            index = next((i for i, seg in enumerate(segments) if seg == current), -1) if current else -1
            self._segment_list.setCurrentRow(index)
            self._segment_list.blockSignals(False)
            return
        self._listed = key
        self._segment_list.clear()
        for i, seg in enumerate(segments):
            conf = "" if seg.confidence is None else f"  {seg.confidence:.0%}"
            item = QListWidgetItem(f"{_clock(seg.start):>8}–{_clock(seg.end):>8}   {seg.label}{conf}")
            item.setData(Qt.DecorationRole, emotion_colour(seg.label))
            item.setData(Qt.UserRole, i)
            self._segment_list.addItem(item)
            if current is not None and seg == current:
                self._segment_list.setCurrentItem(item)
        self._segment_list.blockSignals(False)

    def _on_segment_item_clicked(self, item):
        self.segment_requested.emit(int(item.data(Qt.UserRole)))


def _clock(seconds):
    """``12.34 s`` below a minute, ``m:ss.s`` or ``h:mm:ss`` beyond: times a clinician reads."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.2f} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{int(m)}:{s:04.1f}"
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{int(s):02d}"
