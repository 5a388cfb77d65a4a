"""The queue as a sortable table: file, label, confidence, review, folder, duration, status, model.

A view of the :class:`~desktop.session.Session`: the current row is the session's selection
(both ways), and newly queued files are scrolled into view. File names are never elided in
the middle (RAVDESS-style names differ in their middle and end: "03-01-05-01-02-01-12"); the
File column widens to the longest name, the Folder column tells ``visit1/recording.flac`` from
``visit2/recording.flac``, and a row's tooltip gives its whole path. Tab leaves the table.

The rows shown are the session's :class:`~desktop.queue_view.QueueView` (the filter bar above
the table sets it). Delete, or the row's context menu, removes the recording from the queue (its
review stays saved); the next row shown is selected.
"""

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from .queue_model import (
    COLUMNS,
    CONFIDENCE,
    DURATION,
    FILE,
    FOLDER,
    HIDDEN_COLUMNS,
    LABEL,
    MODEL,
    PATH_ROLE,
    REVIEW,
    REVIEWED_MARK,
    STATUS,
    UNCERTAIN,
    QueueModel,
    queue_proxy,
)
from .session import Session

logger = logging.getLogger(__name__)

DEFAULT_SORT_COLUMN = -1  # the order files were added
DEFAULT_SORT_ORDER = Qt.SortOrder.AscendingOrder
DEFAULT_WIDTHS = {FILE: 150, LABEL: 140, CONFIDENCE: 110, REVIEW: 150, FOLDER: 80, DURATION: 62, STATUS: 86,
                  MODEL: 90, UNCERTAIN: 60}
#: Row height as lines of the font (the system's size, as the user set it) plus a margin.
ROW_MARGIN = 8
#: The File column grows to its longest name up to this many pixels.
MAX_FILE_WIDTH = 320
CELL_MARGIN = 16
#: The longest answer the Label column shows whole, beside its colour square (the square and
#: the text's margins take about 40 px; 8 more are to spare).
WIDEST_LABEL, LABEL_DECORATION = "surprised (uncertain)", 48


