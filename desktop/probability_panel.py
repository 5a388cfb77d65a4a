"""The right-hand panel: the selected recording's (or segment's, or speaker's) label, the number
beside it and what that number is, the probabilities of all classes (the headline's number is
its label's bar), why a label is uncertain (low confidence or too noisy), how far the speech
lies above the noise, how it was normalised and from what (a neutral reference, or why one was
refused), who speaks, the clinician's label of the selected segment, the summary chart (one
per speaker, the patient first) and the segment list.

A view of the :class:`~desktop.session.Session`: it redraws on the session's events and reads
what to show from :mod:`desktop.readout` (one function per part), so what the panel answers is
decided there, not here. Clicking a segment in the list (or moving in it with the arrow keys)
selects it in the session, as a click on the timeline does.
"""

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from . import readout
from .colours import ERROR_FOREGROUND, UNCERTAIN_COLOUR, emotion_colour, text_colour_on
from .session import MODEL_FAILED, MODEL_LOADING, Session
from .speaker_summaries import SpeakerSummaries
from .summary_chart import SummaryChart

logger = logging.getLogger(__name__)

BAR_STEPS = 1000
HEADLINE_EMPTY_STYLE = "font-size: 22px; color: #999; border-radius: 6px;"


def percent(p):
    """A bar's text: whole percents, as the headline and the summary chart write the same
    share ("81%"), and "<1%" for what would read 0%."""
    return "<1%" if 0 < p < 0.005 else f"{p:.0%}"


