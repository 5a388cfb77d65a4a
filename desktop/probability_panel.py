"""The right-hand panel: the label, its confidence and the probabilities of all classes."""

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from .colours import ERROR_FOREGROUND, UNCERTAIN_COLOUR, emotion_colour, text_colour_on

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
        layout.addSpacing(4)
        layout.addLayout(grid)
        layout.addWidget(self._normalisation)
        layout.addSpacing(6)
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
        self._segment_list.clear()
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

    def show_result(self, result, segment=None):
        """The whole recording, or ``segment`` (a Segment of ``result``) when given."""
        self._file.setText(Path(result.path).name)
        self._file.setToolTip(result.path)
        if segment is None:
            label, confidence, probs = result.label, result.confidence, result.probabilities
            uncertain = result.uncertain
            self._scope.setText(f"Whole recording, {result.duration:.2f} s")
            self._whole.hide()
        else:
            label, confidence, probs = segment.label, segment.confidence, segment.probabilities
            uncertain = confidence < self._uncertain_below
            self._scope.setText(f"Segment {segment.start:.2f}–{segment.end:.2f} s")
            self._whole.show()
        colour = emotion_colour(label)
        self._headline.setText(label.capitalize())
        self._headline.setStyleSheet(
            f"font-size: 22px; font-weight: 700; border-radius: 6px; padding: 4px;"
            f"background: {colour.name()}; color: {text_colour_on(colour).name()};")
        self._confidence.setText(f"confidence {confidence:.0%}")
        if uncertain:
            self._uncertain.setText(f"⚠ Uncertain: confidence below {self._uncertain_below:.0%}. "
                                    "Treat this label with caution.")
        self._uncertain.setVisible(bool(uncertain))
        self._normalisation.setText("Normalisation: " + ("speaker baseline (this folder)"
                                                         if result.normalisation == "speaker" else "global"))
        self._fill_segments(result.segments, segment)
        ordered = sorted(probs.items(), key=lambda kv: -kv[1])
        self._shown = [(k, float(v)) for k, v in ordered]
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

    def _fill_segments(self, segments, current):
        self._segment_list.blockSignals(True)
        self._segment_list.clear()
        for i, seg in enumerate(segments):
            item = QListWidgetItem(f"{seg.start:6.2f}–{seg.end:6.2f} s   {seg.label}  {seg.confidence:.0%}")
            item.setData(Qt.DecorationRole, emotion_colour(seg.label))
            item.setData(Qt.UserRole, i)
            self._segment_list.addItem(item)
            if current is not None and seg == current:
                self._segment_list.setCurrentItem(item)
        self._segment_list.blockSignals(False)

    def _on_segment_item_clicked(self, item):
        self.segment_requested.emit(int(item.data(Qt.UserRole)))