class QueueTable(QTableView):
    """Shows the session's queue; selecting a row selects the recording in the session."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._source = QueueModel(session, self)
        self._proxy = queue_proxy(session, self._source, self)
        self.setModel(self._proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(DEFAULT_SORT_COLUMN, DEFAULT_SORT_ORDER)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab moves on to the next part of the window
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setShowGrid(False)
        self.setAcceptDrops(False)  # drops reach the window, which walks folders
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(max(24, self.fontMetrics().height() + ROW_MARGIN))
        header = self.horizontalHeader()
        # Fixed widths: ResizeToContents would ask every row's data on every change (a Python
        # call each), which stalled the event loop during a batch.
        for col, width in self._default_widths().items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        for col in HIDDEN_COLUMNS:
            self.setColumnHidden(col, True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setMinimumSectionSize(40)
        self._file_width = DEFAULT_WIDTHS[FILE]
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        session.events.selected.connect(self._on_session_selected)
        session.events.added.connect(self._on_added)
        self.remove_action = QAction("&Remove from the queue", self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.setStatusTip("Take the selected recording out of the queue (its review stays saved)")
        self.remove_action.triggered.connect(self._on_remove_triggered)
        self.addAction(self.remove_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        #: More actions for the row's context menu (the window adds its own: reviewed, report).
        self.row_actions: list = []

    def _default_widths(self):
        """:data:`DEFAULT_WIDTHS`, the Label column wide enough for an uncertain answer in words
        in this font (the words are what says it, not only the grey)."""
        label = self.fontMetrics().horizontalAdvance(WIDEST_LABEL) + LABEL_DECORATION
        return {**DEFAULT_WIDTHS, LABEL: max(DEFAULT_WIDTHS[LABEL], label)}

    @property
    def queue_model(self) -> QueueModel:
        return self._source

    # -- selection --------------------------------------------------------------------------
    def current_path(self):
        index = self.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else ""

    def select_path(self, path):
        """Make ``path`` the current, selected row and scroll to it."""
        self._session.select(path)

    def visible_paths(self):
        """The paths in the order shown (after sorting)."""
        return [self._proxy.index(r, 0).data(PATH_ROLE) for r in range(self._proxy.rowCount())]

    def cell_text(self, path, column):
        """The text shown for ``path`` in ``column`` (a column index or name)."""
        col = COLUMNS.index(column) if isinstance(column, str) else column
        return self._source.index(self._source.row_of(path), col).data() or ""

    def is_path_visible(self, path):
        """Whether ``path``'s row lies inside the table's viewport."""
        rect = self.visualRect(self._proxy_index(path))
        return rect.isValid() and self.viewport().rect().contains(rect.center())

    def _proxy_index(self, path):
        return self._proxy.mapFromSource(self._source.index(self._source.row_of(path), 0))

    def remove_path(self, path):
        """Take ``path`` out of the queue; the row shown after it (else before it) is selected."""
        shown = self.visible_paths()
        then = None
        if path in shown:
            i = shown.index(path)
            rest = shown[i + 1:] + shown[:i][::-1]
            then = rest[0] if rest else None
        return self._session.remove(path, then_select=then)

    def _on_remove_triggered(self, _checked=False):
        path = self.current_path()
        if path:
            self.remove_path(path)

    def _on_context_menu(self, pos):
        index = self.indexAt(pos)
        if not index.isValid():
            return
        self._session.select(index.data(PATH_ROLE))
        menu = QMenu(self)
        menu.addAction(self.remove_action)
        for a in self.row_actions:
            menu.addAction(a)
        menu.popup(self.viewport().mapToGlobal(pos))

    def _on_current_row_changed(self, current, _previous):
        self._session.select(current.data(PATH_ROLE) if current.isValid() else "")

    def _on_session_selected(self, path):
        if not path:
            self.selectionModel().clearSelection()
            self.setCurrentIndex(self._proxy.index(-1, -1))
            return
        if path == self.current_path():
            return
        index = self._proxy_index(path)
        self.selectRow(index.row())
        self.setCurrentIndex(index)
        self.scrollTo(index)

    def _on_added(self, paths):
        """Widen the File column to the new names, as far as the label and confidence stay in
        view (a narrow pane: the names are elided rather than the answers hidden), and show the
        last of them."""
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(REVIEWED_MARK + Path(p).name) for p in paths) + CELL_MARGIN
        wanted = min(max(widest, self._file_width), MAX_FILE_WIDTH)
        if self.isVisible():  # laid out: its width is the pane's (before, it is Qt's default)
            room = self.viewport().width() - self.columnWidth(LABEL) - self.columnWidth(CONFIDENCE)
            wanted = min(wanted, max(room, DEFAULT_WIDTHS[FILE]))
        if wanted > self.columnWidth(FILE):
            self._file_width = wanted
            self.setColumnWidth(FILE, wanted)
        self.updateGeometries()  # the scroll range must include the new rows before scrolling to them
        self.scrollTo(self._proxy_index(paths[-1]))

    # -- settings ---------------------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("queue/header", self.horizontalHeader().saveState())

    def restore_state(self, settings):
        state = settings.value("queue/header")
        if isinstance(state, QByteArray) and not state.isEmpty():
            header = self.horizontalHeader()
            header.restoreState(state)
            if header.count() != len(COLUMNS) or header.isSectionHidden(REVIEW):  # saved before a column was added
                for col, width in self._default_widths().items():
                    header.resizeSection(col, width)
                    header.setSectionHidden(col, col in HIDDEN_COLUMNS)

    def sort_column(self):
        """``(column, order)`` the rows are sorted by (column -1: the order they were added)."""
        return self._proxy.sortColumn(), self._proxy.sortOrder()


__all__ = ["QueueTable", "FILE", "FOLDER", "DURATION", "STATUS", "LABEL", "CONFIDENCE", "MODEL", "REVIEW", "UNCERTAIN"]
