"""The queue of recordings as a Qt table model over the :class:`~desktop.session.Session`: one
row per file, its folder, status and result.

A row's Label and Confidence come from :mod:`desktop.headline`: the recording-level label
and its confidence for a clip, the dominant emotion and its share of the speech time for a
long recording; once the user chose the patient of a recording with speakers, the patient's
answer (the one the panel's headline shows first). While a file is analysed its Status shows
how far the analysis got.

The Review column says what the clinician did: "✓ reviewed", how many stretches they corrected,
"note"; a reviewed recording's name carries the tick too (the Review column may be scrolled out
of sight in a narrow queue);
"note" (:class:`~desktop.review_controller.ReviewMark`); sorting on it puts the recordings not
yet reviewed first. A hidden Uncertain column lets the queue be sorted uncertain first.

Each result names the model that gave it. When another model becomes active, finished rows
keep their labels (nothing is re-labelled silently); their Model cell turns amber and says
which model labelled them until the user analyses them again.
"""

import logging
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from .colours import ERROR_BACKGROUND, ERROR_FOREGROUND, OTHER_MODEL_COLOUR, UNCERTAIN_COLOUR, emotion_colour
from .readout import channel_reasons
from .session import ANALYSING, CANCELLED, DONE, ERROR, QUEUED, Entry, Session
from .timefmt import clock

logger = logging.getLogger(__name__)

#: What a clinician reads first comes first: at a laptop's width the queue shows the file and
#: its label, and scrolls for the rest.
COLUMNS = ("File", "Label", "Confidence", "Review", "Folder", "Duration", "Status", "Model", "Uncertain")
FILE, LABEL, CONFIDENCE, REVIEW, FOLDER, DURATION, STATUS, MODEL, UNCERTAIN = range(len(COLUMNS))
#: Before the name of a recording marked reviewed (the Review column says more, further right).
REVIEWED_MARK = "✓ "
#: Columns for sorting only, never shown.
HIDDEN_COLUMNS = (UNCERTAIN,)
STATUS_ORDER = {ANALYSING: 0, QUEUED: 1, CANCELLED: 2, DONE: 3, ERROR: 4}
STATUS_COLOURS = {QUEUED: "#5f6b76", ANALYSING: "#1f6fd1", CANCELLED: "#8a6d00", DONE: "#1b7a3a",
                  ERROR: ERROR_FOREGROUND}
#: The sort role: numbers sort as numbers, not as their text.
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
#: "1" when the session's queue view shows the row, else "" (the proxy filters on it).
SHOWN_ROLE = Qt.ItemDataRole.UserRole + 3


_ERROR_BRUSH = QBrush(QColor(ERROR_BACKGROUND))
_ERROR_TEXT = QBrush(QColor(ERROR_FOREGROUND))
_UNCERTAIN_TEXT = QBrush(QColor(UNCERTAIN_COLOUR))
_OTHER_MODEL_TEXT = QBrush(QColor(OTHER_MODEL_COLOUR))
_STATUS_BRUSHES = {k: QBrush(QColor(v)) for k, v in STATUS_COLOURS.items()}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_BOLD = QFont()
_BOLD.setBold(True)
_DISPLAY, _SORT, _TOOLTIP, _DECORATION, _BACKGROUND, _FOREGROUND, _FONT, _ALIGN = (
    Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole)
#: The invisible root of a table model (the default parent).
_ROOT = QModelIndex()
_ROLES = {_DISPLAY, _SORT, PATH_ROLE, SHOWN_ROLE, _TOOLTIP, _DECORATION, _BACKGROUND, _FOREGROUND, _FONT, _ALIGN}


