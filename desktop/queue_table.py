"""The queue as a sortable table: file, duration, status, label, confidence, model."""

import logging

from PySide6.QtCore import QByteArray, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyledItemDelegate, QTableView

from .queue_model import COLUMNS, CONFIDENCE, DURATION, FILE, LABEL, MODEL, PATH_ROLE, SORT_ROLE, STATUS

logger = logging.getLogger(__name__)

DEFAULT_SORT_COLUMN = -1  # the order files were added
DEFAULT_SORT_ORDER = Qt.AscendingOrder
DEFAULT_WIDTHS = {FILE: 140, DURATION: 60, STATUS: 68, CONFIDENCE: 84, MODEL: 90}


class _MiddleElideDelegate(QStyledItemDelegate):
    """File names differ at their end (RAVDESS codes, take numbers): elide the middle."""

    def initStyleOption(self, option, index):
        super().initStyleOption(option, index)
        option.textElideMode = Qt.ElideMiddle


class QueueTable(QTableView):
    """Shows a :class:`~desktop.queue_model.QueueModel`; emits the path of the current row."""

    current_path_changed = Signal(str)  # "" when nothing is selected

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self._source = model
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(model)
        self._proxy.setSortRole(SORT_ROLE)
        self._proxy.setDynamicSortFilter(True)
        self.setModel(self._proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(DEFAULT_SORT_COLUMN, DEFAULT_SORT_ORDER)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.ElideRight)  # labels keep their start; file names, see below
        self.setItemDelegateForColumn(FILE, _MiddleElideDelegate(self))
        self.setShowGrid(False)
        self.setAcceptDrops(False)  # drops reach the window, which walks folders
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        header = self.horizontalHeader()
        # Fixed widths: ResizeToContents would ask every row's data on every change (a Python
        # call each), which stalled the event loop during a batch.
        for col, width in DEFAULT_WIDTHS.items():
            header.setSectionResizeMode(col, QHeaderView.Interactive)
            header.resizeSection(col, width)
        header.setSectionResizeMode(LABEL, QHeaderView.Stretch)
        header.setHighlightSections(False)
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    # -- selection --------------------------------------------------------------------------
    def current_path(self):
        index = self.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else ""

    def select_path(self, path):
        """Make ``path`` the current, selected row and scroll to it."""
        row = self._proxy.mapFromSource(self._source.index(self._source.row_of(path), 0)).row()
        self.selectRow(row)
        self.setCurrentIndex(self._proxy.index(row, 0))
        self.scrollTo(self._proxy.index(row, 0))

    def visible_paths(self):
        """The paths in the order shown (after sorting)."""
        return [self._proxy.index(r, 0).data(PATH_ROLE) for r in range(self._proxy.rowCount())]

    def cell_text(self, path, column):
        """The text shown for ``path`` in ``column`` (a column index or name)."""
        col = COLUMNS.index(column) if isinstance(column, str) else column
        return self._source.index(self._source.row_of(path), col).data() or ""

    def _on_current_row_changed(self, current, _previous):
        self.current_path_changed.emit(current.data(PATH_ROLE) if current.isValid() else "")

    # -- settings ---------------------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("queue/header", self.horizontalHeader().saveState())

    def restore_state(self, settings):
        state = settings.value("queue/header")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.horizontalHeader().restoreState(state)


__all__ = ["QueueTable", "FILE", "DURATION", "STATUS", "LABEL", "CONFIDENCE", "MODEL"]
