"""The right-hand panel: whether the selected recording is reviewed and the clinician's note on
it; the recording's (or segment's, or speaker's) label, the number
beside it and what that number is, the probabilities of all classes (the headline's number is
its label's bar), why a label is uncertain (low confidence or too noisy), how far the speech
lies above the noise, how it was normalised and from what (a neutral reference, or why one was
refused), who speaks, the clinician's label and note of the selected segment or marked
stretch, the summary chart (one per speaker, the patient first) and the segment list.

Text sizes follow the system's font (:func:`~desktop.widgets.set_relative_font`); colours are
never the only cue (each bar and chart row carries its emotion's name, the chart its pattern).

A view of the :class:`~desktop.session.Session`: it redraws on the session's events and reads
what to show from :mod:`desktop.readout` (one function per part), so what the panel answers is
decided there, not here. Clicking a segment in the list (or moving in it with the arrow keys)
selects it in the session, as a click on the timeline does.
"""

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
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
from .widgets import set_relative_font

logger = logging.getLogger(__name__)

BAR_STEPS = 1000
BAR_STYLE = ("QProgressBar { border: 1px solid #c8c8c8; border-radius: 3px; background: #f4f4f4; color: #111;"
             " padding-right: 4px; } QProgressBar::chunk { background: %s; border-radius: 2px; }")
HEADLINE_EMPTY_STYLE = "color: #999; border-radius: 6px;"
#: Text sizes, relative to the system's font.
HEADLINE_SCALE, SMALL_SCALE = 1.7, 0.88
NOTE_STYLE = "color: #333; background: #fff8dc; border: 1px solid #e6d8a8; border-radius: 3px; padding: 3px;"
LINK_STYLE = "QPushButton { color: #1f6fd1; text-align: left; padding: 0; }"


def percent(p):
    """A bar's text: whole percents, as the headline and the summary chart write the same
    share ("81%"), and "<1%" for what would read 0%."""
    return "<1%" if 0 < p < 0.005 else f"{p:.0%}"