class ProbabilityPanel(QWidget):
    """Draws the selection of a :class:`~desktop.session.Session`."""

    card_requested = Signal()

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setMinimumWidth(230)
        self.setMaximumWidth(420)
        self._session = session
        self._shown: list[tuple[str, float]] = []  # (label, probability) in the order shown
        self._listed: tuple | None = None  # what the segment list holds: (path, id of the result, count)

        self._file = QLabel("No recording selected", self)
        self._file.setWordWrap(True)
        self._file.setStyleSheet("font-weight: 600;")
        self._scope = QLabel("", self)
        self._scope.setStyleSheet("color: #555;")
        self._scope.setWordWrap(True)
        self._whole = QPushButton("Show whole recording", self)
        self._whole.setFlat(True)
        self._whole.setCursor(Qt.CursorShape.PointingHandCursor)
        self._whole.setStyleSheet("QPushButton { color: #1f6fd1; text-align: left; padding: 0; }")
        self._whole.clicked.connect(self._on_whole_clicked)
        self._whole.hide()
        self._speakers = QLabel("", self)
        self._speakers.setWordWrap(True)
        self._speakers.setStyleSheet("color: #333;")
        self._answer_for = QComboBox(self)
        self._answer_for.setToolTip("Whose answer the headline and the bars show: a speaker's (the patient first) "
                                    "or everyone's")
        self._answer_for.activated.connect(self._on_answer_for_chosen)
        self._answer_row = QWidget(self)
        row = QHBoxLayout(self._answer_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Answer for", self._answer_row))
        row.addWidget(self._answer_for, 1)
        self._answer_row.hide()

        self._headline = QLabel("—", self)
        self._headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._headline.setMinimumHeight(44)
        self._confidence = QLabel("", self)
        self._confidence.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._confidence.setStyleSheet("font-size: 13px;")
        self._definition = QLabel("", self)
        self._definition.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._definition.setWordWrap(True)
        self._definition.setStyleSheet("color: #666; font-size: 11px;")
        self._uncertain = QLabel("", self)
        self._uncertain.setWordWrap(True)
        self._uncertain.setStyleSheet(f"color: {UNCERTAIN_COLOUR}; font-weight: 600;")
        self._uncertain.hide()
        self._normalisation = QLabel("", self)
        self._normalisation.setStyleSheet("color: #555;")
        self._normalisation.setWordWrap(True)
        self._reference = QLabel("", self)
        self._reference.setStyleSheet("color: #555;")
        self._reference.setWordWrap(True)
        self._reference_problem = QLabel("", self)
        self._reference_problem.setStyleSheet(f"color: {ERROR_FOREGROUND};")
        self._reference_problem.setWordWrap(True)
        self._noise = QLabel("", self)
        self._noise.setStyleSheet("color: #555;")
        self._noise.setWordWrap(True)
        self._speaker = QLabel("", self)
        self._speaker.setWordWrap(True)
        self._speaker.setStyleSheet("color: #333;")
        self._clinician = QLabel("", self)
        self._clinician.setWordWrap(True)
        self._clinician.setStyleSheet("color: #333;")
        self._clinician.setTextFormat(Qt.TextFormat.RichText)
        self._clinician.hide()
        self._summary_title = QLabel("Share of speech time", self)
        self._summary_title.setStyleSheet("font-weight: 600; color: #333;")
        self.summary_chart = SummaryChart(self)
        self.speaker_summaries = SpeakerSummaries(self)
        self.speaker_summaries.hide()

        self._bars_box = QWidget(self)
        grid = QGridLayout(self._bars_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(5)
        self._names: list[QLabel] = []
        self._bars: list[QProgressBar] = []
        for i in range(len(session.labels())):
            name = QLabel("", self._bars_box)
            name.setMinimumWidth(70)
            bar = QProgressBar(self._bars_box)
            bar.setRange(0, BAR_STEPS)
            bar.setTextVisible(True)
            bar.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            bar.setFixedHeight(20)
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
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
        self._segment_list.currentRowChanged.connect(self._on_segment_row_changed)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
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
        for w in (self._file, self._speakers, self._answer_row, self._scope, self._whole, self._headline,
                  self._confidence, self._definition, self._uncertain, self._speaker, self._clinician):
            layout.addWidget(w)
        layout.addSpacing(4)
        layout.addWidget(self._bars_box)
        for w in (self._normalisation, self._reference, self._reference_problem, self._noise):
            layout.addWidget(w)
        layout.addSpacing(6)
        layout.addWidget(self._summary_title)
        layout.addWidget(self.summary_chart)
        layout.addWidget(self.speaker_summaries)
        layout.addSpacing(4)
        layout.addWidget(self._segments_title)
        layout.addWidget(self._segment_list)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addWidget(line)
        layout.addWidget(self._model)
        layout.addWidget(self._card)

        session.events.selected.connect(self._on_selection_changed)
        session.events.segment.connect(self._on_segment_changed)
        session.events.changed.connect(self._on_entry_changed)
        session.events.review.connect(self._on_entry_changed)
        session.events.cleared.connect(self._on_selection_changed)
        session.events.model.connect(self._on_model_changed)
        session.events.scope.connect(self._on_selection_changed)
        session.events.reference.connect(self._on_selection_changed)
        self._on_model_changed()
        self.redraw()

    # -- what is shown (tests read these) ---------------------------------------------------
    def shown_probabilities(self):
        """``[(label, probability), ...]`` in the order the bars show them."""
        return list(self._shown)

    def bar_texts(self):
        """The bars' texts ("81%"), top to bottom."""
        return [bar.format() for bar in self._bars[:len(self._shown)]]

    def bar_values(self):
        """The bars' values as probabilities (0–1), top to bottom."""
        return [bar.value() / BAR_STEPS for bar in self._bars[:len(self._shown)]]

    def bars_visible(self):
        return not self._bars_box.isHidden()

    def headline(self):
        return self._headline.text()

    def scope_text(self):
        return self._scope.text()

    def is_uncertain_shown(self):
        return not self._uncertain.isHidden()

    def uncertain_text(self):
        return self._uncertain.text() if not self._uncertain.isHidden() else ""

    def value_text(self):
        """The number beside the headline ("confidence 83%", "40% of speech")."""
        return self._confidence.text()

    def definition_text(self):
        return self._definition.text()

    def normalisation_text(self):
        return self._normalisation.text()

    def reference_text(self):
        return self._reference.text() if not self._reference.isHidden() else ""

    def reference_problem_text(self):
        return self._reference_problem.text() if not self._reference_problem.isHidden() else ""

    def noise_text(self):
        return self._noise.text()

    def speakers_text(self):
        return self._speakers.text() if not self._speakers.isHidden() else ""

    def speaker_text(self):
        return self._speaker.text() if not self._speaker.isHidden() else ""

    def answer_choices(self):
        """What the "Answer for" control offers (empty when it is hidden)."""
        if self._answer_row.isHidden():
            return []
        return [self._answer_for.itemText(i) for i in range(self._answer_for.count())]

    def clinician_text(self):
        return self._clinician.text() if not self._clinician.isHidden() else ""

    def segment_rows(self):
        """The segment list's texts."""
        return [self._segment_list.item(i).text() for i in range(self._segment_list.count())]

    def model_text(self):
        return self._model.text()

    # -- session events --------------------------------------------------------------------------
    def _on_selection_changed(self, *_):
        self.redraw()

    def _on_segment_changed(self, _index):
        self.redraw()

    def _on_entry_changed(self, path):
        if path == self._session.selected:
            self.redraw()

    def _on_model_changed(self):
        s = self._session
        if s.model is not None:
            self._model.setText(f"Model: <b>{s.model.model_id}</b>, version {s.model.version}")
            self._model.setToolTip(s.model.source)
            self._card.setEnabled(bool(s.model.card))
        elif s.model_state == MODEL_FAILED:
            self._model.setText(f"<span style='color:{ERROR_FOREGROUND}'>No model: {s.model_error}</span>")
            self._card.setEnabled(False)
        elif s.model_state == MODEL_LOADING:
            self._model.setText("Model: loading…")
            self._card.setEnabled(False)
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------------
    def redraw(self):
        """Draw the session's selection (its state, or its headline, bars, chart and segments)."""
        s = self._session
        state = readout.state_view(s)
        if state is not None:
            self._show_state(state)
            return
        result = s.selected_result()
        self._file.setText(Path(result.path).name)
        self._file.setToolTip(result.path)
        self._show_speakers()
        self._show_headline(readout.headline_view(s))
        self._show_uncertain(readout.uncertain_reasons(s))
        self._show_bars(readout.bars_view(s))
        self._show_summary(readout.summary_view(s))
        self._show_clinician(readout.clinician_view(s))
        self._show_normalisation(readout.normalisation_view(s))
        self._noise.setText(readout.noise_text(s))
        self._fill_segments()

    def _show_state(self, state):
        self._file.setText(state.title)
        self._file.setToolTip("")
        if state.error:
            self._scope.setText(f"<span style='color:{ERROR_FOREGROUND}'>{state.message}</span>")
        else:
            self._scope.setText(state.message)
        self._whole.hide()
        self._headline.setText("—")
        self._headline.setStyleSheet(HEADLINE_EMPTY_STYLE)
        self._confidence.setText("")
        self._definition.setText("")
        self._uncertain.hide()
        self._normalisation.setText("")
        self._reference.hide()
        self._reference_problem.hide()
        self._noise.setText("")
        self._speakers.hide()
        self._speaker.hide()
        self._answer_row.hide()
        self._clinician.hide()
        self._show_bars([])
        self._show_summary(None)
        self._segment_list.blockSignals(True)
        self._segment_list.clear()
        self._segment_list.blockSignals(False)
        self._segments_title.hide()
        self._segment_list.hide()
        self._listed = None

    def _show_headline(self, h):
        if h is None:
            self._headline.setText("—")
            self._headline.setStyleSheet(HEADLINE_EMPTY_STYLE)
            return
        colour = emotion_colour(h.label)
        self._headline.setText(h.label.capitalize())
        self._headline.setStyleSheet(
            f"font-size: 22px; font-weight: 700; border-radius: 6px; padding: 4px;"
            f"background: {colour.name()}; color: {text_colour_on(colour).name()};")
        self._confidence.setText(h.value)
        self._definition.setText(h.definition)
        self._scope.setText(h.scope)
        self._whole.setVisible(h.segment)

    def _show_uncertain(self, reasons):
        if reasons:
            self._uncertain.setText("⚠ Uncertain — " + "; ".join(reasons) + ". Treat this label with caution.")
        self._uncertain.setVisible(bool(reasons))

    def _show_speakers(self):
        s = self._session
        line = readout.speakers_line(s)
        self._speakers.setText(line)
        self._speakers.setVisible(bool(line))
        choices = readout.scope_choices(s)
        self._answer_for.clear()
        for key, text in choices:
            self._answer_for.addItem(text, key)
        if choices:
            self._answer_for.setCurrentIndex(next(i for i, (key, _) in enumerate(choices) if key == s.scope))
        self._answer_for.setEnabled(s.selected_segment() is None)
        self._answer_row.setVisible(bool(choices))
        speaker = readout.speaker_line(s)
        self._speaker.setText(speaker)
        self._speaker.setVisible(bool(speaker))

    def _show_normalisation(self, view):
        if view is None:
            self._normalisation.setText("")
            self._reference.hide()
            self._reference_problem.hide()
            return
        self._normalisation.setText(view.text)
        self._normalisation.setStyleSheet(f"color: {UNCERTAIN_COLOUR};" if view.warning else "color: #555;")
        self._reference.setText(view.reference)
        self._reference.setVisible(bool(view.reference))
        self._reference_problem.setText(view.problem)
        self._reference_problem.setVisible(bool(view.problem))

    def _show_bars(self, shown):
        """One labelled bar per class; none at all when there is nothing to show."""
        self._shown = list(shown)
        self._bars_box.setVisible(bool(shown))
        for i, (name, bar) in enumerate(zip(self._names, self._bars, strict=True)):
            if i >= len(shown):
                name.hide()
                bar.hide()
                continue
            label, p = shown[i]
            c = emotion_colour(label)
            name.setText(label)
            name.show()
            bar.show()
            bar.setValue(round(p * BAR_STEPS))
            bar.setFormat(percent(p))
            bar.setStyleSheet(
                "QProgressBar { border: 1px solid #c8c8c8; border-radius: 3px; background: #f4f4f4;"
                " color: #111; padding-right: 4px; }"
                f"QProgressBar::chunk {{ background: {c.name()}; border-radius: 2px; }}")

    def _show_summary(self, summary):
        speakers = readout.speaker_views(self._session) if summary is None else []
        self.speaker_summaries.set_views(speakers)
        if summary is None:
            self.summary_chart.clear()
            self.summary_chart.hide()
            self._summary_title.setText("Share of each speaker's speech time")
            self._summary_title.setVisible(bool(speakers))
            return
        model, corrected = summary
        self.summary_chart.set_summary(model, corrected)
        self._summary_title.setText("Share of speech time")
        self._summary_title.show()
        self.summary_chart.show()

    def _show_clinician(self, clinician):
        if clinician is None:
            self._clinician.hide()
            return
        kind, text = clinician
        if kind == "unavailable":
            self._clinician.setText(f"<span style='color:{ERROR_FOREGROUND}'>Corrections unavailable: {text}</span>")
        elif kind == "label":
            c = emotion_colour(text)
            self._clinician.setText(f"Your label: <b><span style='background:{c.name()};"
                                    f"color:{text_colour_on(c).name()}'>&nbsp;{text}&nbsp;</span></b>"
                                    " &nbsp;(0 clears it)")
        else:
            self._clinician.setText("Your label: none yet — keys 1–8 set it, L loops the segment")
        self._clinician.show()

    def _fill_segments(self):
        s = self._session
        result = s.selected_result()
        key = (s.selected, id(result), len(result.segments))
        self._segments_title.show()
        self._segment_list.show()
        self._segment_list.blockSignals(True)
        try:
            if key != self._listed:  # a new list; the same one (a new selection in it) is not refilled
                self._listed = key
                self._segment_list.clear()
                for i, (text, label) in enumerate(readout.segment_rows(s)):
                    item = QListWidgetItem(text)
                    item.setData(Qt.ItemDataRole.DecorationRole, emotion_colour(label))
                    item.setData(Qt.ItemDataRole.UserRole, i)
                    self._segment_list.addItem(item)
            self._segment_list.setCurrentRow(s.segment)
        finally:
            self._segment_list.blockSignals(False)

    def _on_segment_row_changed(self, row):
        if row >= 0 and row != self._session.segment:
            self._session.select_segment(row)

    def _on_whole_clicked(self):
        self._session.select_segment(-1)

    def _on_answer_for_chosen(self, index):
        self._session.set_scope(self._answer_for.itemData(index))


