"""File ▸ Open recent: the recordings and folders opened last, newest first.

A file or folder opened (File ▸ Open, a drop, the file browser, the command line) goes to the
top; the list keeps :data:`DEFAULT_MAX_RECENT` and is saved in the settings. One that is gone
is shown greyed out with "(not found)" and is dropped from the list when chosen.
"""

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu

logger = logging.getLogger(__name__)

DEFAULT_MAX_RECENT = 10


class RecentMenu(QMenu):
    """``path_chosen(path)`` when the user picks a recent file or folder."""

    path_chosen = Signal(str)

    def __init__(self, parent=None, *, max_items=DEFAULT_MAX_RECENT):
        super().__init__("Open &recent", parent)
        self._max = max_items
        self._paths: list[str] = []
        self.aboutToShow.connect(self._on_about_to_show)
        self._rebuild()

    def paths(self):
        """The recent files and folders, newest first."""
        return list(self._paths)

    def add(self, paths):
        """``paths`` were opened: each goes to the top (the first of them topmost)."""
        for p in reversed([str(Path(p)) for p in paths]):
            if p in self._paths:
                self._paths.remove(p)
            self._paths.insert(0, p)
        del self._paths[self._max:]
        self._rebuild()

    def clear_list(self):
        self._paths = []
        self._rebuild()

    def _rebuild(self):
        self.clear()
        if not self._paths:
            self.addAction("(none yet)").setEnabled(False)
            return
        for i, p in enumerate(self._paths):
            path = Path(p)
            folder = path.is_dir()
            text = f"{path.name or p}{'/' if folder else ''}  —  {path.parent}"
            exists = path.exists()
            action = self.addAction(f"&{(i + 1) % 10} {text}" + ("" if exists else "  (not found)"))
            action.setToolTip(p)
            action.setStatusTip(p)
            action.setData(p)
            action.triggered.connect(lambda _checked=False, p=p: self._on_chosen(p))
        self.addSeparator()
        self.addAction("Clear this list").triggered.connect(lambda _checked=False: self.clear_list())

    def _on_about_to_show(self):
        self._rebuild()  # files may have gone since

    def _on_chosen(self, path):
        if not Path(path).exists():
            self._paths.remove(path)
            self._rebuild()
        self.path_chosen.emit(path)

    # -- settings ---------------------------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("recent/paths", list(self._paths))

    def restore_state(self, settings):
        value = settings.value("recent/paths", [])
        if isinstance(value, str):  # QSettings gives one item as a string
            value = [value]
        self._paths = [str(p) for p in value or [] if str(p)][:self._max]
        self._rebuild()
