"""The queue of recordings: one entry per file, its status and its result (a Qt table model)."""

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from .colours import ERROR_BACKGROUND, ERROR_FOREGROUND, UNCERTAIN_COLOUR, emotion_colour

logger = logging.getLogger(__name__)

COLUMNS = ("File", "Duration", "Status", "Label", "Confidence")
FILE, DURATION, STATUS, LABEL, CONFIDENCE = range(len(COLUMNS))
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
    result: object = None   # ser_engine.results.Result when done
    error: str = ""


class QueueModel(QAbstractTableModel):
    """Rows in the order files were added; the table sorts through a proxy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries = []
        self._rows = {}

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
        if result.ok:
            e.status, e.result, e.error, e.duration = DONE, result, "", result.duration
        else:
            e.status, e.result, e.error = ERROR, None, result.error
        self._changed(result.path)
        return True

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
                return e.status
            if col == LABEL:
                if e.status == ERROR:
                    return e.error
                return (r.label + (" (uncertain)" if r.uncertain else "")) if r else ""
            if col == CONFIDENCE:
                return f"{r.confidence:.0%}" if r else ""
        elif role == _BACKGROUND:
            return _ERROR_BRUSH if e.status == ERROR else None
        elif role == _FOREGROUND:
            if e.status == ERROR:
                return _ERROR_TEXT
            if col == STATUS:
                return _STATUS_BRUSHES.get(e.status)
            if col == LABEL and r is not None and r.uncertain:
                return _UNCERTAIN_TEXT
        elif role == _DECORATION:
            return emotion_colour(r.label) if col == LABEL and r is not None else None
        elif role == _FONT:
            return _BOLD if col == LABEL and r is not None and not r.uncertain else None
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
                return r.label if r else ("~" + e.status)
            if col == CONFIDENCE:
                return r.confidence if r else -1.0
        elif role == PATH_ROLE:
            return e.path
        elif role == _TOOLTIP:
            if e.status == ERROR:
                return f"{e.path}\n\nCould not be analysed: {e.error}"
            if r is not None:
                text = f"{e.path}\n{r.label}, {r.confidence:.0%} confidence"
                if r.uncertain:
                    text += " (uncertain: below the model's threshold)"
                return text + f"\nnormalisation: {'speaker baseline' if r.normalisation == 'speaker' else 'global'}"
            return e.path
        return None
