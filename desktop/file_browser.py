"""A file browser filtered to audio files; double-click (or Enter) queues a file or a folder."""

import logging
from pathlib import Path

from PySide6.QtCore import QDir, QFileInfo, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFileSystemModel,
    QHBoxLayout,
    QLabel,
    QMenu,
    QStyle,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = QDir.homePath()


def _audio_name_filters():
    from ser_engine.audio import AUDIO_EXTENSIONS  # light: NumPy only

    return [f"*{ext}" for ext in AUDIO_EXTENSIONS] + [f"*{ext.upper()}" for ext in AUDIO_EXTENSIONS]


class FileBrowser(QWidget):
    """A QFileSystemModel tree rooted at one folder (remembered between sessions)."""

    paths_activated = Signal(list)  # files or folders to queue
    folder_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._folder = DEFAULT_FOLDER
        self._model = QFileSystemModel(self)
        self._model.setFilter(QDir.Filter.AllDirs | QDir.Filter.Files | QDir.Filter.NoDotAndDotDot)
        self._model.setNameFilters(_audio_name_filters())
        self._model.setNameFilterDisables(False)  # hide, not grey out, what is not audio
        self._model.setReadOnly(True)

        self._tree = QTreeView(self)
        self._tree.setModel(self._model)
        self._tree.setAcceptDrops(False)
        self._tree.setDragEnabled(False)
        self._tree.setUniformRowHeights(True)
        self._tree.setSortingEnabled(True)
        self._tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        for col in (1, 2, 3):  # size, type, date: the name is what matters here
            self._tree.hideColumn(col)
        self._tree.setHeaderHidden(True)
        self._tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._tree.activated.connect(self._on_activated)
        self._tree.customContextMenuRequested.connect(self._on_context_menu_requested)

        self._folder_label = QLabel(self)
        self._folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._folder_label.setMinimumWidth(50)
        up = QToolButton(self)
        up.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogToParent))
        up.setToolTip("Parent folder")
        up.clicked.connect(self._on_up_clicked)
        choose = QToolButton(self)
        choose.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
        choose.setToolTip("Browse another folder…")
        choose.clicked.connect(self._on_choose_clicked)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self._folder_label, 1)
        bar.addWidget(up)
        bar.addWidget(choose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self._tree, 1)
        self.set_folder(self._folder)

    def folder(self):
        return self._folder

    def folder_chosen(self):
        """Whether the folder was picked (by the user or restored), not the default."""
        return self._folder != DEFAULT_FOLDER

    def set_folder(self, folder):
        """Show ``folder`` (ignored if it does not exist any more)."""
        folder = str(folder)
        if not Path(folder).is_dir():
            return
        self._folder = folder
        self._model.setRootPath(folder)
        self._tree.setRootIndex(self._model.index(folder))
        self._folder_label.setText(Path(folder).name or folder)
        self._folder_label.setToolTip(folder)
        self.folder_changed.emit(folder)

    def _on_activated(self, index):
        # Double-click or Enter on a file queues it; on a folder it expands (the tree's own).
        path = self._model.filePath(index)
        if QFileInfo(path).isFile():
            self.paths_activated.emit([path])

    def _on_context_menu_requested(self, pos):
        index = self._tree.indexAt(pos)
        if not index.isValid():
            return
        path = self._model.filePath(index)
        menu = QMenu(self)
        if QFileInfo(path).isDir():
            menu.addAction("Analyse all recordings in this folder", lambda: self.paths_activated.emit([path]))
            menu.addAction("Browse this folder", lambda: self.set_folder(path))
        else:
            menu.addAction("Analyse", lambda: self.paths_activated.emit([path]))
        menu.exec(self._tree.viewport().mapToGlobal(pos))

    def queue_path(self, path):
        """What a double-click on ``path`` does (tests and keyboard users)."""
        self._on_activated(self._model.index(str(path)))

    def _on_up_clicked(self):
        parent = str(Path(self._folder).parent)
        if parent != self._folder:
            self.set_folder(parent)

    def _on_choose_clicked(self):
        folder = QFileDialog.getExistingDirectory(self, "Browse folder", self._folder)
        if folder:
            self.set_folder(folder)

    # -- settings ---------------------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("browser/folder", self._folder)

    def restore_state(self, settings):
        folder = settings.value("browser/folder", DEFAULT_FOLDER)
        if folder:
            self.set_folder(folder)