class ProbabilityPanel(QWidget):
    """Draws the selection of a :class:`~desktop.session.Session`."""

    card_requested = Signal()
    recording_note_requested = Signal()  # the user wants to write the recording's note
    target_note_requested = Signal()     # ... the selected segment's or marked stretch's

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setMinimumWidth(230)
        self.setMaximumWidth(420)
        self._session = session
        self._shown: list[tuple[str, float]] = []  # (label, probability) in the order shown
        self._listed: tuple | None = None  # what the segment list holds: (path, id of the result, count)

        self._file = QLabel("No recording selected", self)
        self._file.setWordWrap(True)
        set_relative_font(self._file, bold=True)
        self._reviewed = QCheckBox("Reviewed", self)
        self._reviewed.setToolTip("You reviewed this recording (Ctrl+Enter); the queue shows it, and can show only "
                                  "the recordings not reviewed yet")
        self._reviewed.clicked.connect(self._on_reviewed_clicked)
        self._reviewed.hide()
        self._note = QLabel("", self)
        self._note.setWordWrap(True)
        self._note.setStyleSheet(NOTE_STYLE)
        self._note.setTextFormat(Qt.TextFormat.PlainText)  # the clinician's text as typed, never markup
        self._note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._note.hide()
        self._note_button = QPushButton("Note on the recording…", self)
        self._note_button.setFlat(True)
        self._note_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._note_button.setStyleSheet(LINK_STYLE)
        self._note_button.setToolTip("Write a note on the whole recording (Shift+N); it is saved in its review and "
                                     "printed in the report")
        self._note_button.clicked.connect(self.recording_note_requested)
        self._note_button.hide()
        self._scope = QLabel("", self)
        self._scope.setStyleSheet("color: #555;")
        self._scope.setWordWrap(True)
        self._whole = QPushButton("Show whole recording", self)
        self._whole.setFlat(True)
        self._whole.setCursor(Qt.CursorShape.PointingHandCursor)
        self._whole.setStyleSheet(LINK_STYLE)
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
        set_relative_font(self._headline, HEADLINE_SCALE, bold=True)
        self._headline.setMinimumHeight(self._headline.fontMetrics().height() + 14)
        self._confidence = QLabel("", self)
        self._confidence.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._definition = QLabel("", self)
        self._definition.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._definition.setWordWrap(True)
        self._definition.setStyleSheet("color: #666;")
        set_relative_font(self._definition, SMALL_SCALE)
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
        self._target_note = QLabel("", self)
        self._target_note.setWordWrap(True)
        self._target_note.setStyleSheet(NOTE_STYLE)
        self._target_note.setTextFormat(Qt.TextFormat.PlainText)
        self._target_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._target_note.hide()
        self._target_note_button = QPushButton("Note on this…", self)
        self._target_note_button.setFlat(True)
        self._target_note_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._target_note_button.setStyleSheet(LINK_STYLE)
        self._target_note_button.setToolTip("Write a note on the selected segment or the marked stretch (N)")
        self._target_note_button.clicked.connect(self.target_note_requested)
        self._target_note_button.hide()
        self._summary_title = QLabel("Share of speech time", self)
        self._summary_title.setStyleSheet("color: #333;")
        set_relative_font(self._summary_title, bold=True)
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
            bar.setFixedHeight(max(20, bar.fontMetrics().height() + 6))
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            grid.addWidget(name, i, 0)
            grid.addWidget(bar, i, 1)
            self._names.append(name)
            self._bars.append(bar)

        self._segments_title = QLabel("Segments", self)
        self._segments_title.setStyleSheet("color: #333;")
        set_relative_font(self._segments_title, bold=True)
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
        note.setStyleSheet("color: #666;")
        set_relative_font(note, SMALL_SCALE)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(6)
        for w in (self._file, self._reviewed, self._note, self._note_button, self._speakers, self._answer_row,
                  self._scope, self._whole, self._headline, self._confidence, self._definition, self._uncertain,
                  self._speaker, self._clinician, self._target_note, self._target_note_button):
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
        session.events.stretch.connect(self._on_selection_changed)
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

    def reviewed_shown(self):
        """``(shown, checked)`` of the Reviewed box."""
        return not self._reviewed.isHidden(), self._reviewed.isChecked()

    def note_text(self):
        """The recording's note as shown ("" when none)."""
        return self._note.text() if not self._note.isHidden() else ""

    def target_note_text(self):
        """The note of the selected segment or marked stretch as shown ("" when none)."""
        return self._target_note.text() if not self._target_note.isHidden() else ""

    def headline_font(self):
        return self._headline.font()

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
        """Draw the session's selection (its state, or its headline, bars, chart and segments), in
        one paint afterwards: a QProgressBar repaints at once on each new value, so the bars alone
        cost eight paints per redraw, and a recording being analysed is redrawn on each block update."""
        self.setUpdatesEnabled(False)
        try:
            self._redraw()
        finally:
            self.setUpdatesEnabled(True)

    def _redraw(self):
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
        self._show_review()
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
        for w in (self._reviewed, self._note, self._note_button, self._target_note, self._target_note_button):
            w.hide()
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
            f"border-radius: 6px; padding: 4px; background: {colour.name()}; color: {text_colour_on(colour).name()};")
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
            style = BAR_STYLE % c.name()
            if bar.styleSheet() != style:  # each new style sheet re-polishes the bar
                bar.setStyleSheet(style)

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
        elif kind == "stretch":
            self._clinician.setText(f"Marked stretch {text} — keys 1–8 label it, 0 clears it, B/M split/merge "
                                    "your label, drag its edge to move it")
        else:
            self._clinician.setText("Your label: none yet — keys 1–8 set it, L loops the segment")
        self._clinician.show()

    def _show_review(self):
        s = self._session
        self._reviewed.setChecked(s.is_reviewed())
        self._reviewed.show()
        note = s.recording_note()
        self._note.setText(f"Note: {note}" if note else "")
        self._note.setVisible(bool(note))
        self._note_button.setText("Edit the note on the recording…" if note else "Note on the recording…")
        self._note_button.show()
        target = s.target()
        note = s.target_note() if target is not None else ""
        self._target_note.setText(f"Your note: {note}" if note else "")
        self._target_note.setVisible(bool(note))
        what = "the marked stretch" if target is not None and target[2] == "stretch" else "this segment"
        self._target_note_button.setText(f"{'Edit your note' if note else 'Note'} on {what}…")
        self._target_note_button.setVisible(target is not None)

    def _on_reviewed_clicked(self, checked):
        if not self._session.set_reviewed(checked):
            self._reviewed.setChecked(not checked)

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


