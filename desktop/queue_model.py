"""The queue of recordings: one entry per file, its status and its result (a Qt table model).

A row's Label and Confidence come from :mod:`desktop.headline`: the recording-level label
and its confidence for a clip, the dominant emotion and its share of the speech time for a
long recording. While a file is analysed its Status shows how far the analysis got.

Each result names the model that gave it. When another model becomes active, finished rows
keep their labels (nothing is re-labelled silently); their Model cell turns amber and says
which model labelled them until the user analyses them again.
"""

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from .headline import headline
from .colours import ERROR_BACKGROUND, ERROR_FOREGROUND, OTHER_MODEL_COLOUR, UNCERTAIN_COLOUR, emotion_colour

logger = logging.getLogger(__name__)

COLUMNS = ("File", "Duration", "Status", "Label", "Confidence", "Model")
FILE, DURATION, STATUS, LABEL, CONFIDENCE, MODEL = range(len(COLUMNS))
QUEUED, ANALYSING, DONE, ERROR, CANCELLED = "queued", "analysing", "done", "error", "cancelled"
STATUS_ORDER = {ANALYSING: 0, QUEUED: 1, CANCELLED: 2, DONE: 3, ERROR: 4}
STATUS_COLOURS = {QUEUED: "#5f6b76", ANALYSING: "#1f6fd1", CANCELLED: "#8a6d00", DONE: "#1b7a3a",
                  ERROR: ERROR_FOREGROUND}
#: The sort role: numbers sort as numbers, not as their text.
SORT_ROLE = Qt.UserRole + 1
PATH_ROLE = Qt.UserRole + 2


_ERROR_BRUSH = QBrush(QColor(ERROR_BACKGROUND))
_ERROR_TEXT = QBrush(QColor(ERROR_FOREGROUND))
_UNCERTAIN_TEXT = QBrush(QColor(UNCERTAIN_COLOUR))
_OTHER_MODEL_TEXT = QBrush(QColor(OTHER_MODEL_COLOUR))
_STATUS_BRUSHES = {k: QBrush(QColor(v)) for k, v in STATUS_COLOURS.items()}
_RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)
_BOLD = QFont()
_BOLD.setBold(True)
_DISPLAY, _SORT, _TOOLTIP, _DECORATION, _BACKGROUND, _FOREGROUND, _FONT, _ALIGN = (
    Qt.DisplayRole, SORT_ROLE, Qt.ToolTipRole, Qt.DecorationRole, Qt.BackgroundRole, Qt.ForegroundRole,
    Qt.FontRole, Qt.TextAlignmentRole)
_ROLES = {_DISPLAY, _SORT, PATH_ROLE, _TOOLTIP, _DECORATION, _BACKGROUND, _FOREGROUND, _FONT, _ALIGN}


@dataclasses.dataclass
class Entry:
    path: str
    status: str = QUEUED
    duration: float | None = None
    result: object = None   # ser_engine.results.Timeline (or Result, speaker groups) when done
    error: str = ""
    progress: float = None  # 0-1 while analysing
    headline: object = None  # desktop.headline.Headline of the result (computed once)


