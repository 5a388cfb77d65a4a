"""The row above the queue: which recordings it shows and in what order.

*Show* (all, uncertain, not reviewed, reviewed, corrected), a *label* (the recording's answer),
*below* a confidence (a clip's confidence, a session's share of speech; "any" for all) set the
session's :class:`~desktop.queue_view.QueueView`; *Sort* puts the queue in the order it was
added, by label, by confidence (lowest first), uncertain first or not reviewed first (the same
as clicking the Label, Confidence or Review column's header). "12 of 40" says how many are shown.
"""

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from .queue_model import CONFIDENCE, FILE, LABEL, REVIEW, UNCERTAIN
from .queue_view import SHOW_ALL, SHOW_CHOICES, QueueView
from .session import Session

logger = logging.getLogger(__name__)

DEFAULT_VIEW = QueueView()
#: The Sort control: ``(text, column, order)``; column -1 is the order the files were added.
SORTS = (("as added", -1, Qt.SortOrder.AscendingOrder),
         ("file name", FILE, Qt.SortOrder.AscendingOrder),
         ("label", LABEL, Qt.SortOrder.AscendingOrder),
         ("confidence, lowest first", CONFIDENCE, Qt.SortOrder.AscendingOrder),
         ("uncertain first", UNCERTAIN, Qt.SortOrder.AscendingOrder),
         ("not reviewed first", REVIEW, Qt.SortOrder.AscendingOrder))
DEFAULT_SORT = 0
#: The "below" control's value that means any confidence.
ANY_CONFIDENCE = 100


class QueueFilterBar(QWidget):
    """Filter and sort controls for a :class:`~desktop.queue_table.QueueTable`."""

    def __init__(self, session: Session, table, parent=None):
        super().__init__(parent)
        self._session = session
        self._table = table
        self.show_combo = QComboBox(self)
        self.show_combo.setObjectName("queue-show")
        for choice in SHOW_CHOICES:
            self.show_combo.addItem(choice, choice)
        self.show_combo.setToolTip("Show every recording, only those whose answer is uncertain, those not yet "
                                   "marked reviewed (Ctrl+Enter), those reviewed, or those you corrected")
        self.label_combo = QComboBox(self)
        self.label_combo.setObjectName("queue-label")
        self.label_combo.setToolTip("Only the recordings whose answer is this emotion")
        self.below_spin = QSpinBox(self)
        self.below_spin.setObjectName("queue-below")
        self.below_spin.setRange(5, ANY_CONFIDENCE)
        self.below_spin.setSingleStep(5)
        self.below_spin.setSuffix("%")
        self.below_spin.setSpecialValueText("")
        self.below_spin.setValue(ANY_CONFIDENCE)
        self.below_spin.setToolTip("Only answers below this confidence (a session: below this share of its speech); "
                                   "100% shows them all")
        self.sort_combo = QComboBox(self)
        self.sort_combo.setObjectName("queue-sort")
        for text, _, _ in SORTS:
            self.sort_combo.addItem(text)
        self.sort_combo.setToolTip("The order of the queue (clicking a column's header sorts by it too)")
        self.count_label = QLabel("", self)
        self.count_label.setStyleSheet("color: #555;")
        self._fill_labels()

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for text, widget in (("Show", self.show_combo), ("", self.label_combo), ("below", self.below_spin),
                             ("Sort", self.sort_combo)):
            if text:
                row.addWidget(QLabel(text, self))
            row.addWidget(widget)
        row.addWidget(self.count_label, 1)

        self.show_combo.activated.connect(self._on_filter_chosen)
        self.label_combo.activated.connect(self._on_filter_chosen)
        self.below_spin.valueChanged.connect(self._on_filter_chosen)
        self.sort_combo.activated.connect(self._on_sort_chosen)
        table.horizontalHeader().sortIndicatorChanged.connect(self._on_header_sorted)
        events = session.events
        for event in (events.added, events.removed, events.cleared, events.changed, events.review, events.queue_view):
            event.connect(self._on_queue_changed)
        events.model.connect(self._on_model_changed)
        self._on_queue_changed()

    # -- what is chosen ---------------------------------------------------------------------------
    def view(self) -> QueueView:
        below = self.below_spin.value()
        return QueueView(show=self.show_combo.currentData(), label=self.label_combo.currentData() or "",
                         below=None if below >= ANY_CONFIDENCE else below / 100)

    def set_view(self, view: QueueView) -> None:
        """Show ``view`` in the controls and give it to the session."""
        for combo, value in ((self.show_combo, view.show), (self.label_combo, view.label)):
            i = combo.findData(value)
            combo.setCurrentIndex(max(i, 0))
        self.below_spin.blockSignals(True)
        self.below_spin.setValue(ANY_CONFIDENCE if view.below is None else round(view.below * 100))
        self.below_spin.blockSignals(False)
        self._session.set_queue_view(self.view())

    def set_sort(self, index: int) -> None:
        """Sort the queue as :data:`SORTS` ``[index]`` says."""
        _, column, order = SORTS[index]
        self.sort_combo.setCurrentIndex(index)
        self._table.sortByColumn(column, order)

    # -- events --------------------------------------------------------------------------------------
    def _on_filter_chosen(self, *_):
        self._session.set_queue_view(self.view())

    def _on_sort_chosen(self, index):
        self.set_sort(index)

    def _on_header_sorted(self, column, order):
        match = [i for i, (_, c, o) in enumerate(SORTS) if c == column and o == order]
        self.sort_combo.blockSignals(True)
        if match:
            self.sort_combo.setCurrentIndex(match[0])
        else:
            self.sort_combo.setCurrentIndex(-1)  # a column's own order: none of the choices
        self.sort_combo.blockSignals(False)

    def _on_queue_changed(self, *_):
        view = self._session.queue_view
        if not view.is_filtered():  # (called per analysed block: nothing to count)
            self.count_label.setText("")
            return
        shown = self._table.model().rowCount()
        self.count_label.setText(f"{shown} of {len(self._session)} shown ({view.describe()})")

    def _on_model_changed(self):
        self._fill_labels()

    def _fill_labels(self):
        current = self.label_combo.currentData() or ""
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItem("any label", "")
        for label in self._session.labels():
            self.label_combo.addItem(label, label)
        self.label_combo.setCurrentIndex(max(self.label_combo.findData(current), 0))
        self.label_combo.blockSignals(False)

    # -- settings ------------------------------------------------------------------------------------
    def save_state(self, settings) -> None:
        view = self._session.queue_view
        settings.setValue("queue/show", view.show)
        settings.setValue("queue/label", view.label)
        settings.setValue("queue/below", "" if view.below is None else view.below)
        settings.setValue("queue/sort", self.sort_combo.currentIndex())

    def restore_state(self, settings) -> None:
        show = str(settings.value("queue/show", SHOW_ALL))
        label = str(settings.value("queue/label", "") or "")
        try:
            below = float(settings.value("queue/below", "") or "nan")
        except (TypeError, ValueError):
            below = float("nan")
        view = QueueView(show=show if show in SHOW_CHOICES else SHOW_ALL,
                         label=label if label in self._session.labels() else "",
                         below=below if 0 < below <= 1 else None)
        self.set_view(view)
        try:
            sort = int(settings.value("queue/sort", DEFAULT_SORT))
        except (TypeError, ValueError):
            sort = DEFAULT_SORT
        if 0 <= sort < len(SORTS):
            self.set_sort(sort)