class QueueModel(QAbstractTableModel):
    """The session's queue as table rows, in the order files were added (the table sorts
    through a proxy). Follows the session's ``added``, ``changed``, ``cleared`` and ``model``
    events."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._entries: list[Entry] = []
        self._rows: dict[str, int] = {}
        session.events.added.connect(self._on_added)
        session.events.changed.connect(self._on_changed)
        session.events.cleared.connect(self._on_cleared)
        session.events.removed.connect(self._on_removed)
        session.events.review.connect(self._on_changed)
        session.events.model.connect(self._on_model_changed)

    # -- queries --------------------------------------------------------------------------
    def __len__(self):
        return len(self._entries)

    def row_of(self, path):
        return self._rows[path]

    def path_at(self, row):
        return self._entries[row].path

    def entry_at(self, row):
        return self._entries[row]

    def _active_model(self):
        return self._session.model.model_id if self._session.model is not None else ""

    def why_uncertain(self, answer, result):
        """The first reason an answer is uncertain, named by the head of the panel's words
        (``readout.uncertain_reasons`` lists them all)."""
        if answer.value is not None and answer.value < self._session.uncertain_below:
            return "below the model's threshold"
        reasons = channel_reasons(result, result.snr_db)
        return reasons[0].split(":")[0] if reasons else "the panel says why"

    # -- session events ---------------------------------------------------------------------
    def _on_added(self, paths):
        first = len(self._entries)
        self.beginInsertRows(QModelIndex(), first, first + len(paths) - 1)
        for p in paths:
            self._rows[p] = len(self._entries)
            self._entries.append(self._session.entry(p))
        self.endInsertRows()

    def _on_cleared(self):
        self.beginResetModel()
        self._entries, self._rows = [], {}
        self.endResetModel()

    def _on_removed(self, path):
        row = self._rows.get(path)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._entries[row]
        self._rows = {e.path: i for i, e in enumerate(self._entries)}
        self.endRemoveRows()

    def _on_changed(self, path):
        row = self._rows.get(path)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _on_model_changed(self):
        if self._entries:
            self.dataChanged.emit(self.index(0, MODEL), self.index(len(self._entries) - 1, MODEL))

    # -- QAbstractTableModel --------------------------------------------------------------
    def rowCount(self, parent=_ROOT):
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent=_ROOT):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == FOLDER:
            return "The folder the file is in (hover a row for its whole path)"
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.ToolTipRole and section in (LABEL, CONFIDENCE):
            return ("Clips: the model's label for the whole clip and its confidence.\n"
                    "Sessions (longer than 30 s): the dominant emotion and its share of the speech time.")
        if horizontal and role == Qt.ItemDataRole.ToolTipRole and section == REVIEW:
            return ("What you did: ✓ reviewed (Ctrl+Enter), how many stretches you corrected, whether you wrote a "
                    "note. Sorting on it puts what is not reviewed first.")
        if horizontal and role == Qt.ItemDataRole.TextAlignmentRole and section in (DURATION, CONFIDENCE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # Called for every painted cell and role: keep it cheap (no allocations on common paths).
        if role not in _ROLES or not index.isValid():
            return None
        e = self._entries[index.row()]
        col = index.column()
        r = e.result
        if role == _DISPLAY:
            if col == FILE:  # reviewed: a tick before the name, seen however narrow the queue
                name = Path(e.path).name
                return REVIEWED_MARK + name if e.mark is not None and e.mark.reviewed else name
            if col == FOLDER:
                return Path(e.path).parent.name
            if col == DURATION:
                return clock(e.duration) if e.duration is not None else ""
            if col == STATUS:
                if e.status == ANALYSING and e.progress is not None:
                    return f"{e.status} {e.progress:.0%}"
                return e.status
            if col == LABEL:
                if e.status == ERROR:
                    return e.error
                if r is None:
                    return ""
                h = e.answer
                return h.label + (" (uncertain)" if h.uncertain else "")
            if col == CONFIDENCE:
                return e.answer.value_text() if r is not None else ""
            if col == MODEL:
                return r.model_id if r else ""
            if col == REVIEW:
                return e.mark.text() if e.mark is not None else ""
            if col == UNCERTAIN:
                return "uncertain" if r is not None and e.answer.uncertain else ""
        elif role == _BACKGROUND:
            return _ERROR_BRUSH if e.status == ERROR else None
        elif role == _FOREGROUND:
            if e.status == ERROR:
                return _ERROR_TEXT
            if col == STATUS:
                return _STATUS_BRUSHES.get(e.status)
            if col == LABEL and r is not None and e.answer.uncertain:
                return _UNCERTAIN_TEXT
            if col == REVIEW and e.mark is not None and e.mark.reviewed:
                return _STATUS_BRUSHES[DONE]
            if col == MODEL and r is not None and r.model_id != self._active_model():
                return _OTHER_MODEL_TEXT
        elif role == _DECORATION:
            return emotion_colour(e.answer.label) if col == LABEL and r is not None else None
        elif role == _FONT:
            return _BOLD if col == LABEL and r is not None and not e.answer.uncertain else None
        elif role == _ALIGN:
            return _RIGHT if col in (DURATION, CONFIDENCE) else None
        elif role == _SORT:
            if col == FILE:
                return Path(e.path).name.lower()
            if col == FOLDER:
                return str(Path(e.path).parent).lower()
            if col == DURATION:
                return e.duration if e.duration is not None else -1.0
            if col == STATUS:
                return STATUS_ORDER.get(e.status, 9)
            if col == LABEL:
                return e.answer.label if r else ("~" + e.status)
            if col == CONFIDENCE:
                h = e.answer
                return h.value if r is not None and h.value is not None else -1.0
            if col == MODEL:
                return r.model_id if r else ""
            if col == REVIEW:  # not reviewed first (the most corrected first), then reviewed, then the rest
                m = e.mark
                if r is None or m is None:
                    return 2000 if r is None else 1500
                return (1000 if m.reviewed else 0) - min(m.corrections, 999)
            if col == UNCERTAIN:  # uncertain first, the least confident first among them
                h = e.answer
                if r is None:
                    return 3.0
                return (0.0 if h.uncertain else 1.0) + (h.value if h.value is not None else 0.0)
        elif role == PATH_ROLE:
            return e.path
        elif role == SHOWN_ROLE:
            return "1" if self._session.queue_view.accepts(e) else ""
        elif role == _TOOLTIP:
            if e.status == ERROR:
                return f"{e.path}\n\nCould not be analysed: {e.error}"
            if r is not None:
                h = e.answer
                if h.kind == "share":
                    whose = "the patient's" if h.patient else "the"
                    text = (f"{e.path}\n{h.label}: {whose} emotion with the most speech time"
                            + (f" ({h.value_words()})" if h.value is not None else ""))
                else:
                    text = f"{e.path}\n{h.label}" + (f", {h.value:.0%} confidence" if h.value is not None else "")
                if h.uncertain:  # on the answer's own line
                    text += f" (uncertain: {self.why_uncertain(h, r)})"
                if h.kind == "share":
                    text += "\nthe timeline below the waveform shows every segment"
                text += f"\nnormalisation: {_normalisation(r)}"
                text += f"\nlabelled by model {r.model_id}"
                active = self._active_model()
                if active and r.model_id != active:
                    text += (f" — not the active model ({active}); "
                             "Analysis ▸ Analyse again re-labels it")
                return text
            return f"{e.path}\n{e.status}"
        return None


def _normalisation(result):
    norm = result.normalisation
    describe = getattr(norm, "describe", None)
    if describe is not None:
        return describe()
    return "speaker baseline" if norm == "speaker" else "global"


def queue_proxy(session: Session, source: QueueModel, parent=None) -> QSortFilterProxyModel:
    """The queue as the table shows it: sorted on a column's :data:`SORT_ROLE`, and filtered by
    the session's :class:`~desktop.queue_view.QueueView` (re-applied when it changes, and for a
    row when its entry or its review changes).

    A plain Qt proxy filtering on :data:`SHOWN_ROLE`, not a Python subclass: every call the
    table makes on a Python-derived proxy (several per painted cell) would need the GIL, and a
    worker busy in Python stalled the repaints of the queue. Unfiltered, the proxy asks nothing."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(source)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterRole(SHOWN_ROLE)
    proxy.setFilterKeyColumn(0)
    proxy.setDynamicSortFilter(True)

    def on_queue_view_changed():
        if session.queue_view.is_filtered():
            proxy.setFilterFixedString("1")
            proxy.invalidate()  # (the same pattern again does not filter again)
        else:
            proxy.setFilterFixedString("")

    session.events.queue_view.connect(on_queue_view_changed)
    on_queue_view_changed()
    return proxy