class QueueModel(QAbstractTableModel):
    """Rows in the order files were added; the table sorts through a proxy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries = []
        self._rows = {}
        self._active_model = ""

    # -- queries --------------------------------------------------------------------------
    def __len__(self):
        return len(self._entries)

    def __contains__(self, path):
        return path in self._rows

    def entry(self, path):
        return self._entries[self._rows[path]]

    def entries(self):
        return list(self._entries)

    def paths_with_status(self, *statuses):
        return [e.path for e in self._entries if e.status in statuses]

    def row_of(self, path):
        return self._rows[path]

    def active_model(self):
        return self._active_model

    def labelled_by_other_models(self):
        """Paths whose result came from a model other than the active one."""
        return [e.path for e in self._entries if e.result is not None and e.result.model_id != self._active_model]

    def set_active_model(self, model_id):
        """The model new results come from; rows labelled by another one are marked."""
        self._active_model = model_id
        if self._entries:
            self.dataChanged.emit(self.index(0, MODEL), self.index(len(self._entries) - 1, MODEL))

    # -- changes --------------------------------------------------------------------------
    def add(self, paths):
        """Append the paths not already queued; returns those appended."""
        new = []
        for p in paths:
            if p not in self._rows and p not in new:
                new.append(p)
        if not new:
            return []
        first = len(self._entries)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for p in new:
            self._rows[p] = len(self._entries)
            self._entries.append(Entry(p))
        self.endInsertRows()
        return new

    def clear(self):
        self.beginResetModel()
        self._entries, self._rows = [], {}
        self.endResetModel()

    def set_status(self, path, status):
        e = self.entry(path)
        e.status = status
        e.progress = None
        if status != ERROR:
            e.error = ""
        self._changed(path)

    def set_durations(self, durations):
        """``{path: seconds}`` from the file headers (one repaint for all of them)."""
        rows = []
        for path, seconds in durations.items():
            if path in self._rows and self.entry(path).result is None:
                self.entry(path).duration = seconds
                rows.append(self._rows[path])
        if rows:
            self.dataChanged.emit(self.index(min(rows), DURATION), self.index(max(rows), DURATION))

    def set_result(self, result):
        """Store a Result or Failure; returns False for a path no longer queued."""
        if result.path not in self._rows:
            return False
        e = self.entry(result.path)
        e.progress = None
        if result.ok:
            e.status, e.result, e.error, e.duration = DONE, result, "", result.duration
            e.headline = headline(result)
        else:
            e.status, e.result, e.error, e.headline = ERROR, None, result.error, None
        self._changed(result.path)
        return True

    def set_progress(self, path, fraction):
        """How far the analysis of ``path`` got (0-1); shown in its Status cell."""
        if path not in self._rows:
            return
        e = self.entry(path)
        if e.status != ANALYSING:
            return
        e.progress = float(fraction)
        self._changed(path, STATUS, STATUS)

    def _changed(self, path, first=0, last=len(COLUMNS) - 1):
        row = self._rows[path]
        self.dataChanged.emit(self.index(row, first), self.index(row, last))

    # -- QAbstractTableModel --------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole and section in (LABEL, CONFIDENCE):
            return ("Clips: the model's label for the whole clip and its confidence.\n"
                    "Sessions (longer than 30 s): the dominant emotion and its share of the speech time.")
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole and section in (DURATION, CONFIDENCE):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def data(self, index, role=Qt.DisplayRole):
        # Called for every painted cell and role: keep it cheap (no allocations on common paths).
        if role not in _ROLES or not index.isValid():
            return None
        e = self._entries[index.row()]
        col = index.column()
        r = e.result
        if role == _DISPLAY:
            if col == FILE:
                return Path(e.path).name
            if col == DURATION:
                return f"{e.duration:.2f} s" if e.duration is not None else ""
            if col == STATUS:
                if e.status == ANALYSING and e.progress is not None:
                    return f"{e.status} {e.progress:.0%}"
                return e.status
            if col == LABEL:
                if e.status == ERROR:
                    return e.error
                if r is None:
                    return ""
                h = e.headline
                if h.kind == "share":
                    return h.label  # the Confidence column says "NN% of speech"
                return h.label + (" (uncertain)" if h.uncertain else "")
            if col == CONFIDENCE:
                return e.headline.value_text() if r is not None else ""
            if col == MODEL:
                return r.model_id if r else ""
        elif role == _BACKGROUND:
            return _ERROR_BRUSH if e.status == ERROR else None
        elif role == _FOREGROUND:
            if e.status == ERROR:
                return _ERROR_TEXT
            if col == STATUS:
                return _STATUS_BRUSHES.get(e.status)
            if col == LABEL and r is not None and e.headline.uncertain:
                return _UNCERTAIN_TEXT
            if col == MODEL and r is not None and r.model_id != self._active_model:
                return _OTHER_MODEL_TEXT
        elif role == _DECORATION:
            return emotion_colour(e.headline.label) if col == LABEL and r is not None else None
        elif role == _FONT:
            return _BOLD if col == LABEL and r is not None and not e.headline.uncertain else None
        elif role == _ALIGN:
            return _RIGHT if col in (DURATION, CONFIDENCE) else None
        elif role == _SORT:
            if col == FILE:
                return Path(e.path).name.lower()
            if col == DURATION:
                return e.duration if e.duration is not None else -1.0
            if col == STATUS:
                return STATUS_ORDER.get(e.status, 9)
            if col == LABEL:
                return e.headline.label if r else ("~" + e.status)
            if col == CONFIDENCE:
                h = e.headline
                return h.value if r is not None and h.value is not None else -1.0
            if col == MODEL:
                return r.model_id if r else ""
        elif role == PATH_ROLE:
            return e.path
        elif role == _TOOLTIP:
            if e.status == ERROR:
                return f"{e.path}\n\nCould not be analysed: {e.error}"
            if r is not None:
                h = e.headline
                if h.kind == "share":
                    text = (f"{e.path}\n{h.label}: the emotion with the most speech time"
                            + (f" ({h.value_text()})" if h.value is not None else "")
                            + "\nthe timeline below the waveform shows every segment")
                else:
                    text = f"{e.path}\n{h.label}" + (f", {h.value:.0%} confidence" if h.value is not None else "")
                if h.uncertain:
                    text += " (uncertain: below the model's threshold)"
                text += f"\nnormalisation: {'speaker baseline' if r.normalisation == 'speaker' else 'global'}"
                text += f"\nlabelled by model {r.model_id}"
                if self._active_model and r.model_id != self._active_model:
                    text += (f" — not the active model ({self._active_model}); "
                             "Analysis ▸ Analyse again re-labels it")
                return text
            return e.path
        return None
